"""How Discord users and places are named in the core: expert records, actors, channel keys."""

from __future__ import annotations

import discord

from knowledge.experts import (
    ExpertService,
    ExpertView,
    channel_key,
    parse_channel_key,
    person_actor,
)
from knowledge.vocab import Platform

CHANNEL_KINDS = ("thread", "dm")


def curator_id(user: discord.abc.User) -> str:
    """The curator as the audit log names them: "discord:<user id>"."""
    return person_actor(Platform.discord, user.id)


def interview_channel(kind: str, channel_id: int) -> str:
    """What an interview stores as its channel: "discord:thread:<id>" or "discord:dm:<id>"."""
    return channel_key(Platform.discord, kind, channel_id)


def parse_interview_channel(key: str | None) -> tuple[str, int] | None:
    """(kind, channel id) of a Discord interview's channel; None for the terminal's."""
    return parse_channel_key(key, Platform.discord, CHANNEL_KINDS)


async def find_expert(
    experts: ExpertService, user: discord.abc.User, guild_id: int
) -> ExpertView | None:
    """The user's expert record in this server, if they ever agreed to be interviewed there."""
    return await experts.find(Platform.discord, str(user.id), guild_id=guild_id)


async def identify_expert(
    experts: ExpertService, user: discord.abc.User, guild_id: int
) -> ExpertView:
    """The user's expert record in this server, created (without consent) on first contact."""
    return await experts.identify(
        Platform.discord, str(user.id), user.display_name, guild_id=guild_id
    )


async def expert_records(experts: ExpertService, user: discord.abc.User) -> list[ExpertView]:
    """Every record of the user, one per server they were interviewed in (for /me)."""
    return await experts.person(Platform.discord, str(user.id))
