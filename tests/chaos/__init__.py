"""Fault tests' machinery: a pre-warmed `tacit` zygote, kill points, and the chat driver."""
