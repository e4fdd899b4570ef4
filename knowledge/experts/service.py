"""Experts: who they are and their consent; pay and their own data are mixed in."""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import select

from knowledge.config import ConsentSettings, PaySettings
from knowledge.experts.identity import ExpertView, expert_actor, view_of
from knowledge.experts.own_data import OwnData
from knowledge.experts.pay import Pay
from knowledge.guides import GuideLibrary
from knowledge.storage import AuditEvent, Database, Expert, utcnow

log = logging.getLogger(__name__)


def consent_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ExpertService(Pay, OwnData):
    def __init__(
        self, db: Database, guides: GuideLibrary, consent: ConsentSettings, pay: PaySettings
    ):
        self.db = db
        self.guides = guides
        self.consent = consent
        self.pay = pay

    async def identify(self, platform: str, external_id: str, display_name: str) -> ExpertView:
        """The expert with this platform id, created on first contact (no consent yet)."""
        async with self.db.sessions() as s, s.begin():
            ex = await s.scalar(
                select(Expert).where(
                    Expert.platform == platform, Expert.external_id == str(external_id)
                )
            )
            if ex is None:
                ex = Expert(
                    platform=platform, external_id=str(external_id), display_name=display_name
                )
                s.add(ex)
                await s.flush()
            elif ex.display_name != display_name:
                ex.display_name = display_name
            return view_of(ex)

    async def find(self, platform: str, external_id: str) -> ExpertView | None:
        async with self.db.sessions() as s:
            ex = await s.scalar(
                select(Expert).where(
                    Expert.platform == platform, Expert.external_id == str(external_id)
                )
            )
            return view_of(ex) if ex else None

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
