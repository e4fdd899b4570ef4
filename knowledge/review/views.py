"""What curator review hands back: entries as lists, cards and details show them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from knowledge.guides import Criterion, GuideLibrary
from knowledge.index import Hit
from knowledge.review.panel import Vote
from knowledge.review.queries import live_claim
from knowledge.storage import Entry, Expert, Interview

log = logging.getLogger(__name__)


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
    corrected: bool  # the expert corrected their answer (/me entries)
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
    original_answer: str  # the expert's first answer, as given in the interview
    corrected_answer: str | None  # the expert's own correction of it, if they made one
    corrected_at: datetime | None
    edited_by: str | None
    interview_id: int
    channel: str | None  # "discord:thread:<id>", "terminal", ...: where the answer was given
    profession: str | None
    guide_title: str
    step_title: str
    claimed_until: datetime | None
    asked: str | None = None  # the question as it was put to the expert
    followup: bool = False  # asked as a follow-up, not as the guide words it
    focus: str | None = None  # the expert's phrase the follow-up asked about
    # Blind review (knowledge/review/panel.py): decisions needed and made, whether they
    # disagree, the viewer's own (edits and scores before deciding too), others' decisions
    # only when the viewer may see them, and the guide's rubric.
    reviews_needed: int = 1
    reviews_done: int = 0
    disputed: bool = False
    adjudication: bool = False  # disputed, and this viewer may adjudicate
    mine: Vote | None = None
    decisions: list[Vote] = field(default_factory=list)
    rubric: list[Criterion] = field(default_factory=list)
    mean_scores: dict[str, float] = field(default_factory=dict)  # per criterion, decisions seen


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
    # "final" (the entry took it), "waiting" (recorded blind: more reviews needed, see
    # reviews_left), "disputed" (the reviews disagree: an adjudicator decides), "pending".
    outcome: str = "final"
    reviews_left: int = 0


def summary_fields(e: Entry, ex: Expert) -> dict[str, Any]:
    live = live_claim(e)
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
        "corrected": e.corrected_answer is not None,
        "flagged_pii": bool(e.flagged_pii),
        "reason": e.reason,
        "decided_by": e.decided_by,
        "decided_at": e.decided_at,
        "duplicate_of": e.duplicate_of,
        "created_at": e.created_at,
        "claimed_by": e.claimed_by if live else None,
    }


def summary_of(e: Entry, ex: Expert | None) -> EntrySummary:
    return EntrySummary(**summary_fields(e, ex))


def hit_of(e: Entry, ex: Expert, h: Hit) -> SearchHit:
    return SearchHit(**summary_fields(e, ex), similarity=round(h.similarity, 4))


def view_fields(guides: GuideLibrary, e: Entry, ex: Expert, iv: Interview) -> dict[str, Any]:
    guide_title, step_title = e.guide_slug, e.step_id
    try:
        g = guides.get(e.guide_slug)
    except ValueError:
        pass
    else:
        guide_title = g.title
        step_title = next((st.title for st in g.steps if st.id == e.step_id), e.step_id)
    return {
        **summary_fields(e, ex),
        "original_question": e.question,
        "original_answer": e.answer,
        "corrected_answer": e.corrected_answer,
        "corrected_at": e.corrected_at,
        "edited_by": e.edited_by,
        "interview_id": e.interview_id,
        "channel": iv.channel,
        "profession": ex.profession,
        "guide_title": guide_title,
        "step_title": step_title,
        "claimed_until": e.claimed_until if live_claim(e) else None,
        "asked": e.turn.question if e.turn else None,
        "followup": bool(e.turn and e.turn.followup),
        "focus": e.turn.focus if e.turn else None,
    }
