"""An expert's own data: everything stored about them, and forgetting them."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from knowledge.storage import AuditEvent, Database, Entry, Expert, IndexDeletion, Interview, iso

log = logging.getLogger(__name__)


class OwnData:
    """Mixed into ExpertService, whose `db` it uses."""

    db: Database

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
                "consented_at": iso(ex.consented_at),
                "created_at": iso(ex.created_at),
            },
            "interviews": [
                {
                    "id": iv.id,
                    "guide": iv.guide_slug,
                    "status": str(iv.status),
                    "channel": iv.channel,
                    "started_at": iso(iv.started_at),
                    "ended_at": iso(iv.ended_at),
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
                            "asked_at": iso(t.asked_at),
                            "answered_at": iso(t.answered_at),
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
