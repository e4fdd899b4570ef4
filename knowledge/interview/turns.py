"""The SQL of an interview: load it, find its open turn, add turns, count time, count interviews.

Every function takes a session from the caller and never commits: the engine owns the unit of
work (one `async with db.sessions() as s, s.begin()` per step).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from knowledge.guides import Guide, Question, Step
from knowledge.interview.errors import NotActive, NotFound
from knowledge.interview.probes import TranscriptTurn
from knowledge.storage import Entry, Interview, Turn
from knowledge.vocab import InterviewStatus, TurnStatus


async def load(s, interview_id: int, *, expert: bool = True) -> Interview:
    """The interview with its turns (and its expert), or NotFound."""
    options = [selectinload(Interview.turns)]
    if expert:
        options.append(selectinload(Interview.expert))
    iv = await s.scalar(select(Interview).where(Interview.id == interview_id).options(*options))
    if iv is None:
        raise NotFound(f"no interview {interview_id}")
    return iv


async def open_turn(s, interview_id: int) -> Turn | None:
    """The question waiting for an answer, if there is one."""
    return await s.scalar(
        select(Turn).where(Turn.interview_id == interview_id, Turn.status == TurnStatus.asked)
    )


def open_turn_of(iv: Interview) -> Turn:
    """The open turn of a loaded interview, or NotActive."""
    for t in iv.turns:
        if t.status == TurnStatus.asked:
            return t
    raise NotActive(f"interview {iv.id} has no open question")


async def next_seq(s, interview_id: int) -> int:
    return (await s.scalar(select(func.max(Turn.seq)).where(Turn.interview_id == interview_id))) + 1


async def running_count(s, expert_id: int) -> int:
    """How many of the expert's interviews are active (paused ones do not count)."""
    return await s.scalar(
        select(func.count())
        .select_from(Interview)
        .where(Interview.expert_id == expert_id, Interview.status == InterviewStatus.active)
    )


async def turns_with_entries(s, interview_id: int) -> set[int]:
    return set(
        await s.scalars(select(Entry.turn_id).where(Entry.interview_id == interview_id).distinct())
    )


async def entry_ids(s, turn_id: int) -> list[int]:
    return list(await s.scalars(select(Entry.id).where(Entry.turn_id == turn_id)))


async def vectors_by_turn(s, interview_id: int) -> list[tuple[int, bytes]]:
    """(turn id, vector) of the interview's entries so far."""
    rows = await s.execute(
        select(Entry.turn_id, Entry.embedding).where(
            Entry.interview_id == interview_id, Entry.embedding.is_not(None)
        )
    )
    return [(turn_id, vector) for turn_id, vector in rows]


async def answer_vectors(s, interview_id: int) -> list[bytes]:
    """The stored vectors of the interview's entries so far."""
    return list(
        await s.scalars(
            select(Entry.embedding).where(
                Entry.interview_id == interview_id, Entry.embedding.is_not(None)
            )
        )
    )


def guide_turn(interview_id: int, seq: int, step: Step, q: Question) -> Turn:
    """A turn asking a guide question as the guide words it."""
    return Turn(
        interview_id=interview_id,
        seq=seq,
        step_id=step.id,
        question_id=q.id,
        probe=str(q.probe),
        followup=False,
        source="guide",
        question=q.text,
    )


def find(guide: Guide, step_id: str, question_id: str) -> tuple[Step, Question]:
    return guide.questions[guide.position(step_id, question_id)]


def transcript(turns: list[Turn]) -> list[TranscriptTurn]:
    """What was asked and answered so far (not the open question, nor covered skips)."""
    return [
        TranscriptTurn(t.question, t.probe, t.answer, t.followup, t.focus, t.step_id)
        for t in turns
        if t.status != TurnStatus.asked and t.source != "covered"
    ]


def touch(iv: Interview, now: datetime, idle_gap_minutes: float) -> None:
    """Count the time since the last activity as interviewing time, up to the idle gap."""
    gap = (now - iv.last_activity_at).total_seconds()
    iv.active_seconds += max(0.0, min(gap, idle_gap_minutes * 60))
    iv.last_activity_at = now


async def interviews(
    s, status: str | None, expert_id: int | None, channel: str | None, limit: int
) -> list[Interview]:
    """Interviews, most recently active first, with their turns and expert loaded."""
    q = (
        select(Interview)
        .options(selectinload(Interview.turns), selectinload(Interview.expert))
        .order_by(Interview.last_activity_at.desc())
        .limit(limit)
    )
    if status:
        q = q.where(Interview.status == status)
    if expert_id is not None:
        q = q.where(Interview.expert_id == expert_id)
    if channel is not None:
        q = q.where(Interview.channel == channel)
    return list(await s.scalars(q))
