"""What the engine hands back: the question to ask now, what an answer did, an interview."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from knowledge.guides import Guide
from knowledge.storage import Interview, Turn
from knowledge.vocab import TurnStatus


@dataclass(frozen=True)
class Ask:
    """The question to put to the expert now."""

    interview_id: int
    turn_id: int
    text: str
    probe: str
    followup: bool
    step_id: str
    step_title: str
    step_number: int
    step_count: int
    number: int  # the guide question's place, from 1
    total: int  # questions in the guide
    step_intro: str | None = None  # set on the first question of a step


@dataclass(frozen=True)
class Reply:
    """What happened to an answer (or a skip), and what comes next."""

    interview_id: int
    turn_id: int | None  # the turn that was answered or skipped
    entry_ids: list[int] = field(default_factory=list)
    next: Ask | None = None
    covered: list[str] = field(default_factory=list)  # guide questions skipped as already answered
    finished: bool = False
    closing: str | None = None  # the guide's outro when the interview is over


@dataclass(frozen=True)
class InterviewView:
    id: int
    expert_id: int
    expert_name: str
    guide_slug: str
    guide_title: str
    status: str
    channel: str | None
    started_at: datetime
    ended_at: datetime | None
    last_activity_at: datetime
    active_seconds: float
    answered: int
    skipped: int
    position: int
    total: int
    guild_id: int | None = None  # the server the interview belongs to


def ask_of(iv: Interview, guide: Guide, turn: Turn) -> Ask:
    """The Ask for an open turn of this interview."""
    index = guide.position(turn.step_id, turn.question_id)
    step, _ = guide.questions[index]
    step_number = next(i for i, s in enumerate(guide.steps, 1) if s.id == step.id)
    first_of_step = step.questions[0].id == turn.question_id and not turn.followup
    return Ask(
        interview_id=iv.id,
        turn_id=turn.id,
        text=turn.question,
        probe=turn.probe,
        followup=turn.followup,
        step_id=step.id,
        step_title=step.title,
        step_number=step_number,
        step_count=len(guide.steps),
        number=index + 1,
        total=len(guide.questions),
        step_intro=step.intro if first_of_step else None,
    )


def view_of(iv: Interview, guide: Guide) -> InterviewView:
    """An interview with its turns and expert loaded, as lists and status replies show it."""
    return InterviewView(
        id=iv.id,
        expert_id=iv.expert_id,
        expert_name=iv.expert.display_name,
        guide_slug=iv.guide_slug,
        guide_title=guide.title,
        status=str(iv.status),
        channel=iv.channel,
        started_at=iv.started_at,
        ended_at=iv.ended_at,
        last_activity_at=iv.last_activity_at,
        active_seconds=iv.active_seconds,
        answered=sum(t.status == TurnStatus.answered for t in iv.turns),
        skipped=sum(t.status == TurnStatus.skipped for t in iv.turns),
        position=iv.position,
        total=len(guide.questions),
        guild_id=iv.guild_id,
    )
