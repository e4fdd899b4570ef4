"""Curator decisions on entries: approve, reject, duplicate, edit, flag personal data, undo.

Every decision and edit is one transaction that locks the entry, checks the curator's claim,
and writes an audit event holding the entry's reviewable state before and after; undo reads it
back. Mixed into ReviewService, whose `db`, `embedder`, `indexer` and `settings` it uses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from knowledge.config import Settings
from knowledge.index import BatchingEmbedder, Indexer
from knowledge.review.audit import (
    APPROVE,
    DUPLICATE,
    EDIT,
    FLAG_PII,
    REJECT,
    SKIP,
    UNDO,
    UNDOABLE,
    core,
    decide,
    restore,
    state_of,
    undone_ids,
    verb,
)
from knowledge.review.errors import NothingToUndo, ReviewError, UndoConflict
from knowledge.review.queries import check_claim, curator_id, live_claim, lock_entry, missing
from knowledge.review.views import Decision, summary_of
from knowledge.storage import AuditEvent, Database, Entry, Expert, utcnow
from knowledge.storage.entries import set_vector
from knowledge.vocab import EntryStatus

log = logging.getLogger(__name__)


class Decisions:
    db: Database
    embedder: BatchingEmbedder
    indexer: Indexer | None
    settings: Settings

    async def approve(self, curator: str, entry_id: int) -> Decision:
        def apply(e: Entry, actor: str, now: datetime) -> None:
            if e.status != EntryStatus.approved:
                decide(e, EntryStatus.approved, actor, now)

        return await self._change(curator, entry_id, APPROVE, apply, release=True)

    async def reject(self, curator: str, entry_id: int, reason: str) -> Decision:
        reason = (reason or "").strip()
        if not reason:
            raise ReviewError("a rejection needs a reason")

        def apply(e: Entry, actor: str, now: datetime) -> None:
            if e.status != EntryStatus.rejected or e.reason != reason:
                decide(e, EntryStatus.rejected, actor, now, reason=reason)

        return await self._change(curator, entry_id, REJECT, apply, release=True)

    async def mark_duplicate(self, curator: str, entry_id: int, of_entry_id: int) -> Decision:
        """Mark as a duplicate of another entry (of the entry that one duplicates, if it does)."""
        if entry_id == of_entry_id:
            raise ReviewError(f"entry {entry_id} cannot be a duplicate of itself")

        async def resolve(s) -> int:
            seen = {entry_id}
            of = await s.get(Entry, of_entry_id)
            if of is None:
                raise await missing(s, self.db, of_entry_id)
            while of.status == EntryStatus.duplicate and of.duplicate_of is not None:
                if of.duplicate_of in seen:
                    break
                seen.add(of.id)
                parent = await s.get(Entry, of.duplicate_of)
                if parent is None:
                    break
                of = parent
            if of.id == entry_id:
                raise ReviewError(f"entry {of_entry_id} is itself a duplicate of entry {entry_id}")
            return of.id

        def apply(e: Entry, actor: str, now: datetime, target: int) -> None:
            if e.status != EntryStatus.duplicate or e.duplicate_of != target:
                decide(e, EntryStatus.duplicate, actor, now, duplicate_of=target)

        return await self._change(
            curator, entry_id, DUPLICATE, apply, release=True, prepare=resolve
        )

    async def edit(
        self,
        curator: str,
        entry_id: int,
        question: str | None = None,
        answer: str | None = None,
    ) -> Decision:
        """Correct the question and/or answer; the expert's original words are kept.

        Text equal to the expert's own (their correction, else their answer) clears that edit.
        An edited answer is embedded again at once (or by the indexer, if the model is
        unavailable now).
        """
        if question is None and answer is None:
            raise ReviewError("nothing to edit: give a new question or a new answer")
        if question is not None:
            question = question.strip()
            if not question:
                raise ReviewError("the question cannot be empty")
        if answer is not None:
            answer = answer.strip()
            if not answer:
                raise ReviewError("the answer cannot be empty")
        vector = await self._embed(answer) if answer is not None else None

        def apply(e: Entry, actor: str, now: datetime) -> None:
            old = (e.edited_question, e.edited_answer)
            if question is not None:
                e.edited_question = None if question == e.question else question
            if answer is not None:
                new = None if answer == e.expert_answer else answer
                if new != e.edited_answer:
                    e.edited_answer = new
                    set_vector(e, vector, self.embedder.model_name)
            edits = (e.edited_question, e.edited_answer)
            if edits != old:
                e.edited_by = actor if edits != (None, None) else None

        return await self._change(curator, entry_id, EDIT, apply, release=False)

    async def flag_pii(self, curator: str, entry_id: int, note: str = "") -> Decision:
        """Mark the entry as holding personal data; the note goes to the audit log."""
        note = (note or "").strip()

        def apply(e: Entry, actor: str, now: datetime) -> None:
            e.flagged_pii = True

        return await self._change(
            curator, entry_id, FLAG_PII, apply, release=False, extra={"note": note}
        )

    async def undo(self, curator: str) -> Decision:
        """Take back this curator's most recent decision or edit not undone yet.

        Refused (UndoConflict) when the entry changed since, so nobody's later work is lost.
        Undoing again goes one step further back. A pending entry comes back claimed by the
        curator, so their next card is the entry they just undid.
        """
        actor = curator_id(curator)
        async with self.db.sessions() as s:
            undone = await undone_ids(s, actor)
            q = (
                select(AuditEvent)
                # Joined to the entry, so a curator's view of one server undoes only there.
                .join(Entry, Entry.id == AuditEvent.entity_id)
                .where(
                    AuditEvent.actor == actor,
                    AuditEvent.entity == "entry",
                    AuditEvent.action.in_(UNDOABLE),
                )
                .order_by(AuditEvent.id.desc())
            )
            last = None
            for ev in await s.scalars(q.limit(len(undone) + 1)):
                if ev.id not in undone:
                    last = ev
                    break
        if last is None or last.before is None or last.after is None:
            raise NothingToUndo("nothing to undo: you have no decisions or edits left to take back")
        target = last.before
        vector = None
        if target.get("answer") != last.after.get("answer"):
            vector = await self._embed(target["answer"])
        claim = timedelta(minutes=self.settings.review.claim_minutes)
        async with self.db.sessions() as s, s.begin():
            e = await lock_entry(s, self.db, last.entity_id)
            prev = str(e.status)
            if last.id in await undone_ids(s, actor, e.id):  # a second click, meanwhile
                return Decision(UNDO, summary_of(e, await s.get(Expert, e.expert_id)), False, prev)
            current = state_of(e)
            if core(current) != core(last.after):
                who = await s.scalar(
                    select(AuditEvent.actor)
                    .where(
                        AuditEvent.entity == "entry",
                        AuditEvent.entity_id == e.id,
                        AuditEvent.action != SKIP,
                    )
                    .order_by(AuditEvent.id.desc())
                    .limit(1)
                )
                raise UndoConflict(
                    f"entry {e.id} changed after your {verb(last.action)}"
                    + (f" (last by {who})" if who and who != actor else "")
                    + "; nothing was undone"
                )
            restore(e, target)
            if "answer" in target and target["answer"] != current["answer"]:
                set_vector(e, vector, self.embedder.model_name)
            now = utcnow()
            if e.status == EntryStatus.pending and not live_claim(e, now):
                e.claimed_by, e.claimed_until = actor, now + claim
            ev = AuditEvent(
                at=now,
                actor=actor,
                action=UNDO,
                entity="entry",
                entity_id=e.id,
                before=current,
                after={**state_of(e), "undoes": last.id, "undid": last.action},
            )
            s.add(ev)
            await s.flush()
            summary = summary_of(e, await s.get(Expert, e.expert_id))
        self._notify()
        return Decision(UNDO, summary, True, prev, ev.id)

    # ---- reading -------------------------------------------------------------------------

    async def _change(
        self,
        curator: str,
        entry_id: int,
        action: str,
        apply: Callable[..., None],
        *,
        release: bool,
        extra: dict[str, Any] | None = None,
        prepare: Callable | None = None,
    ) -> Decision:
        """Lock the entry, check its claim, apply the change, audit it; one transaction."""
        actor = curator_id(curator)
        async with self.db.sessions() as s, s.begin():
            e = await lock_entry(s, self.db, entry_id)
            now = utcnow()
            check_claim(e, actor, now)
            args = (await prepare(s),) if prepare is not None else ()
            prev = str(e.status)
            before = state_of(e)
            apply(e, actor, now, *args)
            after = state_of(e)
            changed = after != before
            if release and e.claimed_by is not None:
                e.claimed_by = e.claimed_until = None
            audit_id = None
            if changed:
                ev = AuditEvent(
                    at=now,
                    actor=actor,
                    action=action,
                    entity="entry",
                    entity_id=e.id,
                    before=before,
                    after={**after, **(extra or {})},
                )
                s.add(ev)
                await s.flush()
                audit_id = ev.id
            summary = summary_of(e, await s.get(Expert, e.expert_id))
        if changed:
            self._notify()
        return Decision(action, summary, changed, prev, audit_id)

    async def _embed(self, text_: str) -> np.ndarray | None:
        try:
            return await self.embedder.embed_one(text_)
        except Exception:
            log.warning("embedding failed; the indexer will embed the entry later", exc_info=True)
            return None

    def _notify(self) -> None:
        if self.indexer is not None:
            self.indexer.notify()
