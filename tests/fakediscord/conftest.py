from .fixtures import discord_errors, fake_discord  # noqa: F401
