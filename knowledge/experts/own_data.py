"""An expert's own data: everything stored about them, and forgetting them.

Forgetting deletes their words everywhere tacit put them: SQL rows (cascade), the vectors (the
indexer's outbox), audit rows that quoted them, and, through the `Eraser` seam (the export
wing's registry), the export files still on disk and the messages the bot posted them in. What
they are owed is kept, without their name or words, as pay records under their pseudonym.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from knowledge.storage import (
    AuditEvent,
    Database,
    Entry,
    Expert,
    IndexDeletion,
    Interview,
    PayRecord,
    iso,
    utcnow,
)
from knowledge.vocab import EntryStatus

log = logging.getLogger(__name__)


class ErasedCopies(Protocol):
    """What the eraser reports: files rewritten or deleted, and posts to delete."""

    files_rewritten: list[str]
    files_deleted: list[str]
    files_changed: list[str]  # changed since tacit wrote them: left alone, for the operator
    examples_removed: int
    posts: list[Any]  # ExportPost rows whose messages are owed deletion


class Eraser(Protocol):
    """Takes erased entries out of every export that holds them (knowledge.export.registry)."""

    async def erase(self, entry_ids: list[int]) -> ErasedCopies: ...


@dataclass
class Forgotten:
    """What forgetting removed, and what is still owed (kept as anonymous pay records)."""

    entries: int = 0
    interviews: int = 0
    owed: float = 0.0  # unpaid amount kept in pay records
    currency: str = ""
    pseudonyms: list[str] = field(default_factory=list)
    copies: ErasedCopies | None = None  # export files and posts, when an eraser is wired
    copies_pending: bool = False  # the eraser failed: `tacit exports purge` finishes it


async def erase_copies(
    eraser: Eraser | None, entry_ids: list[int]
) -> tuple[ErasedCopies | None, bool]:
    """Take erased entries out of export files: (what was done, whether some is still owed).

    The words are already gone from SQL; a failure here (a disk, a permission) is logged and
    left to the next erasure or `tacit exports purge`, never shown as the expert's failure.
    """
    if eraser is None:
        return None, False
    try:
        return await eraser.erase(entry_ids), False
    except Exception:
        log.exception("export files could not be rewritten yet; `tacit exports purge` retries")
        return None, True


class OwnData:
    """Mixed into ExpertService, whose `db`, `pay` settings, `rate_for` and `eraser` it uses."""

    db: Database
    eraser: Eraser | None

    async def data(self, expert_id: int) -> dict:
        """Everything stored about an expert record, as JSON-ready data (for /me data)."""
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
                "server": str(ex.guild_id) if ex.guild_id is not None else None,
                "platform": ex.platform,
                "external_id": ex.external_id,
                "display_name": ex.display_name,
                "pseudonym": ex.pseudonym,
                "profession": ex.profession,
                "rate_per_hour": ex.rate_per_hour,
                "consent_version": ex.consent_version,
                "consent_text": ex.consent_text,
                "consented_at": iso(ex.consented_at),
                "reminders": bool(ex.reminders),
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
                    "corrected_answer": e.corrected_answer,
                    "corrected_at": iso(e.corrected_at),
                    "edited_question": e.edited_question,
                    "edited_answer": e.edited_answer,
                    "status": str(e.status),
                }
                for e in entries
            ],
        }

    async def forget(self, expert_id: int, *, actor: str) -> Forgotten:
        """Delete every trace of one expert record; see `forget_all`."""
        return await self.forget_all([expert_id], actor=actor)

    async def forget_all(self, expert_ids: list[int], *, actor: str) -> Forgotten:
        """Delete every trace of these expert records (a person's, in every server).

        The audit log keeps only that it happened; the amounts owed stay as pay records. Their
        vectors leave Chroma through the indexer's outbox, so this succeeds while Chroma is
        down; export files are rewritten after the rows are gone (`Eraser`), and a failure
        there is retried by the next erasure or `tacit exports purge`.
        """
        done = Forgotten(currency=self.pay.currency)
        erased: list[int] = []
        for expert_id in expert_ids:
            async with self.db.sessions() as s, s.begin():
                ex = await s.get(Expert, expert_id)
                if ex is None:
                    continue
                entry_ids = list(
                    await s.scalars(select(Entry.id).where(Entry.expert_id == expert_id))
                )
                interviews = list(
                    await s.scalars(select(Interview).where(Interview.expert_id == expert_id))
                )
                owed = await self._keep_pay(s, ex, interviews)
                # Earlier audit rows hold their words (edits, consent): they go too.
                ids = [iv.id for iv in interviews]
                await s.execute(
                    delete(AuditEvent).where(
                        ((AuditEvent.entity == "entry") & AuditEvent.entity_id.in_(entry_ids))
                        | ((AuditEvent.entity == "expert") & (AuditEvent.entity_id == expert_id))
                        | ((AuditEvent.entity == "interview") & AuditEvent.entity_id.in_(ids))
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
                        after={
                            "entries": len(entry_ids),
                            "interviews": len(interviews),
                            "pay_records": len(interviews),
                        },
                    )
                )
            done.entries += len(entry_ids)
            done.interviews += len(interviews)
            done.owed += owed
            done.pseudonyms.append(ex.pseudonym)
            erased += entry_ids
        log.info("an expert was forgotten (%d entries)", done.entries)
        if erased:
            done.copies, done.copies_pending = await erase_copies(self.eraser, erased)
        done.owed = round(done.owed, 2)
        return done

    async def _keep_pay(self, s, ex: Expert, interviews: list[Interview]) -> float:
        """One anonymous pay record per interview, with the figures `earnings` shows."""
        counts: dict[tuple[int, str], int] = {}
        if interviews:
            for iid, status, n in await s.execute(
                select(Entry.interview_id, Entry.status, func.count())
                .where(Entry.interview_id.in_([iv.id for iv in interviews]))
                .group_by(Entry.interview_id, Entry.status)
            ):
                counts[(iid, str(status))] = n
        owed = 0.0
        now = utcnow()
        for iv in interviews:
            rate = self.rate_for(ex.rate_per_hour, iv.guide_slug)
            amount = round(iv.active_seconds / 3600 * rate, 2)
            s.add(
                PayRecord(
                    guild_id=ex.guild_id,
                    pseudonym=ex.pseudonym,
                    interview_started_at=iv.started_at,
                    active_seconds=iv.active_seconds,
                    rate_per_hour=rate,
                    amount=amount,
                    currency=self.pay.currency,
                    entries_total=sum(n for (i, _), n in counts.items() if i == iv.id),
                    entries_accepted=counts.get((iv.id, EntryStatus.approved), 0),
                    forgotten_at=now,
                )
            )
            owed += amount
        return owed
