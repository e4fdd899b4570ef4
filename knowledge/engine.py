"""The interview state machine: ids and text in, plain dataclasses out.

Transport-free: the terminal, a Discord thread and a DM are front-ends over the same calls. All
state lives in SQL, so any interview can be resumed by any process after a restart. An answer is
committed before anything else happens to it; entries, vectors and the next question follow, and
each of those steps can be redone from what is in the database.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from knowledge.config import InterviewSettings
from knowledge.drafting import DraftContext, EntryDrafter, GuideDrafts
from knowledge.embeddings import BatchingEmbedder, from_bytes, to_bytes
from knowledge.guides import Guide, GuideLibrary, Probe, Question, Step
from knowledge.indexing import Indexer, mark_changed
from knowledge.probes import ProbeContext, ProbeStrategy, RuleProbes, TranscriptTurn
from knowledge.storage import (
    AuditEvent,
    Database,
    Entry,
    Expert,
    Interview,
    InterviewStatus,
    Turn,
    TurnStatus,
)
from knowledge.storage.models import utcnow

log = logging.getLogger(__name__)


class Summarizer(Protocol):
    async def summarize(self, transcript: list[TranscriptTurn], guide: Guide):
        """An object with .text and .source, or None."""
        ...


# Questions that set up a scenario or close the interview are always asked, however much the
# expert has already said.
NEVER_SKIPPED = {
    Probe.background,
    Probe.task_diagram,
    Probe.simulation,
    Probe.incident_select,
    Probe.incident_account,
    Probe.wrapup,
}


class InterviewError(ValueError):
    """Something the user asked for cannot be done; the message says what and why."""

    exit_code = 1


class NotFound(InterviewError):
    pass


class NotActive(InterviewError):
    pass


class ConsentRequired(InterviewError):
    pass


class TooManyActive(InterviewError):
    pass


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


class InterviewEngine:
    def __init__(
        self,
        db: Database,
        guides: GuideLibrary,
        embedder: BatchingEmbedder,
        indexer: Indexer | None,
        settings: InterviewSettings,
        *,
        probes: ProbeStrategy | None = None,
        drafter: EntryDrafter | None = None,
        summarizer: Summarizer | None = None,
    ):
        self.db = db
        self.guides = guides
        self.embedder = embedder
        self.indexer = indexer
        self.settings = settings
        self.probes = probes or RuleProbes(
            min_words=settings.min_answer_words, max_followups=settings.max_followups
        )
        self.drafter = drafter or GuideDrafts()
        self.summarizer = summarizer
        self._fallback_drafter = GuideDrafts()
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._question_vectors: dict[tuple[str, int], asyncio.Future[np.ndarray]] = {}
        self._background: set[asyncio.Task] = set()
        self._pending_vectors: dict[int, set[asyncio.Task]] = {}

    async def prepare(self) -> None:
        """Load the model and encode every guide's questions now, not on the first answer."""
        await asyncio.gather(*(self._guide_vectors(g) for g in self.guides))

    # ---- starting and finding interviews -------------------------------------------------

    async def start(self, expert_id: int, guide_slug: str, *, channel: str | None = None) -> Ask:
        guide = self.guides.get(guide_slug)
        async with self.db.sessions() as s, s.begin():
            expert = await s.get(Expert, expert_id)
            if expert is None:
                raise NotFound(f"no expert {expert_id}")
            if expert.consented_at is None:
                raise ConsentRequired("the expert has not agreed to the consent notice yet")
            await self._check_room(
                s, expert_id, "you already have an interview going: finish, pause or end it first"
            )
            now = utcnow()
            iv = Interview(
                expert_id=expert_id,
                guide_slug=guide.slug,
                guide_version=guide.version,
                status=InterviewStatus.active,
                position=0,
                channel=channel,
                started_at=now,
                last_activity_at=now,
            )
            if expert.profession is None:
                expert.profession = guide.profession
            s.add(iv)
            await s.flush()
            step, q = guide.questions[0]
            turn = _guide_turn(iv.id, 1, step, q)
            s.add(turn)
            await s.flush()
            return _ask(iv, guide, turn)

    async def current(self, interview_id: int) -> Ask | None:
        """The question waiting for an answer; None when the interview is not running."""
        async with self._lock(interview_id):
            return await self._ensure_open(interview_id)

    async def get(self, interview_id: int) -> InterviewView:
        async with self.db.sessions() as s:
            iv = await self._load(s, interview_id)
            return self._view(iv)

    async def list(
        self,
        *,
        status: str | None = None,
        expert_id: int | None = None,
        channel: str | None = None,
        limit: int = 200,
    ) -> list[InterviewView]:
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
        async with self.db.sessions() as s:
            return [self._view(iv) for iv in await s.scalars(q)]

    # ---- the expert's moves --------------------------------------------------------------

    async def answer(
        self, interview_id: int, text: str, *, references: list[dict] | None = None
    ) -> Reply:
        text = text.strip()
        if not text:
            raise InterviewError("an answer needs some text")
        async with self._lock(interview_id):
            turn_id = await self._save_answer(interview_id, text, references)
            if turn_id is None:  # no open question: repair what a crash left, then save
                await self._ensure_open(interview_id, must_be_active=True)
                turn_id = await self._save_answer(interview_id, text, references)
            # The answer is committed: from here on, a failure costs at most a retry.
            # Its vector is made in the background (batched with other interviews'); the next
            # question waits for it only to check whether the next guide question is covered.
            vector = asyncio.ensure_future(self.embedder.embed_one(text))
            vector.add_done_callback(_consume_exception)
            made, advanced = await asyncio.gather(
                self._make_entries(turn_id, answer_vector=vector),
                self._advance(interview_id, answer_vector=vector),
                return_exceptions=True,
            )
            for result in (made, advanced):
                if isinstance(result, BaseException):
                    raise result
            nxt, covered = advanced
            return await self._reply(interview_id, turn_id, made, nxt, covered)

    async def _save_answer(
        self, interview_id: int, text: str, references: list[dict] | None
    ) -> int | None:
        async with self.db.sessions() as s, s.begin():
            iv = await s.get(Interview, interview_id)
            if iv is None:
                raise NotFound(f"no interview {interview_id}")
            if iv.status != InterviewStatus.active:
                raise NotActive(f"interview {interview_id} is {iv.status}, not active")
            turn = await s.scalar(
                select(Turn).where(
                    Turn.interview_id == interview_id, Turn.status == TurnStatus.asked
                )
            )
            if turn is None:
                return None
            now = utcnow()
            turn.answer = text
            turn.status = TurnStatus.answered
            turn.answered_at = now
            if references:
                turn.references = references
            _touch(iv, now, self.settings.idle_gap_minutes)
            return turn.id

    async def drain(self) -> None:
        """Wait for vectors still being made in the background (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def skip(self, interview_id: int) -> Reply:
        async with self._lock(interview_id):
            await self._ensure_open(interview_id, must_be_active=True)
            async with self.db.sessions() as s, s.begin():
                iv = await self._load(s, interview_id)
                turn = _open_turn(iv)
                turn.status = TurnStatus.skipped
                turn.answered_at = utcnow()
                turn_id = turn.id
            nxt, covered = await self._advance(interview_id)
            return await self._reply(interview_id, turn_id, [], nxt, covered)

    async def touch(self, interview_id: int) -> None:
        """The expert is writing (a message of a multi-message answer): count the time."""
        async with self.db.sessions() as s, s.begin():
            iv = await s.get(Interview, interview_id)
            if iv is not None and iv.status == InterviewStatus.active:
                _touch(iv, utcnow(), self.settings.idle_gap_minutes)

    async def pause(self, interview_id: int) -> InterviewView:
        async with self._lock(interview_id), self.db.sessions() as s, s.begin():
            iv = await self._load(s, interview_id)
            if iv.status != InterviewStatus.active:
                raise NotActive(f"interview {interview_id} is {iv.status}, not active")
            _touch(iv, utcnow(), self.settings.idle_gap_minutes)
            iv.status = InterviewStatus.paused
            return self._view(iv)

    async def resume(self, interview_id: int) -> Ask:
        async with self._lock(interview_id):
            async with self.db.sessions() as s, s.begin():
                iv = await self._load(s, interview_id)
                if iv.status not in (InterviewStatus.paused, InterviewStatus.active):
                    raise NotActive(f"interview {interview_id} is {iv.status}; it cannot resume")
                if iv.status == InterviewStatus.paused:
                    await self._check_room(
                        s,
                        iv.expert_id,
                        "another interview of yours is running: pause or end it first",
                    )
                    iv.status = InterviewStatus.active
                    iv.last_activity_at = utcnow()  # paused time is not interviewing time
            ask = await self._ensure_open(interview_id)
            if ask is None:  # the guide was already finished
                raise NotActive(f"interview {interview_id} has no question left")
            return ask

    async def end(self, interview_id: int) -> InterviewView:
        async with self._lock(interview_id), self.db.sessions() as s, s.begin():
            iv = await self._load(s, interview_id)
            if iv.status in (InterviewStatus.completed, InterviewStatus.ended):
                return self._view(iv)
            now = utcnow()
            if iv.status == InterviewStatus.active:
                _touch(iv, now, self.settings.idle_gap_minutes)
            for t in iv.turns:
                if t.status == TurnStatus.asked:
                    t.status = TurnStatus.skipped
            iv.status = InterviewStatus.ended
            iv.ended_at = now
            return self._view(iv)

    # ---- teach-back ----------------------------------------------------------------------

    async def summarize(self, interview_id: int) -> str | None:
        """A summary of what was learned, for the expert to correct; None without an LLM.

        Made once and stored with the template version that produced it.
        """
        async with self.db.sessions() as s:
            iv = await self._load(s, interview_id)
            if iv.summary:
                return iv.summary
            transcript = _transcript(iv.turns)
        if self.summarizer is None or not any(t.answer for t in transcript):
            return None
        try:
            result = await self.summarizer.summarize(transcript, self.guides.get(iv.guide_slug))
        except Exception:
            log.exception("summary failed for interview %s", interview_id)
            return None
        if result is None:
            return None
        async with self.db.sessions() as s, s.begin():
            iv = await s.get(Interview, interview_id)
            iv.summary, iv.summary_source = result.text, result.source
        return result.text

    async def correct_summary(self, interview_id: int, correction: str) -> None:
        """Keep the expert's correction of the summary (teach-back material)."""
        correction = correction.strip()
        if not correction:
            return
        async with self.db.sessions() as s, s.begin():
            iv = await self._load(s, interview_id)
            iv.summary_correction = correction
            s.add(
                AuditEvent(
                    actor=f"expert:{iv.expert_id}",
                    action="summary.corrected",
                    entity="interview",
                    entity_id=iv.id,
                    before={"summary": iv.summary},
                    after={"correction": correction},
                )
            )

    # ---- internals -----------------------------------------------------------------------

    async def _check_room(self, s, expert_id: int, refusal: str) -> None:
        """TooManyActive when the expert already runs as many interviews as allowed."""
        active = await s.scalar(
            select(func.count())
            .select_from(Interview)
            .where(Interview.expert_id == expert_id, Interview.status == InterviewStatus.active)
        )
        if active >= self.settings.max_active_per_expert:
            raise TooManyActive(refusal)

    def _lock(self, interview_id: int) -> asyncio.Lock:
        lock = self._locks.get(interview_id)
        if lock is None:
            lock = self._locks[interview_id] = asyncio.Lock()
        return lock

    async def _load(self, s, interview_id: int, *, expert: bool = True) -> Interview:
        options = [selectinload(Interview.turns)]
        if expert:
            options.append(selectinload(Interview.expert))
        iv = await s.scalar(select(Interview).where(Interview.id == interview_id).options(*options))
        if iv is None:
            raise NotFound(f"no interview {interview_id}")
        return iv

    async def _ensure_open(self, interview_id: int, *, must_be_active: bool = False) -> Ask | None:
        """The open question, recreating what a crash between two steps left undone."""
        async with self.db.sessions() as s:
            iv = await self._load(s, interview_id, expert=False)
            if must_be_active and iv.status != InterviewStatus.active:
                raise NotActive(f"interview {interview_id} is {iv.status}, not active")
            if iv.status not in (InterviewStatus.active, InterviewStatus.paused):
                return None
            guide = self.guides.get(iv.guide_slug)
            open_turn = next((t for t in iv.turns if t.status == TurnStatus.asked), None)
            answered = [t.id for t in iv.turns if t.status == TurnStatus.answered]
            with_entries = set(
                await s.scalars(
                    select(Entry.turn_id).where(Entry.interview_id == interview_id).distinct()
                )
            )
            unentried = [t for t in answered if t not in with_entries]
        for turn_id in unentried:  # answered, but the process died before its entries
            await self._make_entries(turn_id)
        if open_turn is not None:
            return _ask(iv, guide, open_turn)
        nxt, _ = await self._advance(interview_id)
        return nxt

    async def _make_entries(
        self, turn_id: int, *, answer_vector: asyncio.Future | None = None
    ) -> list[int]:
        """Draft and store the entries of an answered turn; their vectors follow."""
        async with self.db.sessions() as s:
            turn = await s.get(Turn, turn_id)
            iv = await s.get(Interview, turn.interview_id)
        guide = self.guides.get(iv.guide_slug)
        step, question = _find(guide, turn.step_id, turn.question_id)
        ctx = DraftContext(guide, question, turn.question, turn.answer or "", turn.followup)
        try:
            drafts = await self.drafter.draft(ctx)
            if not drafts:
                raise ValueError("drafter returned no entries")
        except Exception:
            log.warning("drafting failed for turn %s; using the guide's question", turn_id)
            drafts = await self._fallback_drafter.draft(ctx)
        async with self.db.sessions() as s, s.begin():
            if await _has_entries(s, turn_id):  # made already by an earlier attempt
                return list(await s.scalars(select(Entry.id).where(Entry.turn_id == turn_id)))
            rows = []
            for part, d in enumerate(drafts):
                e = Entry(
                    turn_id=turn_id,
                    interview_id=iv.id,
                    expert_id=iv.expert_id,
                    guide_slug=guide.slug,
                    step_id=step.id,
                    probe=turn.probe,
                    part=part,
                    question=d.question,
                    answer=d.answer,
                    draft_source=d.source,
                )
                mark_changed(e)
                s.add(e)
                rows.append(e)
            await s.flush()
            made = [(e.id, e.answer) for e in rows]
        task = asyncio.create_task(
            self._attach_vectors(iv.id, made, turn.answer or "", answer_vector)
        )
        self._background.add(task)
        self._pending_vectors.setdefault(iv.id, set()).add(task)
        task.add_done_callback(functools.partial(self._vectors_done, iv.id))
        return [i for i, _ in made]

    def _vectors_done(self, interview_id: int, task: asyncio.Task) -> None:
        self._background.discard(task)
        pending = self._pending_vectors.get(interview_id)
        if pending is not None:
            pending.discard(task)
            if not pending:
                del self._pending_vectors[interview_id]

    async def _attach_vectors(
        self,
        interview_id: int,
        entries: list[tuple[int, str]],
        answer: str,
        answer_vector: asyncio.Future | None,
    ) -> None:
        """Store each entry's vector in SQL and wake the indexer; on failure the indexer
        embeds them later, so nothing waits on the model."""
        try:
            vectors = {}
            if answer_vector is not None and any(text == answer for _, text in entries):
                vectors[answer] = await answer_vector
            others = sorted({text for _, text in entries if text not in vectors})
            if others:
                vectors.update(zip(others, await self.embedder.embed(others), strict=True))
            async with self.db.sessions() as s, s.begin():
                for entry_id, text in entries:
                    e = await s.get(Entry, entry_id)
                    if e is None or e.embedding is not None or e.final_answer != text:
                        continue  # forgotten, indexed meanwhile, or edited by a curator
                    e.embedding = to_bytes(vectors[text])
                    e.embedding_model = self.embedder.model_name
                    mark_changed(e)
        except Exception:
            log.exception("vectors for interview %s failed; the indexer retries", interview_id)
        if self.indexer is not None:
            self.indexer.notify()

    async def _advance(
        self, interview_id: int, *, answer_vector: asyncio.Future | None = None
    ) -> tuple[Ask | None, list[str]]:
        """Decide the next question after the last turn closed, and open it."""
        async with self.db.sessions() as s:
            iv = await self._load(s, interview_id, expert=False)
        guide = self.guides.get(iv.guide_slug)
        last = iv.turns[-1]
        step, question = guide.questions[iv.position]
        suggestion = None
        if last.status == TurnStatus.answered:
            on_this = [
                t
                for t in iv.turns
                if t.step_id == step.id and t.question_id == question.id and t.followup
            ]
            ctx = ProbeContext(
                guide=guide,
                step=step,
                question=question,
                answer=last.answer or "",
                transcript=_transcript(iv.turns),
                followups_asked=len(on_this),
                probes_asked=tuple(t.probe for t in on_this),
            )
            try:
                suggestion = await self.probes.next_probe(ctx)
            except Exception:
                log.exception("probe strategy failed; moving on with the guide")
        covered: list[str] = []
        position = iv.position
        if suggestion is None:
            position += 1
            skippable = (
                position < len(guide.questions)
                and guide.questions[position][1].probe not in NEVER_SKIPPED
            )
            vectors = await self._answer_vectors(interview_id, answer_vector) if skippable else []
            while position < len(guide.questions) and vectors:
                q = guide.questions[position][1]
                if q.probe in NEVER_SKIPPED:
                    break
                sim = await self._covered(guide, position, vectors)
                if sim < self.settings.skip_similarity:
                    break
                log.info("interview %s: question %s covered (%.2f)", interview_id, q.id, sim)
                covered.append(q.text)
                position += 1
        async with self.db.sessions() as s, s.begin():
            # The interview's lock is held: nothing changed since the read above but a turn
            # opened by a repair, which wins.
            iv = await s.get(Interview, interview_id)
            opened = await s.scalar(
                select(Turn).where(
                    Turn.interview_id == interview_id, Turn.status == TurnStatus.asked
                )
            )
            if opened is not None:
                return _ask(iv, guide, opened), []
            seq = (await s.scalar(select(func.max(Turn.seq)).where(Turn.interview_id == iv.id))) + 1
            for text in covered:
                idx = next(i for i, (_, q) in enumerate(guide.questions) if q.text == text)
                st, q = guide.questions[idx]
                t = _guide_turn(iv.id, seq, st, q)
                t.status, t.source = TurnStatus.skipped, "covered"
                s.add(t)
                seq += 1
            if suggestion is not None:
                turn = Turn(
                    interview_id=iv.id,
                    seq=seq,
                    step_id=step.id,
                    question_id=question.id,
                    probe=str(suggestion.probe),
                    followup=True,
                    source=suggestion.source,
                    question=suggestion.text,
                )
            elif position >= len(guide.questions):
                iv.status = InterviewStatus.completed
                iv.ended_at = utcnow()
                iv.position = len(guide.questions) - 1
                return None, covered
            else:
                iv.position = position
                st, q = guide.questions[position]
                turn = _guide_turn(iv.id, seq, st, q)
            s.add(turn)
            await s.flush()
            return _ask(iv, guide, turn), covered

    async def _answer_vectors(
        self, interview_id: int, answer_vector: asyncio.Future | None
    ) -> list[np.ndarray]:
        """Vectors of every answer so far, the latest one included."""
        pending = [t for t in self._pending_vectors.get(interview_id, ()) if not t.done()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        async with self.db.sessions() as s:
            vectors = [
                from_bytes(b)
                for b in await s.scalars(
                    select(Entry.embedding).where(
                        Entry.interview_id == interview_id, Entry.embedding.is_not(None)
                    )
                )
            ]
        if answer_vector is not None:
            try:
                vectors.append(await answer_vector)
            except Exception:  # the model failed: decide without this answer
                log.warning("no vector for the latest answer of interview %s", interview_id)
        return vectors

    async def _guide_vectors(self, guide: Guide) -> np.ndarray:
        key = (guide.slug, guide.version)
        if key not in self._question_vectors:  # one encoding per guide, shared by all callers
            self._question_vectors[key] = asyncio.ensure_future(
                self.embedder.embed([q.text for _, q in guide.questions])
            )
        try:
            return await asyncio.shield(self._question_vectors[key])
        except Exception:
            self._question_vectors.pop(key, None)  # try again next time
            raise

    async def _covered(self, guide: Guide, position: int, answers: list[np.ndarray]) -> float:
        qv = (await self._guide_vectors(guide))[position]
        return float(np.max(np.stack(answers) @ qv))

    async def _reply(self, interview_id, turn_id, entry_ids, nxt, covered) -> Reply:
        closing = None
        if nxt is None:
            async with self.db.sessions() as s:
                iv = await s.get(Interview, interview_id)
                closing = self.guides.get(iv.guide_slug).outro
        return Reply(interview_id, turn_id, entry_ids, nxt, covered, nxt is None, closing)

    def _view(self, iv: Interview) -> InterviewView:
        guide = self.guides.get(iv.guide_slug)
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
        )


# ---- helpers ---------------------------------------------------------------------------------


def _consume_exception(fut: asyncio.Future) -> None:
    """An answer's vector that nobody awaited must not log 'exception never retrieved'."""
    if not fut.cancelled():
        fut.exception()


def _guide_turn(interview_id: int, seq: int, step: Step, q: Question) -> Turn:
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


def _ask(iv: Interview, guide: Guide, turn: Turn) -> Ask:
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


def _open_turn(iv: Interview) -> Turn:
    for t in iv.turns:
        if t.status == TurnStatus.asked:
            return t
    raise NotActive(f"interview {iv.id} has no open question")


def _find(guide: Guide, step_id: str, question_id: str) -> tuple[Step, Question]:
    return guide.questions[guide.position(step_id, question_id)]


def _transcript(turns: list[Turn]) -> list[TranscriptTurn]:
    return [
        TranscriptTurn(t.question, t.probe, t.answer)
        for t in turns
        if t.status != TurnStatus.asked and t.source != "covered"
    ]


def _touch(iv: Interview, now: datetime, idle_gap_minutes: float) -> None:
    gap = (now - iv.last_activity_at).total_seconds()
    iv.active_seconds += max(0.0, min(gap, idle_gap_minutes * 60))
    iv.last_activity_at = now


async def _has_entries(s, turn_id: int) -> bool:
    return (await s.scalar(select(Entry.id).where(Entry.turn_id == turn_id).limit(1))) is not None
