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
from knowledge.guides import GuideLibrary
from knowledge.index import BatchingEmbedder, Indexer
from knowledge.review.audit import (
    APPROVE,
    DUPLICATE,
    EDIT,
    FLAG_PII,
    REJECT,
    SCORE,
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
from knowledge.review.panel import (
    ADJUDICATION,
    REVIEW,
    REVISION,
    agree,
    blind,
    check_scores,
    decided,
    outcome_of,
    put_row,
    refuse_twice,
    required,
    row_for,
    rows_of,
    rubric,
    snapshot,
)
from knowledge.review.queries import check_claim, curator_id, live_claim, lock_entry, missing
from knowledge.review.views import Decision, summary_of
from knowledge.storage import AuditEvent, Database, Entry, Expert, ReviewDecision, utcnow
from knowledge.storage.entries import set_vector
from knowledge.vocab import EntryStatus

log = logging.getLogger(__name__)


class Decisions:
    db: Database
    embedder: BatchingEmbedder
    indexer: Indexer | None
    settings: Settings
    guides: GuideLibrary

    async def approve(
        self, curator: str, entry_id: int, *, scores: dict[str, int] | None = None
    ) -> Decision:
        def apply(e: Entry, actor: str, now: datetime) -> None:
            if e.status != EntryStatus.approved:
                decide(e, EntryStatus.approved, actor, now)

        return await self._verdict(
            curator, entry_id, APPROVE, apply, EntryStatus.approved, scores=scores
        )

    async def reject(
        self, curator: str, entry_id: int, reason: str, *, scores: dict[str, int] | None = None
    ) -> Decision:
        reason = (reason or "").strip()
        if not reason:
            raise ReviewError("a rejection needs a reason")

        def apply(e: Entry, actor: str, now: datetime) -> None:
            if e.status != EntryStatus.rejected or e.reason != reason:
                decide(e, EntryStatus.rejected, actor, now, reason=reason)

        return await self._verdict(
            curator, entry_id, REJECT, apply, EntryStatus.rejected, reason=reason, scores=scores
        )

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

        return await self._verdict(
            curator, entry_id, DUPLICATE, apply, EntryStatus.duplicate, prepare=resolve
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

        def apply(e: Entry, actor: str, now: datetime, rows=None) -> None:
            if rows is not None:  # blind: the edit waits in the curator's own decision
                r = row_for(e, actor, rows)
                if question is not None:
                    r.edited_question = None if question == e.question else question
                if answer is not None:
                    r.edited_answer = None if answer == e.expert_answer else answer
                return
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

        return await self._change(curator, entry_id, EDIT, apply, release=False, blind_ok=True)

    async def score(self, curator: str, entry_id: int, scores: dict[str, int]) -> Decision:
        """Record rubric scores (criterion name to score) as part of this curator's decision."""
        if not scores:
            raise ReviewError("no scores given: name=value for a criterion of the guide's rubric")

        def apply(e: Entry, actor: str, now: datetime, rows=None) -> None:
            pass  # the scores are merged into the curator's row by _change

        return await self._change(
            curator, entry_id, SCORE, apply, release=False, blind_ok=True, scores=scores
        )

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
            if "review" in target:  # the curator's own decision row, as it was
                await put_row(s, e, actor, target["review"], await rows_of(s, e.id))
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
            if "review" in target:
                ev.before = {**current, "review": last.after.get("review")}
                ev.after = {**ev.after, "review": target["review"]}
            s.add(ev)
            await s.flush()
            summary = summary_of(e, await s.get(Expert, e.expert_id))
        self._notify()
        return Decision(UNDO, summary, True, prev, ev.id)

    # ---- reading -------------------------------------------------------------------------

    async def _verdict(
        self,
        curator: str,
        entry_id: int,
        action: str,
        apply: Callable[..., None],
        status: EntryStatus,
        *,
        reason: str | None = None,
        prepare: Callable | None = None,
        scores: dict[str, int] | None = None,
    ) -> Decision:
        """A decision: applied at once when one review suffices (or the entry is final), else
        recorded blind in the curator's row until the entry has all its reviews."""
        actor = curator_id(curator)
        vector = await self._draft_vector(actor, entry_id)

        def record(e: Entry, actor: str, now: datetime, *args) -> None:
            rows = args[-1]
            target = args[0] if len(args) > 1 else None
            fresh, pending = actor not in rows, e.status == EntryStatus.pending
            if not blind_now:
                was = state_of(e)
                apply(e, actor, now, *args[:-1])
                if state_of(e) == was and not scores:  # already so: nothing is written
                    return
            r = row_for(e, actor, rows)
            if fresh:
                r.kind = REVIEW if pending else REVISION
            r.verdict, r.reason, r.duplicate_of = str(status), reason, target
            r.decided_at = now
            if not blind_now:
                if e.edited_by == actor:
                    r.edited_question, r.edited_answer = e.edited_question, e.edited_answer
                return
            if e.disputed:
                r.kind = ADJUDICATION
                self._finalize(e, r, [r], actor, now, vector)
                return
            votes = decided(rows)
            if len(votes) >= self.reviews_needed(e.guide_slug):
                if agree(votes):
                    self._finalize(e, r, votes, actor, now, vector)
                else:
                    e.disputed = True

        blind_now = False

        def gate(e: Entry, rows) -> None:
            nonlocal blind_now
            n = self.reviews_needed(e.guide_slug)
            blind_now = blind(e, n)
            if blind_now:
                refuse_twice(e, rows.get(actor), n, len(decided(rows)))

        return await self._change(
            actor,
            entry_id,
            action,
            record,
            release=True,
            prepare=prepare,
            scores=scores,
            gate=gate,
            with_rows=True,
        )

    def _finalize(self, e: Entry, mine, votes, actor: str, now: datetime, vector) -> None:
        """The entry takes the agreed (or adjudicated) decision: status, reason, edits."""
        status = EntryStatus(mine.verdict)
        reasons = list(dict.fromkeys(v.reason for v in votes if v.reason))
        decide(e, status, actor, now, reason="; ".join(reasons) or None)
        e.duplicate_of = mine.duplicate_of
        e.disputed = False
        editor = next((v for v in votes if v.edited_question or v.edited_answer), None)
        if editor is not None and status == EntryStatus.approved:
            e.edited_question, e.edited_by = editor.edited_question, editor.curator
            if editor.edited_answer != e.edited_answer:
                e.edited_answer = editor.edited_answer
                set_vector(e, vector, self.embedder.model_name)

    def reviews_needed(self, guide_slug: str) -> int:
        return required(self.guides, self.settings, guide_slug)

    async def _draft_vector(self, actor: str, entry_id: int) -> np.ndarray | None:
        """The vector of the curator's own edited answer, if one waits in their row."""
        async with self.db.sessions() as s:
            text_ = await s.scalar(
                select(ReviewDecision.edited_answer).where(
                    ReviewDecision.entry_id == entry_id, ReviewDecision.curator == actor
                )
            )
        return await self._embed(text_) if text_ else None

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
        scores: dict[str, int] | None = None,
        gate: Callable | None = None,
        with_rows: bool = False,
        blind_ok: bool = False,
    ) -> Decision:
        """Lock the entry, check its claim, apply the change, audit it; one transaction.

        The curator's decision row goes into the audit event too (`review`), so undo can put
        it back. With `blind_ok` (edits, scores), a blind entry's change goes to the row only.
        """
        actor = curator_id(curator)
        async with self.db.sessions() as s, s.begin():
            e = await lock_entry(s, self.db, entry_id)
            now = utcnow()
            check_claim(e, actor, now)
            args = [await prepare(s)] if prepare is not None else []
            rows = await rows_of(s, e.id)
            n = self.reviews_needed(e.guide_slug)
            if gate is not None:
                gate(e, rows)
            hidden = blind_ok and blind(e, n)
            if hidden:
                refuse_twice(e, rows.get(actor), n, len(decided(rows)))
            if scores:
                checked = check_scores(rubric(self.guides, e.guide_slug), scores, e.guide_slug)
            prev = str(e.status)
            before = {**state_of(e), "review": snapshot(rows.get(actor))}
            if with_rows or hidden:
                args.append(rows)
            apply(e, actor, now, *args)
            if scores:
                r = row_for(e, actor, rows)
                r.scores = {**(r.scores or {}), **checked}
            for r in rows.values():
                s.add(r)  # a new row joins the session; the others are in it already
            await s.flush()
            after = {**state_of(e), "review": snapshot(rows.get(actor))}
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
            outcome, left = outcome_of(e, n, rows)
        if changed:
            self._notify()
        return Decision(
            action, summary, changed, prev, audit_id, outcome=outcome, reviews_left=left
        )

    async def _embed(self, text_: str) -> np.ndarray | None:
        try:
            return await self.embedder.embed_one(text_)
        except Exception:
            log.warning("embedding failed; the indexer will embed the entry later", exc_info=True)
            return None

    def _notify(self) -> None:
        if self.indexer is not None:
            self.indexer.notify()
