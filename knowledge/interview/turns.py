"""The SQL of an interview: load it, find its open turn, add turns, count time, count interviews.

Every function takes a session from the caller and never commits: the engine owns the unit of
work (one `async with db.sessions() as s, s.begin()` per step). The answer path reads a
`Snapshot` with core statements (the columns a turn needs, no ORM objects for the transcript).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from knowledge.guides import Guide, Question, Step
from knowledge.interview.errors import NotActive, NotFound
from knowledge.interview.probes import ProbeSuggestion, TranscriptTurn
from knowledge.storage import Entry, Interview, Turn, utcnow
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


@dataclass(frozen=True)
class TurnRow:
    """The columns of a turn that deciding the next question reads."""

    id: int
    seq: int
    step_id: str
    question_id: str
    probe: str
    followup: bool
    source: str
    focus: str | None
    question: str
    answer: str | None
    status: str

    def answered(self, text: str) -> TurnRow:
        return replace(self, answer=text, status=TurnStatus.answered)


_TURN_COLUMNS = [getattr(Turn, f) for f in TurnRow.__dataclass_fields__]


@dataclass(frozen=True)
class Snapshot:
    """An interview as one turn sees it: a few columns of its row, its turns in order, and the
    (turn id, vector) of its entries so far."""

    id: int
    expert_id: int
    guild_id: int | None
    guide_slug: str
    status: str
    position: int
    turns: list[TurnRow]
    vectors: list[tuple[int, bytes]]

    @property
    def open(self) -> TurnRow | None:
        return next((t for t in self.turns if t.status == TurnStatus.asked), None)

    def with_answer(self, turn_id: int, text: str) -> Snapshot:
        """The same interview once `turn_id` is answered with `text` (not yet stored)."""
        ts = [t.answered(text) if t.id == turn_id else t for t in self.turns]
        return replace(self, turns=ts)


async def snapshot(s, interview_id: int, *, vectors: bool = True) -> Snapshot:
    """Three core selects: the interview's row, its turns' columns, its entries' vectors."""
    row = (
        await s.execute(
            select(
                Interview.id,
                Interview.expert_id,
                Interview.guild_id,
                Interview.guide_slug,
                Interview.status,
                Interview.position,
            ).where(Interview.id == interview_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"no interview {interview_id}")
    rows = await s.execute(
        select(*_TURN_COLUMNS).where(Turn.interview_id == interview_id).order_by(Turn.seq)
    )
    ts = [TurnRow(*r) for r in rows]
    return Snapshot(*row, ts, await vectors_by_turn(s, interview_id) if vectors else [])


async def record_answer(
    s, turn_id: int, text: str, references: list[dict] | None, now: datetime
) -> bool:
    """Close the open turn with its answer; False when it was no longer open."""
    values = {"answer": text, "status": TurnStatus.answered, "answered_at": now}
    if references:
        values["references"] = references
    done = await s.execute(
        update(Turn)
        .where(Turn.id == turn_id, Turn.status == TurnStatus.asked)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


@dataclass(frozen=True)
class Next:
    """What follows the last turn: a follow-up, or the guide question at `position` (past the
    end: the interview is complete), after skipping the `covered` positions."""

    followup: ProbeSuggestion | None
    position: int
    covered: list[int] = field(default_factory=list)


async def open_next(
    s, iv: Interview, snap: Snapshot, guide: Guide, nxt: Next
) -> tuple[Turn | None, list[str]]:
    """In the caller's transaction: record the covered skips and add the next turn (or
    complete the interview)."""
    covered = [guide.questions[p][1].text for p in nxt.covered]
    seq = max(t.seq for t in snap.turns) + 1
    for p in nxt.covered:
        t = guide_turn(iv.id, seq, *guide.questions[p])
        t.status, t.source = TurnStatus.skipped, "covered"
        s.add(t)
        seq += 1
    if nxt.followup is not None:
        step, question = guide.questions[iv.position]
        turn = Turn(
            interview_id=iv.id,
            seq=seq,
            step_id=step.id,
            question_id=question.id,
            probe=str(nxt.followup.probe),
            followup=True,
            source=nxt.followup.source,
            focus=_clip(nxt.followup.focus, 200),
            question=nxt.followup.text,
        )
    elif nxt.position >= len(guide.questions):
        iv.status = InterviewStatus.completed
        iv.ended_at = utcnow()
        iv.position = len(guide.questions) - 1
        return None, covered
    else:
        iv.position = nxt.position
        turn = guide_turn(iv.id, seq, *guide.questions[nxt.position])
    s.add(turn)
    return turn, covered


def _clip(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


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


def transcript(turns: list[Turn] | list[TurnRow]) -> list[TranscriptTurn]:
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
