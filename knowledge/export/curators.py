"""Curators in datasets: a random pseudonym per curator and server, never their id."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from knowledge.storage import CuratorPseudonym, Database

log = logging.getLogger(__name__)


class CuratorNames:
    """(server, curator actor) -> pseudonym, made on first use and kept in SQL, so the same
    curator has the same pseudonym in every export of that server (as experts do)."""

    def __init__(self, db: Database):
        self.db = db
        self._known: dict[tuple[int | None, str], str] = {}

    def get(self, guild_id: int | None, actor: str | None) -> str | None:
        """The pseudonym of a curator `learn` has seen; None for no curator."""
        if actor is None:
            return None
        return self._known[(guild_id, actor)]

    async def learn(self, pairs: set[tuple[int | None, str]]) -> None:
        """Load (or make) the pseudonyms of these (server, actor) pairs."""
        missing = {p for p in pairs if p[1] is not None and p not in self._known}
        if not missing:
            return
        for _ in range(3):  # another export may create the same curator's row meanwhile
            try:
                await self._load(missing)
                return
            except IntegrityError:
                log.debug("curator pseudonym created concurrently; reading it again")
        await self._load(missing)

    async def _load(self, pairs: set[tuple[int | None, str]]) -> None:
        actors = sorted({a for _, a in pairs})
        async with self.db.sessions() as s, s.begin():
            rows = await s.execute(
                select(
                    func.coalesce(CuratorPseudonym.guild_id, 0),
                    CuratorPseudonym.actor,
                    CuratorPseudonym.pseudonym,
                ).where(CuratorPseudonym.actor.in_(actors))
            )
            found = {(g, a): p for g, a, p in rows}
            for guild, actor in sorted(pairs, key=lambda p: (p[0] or 0, p[1])):
                name = found.get((guild or 0, actor))
                if name is None:
                    row = CuratorPseudonym(guild_id=guild, actor=actor)
                    s.add(row)
                    await s.flush()
                    name = row.pseudonym
                self._known[(guild, actor)] = name
