"""Who an expert is: their view, and the actor and channel strings that name people and places."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from knowledge.storage import Expert

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpertView:
    id: int
    platform: str
    external_id: str
    display_name: str
    pseudonym: str
    profession: str | None
    consented: bool
    consent_version: str | None
    guild_id: int | None = None  # the server this record belongs to; None: the terminal
    reminders: bool = True


def view_of(ex: Expert) -> ExpertView:
    return ExpertView(
        ex.id,
        ex.platform,
        ex.external_id,
        ex.display_name,
        ex.pseudonym,
        ex.profession,
        ex.consented_at is not None,
        ex.consent_version,
        ex.guild_id,
        bool(ex.reminders) if ex.reminders is not None else True,
    )


def expert_actor(expert_id: int) -> str:
    """How the audit log names an expert acting on their own data."""
    return f"expert:{expert_id}"


def person_actor(platform: str, person: str | int) -> str:
    """How the audit log names a curator or operator: "discord:1234", "cli:alice"."""
    return f"{platform}:{person}"


def channel_key(platform: str, kind: str, channel_id: int | str) -> str:
    """Where an interview happens, as stored: "discord:thread:<id>", "discord:dm:<id>"."""
    return f"{platform}:{kind}:{channel_id}"


def parse_channel_key(
    key: str | None, platform: str, kinds: tuple[str, ...]
) -> tuple[str, int] | None:
    """(kind, channel id) of a stored channel key of this platform; None for any other."""
    parts = (key or "").split(":")
    if len(parts) != 3 or parts[0] != platform or parts[1] not in kinds or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])
