"""Giving Discord data from before servers were told apart to a server (`tacit db assign-guild`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from knowledge.storage import Database, Entry, Expert, Interview
from knowledge.vocab import Platform

log = logging.getLogger(__name__)


@dataclass
class Assigned:
    experts: int = 0
    interviews: int = 0
    entries: int = 0
    # Discord users who already have a record in that server: left for the operator.
    skipped: list[str] = field(default_factory=list)


async def unassigned(db: Database) -> int:
    """Discord experts that belong to no server."""
    async with db.sessions() as s:
        return int(
            await s.scalar(
                select(func.count())
                .select_from(Expert)
                .where(Expert.platform == Platform.discord, Expert.guild_id.is_(None))
            )
            or 0
        )


async def assign_guild(db: Database, guild_id: int) -> Assigned:
    """Move every Discord expert without a server, with their interviews and entries, to this
    one. Their entries are owed to Chroma again (the metadata names the server)."""
    done = Assigned()
    async with db.sessions() as s, s.begin():
        orphans = list(
            await s.scalars(
                select(Expert).where(Expert.platform == Platform.discord, Expert.guild_id.is_(None))
            )
        )
        taken = set(
            await s.scalars(
                select(Expert.external_id).where(
                    Expert.platform == Platform.discord, Expert.guild_id == guild_id
                )
            )
        )
        for ex in orphans:
            if ex.external_id in taken:
                done.skipped.append(ex.external_id)
                continue
            ex.guild_id = guild_id
            r = await s.execute(
                update(Interview).where(Interview.expert_id == ex.id).values(guild_id=guild_id)
            )
            done.interviews += r.rowcount
            r = await s.execute(
                update(Entry)
                .where(Entry.expert_id == ex.id)
                .values(guild_id=guild_id, indexed_hash=None)
            )
            done.entries += r.rowcount
            done.experts += 1
    log.info("assigned %d Discord experts to server %s", done.experts, guild_id)
    return done
