"""The interview state machine: ids and text in, plain dataclasses out.

Transport-free: the terminal, a Discord thread and a DM are front-ends over the same calls. All
state lives in SQL, so any interview can be resumed by any process after a restart. An answer is
committed before anything else happens to it; entries, vectors and the next question follow, and
each of those steps can be redone from what is in the database.

After each turn the engine decides what comes next (`_decide`: a follow-up from the probe
strategy, else the next guide question not yet covered) and then opens it (`_open`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from knowledge.config import InterviewSettings
from knowledge.guides import Guide, GuideLibrary
from knowledge.index import BatchingEmbedder, Indexer
from knowledge.interview import turns
from knowledge.interview.coverage import Coverage
from knowledge.interview.drafting import EntryDrafter
from knowledge.interview.entries import EntryMaker
from knowledge.interview.errors import (
    ConsentRequired,
    InterviewError,
    NotActive,
    NotFound,
    TooManyActive,
    guarded,
)
from knowledge.interview.probes import ProbeContext, ProbeStrategy, ProbeSuggestion, rule_probes
from knowledge.interview.teachback import Summarizer, TeachBack
from knowledge.interview.views import Ask, InterviewView, Reply, ask_of, view_of
from knowledge.ops import metrics
from knowledge.storage import Expert, Interview, Turn, unavailable, utcnow
from knowledge.vocab import InterviewStatus, TurnStatus

if TYPE_CHECKING:
    from knowledge.storage import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Next:
    """What follows the last turn: a follow-up, or the guide question at `position` (past the
    end: the interview is complete), after skipping the `covered` positions."""

    followup: ProbeSuggestion | None
    position: int
    covered: list[int] = field(default_factory=list)


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
        self.settings = settings
        self.probes = probes or rule_probes(settings, embedder)
        self.coverage = Coverage(embedder)
        self.entries = EntryMaker(db, guides, embedder, indexer, drafter)
        self.teach_back = TeachBack(db, guides, summarizer)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    # The seams an LLM plugs into (knowledge.services wires them; tests swap them).
    @property
    def drafter(self) -> EntryDrafter:
        return self.entries.drafter

    @drafter.setter
    def drafter(self, value: EntryDrafter) -> None:
        self.entries.drafter = value

    @property
    def summarizer(self) -> Summarizer | None:
        return self.teach_back.summarizer

    @summarizer.setter
    def summarizer(self, value: Summarizer | None) -> None:
        self.teach_back.summarizer = value

    async def prepare(self) -> None:
        """Load the model and encode every guide's questions now, not on the first answer."""
        await self.coverage.prepare(self.guides)

    async def drain(self) -> None:
        """Wait for vectors still being made in the background (tests, shutdown)."""
        await self.entries.drain()

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
                guild_id=expert.guild_id,  # an interview belongs to its expert's server
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
            turn = turns.guide_turn(iv.id, 1, step, q)
            s.add(turn)
            await s.flush()
            return ask_of(iv, guide, turn)

    async def current(self, interview_id: int) -> Ask | None:
        """The question waiting for an answer; None when the interview is not running."""
        async with self._lock(interview_id):
            return await self._ensure_open(interview_id)

    async def blocking(self, expert_id: int) -> InterviewView | None:
        """The running interview that keeps the expert from starting another, if any.

        Front-ends ask before opening a thread for a new interview; `start` applies the same
        rule again in its own transaction.
        """
        async with self.db.sessions() as s:
            if await turns.running_count(s, expert_id) < self.settings.max_active_per_expert:
                return None
        running = await self.list(status=InterviewStatus.active, expert_id=expert_id, limit=1)
        return running[0] if running else None

    async def get(self, interview_id: int) -> InterviewView:
        async with self.db.sessions() as s:
            iv = await turns.load(s, interview_id)
            return view_of(iv, self.guides.get(iv.guide_slug))

    async def list(
        self,
        *,
        status: str | None = None,
        expert_id: int | None = None,
        channel: str | None = None,
        limit: int = 200,
    ) -> list[InterviewView]:
        async with self.db.sessions() as s:
            found = await turns.interviews(s, status, expert_id, channel, limit)
            return [view_of(iv, self.guides.get(iv.guide_slug)) for iv in found]

    # ---- the expert's moves --------------------------------------------------------------

    @guarded("your answer")
    async def answer(
        self,
        interview_id: int,
        text: str,
        *,
        turn_id: int | None = None,
        references: list[dict] | None = None,
    ) -> Reply:
        """Store the answer to the open question and open the next one.

        `turn_id` is the question answered: when it is no longer open (an earlier attempt
        stored the answer and its reply was lost), nothing is stored twice.
        """
        text = text.strip()
        if not text:
            raise InterviewError("an answer needs some text")
        if "\x00" in text:  # PostgreSQL cannot store it; refused on every database alike
            raise InterviewError("an answer cannot hold NUL characters: remove them and resend")
        started = time.monotonic()
        async with self._lock(interview_id):
            reply = await self._answer(interview_id, text, turn_id, references)
        metrics.TURN_SECONDS.observe(time.monotonic() - started)
        return reply

    async def _answer(
        self, interview_id: int, text: str, expect: int | None, references: list[dict] | None
    ) -> Reply:
        turn_id = await self._save_answer(interview_id, text, references, expect)
        if turn_id is None:  # no open question: repair what a crash left, then save
            await self._ensure_open(interview_id, must_be_active=True)
            turn_id = await self._save_answer(interview_id, text, references, expect)
        if turn_id is not _ALREADY:
            metrics.ANSWERS.inc()
        if turn_id is _ALREADY:  # answered by an earlier attempt: say what comes next
            nxt = await self._ensure_open(interview_id)
            async with self.db.sessions() as s:
                made = await turns.entry_ids(s, expect)
            return await self._reply(interview_id, expect, made, nxt, [])
        # The answer is committed: from here on, a failure costs at most a retry.
        # Its vector is made in the background (batched with other interviews'); the next
        # question waits for it only to check whether the next guide question is covered.
        vector = asyncio.ensure_future(self.embedder.embed_one(text))
        vector.add_done_callback(_consume_exception)
        made, advanced = await asyncio.gather(
            self.entries.make(turn_id, answer_vector=vector),
            self._advance(interview_id, answer_vector=vector),
            return_exceptions=True,
        )
        for result in (made, advanced):
            if isinstance(result, BaseException):
                raise result
        nxt, covered = advanced
        return await self._reply(interview_id, turn_id, made, nxt, covered)

    @guarded("the skip")
    async def skip(self, interview_id: int) -> Reply:
        async with self._lock(interview_id):
            await self._ensure_open(interview_id, must_be_active=True)
            async with self.db.sessions() as s, s.begin():
                iv = await turns.load(s, interview_id)
                turn = turns.open_turn_of(iv)
                turn.status = TurnStatus.skipped
                turn.answered_at = utcnow()
                turn_id = turn.id
            nxt, covered = await self._advance(interview_id)
            return await self._reply(interview_id, turn_id, [], nxt, covered)

    async def touch(self, interview_id: int) -> None:
        """The expert is writing (a message of a multi-message answer): count the time.

        Best effort: with the database unreachable the words are still kept by the front-end.
        """
        try:
            async with self.db.sessions() as s, s.begin():
                iv = await s.get(Interview, interview_id)
                if iv is not None and iv.status == InterviewStatus.active:
                    turns.touch(iv, utcnow(), self.settings.idle_gap_minutes)
        except Exception as e:
            if (reason := unavailable(e)) is None:
                raise
            log.warning(
                "interview %s: time not counted, database unavailable: %s", interview_id, reason
            )

    @guarded("the pause")
    async def pause(self, interview_id: int) -> InterviewView:
        async with self._lock(interview_id), self.db.sessions() as s, s.begin():
            iv = await turns.load(s, interview_id)
            if iv.status != InterviewStatus.active:
                raise NotActive(f"interview {interview_id} is {iv.status}, not active")
            turns.touch(iv, utcnow(), self.settings.idle_gap_minutes)
            iv.status = InterviewStatus.paused
            return view_of(iv, self.guides.get(iv.guide_slug))

    @guarded("the resume")
    async def resume(self, interview_id: int) -> Ask:
        async with self._lock(interview_id):
            async with self.db.sessions() as s, s.begin():
                iv = await turns.load(s, interview_id)
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

    @guarded("the end of the interview")
    async def end(self, interview_id: int) -> InterviewView:
        async with self._lock(interview_id), self.db.sessions() as s, s.begin():
            iv = await turns.load(s, interview_id)
            guide = self.guides.get(iv.guide_slug)
            if iv.status in (InterviewStatus.completed, InterviewStatus.ended):
                return view_of(iv, guide)
            now = utcnow()
            if iv.status == InterviewStatus.active:
                turns.touch(iv, now, self.settings.idle_gap_minutes)
            for t in iv.turns:
                if t.status == TurnStatus.asked:
                    t.status = TurnStatus.skipped
            iv.status = InterviewStatus.ended
            iv.ended_at = now
            return view_of(iv, guide)

    # ---- teach-back ----------------------------------------------------------------------

    async def summarize(self, interview_id: int) -> str | None:
        """A summary of what was learned, for the expert to correct; None without an LLM."""
        return await self.teach_back.summarize(interview_id)

    async def correct_summary(self, interview_id: int, correction: str) -> None:
        """Keep the expert's correction of the summary (teach-back material)."""
        await self.teach_back.correct(interview_id, correction)

    # ---- internals -----------------------------------------------------------------------

    async def _save_answer(
        self, interview_id: int, text: str, references: list[dict] | None, expect: int | None
    ) -> int | None:
        async with self.db.sessions() as s, s.begin():
            iv = await s.get(Interview, interview_id)
            if iv is None:
                raise NotFound(f"no interview {interview_id}")
            if iv.status != InterviewStatus.active:
                raise NotActive(f"interview {interview_id} is {iv.status}, not active")
            turn = await turns.open_turn(s, interview_id)
            if turn is None:
                return None
            if expect is not None and turn.id != expect:
                return _ALREADY
            now = utcnow()
            turn.answer = text
            turn.status = TurnStatus.answered
            turn.answered_at = now
            if references:
                turn.references = references
            turns.touch(iv, now, self.settings.idle_gap_minutes)
            return turn.id

    async def _check_room(self, s, expert_id: int, refusal: str) -> None:
        """TooManyActive when the expert already runs as many interviews as allowed."""
        if await turns.running_count(s, expert_id) >= self.settings.max_active_per_expert:
            raise TooManyActive(refusal)

    def _lock(self, interview_id: int) -> asyncio.Lock:
        lock = self._locks.get(interview_id)
        if lock is None:
            lock = self._locks[interview_id] = asyncio.Lock()
        return lock

    async def _ensure_open(self, interview_id: int, *, must_be_active: bool = False) -> Ask | None:
        """The open question, recreating what a crash between two steps left undone."""
        async with self.db.sessions() as s:
            iv = await turns.load(s, interview_id, expert=False)
            if must_be_active and iv.status != InterviewStatus.active:
                raise NotActive(f"interview {interview_id} is {iv.status}, not active")
            if iv.status not in (InterviewStatus.active, InterviewStatus.paused):
                return None
            guide = self.guides.get(iv.guide_slug)
            open_turn = next((t for t in iv.turns if t.status == TurnStatus.asked), None)
            with_entries = await turns.turns_with_entries(s, interview_id)
            unentried = [
                t.id
                for t in iv.turns
                if t.status == TurnStatus.answered and t.id not in with_entries
            ]
        for turn_id in unentried:  # answered, but the process died before its entries
            await self.entries.make(turn_id)
        if open_turn is not None:
            return ask_of(iv, guide, open_turn)
        nxt, _ = await self._advance(interview_id)
        return nxt

    async def _advance(
        self, interview_id: int, *, answer_vector: asyncio.Future | None = None
    ) -> tuple[Ask | None, list[str]]:
        """Decide the next question after the last turn closed, and open it."""
        async with self.db.sessions() as s:
            iv = await turns.load(s, interview_id, expert=False)
        guide = self.guides.get(iv.guide_slug)
        nxt = await self._decide(iv, guide, answer_vector)
        return await self._open(interview_id, guide, nxt)

    async def _decide(
        self, iv: Interview, guide: Guide, answer_vector: asyncio.Future | None
    ) -> _Next:
        """A follow-up when the probe strategy proposes one, else the next uncovered question."""
        last = iv.turns[-1]
        step, question = guide.questions[iv.position]
        answers = None
        if last.status == TurnStatus.answered:
            on_this = [
                t
                for t in iv.turns
                if t.step_id == step.id and t.question_id == question.id and t.followup
            ]
            latest, earlier = await self.entries.vectors(iv.id, last.id, answer_vector)
            answers = earlier + ([latest] if latest is not None else [])
            ctx = ProbeContext(
                guide=guide,
                step=step,
                question=question,
                answer=last.answer or "",
                transcript=turns.transcript(iv.turns),
                followups_asked=len(on_this),
                probes_asked=tuple(t.probe for t in on_this),
                answer_vector=latest,
                earlier_vectors=earlier,
            )
            try:
                suggestion = await self.probes.next_probe(ctx)
            except Exception:
                log.exception("probe strategy failed; moving on with the guide")
                suggestion = None
            if suggestion is not None:
                return _Next(suggestion, iv.position)
        position = iv.position + 1
        if not self.coverage.skippable(guide, position):
            return _Next(None, position)
        if answers is None:
            answers = await self.entries.answer_vectors(iv.id, answer_vector)
        covered = await self.coverage.skip_covered(
            guide, position, answers, self.settings.skip_similarity
        )
        return _Next(None, position + len(covered), covered)

    async def _open(
        self, interview_id: int, guide: Guide, nxt: _Next
    ) -> tuple[Ask | None, list[str]]:
        """Record the covered skips and open the next turn (or complete the interview)."""
        covered = [guide.questions[p][1].text for p in nxt.covered]
        async with self.db.sessions() as s, s.begin():
            # The interview's lock is held: nothing changed since it was read but a turn
            # opened by a repair, which wins.
            iv = await s.get(Interview, interview_id)
            opened = await turns.open_turn(s, interview_id)
            if opened is not None:
                return ask_of(iv, guide, opened), []
            seq = await turns.next_seq(s, iv.id)
            for p in nxt.covered:
                t = turns.guide_turn(iv.id, seq, *guide.questions[p])
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
                turn = turns.guide_turn(iv.id, seq, *guide.questions[nxt.position])
            s.add(turn)
            await s.flush()
            return ask_of(iv, guide, turn), covered

    async def _reply(self, interview_id, turn_id, entry_ids, nxt, covered) -> Reply:
        closing = None
        if nxt is None:
            async with self.db.sessions() as s:
                iv = await s.get(Interview, interview_id)
                closing = self.guides.get(iv.guide_slug).outro
        return Reply(interview_id, turn_id, entry_ids, nxt, covered, nxt is None, closing)


# _save_answer's word for "the question answered is no longer open": stored before.
_ALREADY = -1


def _clip(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


def _consume_exception(fut: asyncio.Future) -> None:
    """An answer's vector that nobody awaited must not log 'exception never retrieved'."""
    if not fut.cancelled():
        fut.exception()
