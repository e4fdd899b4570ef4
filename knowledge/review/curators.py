"""Curator roles set from Discord by a server's admins, kept in SQL and audited.

The settings' `[discord] curator_roles` stay a default the bot adds to these; administrators
always curate their own server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from knowledge.storage import AuditEvent, CuratorRole, Database, Scope

log = logging.getLogger(__name__)

ADD = "curator_role.add"
REMOVE = "curator_role.remove"


@dataclass(frozen=True)
class CuratorRoleView:
    role_id: int
    added_by: str
    added_at: datetime


class CuratorRoles:
    def __init__(self, db: Database):
        self.db = db

    def _in(self, guild_id: int) -> Database:
        return self.db.scoped(Scope.server(guild_id))

    async def role_ids(self, guild_id: int) -> set[int]:
        """The roles whose members curate this server (asked on every command: no cache, so a
        role removed in one bot process stops working in every other at once)."""
        async with self._in(guild_id).sessions() as s:
            return set(await s.scalars(select(CuratorRole.role_id)))

    async def list(self, guild_id: int) -> list[CuratorRoleView]:
        async with self._in(guild_id).sessions() as s:
            rows = await s.scalars(select(CuratorRole).order_by(CuratorRole.id))
            return [CuratorRoleView(r.role_id, r.added_by, r.added_at) for r in rows]

    async def add(self, guild_id: int, role_id: int, *, actor: str) -> bool:
        """Make the role's members curators of the server; False when it already was."""
        async with self._in(guild_id).sessions() as s, s.begin():
            found = await s.scalar(select(CuratorRole).where(CuratorRole.role_id == role_id))
            if found is not None:
                return False
            row = CuratorRole(guild_id=guild_id, role_id=role_id, added_by=actor)
            s.add(row)
            await s.flush()
            s.add(_audit(ADD, actor, row.id, guild_id, role_id))
        log.info("server %s: role %s now curates (by %s)", guild_id, role_id, actor)
        return True

    async def remove(self, guild_id: int, role_id: int, *, actor: str) -> bool:
        """Stop the role curating; False when it did not (from SQL: settings stay as they are)."""
        async with self._in(guild_id).sessions() as s, s.begin():
            found = await s.scalar(select(CuratorRole).where(CuratorRole.role_id == role_id))
            if found is None:
                return False
            await s.delete(found)
            s.add(_audit(REMOVE, actor, found.id, guild_id, role_id))
        log.info("server %s: role %s no longer curates (by %s)", guild_id, role_id, actor)
        return True


def _audit(action: str, actor: str, row_id: int, guild_id: int, role_id: int) -> AuditEvent:
    # Snowflakes do not fit the 32-bit entity_id: they are kept in `after`, as text for JSON.
    return AuditEvent(
        actor=actor,
        action=action,
        entity="curator_role",
        entity_id=row_id,
        after={"guild_id": str(guild_id), "role_id": str(role_id)},
    )
