"""The audit trail of review: actions, the entry state each event holds, and undo's reading of it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from knowledge.storage import AuditEvent, Entry
from knowledge.vocab import EntryStatus

log = logging.getLogger(__name__)


APPROVE = "entry.approve"
REJECT = "entry.reject"
DUPLICATE = "entry.duplicate"
EDIT = "entry.edit"
FLAG_PII = "entry.flag_pii"
UNDO = "entry.undo"
SKIP = "entry.skip"
SCORE = "entry.score"  # rubric scores, part of the curator's decision
DECISIONS = frozenset({APPROVE, REJECT, DUPLICATE})
UNDOABLE = DECISIONS | {EDIT, FLAG_PII, SCORE}
# What a curator who has not decided yet does not see of others while reviews are blind.
BLIND_ACTIONS = DECISIONS | {EDIT, SCORE, UNDO}

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
    "disputed",
    "corrected_answer",  # the expert's; compared by undo, never restored by a curator's undo
)


async def undone_ids(s, actor: str, entry_id: int | None = None) -> set[int]:
    """Ids of the audit events this curator has undone (on one entry, or anywhere)."""
    q = select(AuditEvent.after).where(
        AuditEvent.actor == actor, AuditEvent.entity == "entry", AuditEvent.action == UNDO
    )
    if entry_id is not None:
        q = q.where(AuditEvent.entity_id == entry_id)
    return {(after or {}).get("undoes") for after in await s.scalars(q)}


def decide(
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


def state_of(e: Entry) -> dict[str, Any]:
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
        "disputed": bool(e.disputed),
        "corrected_answer": e.corrected_answer,
    }


def core(state: dict[str, Any]) -> dict[str, Any]:
    out = {k: state.get(k) for k in STATE_KEYS}
    out["disputed"] = bool(out["disputed"])  # events from before blind review lack the key
    if out["decided_at"]:  # compare instants, not spellings of them
        out["decided_at"] = datetime.fromisoformat(out["decided_at"])
    return out


def restore(e: Entry, state: dict[str, Any]) -> None:
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
    e.disputed = bool(state.get("disputed"))


def verb(action: str) -> str:
    return {
        APPROVE: "approval",
        REJECT: "rejection",
        DUPLICATE: "duplicate mark",
        EDIT: "edit",
        FLAG_PII: "personal-data flag",
        SCORE: "scores",
        "entry.corrected": "correction by the expert",
    }.get(action, action)
