"""Experts: who they are and their consent; pay, their own data and entries are mixed in.

An expert record is a person as one server knows them (`guild_id`; None for the terminal):
consent, pay and pseudonym are per server. What a person does about their own data (`/me`)
covers every record they have, found with `person`.
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import select

from knowledge.config import ConsentSettings, PaySettings
from knowledge.experts.identity import ExpertView, expert_actor, view_of
from knowledge.experts.own_data import Eraser, OwnData
from knowledge.experts.own_entries import OwnEntries
from knowledge.experts.pay import Pay
from knowledge.guides import GuideLibrary
from knowledge.index import BatchingEmbedder, Indexer
from knowledge.storage import AuditEvent, Database, Expert, utcnow

log = logging.getLogger(__name__)


def consent_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ExpertService(Pay, OwnData, OwnEntries):
    def __init__(
        self,
        db: Database,
        guides: GuideLibrary,
        consent: ConsentSettings,
        pay: PaySettings,
        *,
        embedder: BatchingEmbedder | None = None,
        indexer: Indexer | None = None,
        eraser: Eraser | None = None,
    ):
        self.db = db
        self.guides = guides
        self.consent = consent
        self.pay = pay
        self.embedder = embedder  # re-embeds an expert's corrected answer
        self.indexer = indexer
        self.eraser = eraser  # takes erased words out of export files (knowledge.export)

    async def identify(
        self, platform: str, external_id: str, display_name: str, *, guild_id: int | None = None
    ) -> ExpertView:
        """The expert with this platform id in this server, created on first contact (no
        consent yet)."""
        async with self.db.sessions() as s, s.begin():
            ex = await s.scalar(_record(platform, external_id, guild_id))
            if ex is None:
                ex = Expert(
                    platform=platform,
                    external_id=str(external_id),
                    display_name=display_name,
                    guild_id=guild_id,
                )
                s.add(ex)
                await s.flush()
            elif ex.display_name != display_name:
                ex.display_name = display_name
            return view_of(ex)

    async def find(
        self, platform: str, external_id: str, *, guild_id: int | None = None
    ) -> ExpertView | None:
        async with self.db.sessions() as s:
            ex = await s.scalar(_record(platform, external_id, guild_id))
            return view_of(ex) if ex else None

    async def person(self, platform: str, external_id: str) -> list[ExpertView]:
        """Every record of one person (one per server they were interviewed in), oldest first."""
        async with self.db.sessions() as s:
            rows = await s.scalars(
                select(Expert)
                .where(Expert.platform == platform, Expert.external_id == str(external_id))
                .order_by(Expert.id)
            )
            return [view_of(ex) for ex in rows]

    async def set_reminders(self, expert_ids: list[int], on: bool) -> None:
        """Turn reminders of paused or idle interviews on or off for these records."""
        async with self.db.sessions() as s, s.begin():
            for expert_id in expert_ids:
                ex = await s.get(Expert, expert_id)
                if ex is not None and ex.reminders != on:
                    ex.reminders = on
                    s.add(
                        AuditEvent(
                            actor=expert_actor(expert_id),
                            action="expert.reminders",
                            entity="expert",
                            entity_id=expert_id,
                            after={"reminders": on},
                        )
                    )

    async def get(self, expert_id: int) -> ExpertView:
        async with self.db.sessions() as s:
            ex = await s.get(Expert, expert_id)
            if ex is None:
                raise LookupError(f"no expert {expert_id}")
            return view_of(ex)

    async def give_consent(self, expert_id: int) -> ExpertView:
        """Record agreement to the current consent notice (its version and exact text)."""
        async with self.db.sessions() as s, s.begin():
            ex = await s.get(Expert, expert_id)
            now = utcnow()
            ex.consent_version = self.consent.version
            ex.consent_text = self.consent.text
            ex.consented_at = now
            s.add(
                AuditEvent(
                    actor=expert_actor(expert_id),
                    action="consent.given",
                    entity="expert",
                    entity_id=expert_id,
                    after={
                        "version": self.consent.version,
                        "text_sha256": consent_digest(self.consent.text),
                        "at": now.isoformat(),
                    },
                )
            )
            return view_of(ex)

    def needs_consent(self, expert: ExpertView) -> bool:
        return not expert.consented or expert.consent_version != self.consent.version


def _record(platform: str, external_id: str, guild_id: int | None):
    guild = Expert.guild_id.is_(None) if guild_id is None else Expert.guild_id == guild_id
    return select(Expert).where(
        Expert.platform == platform, Expert.external_id == str(external_id), guild
    )
