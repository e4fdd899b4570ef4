"""Follow-up probes between guide questions: the seam where an LLM can plug in.

The engine asks a ProbeStrategy for a follow-up after each answer. The default, RuleProbes, needs
no model beyond the bundled MiniLM, and decides by what is left to learn:

1. **Budget.** Follow-ups are bounded per guide question (the guide's `max_followups`, else the
   interview's), per step, and as a share of the whole interview; at most a few ask for a story.
2. **Novelty.** A phrase is worth asking about only when it is new: the expert never said it in an
   earlier answer, and it is not the interviewer's own words. An answer whose vector is close to an
   earlier answer's says again what the interview heard, and is not deepened as a whole.
3. **The expert's phrase.** The answer's most specific new phrases
   (knowledge/interview/phrases.py), best first, never a term already followed up (normalised).
4. **The move that fits.** For each phrase, the step's moves in order of preference (the guide
   step's own first, then the shared ones; knowledge/interview/moves.py), the least used so far
   first, skipping a move that does not fit what the phrase is, one the answer already answers,
   and one the guide will ask anyway later in the step. The wording is the least used one whose
   sentence was never asked in this interview.
5. **Nothing worth a phrase?** The step's own plain probe (ACTA: "why would that be hard for a
   newcomer?"), when the answer left it open.
6. **Already answered?** A follow-up whose vector is close to an answer already given is dropped.

The LLM strategy (knowledge/llm/probes.py) gets the same options, picks one and words it, and falls
back to the rules' first option on any failure.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from knowledge.guides import Guide, Method, Probe, Question, Step
from knowledge.interview import phrases as ph
from knowledge.interview.moves import MoveBook, NamedMove, default_moves

if TYPE_CHECKING:
    from knowledge.config import InterviewSettings
    from knowledge.index import BatchingEmbedder


@dataclass(frozen=True)
class TranscriptTurn:
    question: str
    probe: str
    answer: str | None  # None when skipped
    followup: bool = False
    focus: str | None = None  # the expert's phrase a follow-up asked about
    step_id: str | None = None


@dataclass(frozen=True)
class ProbeContext:
    """What a strategy may look at to propose the next follow-up."""

    guide: Guide
    step: Step
    question: Question  # the guide question being followed up
    answer: str  # the expert's latest answer (to the question or to a follow-up of it)
    transcript: list[TranscriptTurn] = field(default_factory=list)  # the whole interview so far
    followups_asked: int = 0  # follow-ups already asked on this guide question
    probes_asked: tuple[str, ...] = ()  # probe types of those follow-ups
    answer_vector: np.ndarray | None = None  # the latest answer's
    earlier_vectors: list[np.ndarray] = field(default_factory=list)  # every answer before it


@dataclass(frozen=True)
class ProbeSuggestion:
    text: str
    probe: Probe
    source: str = "rules"  # "rules", or "llm:<template>@<version>"
    focus: str | None = None  # the expert's phrase it asks about, as they wrote it
    move: str | None = None  # the move that produced it (moves.toml name, or "<step>:<probe>")


class ProbeStrategy(Protocol):
    async def next_probe(self, ctx: ProbeContext) -> ProbeSuggestion | None:
        """A follow-up question, or None to move on to the next guide question."""
        ...


# The expert says they did not follow, or do not know: nothing to deepen as a whole.
_NON_ANSWER = re.compile(
    r"\b(not sure what you('re| are)? (asking|mean)|(don't|do not) (understand|follow)|no idea|"
    r"(i )?(don't|do not) know|can't say|cannot say|not my area|never (had|done) that)\b",
    re.I,
)
_GENERAL = re.compile(
    r"\b(usually|generally|normally|typically|always|never|it depends|depends on|in general|"
    r"most of the time|often|sometimes|various|things like|and so on|etc)\b",
    re.I,
)
_JUDGMENT = re.compile(
    r"\b(felt (wrong|off|right)|gut (feeling|instinct)|just know|instinct|sixth sense|"
    r"something (was|is) off|didn't (look|feel) right|doesn't (look|feel) right)\b",
    re.I,
)
STORY_METHODS = (Method.knowledge_audit, Method.incident)


@dataclass
class Budget:
    max_followups: int = 2  # per guide question, unless the guide says otherwise
    per_step_question: float = 1.0  # follow-ups in a step: this many per question of the step
    share: float = 0.5  # at most this share of the interview's questions are follow-ups
    max_stories: int = 3  # concrete-instance requests in one interview


class RuleProbes:
    """Follow-ups from explainable rules over the expert's own words."""

    def __init__(
        self,
        *,
        min_words: int = 25,
        max_followups: int = 2,
        embedder: BatchingEmbedder | None = None,
        moves: MoveBook | None = None,
        budget: Budget | None = None,
        min_specificity: float = 1.3,
        min_novelty: float = 0.1,
        answered_similarity: float = 0.8,
        candidates: int = 6,
    ):
        self.min_words = min_words  # below this, an answer counts as abstract (story moves)
        self.budget = budget or Budget(max_followups=max_followups)
        self.embedder = embedder
        self.moves = moves or default_moves()
        self.min_specificity = min_specificity
        self.min_novelty = min_novelty
        self.answered_similarity = answered_similarity
        self.candidates = candidates

    @property
    def max_followups(self) -> int:
        return self.budget.max_followups

    @max_followups.setter
    def max_followups(self, value: int) -> None:
        self.budget.max_followups = value

    async def next_probe(self, ctx: ProbeContext) -> ProbeSuggestion | None:
        found = await self.options(ctx)
        return found[0] if found else None

    def may_follow_up(self, ctx: ProbeContext) -> bool:
        """Whether the budgets leave room for another follow-up on this question."""
        limit = ctx.question.max_followups
        limit = self.budget.max_followups if limit is None else limit
        if ctx.followups_asked >= limit:
            return False
        if ctx.question.probe in (Probe.wrapup, Probe.background) and ctx.followups_asked:
            return False
        earlier = ctx.transcript
        in_step = sum(t.followup and t.step_id == ctx.step.id for t in earlier)
        if in_step >= math.ceil(self.budget.per_step_question * len(ctx.step.questions)):
            return False
        followups = sum(t.followup for t in earlier)
        return followups + 1 <= self.budget.share * (len(earlier) + 1)

    async def options(self, ctx: ProbeContext, *, limit: int = 3) -> list[ProbeSuggestion]:
        """The follow-ups worth asking now, best first; empty to move on."""
        if not ctx.answer.strip() or not self.may_follow_up(ctx):
            return []
        state = _State.of(ctx, self)
        found: list[ProbeSuggestion] = []
        if (judged := _JUDGMENT.search(ctx.answer)) and Probe.how_would_you_know not in state.here:
            phrase = ph.Phrase(judged.group(0), ph.normalise(judged.group(0)), "judgment", 9, "")
            found += state.on_phrase(phrase, [NamedMove("how_would_you_know", self._hwyk)])
        for phrase in await self.phrases(ctx, state):
            found += state.on_phrase(phrase, state.moves)
            if len(found) >= 2 * limit:
                break
        # The answer as a whole is worth deepening only when it says something new: its vector
        # is not close to an earlier answer's.
        fresh = self.novelty(ctx) >= self.min_novelty
        if not found and fresh and not _NON_ANSWER.search(ctx.answer):
            found += state.plain()
        found = await self._not_answered(ctx, found)
        return found[:limit]

    @property
    def _hwyk(self):
        return self.moves.move("how_would_you_know")

    def novelty(self, ctx: ProbeContext) -> float:
        """1 minus the closest earlier answer's cosine similarity (1 with nothing to compare)."""
        if ctx.answer_vector is None or not ctx.earlier_vectors:
            return 1.0
        return 1.0 - float(np.max(np.stack(ctx.earlier_vectors) @ ctx.answer_vector))

    async def phrases(self, ctx: ProbeContext, state: _State) -> list[ph.Phrase]:
        """The expert's phrases worth asking about: specific, new to the interviewer, never
        followed up before; the most specific few ranked by how central they are to the answer
        (KeyBERT's rule, over the bundled MiniLM) when there is a model."""
        found = [
            p
            for p in ph.extract(ctx.answer, heard_before=state.interviewer_words)
            if p.score >= self.min_specificity
            and not any(ph.same_term(p.key, f) for f in state.foci)
            and p.key not in state.question_keys
            and f" {p.key} " not in state.said_before
        ][: self.candidates]
        if self.embedder is None or ctx.answer_vector is None or len(found) < 2:
            return found
        vectors = await self.embedder.embed([p.text for p in found])
        central = np.asarray(vectors) @ ctx.answer_vector
        order = np.argsort(-central, kind="stable")
        return [found[i] for i in order]

    async def _not_answered(self, ctx: ProbeContext, found: list[ProbeSuggestion]) -> list:
        """Drop the follow-ups an answer already given comes close to (cosine)."""
        answers = [*ctx.earlier_vectors]
        if ctx.answer_vector is not None:
            answers.append(ctx.answer_vector)
        if self.embedder is None or not answers or not found:
            return found
        vectors = np.asarray(await self.embedder.embed([s.text for s in found]))
        closest = (vectors @ np.stack(answers).T).max(axis=1)
        return [s for s, c in zip(found, closest, strict=True) if c < self.answered_similarity]


def rule_probes(settings: InterviewSettings, embedder: BatchingEmbedder | None) -> RuleProbes:
    """The rules as the interview settings configure them."""
    return RuleProbes(
        min_words=settings.min_answer_words,
        embedder=embedder,
        budget=Budget(
            max_followups=settings.max_followups,
            per_step_question=settings.followups_per_step_question,
            share=settings.followup_share,
            max_stories=settings.max_story_followups,
        ),
        answered_similarity=settings.answered_similarity,
    )


@dataclass
class _State:
    """What the interview so far says about the next follow-up."""

    ctx: ProbeContext
    rules: RuleProbes
    moves: list[NamedMove]
    asked: set[str]  # every question asked, normalised
    foci: list[str]  # normalised phrases already followed up
    here: set[str]  # probe types of the follow-ups on this guide question
    used: Counter  # follow-ups per probe type in the interview
    wording_used: Counter  # how often each wording was asked
    stories: int  # concrete-instance requests so far
    interviewer_words: Counter
    question_keys: set[str]
    said_before: str  # the expert's earlier answers, normalised, padded with spaces
    later_probes: set[str]  # probe types of the guide questions still to come in this step

    @classmethod
    def of(cls, ctx: ProbeContext, rules: RuleProbes) -> _State:
        followups = [t for t in ctx.transcript if t.followup]
        wording_used: Counter = Counter()
        book = rules.moves.for_step(ctx.step)
        every = [*book, *(NamedMove(n, m) for n, m in rules.moves.moves.items())]
        for t in followups:
            for nm in every:
                for w in (*nm.move.texts, *nm.move.plain):
                    if _render(w, t.focus) == t.question:
                        wording_used[w] += 1
        at = ctx.guide.position(ctx.step.id, ctx.question.id)
        later = {q.probe.value for s, q in ctx.guide.questions[at + 1 :] if s.id == ctx.step.id}
        # The interviewer's own words (every guide question, everything asked but the expert's
        # phrases quoted back) are not the expert's, and never a phrase to pick up.
        said = [q.text for _, q in ctx.guide.questions] + [
            t.question.replace(t.focus, " ") if t.focus else t.question for t in ctx.transcript
        ]
        return cls(
            ctx=ctx,
            rules=rules,
            moves=book,
            asked={_key(t.question) for t in ctx.transcript},
            foci=[ph.normalise(t.focus) for t in followups if t.focus],
            here=set(ctx.probes_asked),
            used=Counter(t.probe for t in followups),
            wording_used=wording_used,
            stories=sum(t.probe == Probe.concrete_instance for t in followups),
            interviewer_words=ph.heard(said),
            question_keys={ph.normalise(ctx.question.text)},
            said_before=f" {ph.normalise_text(t.answer for t in ctx.transcript[:-1] if t.answer)} ",
            later_probes=later,
        )

    def allowed(self, nm: NamedMove) -> bool:
        probe = nm.move.probe
        if probe in self.here or probe in self.later_probes:
            return False  # asked on this question already, or the guide asks it next
        if probe == Probe.concrete_instance:
            if self.ctx.step.method not in STORY_METHODS or _NON_ANSWER.search(self.ctx.answer):
                return False
            if self.stories >= self.rules.budget.max_stories:
                return False
            words = len(self.ctx.answer.split())
            abstract = words < self.rules.min_words or _GENERAL.search(self.ctx.answer)
            if not abstract or self.rules.moves.answered(nm.move, self.ctx.answer):
                return False
        return True

    def ordered(self, moves: list[NamedMove], kind: str | None = None) -> list[NamedMove]:
        """A story first when the answer stayed abstract and the step wants one; then a move
        made for this kind of phrase only (what a term is); then the step's own moves; then
        the least used, in order of preference."""
        rank = {nm.name: i for i, nm in enumerate(moves)}

        def key(nm: NamedMove):
            story = nm.move.probe == Probe.concrete_instance and self.allowed(nm)
            made_for = kind is not None and nm.move.fits == [kind]
            return (not story, not made_for, not nm.own, self.used[nm.move.probe], rank[nm.name])

        return sorted(moves, key=key)

    def wording(self, texts: list[str], phrase: str | None) -> str | None:
        """The least used wording whose sentence this interview never asked."""
        for w in sorted(texts, key=lambda w: (self.wording_used[w], texts.index(w))):
            text = _render(w, phrase)
            if _key(text) not in self.asked:
                return text
        return None

    def on_phrase(self, phrase: ph.Phrase, moves: list[NamedMove]) -> list[ProbeSuggestion]:
        """The best move for this phrase, and the next best (for the LLM to choose from)."""
        out = []
        for nm in self.ordered(moves, phrase.kind):
            if phrase.kind not in nm.move.fits or not nm.move.texts or not self.allowed(nm):
                continue
            if self.rules.moves.answered(nm.move, phrase.sentence):
                continue  # the expert already said it about this phrase
            text = self.wording(nm.move.texts, phrase.text)
            if text is not None:
                out.append(ProbeSuggestion(text, nm.move.probe, focus=phrase.text, move=nm.name))
            if len(out) == 2:
                break
        return out

    def plain(self) -> list[ProbeSuggestion]:
        """The step's own probes on the answer as a whole, when the answer left them open."""
        out = []
        for nm in self.ordered(self.moves):
            if not nm.move.plain or not self.allowed(nm):
                continue
            if self.rules.moves.answered(nm.move, self.ctx.answer):
                continue
            if not nm.own:
                continue  # without a phrase of the expert's, only the step's own probes
            text = self.wording(nm.move.plain, None)
            if text is not None:
                out.append(ProbeSuggestion(text, nm.move.probe, move=nm.name))
        return out[:1]


def _render(wording: str, phrase: str | None) -> str:
    return wording.replace("{phrase}", phrase) if phrase is not None else wording


def _key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))
