"""An expert's own entries: list them, correct one, withdraw one.

A correction is kept beside the expert's first answer (`Entry.corrected_answer`; `answer` is
never overwritten), audited as `entry.corrected` by the expert, and sends the entry back to
review: curators see it as the expert's own correction, and a curator's edit of the old words
is set aside (it stays in the audit log). Withdrawing deletes the entry and its words (the
turn keeps the words of the entries left, if any), its vector (outbox), the audit rows that
quoted it, and, through the eraser, its examples in export files on disk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text

from knowledge.experts.errors import ExpertError, NotYourEntry
from knowledge.experts.identity import expert_actor
from knowledge.experts.own_data import ErasedCopies, Eraser, erase_copies
from knowledge.index import BatchingEmbedder, Indexer
from knowledge.storage import (
    AuditEvent,
    Database,
    Entry,
    IndexDeletion,
    ReviewDecision,
    Turn,
    utcnow,
)
from knowledge.storage.entries import set_vector
from knowledge.vocab import EntryStatus, TurnStatus

log = logging.getLogger(__name__)

CORRECTED = "entry.corrected"
WITHDRAWN = "entry.withdrawn"


@dataclass(frozen=True)
class OwnEntry:
    """An entry as its expert sees it: their own words (corrected, if they corrected them)."""

    entry_id: int
    guild_id: int | None
    interview_id: int
    guide: str
    question: str
    answer: str  # the expert's words as they stand: their correction, else their answer
    original_answer: str
    corrected_at: datetime | None
    edited_by_curator: bool
    status: str
    created_at: datetime

    @property
    def corrected(self) -> bool:
        return self.corrected_at is not None


@dataclass(frozen=True)
class Correction:
    entry: OwnEntry
    changed: bool  # False: the text was the same as it stood


@dataclass(frozen=True)
class Withdrawal:
    entry_id: int
    copies: ErasedCopies | None  # what the eraser took out of export files and posts
    copies_pending: bool = False  # the eraser failed: `tacit exports purge` finishes it


def _own(e: Entry) -> OwnEntry:
    return OwnEntry(
        entry_id=e.id,
        guild_id=e.guild_id,
        interview_id=e.interview_id,
        guide=e.guide_slug,
        question=e.final_question,
        answer=e.expert_answer,
        original_answer=e.answer,
        corrected_at=e.corrected_at,
        edited_by_curator=e.edited_answer is not None or e.edited_question is not None,
        status=str(e.status),
        created_at=e.created_at,
    )


def _same(a: str, b: str) -> bool:
    """Equal but for whitespace (a form may fold line ends, a cut may move a space)."""
    return a.split() == b.split()


def _state(e: Entry) -> dict[str, Any]:
    return {
        "status": str(e.status),
        "answer": e.final_answer,
        "corrected_answer": e.corrected_answer,
        "edited_answer": e.edited_answer,
        "edited_by": e.edited_by,
        "reason": e.reason,
        "decided_by": e.decided_by,
        "decided_at": e.decided_at.isoformat() if e.decided_at else None,
        "duplicate_of": e.duplicate_of,
    }


class OwnEntries:
    """Mixed into ExpertService, whose `db`, `embedder`, `indexer` and `eraser` it uses."""

    db: Database
    embedder: BatchingEmbedder | None
    indexer: Indexer | None
    eraser: Eraser | None

    async def own_entries(self, expert_ids: list[int]) -> list[OwnEntry]:
        """The entries of these records (one person's), oldest first."""
        if not expert_ids:
            return []
        async with self.db.sessions() as s:
            rows = await s.scalars(
                select(Entry).where(Entry.expert_id.in_(expert_ids)).order_by(Entry.id)
            )
            return [_own(e) for e in rows]

    async def own_entry(self, expert_ids: list[int], entry_id: int) -> OwnEntry:
        async with self.db.sessions() as s:
            return _own(await _mine(s, expert_ids, entry_id))

    async def correct(self, expert_ids: list[int], entry_id: int, text: str) -> Correction:
        """Keep the expert's correction of their answer beside the answer; back to review."""
        text = (text or "").strip()
        if not text:
            raise ExpertError("a correction needs some text (to take an entry out, withdraw it)")
        async with self.db.sessions() as s:
            current = await _mine(s, expert_ids, entry_id)
        if _same(text, current.expert_answer):
            return Correction(_own(current), False)
        back_to_original = _same(text, current.answer)
        vector = None
        if self.embedder is not None:
            try:
                vector = await self.embedder.embed_one(current.answer if back_to_original else text)
            except Exception:
                log.warning("embedding a correction failed; the indexer embeds it later")
        async with self.db.sessions() as s, s.begin():
            e = await _mine(s, expert_ids, entry_id, lock=self.db)
            before = _state(e)
            now = utcnow()
            e.corrected_answer = None if back_to_original else text
            e.corrected_at = None if back_to_original else now
            # A curator's edit was of the words the expert just replaced; the log keeps it.
            e.edited_answer = None
            if e.edited_question is None:
                e.edited_by = None
            e.status = EntryStatus.pending
            e.reason = e.decided_by = e.decided_at = e.duplicate_of = None
            # Reviews were of the words the expert just replaced: the new ones start afresh
            # (the audit log keeps the old ones).
            e.disputed = False
            await s.execute(delete(ReviewDecision).where(ReviewDecision.entry_id == e.id))
            e.claimed_by = e.claimed_until = None
            set_vector(e, vector, self.embedder.model_name if self.embedder else None)
            s.add(
                AuditEvent(
                    at=now,
                    actor=expert_actor(e.expert_id),
                    action=CORRECTED,
                    entity="entry",
                    entity_id=e.id,
                    before=before,
                    after=_state(e),
                )
            )
            await s.flush()
            view = _own(e)
        if self.indexer is not None:
            self.indexer.notify()
        return Correction(view, True)

    async def withdraw(self, expert_ids: list[int], entry_id: int) -> Withdrawal:
        """Delete the entry and its words everywhere tacit put them."""
        async with self.db.sessions() as s, s.begin():
            e = await _mine(s, expert_ids, entry_id, lock=self.db)
            turn = await s.get(Turn, e.turn_id)
            left = list(
                await s.scalars(
                    select(Entry)
                    .where(Entry.turn_id == e.turn_id, Entry.id != e.id)
                    .order_by(Entry.part, Entry.id)
                )
            )
            if turn is not None:
                # The turn holds the whole answer: keep only the words of the entries left.
                if left:
                    turn.answer = "\n\n".join(x.answer for x in left)
                else:
                    turn.answer, turn.status = None, TurnStatus.withdrawn
            await s.execute(
                delete(AuditEvent).where(AuditEvent.entity == "entry", AuditEvent.entity_id == e.id)
            )
            await s.execute(delete(Entry).where(Entry.id == e.id))
            s.add(IndexDeletion(entry_id=e.id))
            s.add(
                AuditEvent(
                    actor="expert:self",
                    action=WITHDRAWN,
                    entity="entry",
                    entity_id=e.id,
                    after={"interview_id": e.interview_id},
                )
            )
        log.info("entry %s was withdrawn by its expert", entry_id)
        if self.indexer is not None:
            self.indexer.notify()
        copies, pending = await erase_copies(self.eraser, [entry_id])
        return Withdrawal(entry_id, copies, pending)


async def _mine(s, expert_ids: list[int], entry_id: int, *, lock: Database | None = None) -> Entry:
    """The entry if it is one of these records'; with `lock`, locked for the transaction (as
    review locks it, so an expert's change and a curator's never overwrite each other)."""
    q = select(Entry).where(Entry.id == entry_id)
    if lock is not None:
        if lock.is_sqlite:  # SQLite ignores FOR UPDATE: a no-op write takes its write lock
            await s.execute(text("UPDATE entries SET id = id WHERE id = :id"), {"id": entry_id})
        q = q.with_for_update().execution_options(populate_existing=True)
    e = await s.scalar(q)
    if e is None or e.expert_id not in expert_ids:
        raise NotYourEntry(f"you have no entry {entry_id}")
    return e
