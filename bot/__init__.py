"""The Discord adapter: turns Discord events into knowledge/ service calls."""
