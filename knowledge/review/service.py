"""Curator review: claim the next entry, decide on it, edit it, undo, search, count and pay.

Transport-free: every call takes the curator as a string ("discord:1234", "cli:alice") and returns
plain dataclasses; the Discord cog and the CLI only render them. Decisions live in
`decisions.py` (mixed in), the SQL in `queries.py`, the audit trail in `audit.py`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import case, func, select, update

from knowledge.config import Settings
from knowledge.experts import Earnings, ExpertService
from knowledge.guides import GuideLibrary
from knowledge.index import BatchingEmbedder, Hit, Indexer, IndexUnavailable, VectorIndex
from knowledge.review.agreement import Agreement, agreement
from knowledge.review.audit import BLIND_ACTIONS, SKIP
from knowledge.review.decisions import Decisions
from knowledge.review.errors import EntryNotFound, ReviewError
from knowledge.review.panel import review_fields, rows_of, rubric, sees_others
from knowledge.review.payouts import payouts, payouts_csv
from knowledge.review.queries import (
    check_claim,
    claimable,
    curator_id,
    decided_by,
    missing,
    rows_by_id,
    scoped,
    status_of,
    with_context,
)
from knowledge.review.stats import ReviewStats, review_stats
from knowledge.review.views import (
    AuditRecord,
    Card,
    EntryDetail,
    EntrySummary,
    SearchHit,
    hit_of,
    summary_of,
    view_fields,
)
from knowledge.storage import AuditEvent, Database, Entry, Expert, ReviewDecision, utcnow
from knowledge.storage.entries import from_bytes, index_guild
from knowledge.vocab import EntryStatus

log = logging.getLogger(__name__)


class ReviewService(Decisions):
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
        actor = curator_id(curator)
        minutes = claim_minutes or self.settings.review.claim_minutes
        skipped = select(AuditEvent.entity_id).where(
            AuditEvent.entity == "entry", AuditEvent.action == SKIP, AuditEvent.actor == actor
        )
        done = (
            select(func.count())
            .where(ReviewDecision.entry_id == Entry.id, ReviewDecision.verdict.is_not(None))
            .scalar_subquery()
        )
        while True:
            now = utcnow()
            q = select(Entry.id).where(
                Entry.status == EntryStatus.pending,
                claimable(actor, now),
                ~decided_by(actor),  # blind review: a curator decides on an entry once
            )
            if guide is not None:
                q = q.where(Entry.guide_slug == guide)
            if expert_id is not None:
                q = q.where(Entry.expert_id == expert_id)
            q = q.order_by(
                case((Entry.claimed_by == actor, 0), else_=1),
                case((Entry.disputed.is_(True), 0), else_=1),  # adjudication first
                case((Entry.id.in_(skipped), 1), else_=0),
                done.desc(),  # then entries closest to final
                Entry.id,
            ).limit(20)
            async with self.db.sessions() as s:
                candidates = list(await s.scalars(q))
            if not candidates:
                return None
            for entry_id in candidates:
                if await self._claim(actor, entry_id, minutes):
                    try:
                        return await self._card(entry_id, actor)
                    except EntryNotFound:  # withdrawn the moment it was claimed
                        continue
            # Every candidate went to someone else meanwhile: look again.

    async def card(
        self, curator: str, entry_id: int, *, claim_minutes: float | None = None
    ) -> Card:
        """This entry as a card; a pending one is claimed for the curator (EntryClaimed if held)."""
        actor = curator_id(curator)
        minutes = claim_minutes or self.settings.review.claim_minutes
        if not await self._claim(actor, entry_id, minutes):
            async with self.db.sessions() as s:
                e = await s.get(Entry, entry_id)
                if e is None:
                    raise await missing(s, self.db, entry_id)
                if e.status == EntryStatus.pending:
                    check_claim(e, actor, utcnow())
        return await self._card(entry_id, actor)

    async def skip(self, curator: str, entry_id: int) -> None:
        """Give the entry back to the queue; this curator gets it again only after the rest."""
        actor = curator_id(curator)
        async with self.db.sessions() as s, s.begin():
            if await s.get(Entry, entry_id) is None:
                raise await missing(s, self.db, entry_id)
            await s.execute(
                update(Entry)
                .where(Entry.id == entry_id, Entry.claimed_by == actor)
                .values(claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )
            s.add(AuditEvent(actor=actor, action=SKIP, entity="entry", entity_id=entry_id))

    # ---- decisions and edits -------------------------------------------------------------

    async def entry(self, entry_id: int, curator: str | None = None) -> EntryDetail:
        """One entry with its whole audit history: who decided, and what it said before edits.

        Seen by a curator (`curator`) while it waits for blind reviews they have not given,
        other curators' decisions, edits and reasons are left out of it.
        """
        viewer = curator_id(curator) if curator is not None else None
        async with self.db.sessions() as s:
            row = (await s.execute(with_context().where(Entry.id == entry_id))).first()
            if row is None:
                raise await missing(s, self.db, entry_id)
            events = list(
                await s.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.entity == "entry", AuditEvent.entity_id == entry_id)
                    .order_by(AuditEvent.at, AuditEvent.id)
                )
            )
            rows = await rows_of(s, entry_id)
        e, ex, iv = row
        if not sees_others(e, rows, viewer, self.reviews_needed(e.guide_slug)):
            events = [a for a in events if a.actor == viewer or a.action not in BLIND_ACTIONS]
        history = [AuditRecord(a.id, a.at, a.actor, a.action, a.before, a.after) for a in events]
        return EntryDetail(**self._view(e, ex, iv, rows, viewer), history=history)

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
            q = q.where(Entry.status == status_of(status))
        if guide is not None:
            q = q.where(Entry.guide_slug == guide)
        if expert_id is not None:
            q = q.where(Entry.expert_id == expert_id)
        q = q.order_by(Entry.id).limit(limit).offset(offset)
        async with self.db.sessions() as s:
            return [summary_of(e, ex) for e, ex in (await s.execute(q)).all()]

    async def search(
        self, query: str, *, status: str | None = None, guide: str | None = None, n: int = 10
    ) -> list[SearchHit]:
        """Entries whose answers mean the closest to the query, best first (current SQL text)."""
        query = (query or "").strip()
        if not query:
            raise ReviewError("search needs some text")
        if status is not None:
            status = str(status_of(status))
        conditions: list[dict[str, Any]] = []
        if status is not None:
            conditions.append({"status": status})
        if guide is not None:
            conditions.append({"guide": guide})
        where = self._where(*conditions)
        vector = await self.embedder.embed_one(query)
        try:
            hits = await self.index.query(vector, n=max(2 * n, n + 5), where=where)
        except IndexUnavailable as e:
            raise ReviewError(f"search is unavailable: {e}") from None
        rows = await rows_by_id(self.db, [h.entry_id for h in hits])
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
            out.append(hit_of(e, ex, h))
        return out[:n]

    # ---- counting and paying -------------------------------------------------------------

    async def _claim(self, actor: str, entry_id: int, minutes: float) -> bool:
        now = utcnow()
        async with self.db.sessions() as s, s.begin():
            result = await s.execute(
                update(Entry)
                .where(
                    Entry.id == entry_id,
                    Entry.status == EntryStatus.pending,
                    claimable(actor, now),
                    ~decided_by(actor),
                )
                .values(claimed_by=actor, claimed_until=now + timedelta(minutes=minutes))
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def _view(self, e: Entry, ex: Expert, iv, rows, viewer: str | None) -> dict[str, Any]:
        n = self.reviews_needed(e.guide_slug)
        criteria = rubric(self.guides, e.guide_slug)
        return {
            **view_fields(self.guides, e, ex, iv),
            **review_fields(e, rows, viewer, n, criteria),
        }

    async def _card(self, entry_id: int, viewer: str) -> Card:
        async with self.db.sessions() as s:
            row = (await s.execute(with_context().where(Entry.id == entry_id))).first()
            if row is None:
                raise await missing(s, self.db, entry_id)
            pending = await s.scalar(
                select(func.count()).select_from(Entry).where(Entry.status == EntryStatus.pending)
            )
            rows = await rows_of(s, entry_id)
        e, ex, iv = row
        vector = from_bytes(e.embedding) if e.embedding else await self._embed(e.final_answer)
        similar, duplicate = await self._neighbours(e, vector)
        return Card(
            **self._view(e, ex, iv, rows, viewer),
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
            near = await self.index.query(vector, n=10, where=self._where())
            # Also ask among approved ones, so a crowd of pending look-alikes cannot hide one.
            approved = await self.index.query(
                vector, n=3, where=self._where({"status": str(EntryStatus.approved)})
            )
        except IndexUnavailable as err:
            log.warning("similar entries unavailable for entry %s: %s", e.id, err)
            return [], None
        hits: dict[int, Hit] = {}
        for h in [*near, *approved]:
            if h.entry_id != e.id and h.entry_id not in hits:
                hits[h.entry_id] = h
        ranked = sorted(hits.values(), key=lambda h: -h.similarity)
        rows = await rows_by_id(self.db, [h.entry_id for h in ranked])
        found = [hit_of(*rows[h.entry_id], h) for h in ranked if h.entry_id in rows]
        threshold = self.settings.review.duplicate_similarity
        duplicate = next(
            (x for x in found if x.status == EntryStatus.approved and x.similarity >= threshold),
            None,
        )
        return found[:3], duplicate

    def _where(self, *conditions: dict[str, Any]) -> dict[str, Any] | None:
        """A Chroma filter of these conditions, within this view's server. (SQL has the last
        word either way: rows of another server never come back from a scoped session; this
        keeps them from crowding out the server's own nearest entries.)"""
        conds = list(conditions)
        if scoped(self.db):
            conds.append({"guild": index_guild(self.db.scope.guild_id)})
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else {"$and": conds}

    # ---- counting and paying -------------------------------------------------------------

    async def stats(self) -> ReviewStats:
        return await review_stats(self.db)

    async def agreement(self) -> Agreement:
        """Krippendorff's alpha between curators over this view's blind reviews."""
        return await agreement(self.db)

    async def payouts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[Earnings]:
        """What each expert is owed for interviews started in [since, until): the same figures
        as the expert's own `/me earnings`, because both come from ExpertService.earnings."""
        return await payouts(self.experts, since, until)

    async def payouts_csv(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> str:
        return await payouts_csv(self.experts, since, until)
