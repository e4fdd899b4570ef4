"""Curator review: claim the next entry, decide on it, edit it, undo, search, count and pay.

Transport-free: every call takes the curator as a string ("discord:1234", "cli:alice") and returns
plain dataclasses; the Discord cog and the CLI only render them. Every decision and edit writes an
audit event holding the entry's reviewable state before and after, and undo reads it back.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import case, func, or_, select, text, update

from knowledge.config import Settings
from knowledge.embeddings import BatchingEmbedder, from_bytes, to_bytes
from knowledge.experts import Earnings, ExpertService
from knowledge.guides import GuideLibrary
from knowledge.indexing import Indexer, mark_changed
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
from knowledge.vectors import Hit, IndexUnavailable, VectorIndex

log = logging.getLogger(__name__)

APPROVE = "entry.approve"
REJECT = "entry.reject"
DUPLICATE = "entry.duplicate"
EDIT = "entry.edit"
FLAG_PII = "entry.flag_pii"
UNDO = "entry.undo"
SKIP = "entry.skip"
DECISIONS = frozenset({APPROVE, REJECT, DUPLICATE})
UNDOABLE = DECISIONS | {EDIT, FLAG_PII}

# What an audit event's `before` and `after` hold; undo restores the raw fields among them.
STATE_KEYS = (
    "status",
    "question",
    "answer",
    "edited_question",
    "edited_answer",
    "edited_by",
    "reason",
    "decided_by",
    "decided_at",
    "duplicate_of",
    "flagged_pii",
)
THROUGHPUT_DAYS = 14


# ---- errors ----------------------------------------------------------------------------------


class ReviewError(ValueError):
    """A review action that cannot be done; the message says what and why, in one line."""

    exit_code = 1


class EntryNotFound(ReviewError):
    pass


class EntryWithdrawn(EntryNotFound):
    """The entry was deleted because its expert withdrew (asked to be forgotten)."""


class EntryClaimed(ReviewError):
    """Another curator has this entry on screen right now."""


class NothingToUndo(ReviewError):
    pass


class UndoConflict(ReviewError):
    """The entry changed after the decision being undone; undoing would overwrite that."""


# ---- what callers get back -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EntrySummary:
    """An entry as lists show it; question and answer are the final (edited if edited) text."""

    entry_id: int
    status: str
    guide: str
    step: str
    probe: str
    expert_id: int
    expert_name: str
    expert_pseudonym: str
    question: str
    answer: str
    edited: bool
    flagged_pii: bool
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    duplicate_of: int | None
    created_at: datetime
    claimed_by: str | None  # only while the claim is live


@dataclass(frozen=True, kw_only=True)
class EntryView(EntrySummary):
    original_question: str
    original_answer: str
    edited_by: str | None
    interview_id: int
    channel: str | None  # "discord:thread:<id>", "terminal", ...: where the answer was given
    profession: str | None
    guide_title: str
    step_title: str
    claimed_until: datetime | None


@dataclass(frozen=True, kw_only=True)
class SearchHit(EntrySummary):
    similarity: float  # cosine similarity of the answers, 1.0 = same meaning


@dataclass(frozen=True, kw_only=True)
class Card(EntryView):
    """One entry put in front of a curator, with what might already cover it."""

    similar: list[SearchHit] = field(default_factory=list)  # closest others, best first
    # The closest approved entry when it is at least review.duplicate_similarity alike.
    duplicate_of_approved: SearchHit | None = None
    pending_total: int = 0  # pending entries in the whole store, this one included


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def changes(self) -> dict[str, tuple[Any, Any]]:
        """Keys whose value differs between before and after: {key: (old, new)}."""
        b, a = self.before or {}, self.after or {}
        return {k: (b.get(k), a.get(k)) for k in {**b, **a} if b.get(k) != a.get(k)}


@dataclass(frozen=True, kw_only=True)
class EntryDetail(EntryView):
    history: list[AuditRecord] = field(default_factory=list)  # oldest first


@dataclass(frozen=True)
class Decision:
    """What a decision, edit or undo did. `changed` is False when it was already so."""

    action: str
    entry: EntrySummary
    changed: bool
    previous_status: str
    audit_id: int | None = None


@dataclass(frozen=True)
class StatusCounts:
    pending: int = 0
    approved: int = 0
    rejected: int = 0
    duplicate: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.approved + self.rejected + self.duplicate


@dataclass(frozen=True)
class ExpertCounts:
    expert_id: int
    display_name: str
    pseudonym: str
    counts: StatusCounts


@dataclass(frozen=True)
class DayCount:
    day: date
    decisions: int


@dataclass(frozen=True)
class ReviewStats:
    by_status: StatusCounts
    by_guide: dict[str, StatusCounts]
    by_expert: list[ExpertCounts]
    flagged_pii: int
    oldest_pending_at: datetime | None
    decisions_per_day: list[DayCount]  # the last THROUGHPUT_DAYS days (UTC), oldest first
    decisions_by_curator: dict[str, int]  # over the same days, most first

    @property
    def backlog_by_guide(self) -> dict[str, int]:
        """Pending entries per guide, largest backlog first (guides with none left out)."""
        items = [(g, c.pending) for g, c in self.by_guide.items() if c.pending]
        return dict(sorted(items, key=lambda kv: (-kv[1], kv[0])))


# ---- the service -----------------------------------------------------------------------------


class ReviewService:
    def __init__(
        self,
        db: Database,
        index: VectorIndex,
        embedder: BatchingEmbedder,
        indexer: Indexer | None,
        guides: GuideLibrary,
        settings: Settings,
        *,
        experts: ExpertService | None = None,
    ):
        self.db = db
        self.index = index
        self.embedder = embedder
        self.indexer = indexer
        self.guides = guides
        self.settings = settings
        self.experts = experts or ExpertService(db, guides, settings.consent, settings.pay)

    # ---- the queue -----------------------------------------------------------------------

    async def next(
        self,
        curator: str,
        *,
        guide: str | None = None,
        expert_id: int | None = None,
        claim_minutes: float | None = None,
    ) -> Card | None:
        """Claim the next pending entry nobody else holds; None when the queue is empty.

        The curator's own live claim comes back first (a card shown twice is the same entry);
        entries they skipped come after all others. Claiming is one conditional UPDATE, so two
        curators asking at once never get the same entry, on SQLite or PostgreSQL.
        """
        actor = _actor(curator)
        minutes = claim_minutes or self.settings.review.claim_minutes
        skipped = select(AuditEvent.entity_id).where(
            AuditEvent.entity == "entry", AuditEvent.action == SKIP, AuditEvent.actor == actor
        )
        while True:
            now = utcnow()
            q = select(Entry.id).where(Entry.status == EntryStatus.pending, _claimable(actor, now))
            if guide is not None:
                q = q.where(Entry.guide_slug == guide)
            if expert_id is not None:
                q = q.where(Entry.expert_id == expert_id)
            q = q.order_by(
                case((Entry.claimed_by == actor, 0), else_=1),
                case((Entry.id.in_(skipped), 1), else_=0),
                Entry.id,
            ).limit(20)
            async with self.db.sessions() as s:
                candidates = list(await s.scalars(q))
            if not candidates:
                return None
            for entry_id in candidates:
                if await self._claim(actor, entry_id, minutes):
                    try:
                        return await self._card(entry_id)
                    except EntryNotFound:  # withdrawn the moment it was claimed
                        continue
            # Every candidate went to someone else meanwhile: look again.

    async def card(
        self, curator: str, entry_id: int, *, claim_minutes: float | None = None
    ) -> Card:
        """This entry as a card; a pending one is claimed for the curator (EntryClaimed if held)."""
        actor = _actor(curator)
        minutes = claim_minutes or self.settings.review.claim_minutes
        if not await self._claim(actor, entry_id, minutes):
            async with self.db.sessions() as s:
                e = await s.get(Entry, entry_id)
                if e is None:
                    raise await _missing(s, entry_id)
                if e.status == EntryStatus.pending:
                    _check_claim(e, actor, utcnow())
        return await self._card(entry_id)

    async def skip(self, curator: str, entry_id: int) -> None:
        """Give the entry back to the queue; this curator gets it again only after the rest."""
        actor = _actor(curator)
        async with self.db.sessions() as s, s.begin():
            if await s.get(Entry, entry_id) is None:
                raise await _missing(s, entry_id)
            await s.execute(
                update(Entry)
                .where(Entry.id == entry_id, Entry.claimed_by == actor)
                .values(claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )
            s.add(AuditEvent(actor=actor, action=SKIP, entity="entry", entity_id=entry_id))

    # ---- decisions and edits -------------------------------------------------------------

    async def approve(self, curator: str, entry_id: int) -> Decision:
        def apply(e: Entry, actor: str, now: datetime) -> None:
            if e.status != EntryStatus.approved:
                _decide(e, EntryStatus.approved, actor, now)

        return await self._change(curator, entry_id, APPROVE, apply, release=True)

    async def reject(self, curator: str, entry_id: int, reason: str) -> Decision:
        reason = (reason or "").strip()
        if not reason:
            raise ReviewError("a rejection needs a reason")

        def apply(e: Entry, actor: str, now: datetime) -> None:
            if e.status != EntryStatus.rejected or e.reason != reason:
                _decide(e, EntryStatus.rejected, actor, now, reason=reason)

        return await self._change(curator, entry_id, REJECT, apply, release=True)

    async def mark_duplicate(self, curator: str, entry_id: int, of_entry_id: int) -> Decision:
        """Mark as a duplicate of another entry (of the entry that one duplicates, if it does)."""
        if entry_id == of_entry_id:
            raise ReviewError(f"entry {entry_id} cannot be a duplicate of itself")

        async def resolve(s) -> int:
            seen = {entry_id}
            of = await s.get(Entry, of_entry_id)
            if of is None:
                raise await _missing(s, of_entry_id)
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
                _decide(e, EntryStatus.duplicate, actor, now, duplicate_of=target)

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

        Text equal to the original clears that edit. An edited answer is embedded again at
        once (or by the indexer, if the model is unavailable now).
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
                new = None if answer == e.answer else answer
                if new != e.edited_answer:
                    e.edited_answer = new
                    self._set_vector(e, vector)
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
        actor = _actor(curator)
        async with self.db.sessions() as s:
            undone = await _undone_ids(s, actor)
            q = (
                select(AuditEvent)
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
            e = await _lock(s, self.db, last.entity_id)
            prev = str(e.status)
            if last.id in await _undone_ids(s, actor, e.id):  # a second click, meanwhile
                return Decision(UNDO, _summary(e, await s.get(Expert, e.expert_id)), False, prev)
            current = _state(e)
            if _core(current) != _core(last.after):
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
                    f"entry {e.id} changed after your {_verb(last.action)}"
                    + (f" (last by {who})" if who and who != actor else "")
                    + "; nothing was undone"
                )
            _restore(e, target)
            if "answer" in target and target["answer"] != current["answer"]:
                self._set_vector(e, vector)
            now = utcnow()
            if e.status == EntryStatus.pending and not _live_claim(e, now):
                e.claimed_by, e.claimed_until = actor, now + claim
            mark_changed(e)
            ev = AuditEvent(
                at=now,
                actor=actor,
                action=UNDO,
                entity="entry",
                entity_id=e.id,
                before=current,
                after={**_state(e), "undoes": last.id, "undid": last.action},
            )
            s.add(ev)
            await s.flush()
            summary = _summary(e, await s.get(Expert, e.expert_id))
        self._notify()
        return Decision(UNDO, summary, True, prev, ev.id)

    # ---- reading -------------------------------------------------------------------------

    async def entry(self, entry_id: int) -> EntryDetail:
        """One entry with its whole audit history: who decided, and what it said before edits."""
        async with self.db.sessions() as s:
            row = (await s.execute(_with_context().where(Entry.id == entry_id))).first()
            if row is None:
                raise await _missing(s, entry_id)
            events = list(
                await s.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.entity == "entry", AuditEvent.entity_id == entry_id)
                    .order_by(AuditEvent.at, AuditEvent.id)
                )
            )
        e, ex, iv = row
        history = [AuditRecord(a.id, a.at, a.actor, a.action, a.before, a.after) for a in events]
        return EntryDetail(**self._view_fields(e, ex, iv), history=history)

    async def list(
        self,
        *,
        status: str | None = None,
        guide: str | None = None,
        expert_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[EntrySummary]:
        """Entries oldest first, optionally only one status, guide or expert."""
        q = select(Entry, Expert).join(Expert, Entry.expert_id == Expert.id)
        if status is not None:
            q = q.where(Entry.status == _status(status))
        if guide is not None:
            q = q.where(Entry.guide_slug == guide)
        if expert_id is not None:
            q = q.where(Entry.expert_id == expert_id)
        q = q.order_by(Entry.id).limit(limit).offset(offset)
        async with self.db.sessions() as s:
            return [_summary(e, ex) for e, ex in (await s.execute(q)).all()]

    async def search(
        self, query: str, *, status: str | None = None, guide: str | None = None, n: int = 10
    ) -> list[SearchHit]:
        """Entries whose answers mean the closest to the query, best first (current SQL text)."""
        query = (query or "").strip()
        if not query:
            raise ReviewError("search needs some text")
        if status is not None:
            status = str(_status(status))
        conditions: list[dict[str, Any]] = []
        if status is not None:
            conditions.append({"status": status})
        if guide is not None:
            conditions.append({"guide": guide})
        where = None
        if len(conditions) == 1:
            where = conditions[0]
        elif conditions:
            where = {"$and": conditions}
        vector = await self.embedder.embed_one(query)
        try:
            hits = await self.index.query(vector, n=max(2 * n, n + 5), where=where)
        except IndexUnavailable as e:
            raise ReviewError(f"search is unavailable: {e}") from None
        rows = await self._rows([h.entry_id for h in hits])
        out = []
        for h in hits:
            row = rows.get(h.entry_id)
            if row is None:  # withdrawn since it was indexed
                continue
            e, ex = row
            # Chroma's metadata may lag a decision by a moment; SQL has the last word.
            if (status is not None and str(e.status) != status) or (
                guide is not None and e.guide_slug != guide
            ):
                continue
            out.append(_hit(e, ex, h))
        return out[:n]

    # ---- counting and paying -------------------------------------------------------------

    async def stats(self) -> ReviewStats:
        now = utcnow()
        start = datetime.combine(
            (now - timedelta(days=THROUGHPUT_DAYS - 1)).date(), datetime.min.time(), now.tzinfo
        )
        async with self.db.sessions() as s:
            grouped = (
                await s.execute(
                    select(Entry.guide_slug, Entry.expert_id, Entry.status, func.count()).group_by(
                        Entry.guide_slug, Entry.expert_id, Entry.status
                    )
                )
            ).all()
            experts = {
                ex.id: ex
                for ex in await s.scalars(
                    select(Expert).where(Expert.id.in_({r[1] for r in grouped}))
                )
            }
            flagged = await s.scalar(
                select(func.count()).select_from(Entry).where(Entry.flagged_pii.is_(True))
            )
            oldest = await s.scalar(
                select(func.min(Entry.created_at)).where(Entry.status == EntryStatus.pending)
            )
            events = (
                await s.execute(
                    select(AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action)
                    .where(
                        AuditEvent.entity == "entry",
                        AuditEvent.action.in_(DECISIONS),
                        AuditEvent.at >= start,
                    )
                    .order_by(AuditEvent.id)
                )
            ).all()
            undone = {
                (after or {}).get("undoes")
                for after in await s.scalars(
                    select(AuditEvent.after).where(
                        AuditEvent.action == UNDO, AuditEvent.at >= start
                    )
                )
            }
        total: Counter[str] = Counter()
        per_guide: dict[str, Counter[str]] = {}
        per_expert: dict[int, Counter[str]] = {}
        for guide_slug, expert_id, status, n in grouped:
            total[str(status)] += n
            per_guide.setdefault(guide_slug, Counter())[str(status)] += n
            per_expert.setdefault(expert_id, Counter())[str(status)] += n
        days = {(start + timedelta(days=i)).date(): 0 for i in range(THROUGHPUT_DAYS)}
        curators: Counter[str] = Counter()
        for ev_id, at, actor, _action in events:
            if ev_id in undone:  # taken back: not work that stands
                continue
            day = at.astimezone(now.tzinfo).date()
            if day in days:
                days[day] += 1
            curators[actor] += 1
        by_expert = [
            ExpertCounts(i, experts[i].display_name, experts[i].pseudonym, _counts(c))
            for i, c in per_expert.items()
            if i in experts
        ]
        by_expert.sort(key=lambda x: (-x.counts.total, x.display_name.lower()))
        return ReviewStats(
            by_status=_counts(total),
            by_guide={g: _counts(c) for g, c in sorted(per_guide.items())},
            by_expert=by_expert,
            flagged_pii=int(flagged or 0),
            oldest_pending_at=oldest,
            decisions_per_day=[DayCount(d, n) for d, n in days.items()],
            decisions_by_curator=dict(curators.most_common()),
        )

    async def payouts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[Earnings]:
        """What each expert is owed for interviews started in [since, until): the same figures
        as the expert's own `/me earnings`, because both come from ExpertService.earnings."""
        if since is not None and until is not None and since >= until:
            raise ReviewError("the payout period is empty: its start must be before its end")
        return await self.experts.earnings(since=since, until=until)

    async def payouts_csv(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> str:
        rows = await self.payouts(since, until)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(
            [
                "expert_id",
                "display_name",
                "pseudonym",
                "hours",
                "interviews",
                "entries_total",
                "entries_accepted",
                "rate",
                "amount",
                "currency",
            ]
        )
        for r in rows:
            w.writerow(
                [
                    r.expert_id,
                    r.display_name,
                    r.pseudonym,
                    f"{r.hours:.2f}",
                    r.interviews,
                    r.entries_total,
                    r.entries_accepted,
                    r.rate_note,
                    f"{r.amount:.2f}",
                    r.currency,
                ]
            )
        return buf.getvalue()

    # ---- internals -----------------------------------------------------------------------

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
        actor = _actor(curator)
        async with self.db.sessions() as s, s.begin():
            e = await _lock(s, self.db, entry_id)
            now = utcnow()
            _check_claim(e, actor, now)
            args = (await prepare(s),) if prepare is not None else ()
            prev = str(e.status)
            before = _state(e)
            apply(e, actor, now, *args)
            after = _state(e)
            changed = after != before
            if release and e.claimed_by is not None:
                e.claimed_by = e.claimed_until = None
            audit_id = None
            if changed:
                mark_changed(e)
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
            summary = _summary(e, await s.get(Expert, e.expert_id))
        if changed:
            self._notify()
        return Decision(action, summary, changed, prev, audit_id)

    async def _claim(self, actor: str, entry_id: int, minutes: float) -> bool:
        now = utcnow()
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                update(Entry)
                .where(
                    Entry.id == entry_id,
                    Entry.status == EntryStatus.pending,
                    _claimable(actor, now),
                )
                .values(claimed_by=actor, claimed_until=now + timedelta(minutes=minutes))
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    async def _card(self, entry_id: int) -> Card:
        async with self.db.sessions() as s:
            row = (await s.execute(_with_context().where(Entry.id == entry_id))).first()
            if row is None:
                raise await _missing(s, entry_id)
            pending = await s.scalar(
                select(func.count()).select_from(Entry).where(Entry.status == EntryStatus.pending)
            )
        e, ex, iv = row
        vector = from_bytes(e.embedding) if e.embedding else await self._embed(e.final_answer)
        similar, duplicate = await self._neighbours(e, vector)
        return Card(
            **self._view_fields(e, ex, iv),
            similar=similar,
            duplicate_of_approved=duplicate,
            pending_total=int(pending or 0),
        )

    async def _neighbours(
        self, e: Entry, vector: np.ndarray | None
    ) -> tuple[list[SearchHit], SearchHit | None]:
        if vector is None:
            return [], None
        try:
            near = await self.index.query(vector, n=10)
            # Also ask among approved ones, so a crowd of pending look-alikes cannot hide one.
            approved = await self.index.query(
                vector, n=3, where={"status": str(EntryStatus.approved)}
            )
        except IndexUnavailable as err:
            log.warning("similar entries unavailable for entry %s: %s", e.id, err)
            return [], None
        hits: dict[int, Hit] = {}
        for h in [*near, *approved]:
            if h.entry_id != e.id and h.entry_id not in hits:
                hits[h.entry_id] = h
        ranked = sorted(hits.values(), key=lambda h: -h.similarity)
        rows = await self._rows([h.entry_id for h in ranked])
        found = [_hit(*rows[h.entry_id], h) for h in ranked if h.entry_id in rows]
        threshold = self.settings.review.duplicate_similarity
        duplicate = next(
            (x for x in found if x.status == EntryStatus.approved and x.similarity >= threshold),
            None,
        )
        return found[:3], duplicate

    async def _rows(self, ids: list[int]) -> dict[int, tuple[Entry, Expert]]:
        if not ids:
            return {}
        async with self.db.sessions() as s:
            rows = await s.execute(
                select(Entry, Expert)
                .join(Expert, Entry.expert_id == Expert.id)
                .where(Entry.id.in_(ids))
            )
            return {e.id: (e, ex) for e, ex in rows.all()}

    async def _embed(self, text_: str) -> np.ndarray | None:
        try:
            return await self.embedder.embed_one(text_)
        except Exception:
            log.warning("embedding failed; the indexer will embed the entry later", exc_info=True)
            return None

    def _set_vector(self, e: Entry, vector: np.ndarray | None) -> None:
        """The vector of the final answer, or None so the indexer embeds it later."""
        if vector is None:
            e.embedding = e.embedding_model = None
        else:
            e.embedding, e.embedding_model = to_bytes(vector), self.embedder.model_name

    def _notify(self) -> None:
        if self.indexer is not None:
            self.indexer.notify()

    def _view_fields(self, e: Entry, ex: Expert, iv: Interview) -> dict[str, Any]:
        guide_title, step_title = e.guide_slug, e.step_id
        try:
            g = self.guides.get(e.guide_slug)
        except ValueError:
            pass
        else:
            guide_title = g.title
            step_title = next((st.title for st in g.steps if st.id == e.step_id), e.step_id)
        return {
            **_summary_fields(e, ex),
            "original_question": e.question,
            "original_answer": e.answer,
            "edited_by": e.edited_by,
            "interview_id": e.interview_id,
            "channel": iv.channel,
            "profession": ex.profession,
            "guide_title": guide_title,
            "step_title": step_title,
            "claimed_until": e.claimed_until if _live_claim(e) else None,
        }


async def render_chart(stats: ReviewStats) -> bytes:
    """A PNG: pending backlog per guide, and decisions per day. Drawn in a worker thread."""
    return await asyncio.to_thread(_draw, stats)


def _draw(stats: ReviewStats) -> bytes:
    # Figure + Agg canvas directly: no pyplot global state, so this is safe in a thread.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, width_ratios=[2, 3])
    backlog = stats.backlog_by_guide
    if backlog:
        names = list(backlog)[::-1]
        left.barh(names, [backlog[g] for g in names], color="#d08c2b")
    else:
        left.text(0.5, 0.5, "nothing pending", ha="center", va="center")
        left.set_yticks([])
    left.set_title(f"pending by guide ({stats.by_status.pending})")
    left.set_xlabel("entries")
    days = stats.decisions_per_day
    right.bar([d.day.strftime("%m-%d") for d in days], [d.decisions for d in days], color="#2b7bd0")
    right.set_title(f"decisions per day, last {len(days)} days")
    right.tick_params(axis="x", labelrotation=60, labelsize=8)
    right.yaxis.get_major_locator().set_params(integer=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# ---- helpers ---------------------------------------------------------------------------------


def _actor(curator: str) -> str:
    if not isinstance(curator, str) or not curator.strip():
        raise ReviewError("who is reviewing? give the curator's id, e.g. 'discord:1234'")
    curator = curator.strip()
    if len(curator) > 100:
        raise ReviewError("a curator id is at most 100 characters")
    return curator


def _status(value: str) -> EntryStatus:
    try:
        return EntryStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in EntryStatus)
        raise ReviewError(f"no status {value!r}; known: {known}") from None


def _claimable(actor: str, now: datetime):
    return or_(Entry.claimed_until.is_(None), Entry.claimed_until < now, Entry.claimed_by == actor)


def _live_claim(e: Entry, now: datetime | None = None) -> bool:
    return bool(e.claimed_by and e.claimed_until and e.claimed_until > (now or utcnow()))


def _check_claim(e: Entry, actor: str, now: datetime) -> None:
    if _live_claim(e, now) and e.claimed_by != actor:
        raise EntryClaimed(
            f"entry {e.id} is being reviewed by {e.claimed_by} "
            f"until {e.claimed_until:%H:%M} UTC; try another one"
        )


async def _undone_ids(s, actor: str, entry_id: int | None = None) -> set[int]:
    """Ids of the audit events this curator has undone (on one entry, or anywhere)."""
    q = select(AuditEvent.after).where(
        AuditEvent.actor == actor, AuditEvent.entity == "entry", AuditEvent.action == UNDO
    )
    if entry_id is not None:
        q = q.where(AuditEvent.entity_id == entry_id)
    return {(after or {}).get("undoes") for after in await s.scalars(q)}


async def _lock(s, db: Database, entry_id: int) -> Entry:
    """The entry, locked for this transaction so what we read is what we overwrite."""
    if db.is_sqlite:
        # SQLite ignores FOR UPDATE; a no-op write takes the database's write lock instead.
        await s.execute(text("UPDATE entries SET id = id WHERE id = :id"), {"id": entry_id})
    e = await s.scalar(
        select(Entry)
        .where(Entry.id == entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if e is None:
        raise await _missing(s, entry_id)
    return e


async def _missing(s, entry_id: int) -> EntryNotFound:
    """NotFound, or Withdrawn when the id did exist (ids are never reused)."""
    queued = await s.get(IndexDeletion, entry_id)
    top = await s.scalar(select(func.max(Entry.id)))
    if queued is not None or (top is not None and 0 < entry_id < top):
        return EntryWithdrawn(
            f"entry {entry_id} was withdrawn: its expert asked for their answers to be deleted"
        )
    return EntryNotFound(f"no entry {entry_id}")


def _decide(
    e: Entry,
    status: EntryStatus,
    actor: str,
    now: datetime,
    *,
    reason: str | None = None,
    duplicate_of: int | None = None,
) -> None:
    e.status = status
    e.reason = reason
    e.duplicate_of = duplicate_of
    e.decided_by = actor
    e.decided_at = now


def _state(e: Entry) -> dict[str, Any]:
    return {
        "status": str(e.status),
        "question": e.final_question,
        "answer": e.final_answer,
        "edited_question": e.edited_question,
        "edited_answer": e.edited_answer,
        "edited_by": e.edited_by,
        "reason": e.reason,
        "decided_by": e.decided_by,
        "decided_at": e.decided_at.isoformat() if e.decided_at else None,
        "duplicate_of": e.duplicate_of,
        "flagged_pii": bool(e.flagged_pii),
    }


def _core(state: dict[str, Any]) -> dict[str, Any]:
    out = {k: state.get(k) for k in STATE_KEYS}
    if out["decided_at"]:  # compare instants, not spellings of them
        out["decided_at"] = datetime.fromisoformat(out["decided_at"])
    return out


def _restore(e: Entry, state: dict[str, Any]) -> None:
    e.status = EntryStatus(state["status"])
    e.edited_question = state.get("edited_question")
    e.edited_answer = state.get("edited_answer")
    e.edited_by = state.get("edited_by")
    e.reason = state.get("reason")
    e.decided_by = state.get("decided_by")
    at = state.get("decided_at")
    e.decided_at = datetime.fromisoformat(at) if at else None
    e.duplicate_of = state.get("duplicate_of")
    e.flagged_pii = bool(state.get("flagged_pii"))


def _verb(action: str) -> str:
    return {
        APPROVE: "approval",
        REJECT: "rejection",
        DUPLICATE: "duplicate mark",
        EDIT: "edit",
        FLAG_PII: "personal-data flag",
    }.get(action, action)


def _counts(c: Counter[str]) -> StatusCounts:
    return StatusCounts(
        pending=c.get("pending", 0),
        approved=c.get("approved", 0),
        rejected=c.get("rejected", 0),
        duplicate=c.get("duplicate", 0),
    )


def _with_context():
    return (
        select(Entry, Expert, Interview)
        .join(Expert, Entry.expert_id == Expert.id)
        .join(Interview, Entry.interview_id == Interview.id)
    )


def _summary_fields(e: Entry, ex: Expert) -> dict[str, Any]:
    live = _live_claim(e)
    return {
        "entry_id": e.id,
        "status": str(e.status),
        "guide": e.guide_slug,
        "step": e.step_id,
        "probe": e.probe,
        "expert_id": e.expert_id,
        "expert_name": ex.display_name if ex else "",
        "expert_pseudonym": ex.pseudonym if ex else "",
        "question": e.final_question,
        "answer": e.final_answer,
        "edited": e.edited_question is not None or e.edited_answer is not None,
        "flagged_pii": bool(e.flagged_pii),
        "reason": e.reason,
        "decided_by": e.decided_by,
        "decided_at": e.decided_at,
        "duplicate_of": e.duplicate_of,
        "created_at": e.created_at,
        "claimed_by": e.claimed_by if live else None,
    }


def _summary(e: Entry, ex: Expert | None) -> EntrySummary:
    return EntrySummary(**_summary_fields(e, ex))


def _hit(e: Entry, ex: Expert, h: Hit) -> SearchHit:
    return SearchHit(**_summary_fields(e, ex), similarity=round(h.similarity, 4))
