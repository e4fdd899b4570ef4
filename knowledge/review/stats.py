"""Counts for curators: entries by status, guide and expert, backlog, decisions per day,
agreement between curators."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from knowledge.review.agreement import Agreement, agreement
from knowledge.review.audit import DECISIONS, UNDO
from knowledge.storage import AuditEvent, Database, Entry, Expert, utcnow
from knowledge.vocab import EntryStatus

log = logging.getLogger(__name__)


THROUGHPUT_DAYS = 14


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
    agreement: Agreement | None = None  # between curators, over blind reviews

    @property
    def backlog_by_guide(self) -> dict[str, int]:
        """Pending entries per guide, largest backlog first (guides with none left out)."""
        items = [(g, c.pending) for g, c in self.by_guide.items() if c.pending]
        return dict(sorted(items, key=lambda kv: (-kv[1], kv[0])))


def counts(c: Counter[str]) -> StatusCounts:
    return StatusCounts(
        pending=c.get("pending", 0),
        approved=c.get("approved", 0),
        rejected=c.get("rejected", 0),
        duplicate=c.get("duplicate", 0),
    )


async def review_stats(db: Database) -> ReviewStats:
    """Counts by status, guide and expert, the backlog, and decisions over THROUGHPUT_DAYS."""
    now = utcnow()
    start = datetime.combine(
        (now - timedelta(days=THROUGHPUT_DAYS - 1)).date(), datetime.min.time(), now.tzinfo
    )
    async with db.sessions() as s:
        grouped = (
            await s.execute(
                select(Entry.guide_slug, Entry.expert_id, Entry.status, func.count()).group_by(
                    Entry.guide_slug, Entry.expert_id, Entry.status
                )
            )
        ).all()
        experts = {
            ex.id: ex
            for ex in await s.scalars(select(Expert).where(Expert.id.in_({r[1] for r in grouped})))
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
                # Joined to the entry: a view of one server counts that server's decisions.
                .join(Entry, Entry.id == AuditEvent.entity_id)
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
                select(AuditEvent.after).where(AuditEvent.action == UNDO, AuditEvent.at >= start)
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
        ExpertCounts(i, experts[i].display_name, experts[i].pseudonym, counts(c))
        for i, c in per_expert.items()
        if i in experts
    ]
    by_expert.sort(key=lambda x: (-x.counts.total, x.display_name.lower()))
    return ReviewStats(
        by_status=counts(total),
        by_guide={g: counts(c) for g, c in sorted(per_guide.items())},
        by_expert=by_expert,
        flagged_pii=int(flagged or 0),
        oldest_pending_at=oldest,
        decisions_per_day=[DayCount(d, n) for d, n in days.items()],
        decisions_by_curator=dict(curators.most_common()),
        agreement=await agreement(db),
    )
