"""Blind multiple review: each curator's decision row, when an entry is final, who sees what.

An entry needs `reviews_per_entry` decisions by different curators (the guide's number, else
`[review]`'s). Until then it stays pending and unchanged, and no curator who has not decided
sees another's verdict, edits or reasons. Decisions that agree make it final at once; decisions
that differ make it `disputed`, and the next curator who has not reviewed it adjudicates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from knowledge.config import Settings
from knowledge.guides import Criterion, GuideError, GuideLibrary
from knowledge.review.errors import AlreadyReviewed, ReviewError
from knowledge.storage import Entry, ReviewDecision
from knowledge.vocab import EntryStatus

log = logging.getLogger(__name__)

REVIEW = "review"  # one of the blind reviews an entry needs
ADJUDICATION = "adjudication"  # the decision on a disputed entry
REVISION = "revision"  # a decision on an entry that was already final

# What the audit log keeps of a curator's row, before and after (undo restores it).
ROW_KEYS = (
    "kind",
    "verdict",
    "reason",
    "duplicate_of",
    "edited_question",
    "edited_answer",
    "scores",
    "decided_at",
)


@dataclass(frozen=True)
class Vote:
    """One curator's decision (or, with `verdict` None, edits and scores not decided yet)."""

    curator: str
    kind: str
    verdict: str | None
    reason: str | None
    duplicate_of: int | None
    edited_question: str | None
    edited_answer: str | None
    scores: dict[str, int] = field(default_factory=dict)
    decided_at: datetime | None = None


def vote_of(r: ReviewDecision) -> Vote:
    return Vote(
        r.curator,
        r.kind,
        r.verdict,
        r.reason,
        r.duplicate_of,
        r.edited_question,
        r.edited_answer,
        dict(r.scores or {}),
        r.decided_at,
    )


def required(guides: GuideLibrary, settings: Settings, guide_slug: str) -> int:
    """Decisions an entry of this guide needs before it is final."""
    try:
        n = guides.get(guide_slug).reviews_per_entry
    except GuideError:  # a guide no longer shipped: the configured number
        n = None
    return n or settings.review.reviews_per_entry


def rubric(guides: GuideLibrary, guide_slug: str) -> list[Criterion]:
    try:
        return list(guides.get(guide_slug).rubric)
    except GuideError:
        return []


def check_scores(criteria: list[Criterion], scores: dict[str, int], guide: str) -> dict[str, int]:
    """The scores as ints, each a criterion of the guide's rubric within its range."""
    known = {c.name: c for c in criteria}
    out: dict[str, int] = {}
    for name, value in scores.items():
        c = known.get(name)
        if c is None:
            have = ", ".join(known) or "none"
            raise ReviewError(f"guide {guide!r} has no rubric criterion {name!r} (it has: {have})")
        n = None
        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        elif isinstance(value, str) and value.strip().isdigit():
            n = int(value)
        if n is None or not c.min <= n <= c.max:
            raise ReviewError(f"{name}: {value!r} is not a score from {c.min} to {c.max}")
        out[name] = n
    return out


async def rows_of(s, entry_id: int) -> dict[str, ReviewDecision]:
    """Every curator's row on the entry, by curator."""
    rows = await s.scalars(select(ReviewDecision).where(ReviewDecision.entry_id == entry_id))
    return {r.curator: r for r in rows}


def snapshot(r: ReviewDecision | None) -> dict[str, Any] | None:
    if r is None:
        return None
    out = {k: getattr(r, k) for k in ROW_KEYS}
    out["decided_at"] = r.decided_at.isoformat() if r.decided_at else None
    return out


async def put_row(s, e: Entry, curator: str, snap: dict[str, Any] | None, rows) -> None:
    """Make the curator's row what `snap` says (None: no row), as undo restores it."""
    r = rows.get(curator)
    if snap is None:
        if r is not None:
            rows.pop(curator)
            await s.delete(r)
            await s.flush()
        return
    if r is None:
        r = rows[curator] = ReviewDecision(entry_id=e.id, curator=curator, guild_id=e.guild_id)
        s.add(r)
    for k in ROW_KEYS:
        setattr(r, k, snap.get(k))
    r.decided_at = datetime.fromisoformat(snap["decided_at"]) if snap.get("decided_at") else None


def row_for(e: Entry, curator: str, rows: dict[str, ReviewDecision]) -> ReviewDecision:
    """The curator's row on the entry, new (not yet in the session) if they have none."""
    r = rows.get(curator)
    if r is None:
        kind = REVIEW if e.status == EntryStatus.pending else REVISION
        r = rows[curator] = ReviewDecision(
            entry_id=e.id, curator=curator, guild_id=e.guild_id, kind=kind, scores={}
        )
    return r


def outcome_of(e: Entry, n: int, rows: dict[str, ReviewDecision]) -> tuple[str, int]:
    """("final" | "disputed" | "waiting" | "pending", reviews still needed)."""
    done = len(decided(rows))
    if e.status != EntryStatus.pending:
        return "final", 0
    if e.disputed:
        return "disputed", 0
    return ("waiting" if n > 1 and done else "pending"), max(n - done, 0)


def blind(e: Entry, n: int) -> bool:
    """Whether decisions on this entry are collected blind (else they change it at once)."""
    return e.status == EntryStatus.pending and (n > 1 or bool(e.disputed))


def decided(rows: dict[str, ReviewDecision], kind: str = REVIEW) -> list[ReviewDecision]:
    return sorted(
        (r for r in rows.values() if r.kind == kind and r.verdict is not None),
        key=lambda r: (r.decided_at or r.created_at, r.id or 0),
    )


def _edits(r: ReviewDecision) -> tuple[str | None, str | None]:
    return (r.edited_question, r.edited_answer)


def agree(votes: list[ReviewDecision]) -> bool:
    """Same verdict; the same edits when approving; the same original when a duplicate."""
    first = votes[0]
    for v in votes[1:]:
        if v.verdict != first.verdict:
            return False
        if first.verdict == EntryStatus.approved and _edits(v) != _edits(first):
            return False
        if first.verdict == EntryStatus.duplicate and v.duplicate_of != first.duplicate_of:
            return False
    return True


def refuse_twice(e: Entry, mine: ReviewDecision | None, n: int, done: int) -> None:
    if mine is None or mine.verdict is None:
        return
    if e.disputed:
        waits = "an adjudicator who has not reviewed it"
    else:
        left = max(n - done, 1)
        waits = f"{left} more review{'s' if left != 1 else ''} by other curators"
    raise AlreadyReviewed(
        f"you already reviewed entry {e.id} ({mine.verdict}); it waits for {waits}"
    )


def sees_others(e: Entry, rows: dict[str, ReviewDecision], viewer: str | None, n: int) -> bool:
    """Whether this viewer may see other curators' decisions on the entry.

    Everyone when one review suffices or once it is final; a curator who has decided on it;
    an adjudicator on a disputed one; the operator (viewer None). Nobody else while it waits
    for blind reviews.
    """
    if viewer is None or not blind(e, n):
        return True
    mine = rows.get(viewer)
    if mine is not None and mine.verdict is not None:
        return True
    return bool(e.disputed)


def review_fields(
    e: Entry, rows: dict[str, ReviewDecision], viewer: str | None, n: int, criteria
) -> dict[str, Any]:
    """What a card or detail shows of the reviews: the viewer's own, and others' when allowed.

    The viewer's own edits, not decided yet, are the text their card shows.
    """
    mine = rows.get(viewer) if viewer else None
    others = [vote_of(r) for r in rows.values() if r.curator != viewer and r.verdict is not None]
    others.sort(key=lambda v: v.decided_at or e.created_at)
    out: dict[str, Any] = {
        "reviews_needed": n,
        "reviews_done": len(decided(rows)),
        "disputed": bool(e.disputed),
        "adjudication": bool(e.disputed) and (mine is None or mine.verdict is None),
        "mine": vote_of(mine) if mine is not None else None,
        "decisions": others if sees_others(e, rows, viewer, n) else [],
        "rubric": criteria,
    }
    seen = [r for r in rows.values() if r.curator == viewer or sees_others(e, rows, viewer, n)]
    out["mean_scores"] = average_scores(seen)
    if mine is not None and blind(e, n) and (mine.edited_question or mine.edited_answer):
        out["question"] = mine.edited_question or e.question
        out["answer"] = mine.edited_answer or e.expert_answer
        out["edited"] = True
        out["edited_by"] = viewer
    return out


def average_scores(rows) -> dict[str, float]:
    """Each criterion's mean over the decisions that scored it."""
    sums: dict[str, list[int]] = {}
    for r in rows:
        if r.verdict is None:
            continue
        for name, value in (r.scores or {}).items():
            sums.setdefault(name, []).append(int(value))
    return {k: round(sum(v) / len(v), 3) for k, v in sorted(sums.items())}
