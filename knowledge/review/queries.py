"""The SQL of review: claims, locks, entries with their expert and interview."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import selectinload

from knowledge.review.errors import EntryClaimed, EntryNotFound, EntryWithdrawn, ReviewError
from knowledge.storage import (
    AuditEvent,
    Database,
    Entry,
    Expert,
    IndexDeletion,
    Interview,
    ReviewDecision,
    utcnow,
)
from knowledge.vocab import EntryStatus

log = logging.getLogger(__name__)


def curator_id(curator: str) -> str:
    if not isinstance(curator, str) or not curator.strip():
        raise ReviewError("who is reviewing? give the curator's id, e.g. 'discord:1234'")
    curator = curator.strip()
    if len(curator) > 100:
        raise ReviewError("a curator id is at most 100 characters")
    return curator


def status_of(value: str) -> EntryStatus:
    try:
        return EntryStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in EntryStatus)
        raise ReviewError(f"no status {value!r}; known: {known}") from None


def claimable(actor: str, now: datetime):
    return or_(Entry.claimed_until.is_(None), Entry.claimed_until < now, Entry.claimed_by == actor)


def decided_by(actor: str):
    """The entry has a decision by this curator (for `where`, on Entry)."""
    return (
        select(ReviewDecision.id)
        .where(
            ReviewDecision.entry_id == Entry.id,
            ReviewDecision.curator == actor,
            ReviewDecision.verdict.is_not(None),
        )
        .exists()
    )


def live_claim(e: Entry, now: datetime | None = None) -> bool:
    return bool(e.claimed_by and e.claimed_until and e.claimed_until > (now or utcnow()))


def check_claim(e: Entry, actor: str, now: datetime) -> None:
    if live_claim(e, now) and e.claimed_by != actor:
        raise EntryClaimed(
            f"entry {e.id} is being reviewed by {e.claimed_by} "
            f"until {e.claimed_until:%H:%M} UTC; try another one"
        )


async def lock_entry(s, db: Database, entry_id: int) -> Entry:
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
        raise await missing(s, db, entry_id)
    return e


def scoped(db: Database) -> bool:
    """Whether `db` sees one server's rows only (a curator's view)."""
    return db.scope is not None and not db.scope.all


async def missing(s, db: Database, entry_id: int) -> EntryNotFound:
    """NotFound, or Withdrawn when the id did exist (ids are never reused).

    Seen from one server, an entry of another server is simply not there.
    """
    queued = await s.get(IndexDeletion, entry_id)
    withdrawn = await s.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.entity == "entry",
            AuditEvent.entity_id == entry_id,
            AuditEvent.action == "entry.withdrawn",
        )
        .limit(1)
    )
    gone = queued is not None or withdrawn is not None
    if not gone and not scoped(db):  # forgotten experts' entries leave only a gap in the ids
        top = await s.scalar(select(func.max(Entry.id)))
        gone = top is not None and 0 < entry_id < top
    if gone:
        return EntryWithdrawn(
            f"entry {entry_id} was withdrawn: its expert asked for it to be deleted"
        )
    return EntryNotFound(f"no entry {entry_id}")


def with_context():
    return (
        select(Entry, Expert, Interview)
        .join(Expert, Entry.expert_id == Expert.id)
        .join(Interview, Entry.interview_id == Interview.id)
        .options(selectinload(Entry.turn))  # the question as asked, and what it followed up
    )


async def rows_by_id(db: Database, ids: list[int]) -> dict[int, tuple[Entry, Expert]]:
    if not ids:
        return {}
    async with db.sessions() as s:
        rows = await s.execute(
            select(Entry, Expert)
            .join(Expert, Entry.expert_id == Expert.id)
            .where(Entry.id.in_(ids))
        )
        return {e.id: (e, ex) for e, ex in rows.all()}
