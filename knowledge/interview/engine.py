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
from typing import TYPE_CHECKING

import numpy as np

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
from knowledge.interview.probes import ProbeContext, ProbeStrategy, rule_probes
from knowledge.interview.teachback import Summarizer, TeachBack
from knowledge.interview.views import Ask, InterviewView, Reply, ask_of, view_of
from knowledge.ops import metrics
from knowledge.quality import Arrival, QualityChecker
from knowledge.storage import Expert, Interview, unavailable, utcnow
from knowledge.storage.entries import from_bytes
from knowledge.vocab import InterviewStatus, TurnStatus

if TYPE_CHECKING:
    from knowledge.storage import Database

log = logging.getLogger(__name__)


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
        self.quality = QualityChecker.default(db, indexer, settings.idle_gap_minutes)  # a seam
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
        await self.quality.drain()

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
        arrival: Arrival | None = None,
    ) -> Reply:
        """Store the answer, its entries and the next question in one transaction.

        Nothing is written until the next question is decided; a crash before the commit leaves
        the question open, and the front-end still holds the answer (Discord re-reads it).
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
            await self.quality.answered(reply, text, arrival, self.entries.settled)  # its flags
        metrics.TURN_SECONDS.observe(time.monotonic() - started)
        return reply

    async def _answer(
        self, interview_id: int, text: str, expect: int | None, references: list[dict] | None
    ) -> Reply:
        snap = await self._snapshot(interview_id, must_be_active=True)
        if snap.open is None:  # no open question: repair what a crash left, then answer
            await self._ensure_open(interview_id, must_be_active=True)
            snap = await self._snapshot(interview_id, must_be_active=True)
        guide = self.guides.get(snap.guide_slug)
        if expect is not None and snap.open is not None and snap.open.id != expect:
            # Answered by an earlier attempt: say what comes next.
            nxt = await self._ensure_open(interview_id)
            async with self.db.sessions() as s:
                made = await turns.entry_ids(s, expect)
            return self._reply(interview_id, expect, made, nxt, [], guide)
        if self.embedder.remote:
            return await self._answer_remote(snap, text, references)
        turn = snap.open
        # Encoded off the loop, batched with other interviews' answers; drafting meanwhile.
        vector = asyncio.ensure_future(self.embedder.embed_one(text))
        vector.add_done_callback(_consume_exception)
        drafts = asyncio.ensure_future(self.entries.draft(guide, turn, text))
        answered = snap.with_answer(turn.id, text)
        try:
            nxt = await self._decide(answered, guide, vector)
            latest = await _vector_or_none(vector)
            vectors = await self.entries.vectors(await drafts, text, latest)
        finally:
            drafts.cancel()
        entry_ids, ask, covered = await self._commit_answer(
            snap, guide, text, references, drafts.result(), vectors, nxt
        )
        metrics.ANSWERS.inc()
        if self.entries.indexer is not None:
            self.entries.indexer.notify()
        return self._reply(interview_id, turn.id, entry_ids, ask, covered, guide)

    async def _commit_answer(self, snap, guide, text, references, drafts, vectors, nxt):
        """One transaction: the answer, its entries and (unless `nxt` is None) the next turn;
        (entry ids, the next Ask, covered questions)."""
        turn = snap.open
        async with self.db.sessions() as s, s.begin():
            iv = await s.get(Interview, snap.id)
            now = utcnow()
            if not await turns.record_answer(s, turn.id, text, references, now):
                raise NotActive(f"interview {snap.id}: that question was answered")
            turns.touch(iv, now, self.settings.idle_gap_minutes)
            rows = self.entries.rows(iv, guide, turn, drafts, vectors)
            s.add_all(rows)
            opened, covered = None, []
            if nxt is not None:
                opened, covered = await turns.open_next(s, iv, snap, guide, nxt)
            else:
                await self.embedder.wake(s)  # the workers hear it when this commits
            await s.flush()
            ask = ask_of(iv, guide, opened) if opened is not None else None
            return [e.id for e in rows], ask, covered

    async def _answer_remote(self, snap, text: str, references: list[dict] | None) -> Reply:
        """No model in this process: store the answer and its entries, wait (bounded) for the
        worker's vector of the answer, then decide and open the next question."""
        guide = self.guides.get(snap.guide_slug)
        turn = snap.open
        drafts = await self.entries.draft(guide, turn, text)
        entry_ids, _, _ = await self._commit_answer(snap, guide, text, references, drafts, {}, None)
        vector = asyncio.ensure_future(self.embedder.entry_vector(entry_ids[0]))
        vector.add_done_callback(_consume_exception)
        nxt = await self._decide(snap.with_answer(turn.id, text), guide, vector)
        async with self.db.sessions() as s, s.begin():
            iv = await s.get(Interview, snap.id)
            opened = await turns.open_turn(s, snap.id)  # opened by a repair meanwhile: it wins
            if opened is not None:
                return self._reply(
                    snap.id, turn.id, entry_ids, ask_of(iv, guide, opened), [], guide
                )
            ask, covered = await turns.open_next(s, iv, snap, guide, nxt)
            await s.flush()
            ask = ask_of(iv, guide, ask) if ask is not None else None
        metrics.ANSWERS.inc()
        return self._reply(snap.id, turn.id, entry_ids, ask, covered, guide)

    @guarded("the skip")
    async def skip(self, interview_id: int) -> Reply:
        async with self._lock(interview_id):
            await self._ensure_open(interview_id, must_be_active=True)
            async with self.db.sessions() as s, s.begin():
                turn = await turns.open_turn(s, interview_id)
                if turn is None:
                    raise NotActive(f"interview {interview_id} has no open question")
                turn.status = TurnStatus.skipped
                turn.answered_at = utcnow()
                turn_id = turn.id
                guide_slug = (await s.get(Interview, interview_id)).guide_slug
            nxt, covered = await self._advance(interview_id)
            return self._reply(interview_id, turn_id, [], nxt, covered, self.guides.get(guide_slug))

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

    async def _snapshot(self, interview_id: int, *, must_be_active: bool = False):
        async with self.db.sessions() as s:
            snap = await turns.snapshot(s, interview_id)
        if must_be_active and snap.status != InterviewStatus.active:
            raise NotActive(f"interview {interview_id} is {snap.status}, not active")
        return snap

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
            iv = await turns.snapshot(s, interview_id, vectors=False)
            if must_be_active and iv.status != InterviewStatus.active:
                raise NotActive(f"interview {interview_id} is {iv.status}, not active")
            if iv.status not in (InterviewStatus.active, InterviewStatus.paused):
                return None
            guide = self.guides.get(iv.guide_slug)
            open_turn = iv.open
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

    async def _advance(self, interview_id: int) -> tuple[Ask | None, list[str]]:
        """Decide the next question after the last turn closed, and open it."""
        await self.entries.settled(interview_id)
        snap = await self._snapshot(interview_id)
        guide = self.guides.get(snap.guide_slug)
        nxt = await self._decide(snap, guide, None)
        async with self.db.sessions() as s, s.begin():
            # The interview's lock is held: nothing changed since it was read but a turn
            # opened by a repair, which wins.
            iv = await s.get(Interview, interview_id)
            opened = await turns.open_turn(s, interview_id)
            if opened is not None:
                return ask_of(iv, guide, opened), []
            turn, covered = await turns.open_next(s, iv, snap, guide, nxt)
            await s.flush()
            return (ask_of(iv, guide, turn) if turn is not None else None), covered

    async def _decide(self, snap, guide: Guide, answer_vector: asyncio.Future | None) -> turns.Next:
        """A follow-up when the probe strategy proposes one, else the next uncovered question."""
        last = snap.turns[-1]
        step, question = guide.questions[snap.position]
        earlier = [from_bytes(b) for t, b in snap.vectors if t != last.id]
        latest = next((from_bytes(b) for t, b in snap.vectors if t == last.id), None)
        if answer_vector is not None:
            latest = await _vector_or_none(answer_vector)
            if latest is None:
                log.warning("no vector for the latest answer of interview %s", snap.id)
        answers = earlier + ([latest] if latest is not None else [])
        if last.status == TurnStatus.answered:
            on_this = [
                t
                for t in snap.turns
                if t.step_id == step.id and t.question_id == question.id and t.followup
            ]
            ctx = ProbeContext(
                guide=guide,
                step=step,
                question=question,
                answer=last.answer or "",
                transcript=turns.transcript(snap.turns),
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
                return turns.Next(suggestion, snap.position)
        position = snap.position + 1
        if not self.coverage.skippable(guide, position):
            return turns.Next(None, position)
        try:
            covered = await self.coverage.skip_covered(
                guide, position, answers, self.settings.skip_similarity
            )
        except Exception as e:  # no question vectors (the model or the worker failed)
            log.warning("coverage check skipped: %s", e)
            covered = []
        return turns.Next(None, position + len(covered), covered)

    def _reply(self, interview_id, turn_id, entry_ids, nxt, covered, guide: Guide) -> Reply:
        closing = guide.outro if nxt is None else None
        return Reply(interview_id, turn_id, entry_ids, nxt, covered, nxt is None, closing)


async def _vector_or_none(fut: asyncio.Future) -> np.ndarray | None:
    """The answer's vector, or None when the model (or the worker) could not make it."""
    try:
        return await fut
    except Exception:
        return None


def _consume_exception(fut: asyncio.Future) -> None:
    """An answer's vector that nobody awaited must not log 'exception never retrieved'."""
    if not fut.cancelled():
        fut.exception()
