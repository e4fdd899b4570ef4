"""Where discord.py sends REST calls and opens the gateway, and how to aim both at the fake.

Kept apart from ``launch`` so the package can import it without importing ``launch`` (which
``python -m fakediscord.launch`` must run fresh).
"""

from __future__ import annotations

import discord
import yarl


def point_discord_at(url: str) -> tuple[str, yarl.URL]:
    """Aim discord.py's REST base and gateway at ``url``; returns the old values."""
    old = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    discord.http.Route.BASE = url.rstrip("/") + "/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url.rstrip("/") + "/gateway")
    return old


def restore_discord(old: tuple[str, yarl.URL]) -> None:
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old
