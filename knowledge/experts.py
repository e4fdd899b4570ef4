"""Experts: who they are, their consent, their pay, their own data, and forgetting them."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from knowledge.config import ConsentSettings, PaySettings
from knowledge.guides import GuideLibrary
from knowledge.storage import (
    AuditEvent,
    Database,
    Entry,
    EntryStatus,
    Expert,
    IndexDeletion,
    Interview,
)
from knowledge.storage.models import utcnow

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


@dataclass(frozen=True)
class Earnings:
    expert_id: int
    display_name: str
    pseudonym: str
    active_seconds: float
    interviews: int
    entries_total: int
    entries_accepted: int
    amount: float
    currency: str
    rate_note: str  # "105.00 USD/h" or "mixed rates" when guides differ

    @property
    def hours(self) -> float:
        return self.active_seconds / 3600


def consent_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ExpertService:
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
            return _view(ex)

    async def find(self, platform: str, external_id: str) -> ExpertView | None:
        async with self.db.sessions() as s:
            ex = await s.scalar(
                select(Expert).where(
                    Expert.platform == platform, Expert.external_id == str(external_id)
                )
            )
            return _view(ex) if ex else None

    async def get(self, expert_id: int) -> ExpertView:
        async with self.db.sessions() as s:
            ex = await s.get(Expert, expert_id)
            if ex is None:
                raise LookupError(f"no expert {expert_id}")
            return _view(ex)

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
                    actor=f"expert:{expert_id}",
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
            return _view(ex)

    def needs_consent(self, expert: ExpertView) -> bool:
        return not expert.consented or expert.consent_version != self.consent.version

    async def data(self, expert_id: int) -> dict:
        """Everything stored about an expert, as JSON-ready data (for /me data)."""
        async with self.db.sessions() as s:
            ex = await s.scalar(
                select(Expert)
                .where(Expert.id == expert_id)
                .options(selectinload(Expert.interviews).selectinload(Interview.turns))
            )
            entries = list(
                await s.scalars(
                    select(Entry).where(Entry.expert_id == expert_id).order_by(Entry.id)
                )
            )
        return {
            "expert": {
                "id": ex.id,
                "platform": ex.platform,
                "external_id": ex.external_id,
                "display_name": ex.display_name,
                "pseudonym": ex.pseudonym,
                "profession": ex.profession,
                "rate_per_hour": ex.rate_per_hour,
                "consent_version": ex.consent_version,
                "consent_text": ex.consent_text,
                "consented_at": _iso(ex.consented_at),
                "created_at": _iso(ex.created_at),
            },
            "interviews": [
                {
                    "id": iv.id,
                    "guide": iv.guide_slug,
                    "status": str(iv.status),
                    "channel": iv.channel,
                    "started_at": _iso(iv.started_at),
                    "ended_at": _iso(iv.ended_at),
                    "active_seconds": round(iv.active_seconds, 1),
                    "summary": iv.summary,
                    "summary_correction": iv.summary_correction,
                    "turns": [
                        {
                            "seq": t.seq,
                            "question": t.question,
                            "probe": t.probe,
                            "answer": t.answer,
                            "status": str(t.status),
                            "asked_at": _iso(t.asked_at),
                            "answered_at": _iso(t.answered_at),
                            "references": t.references,
                        }
                        for t in iv.turns
                    ],
                }
                for iv in ex.interviews
            ],
            "entries": [
                {
                    "id": e.id,
                    "interview_id": e.interview_id,
                    "question": e.question,
                    "answer": e.answer,
                    "edited_question": e.edited_question,
                    "edited_answer": e.edited_answer,
                    "status": str(e.status),
                }
                for e in entries
            ],
        }

    async def forget(self, expert_id: int, *, actor: str) -> int:
        """Delete every trace of an expert; the audit log keeps only that it happened.

        Returns how many entries were removed. Their vectors leave Chroma through the indexer's
        outbox, so this succeeds even while Chroma is down.
        """
        async with self.db.sessions() as s, s.begin():
            ex = await s.get(Expert, expert_id)
            if ex is None:
                return 0
            entry_ids = list(await s.scalars(select(Entry.id).where(Entry.expert_id == expert_id)))
            interview_ids = list(
                await s.scalars(select(Interview.id).where(Interview.expert_id == expert_id))
            )
            # Earlier audit rows hold their words (edits, consent): they go too.
            await s.execute(
                delete(AuditEvent).where(
                    ((AuditEvent.entity == "entry") & AuditEvent.entity_id.in_(entry_ids))
                    | ((AuditEvent.entity == "expert") & (AuditEvent.entity_id == expert_id))
                    | ((AuditEvent.entity == "interview") & AuditEvent.entity_id.in_(interview_ids))
                )
            )
            await s.execute(delete(Entry).where(Entry.expert_id == expert_id))
            await s.delete(ex)
            for eid in entry_ids:
                s.add(IndexDeletion(entry_id=eid))
            s.add(
                AuditEvent(
                    actor="expert:self" if actor.startswith("expert:") else actor,
                    action="expert.forgotten",
                    entity="expert",
                    entity_id=None,
                    after={"entries": len(entry_ids), "interviews": len(interview_ids)},
                )
            )
        log.info("an expert was forgotten (%d entries)", len(entry_ids))
        return len(entry_ids)

    def rate_for(self, expert_rate: float | None, guide_slug: str) -> float:
        if expert_rate:
            return expert_rate
        if guide_slug in self.pay.guide_rates:
            return self.pay.guide_rates[guide_slug]
        try:
            g = self.guides.get(guide_slug)
        except ValueError:
            return self.pay.default_rate
        return g.rate_per_hour or self.pay.default_rate

    async def set_rate(self, expert_id: int, rate: float | None, *, actor: str) -> None:
        async with self.db.sessions() as s, s.begin():
            ex = await s.get(Expert, expert_id)
            before = ex.rate_per_hour
            ex.rate_per_hour = rate
            s.add(
                AuditEvent(
                    actor=actor,
                    action="expert.rate",
                    entity="expert",
                    entity_id=expert_id,
                    before={"rate_per_hour": before},
                    after={"rate_per_hour": rate},
                )
            )

    async def earnings(
        self,
        *,
        expert_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Earnings]:
        """Active time, accepted entries and amount due, per expert (interviews started in range)."""
        q = select(Interview, Expert).join(Expert, Interview.expert_id == Expert.id)
        if expert_id is not None:
            q = q.where(Interview.expert_id == expert_id)
        if since is not None:
            q = q.where(Interview.started_at >= since)
        if until is not None:
            q = q.where(Interview.started_at < until)
        async with self.db.sessions() as s:
            rows = (await s.execute(q)).all()
            ids = [iv.id for iv, _ in rows]
            counts: dict[tuple[int, str], int] = {}
            if ids:
                for iid, status, n in await s.execute(
                    select(Entry.interview_id, Entry.status, func.count())
                    .where(Entry.interview_id.in_(ids))
                    .group_by(Entry.interview_id, Entry.status)
                ):
                    counts[(iid, str(status))] = n
        per: dict[int, dict] = {}
        for iv, ex in rows:
            rate = self.rate_for(ex.rate_per_hour, iv.guide_slug)
            p = per.setdefault(
                ex.id,
                {"ex": ex, "secs": 0.0, "n": 0, "total": 0, "ok": 0, "amount": 0.0, "rates": set()},
            )
            p["secs"] += iv.active_seconds
            p["n"] += 1
            p["total"] += sum(v for (i, _), v in counts.items() if i == iv.id)
            p["ok"] += counts.get((iv.id, EntryStatus.approved), 0)
            p["amount"] += iv.active_seconds / 3600 * rate
            p["rates"].add(rate)
        out = []
        for p in per.values():
            ex = p["ex"]
            rates = p["rates"]
            note = f"{next(iter(rates)):.2f} {self.pay.currency}/h" if len(rates) == 1 else "mixed"
            out.append(
                Earnings(
                    ex.id,
                    ex.display_name,
                    ex.pseudonym,
                    p["secs"],
                    p["n"],
                    p["total"],
                    p["ok"],
                    round(p["amount"], 2),
                    self.pay.currency,
                    note,
                )
            )
        return sorted(out, key=lambda e: e.display_name.lower())


def _view(ex: Expert) -> ExpertView:
    return ExpertView(
        ex.id,
        ex.platform,
        ex.external_id,
        ex.display_name,
        ex.pseudonym,
        ex.profession,
        ex.consented_at is not None,
        ex.consent_version,
    )


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d else None
