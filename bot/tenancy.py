"""Which server's data a Discord interaction acts on: the guild it came from, and for experts
in DMs the home server; curators get that server's view of the core, nothing wider."""

from __future__ import annotations

import discord

from knowledge.errors import TacitError
from knowledge.interview import InterviewError
from knowledge.services import Services, TenantServices
from knowledge.storage import Scope

NO_HOME = (
    "interviews in DMs are not set up here: use `/interview start` in a channel of your server"
)


def expert_guild(interaction: discord.Interaction, services: Services) -> int:
    """The server an expert's interview belongs to: where the command ran, else (in DMs)
    `[discord] home_guild_id`; refused when there is none."""
    guild_id = interaction.guild_id or services.settings.discord.home_guild_id
    if guild_id is None:
        raise InterviewError(NO_HOME)
    return guild_id


def curator_view(interaction: discord.Interaction, services: Services) -> TenantServices:
    """What a curator may see: the server the command ran in (curator commands are for
    servers only, so there always is one)."""
    if interaction.guild_id is None:
        raise TacitError("curator commands work in a server, not in DMs")
    return services.tenant(Scope.server(interaction.guild_id))
