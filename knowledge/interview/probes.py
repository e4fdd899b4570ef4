"""Follow-up probes between guide questions: the seam where an LLM can plug in.

The engine asks a ProbeStrategy for a follow-up after each answer. The default, RuleProbes, needs
no model: it asks for a concrete instance after a short or general answer, and asks how the expert
would recognise a term they used without explaining it. The LLM strategy (knowledge/llm.py) wraps
it and falls back to it on any failure.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from knowledge.guides import Guide, Probe, Question, Step


@dataclass(frozen=True)
class TranscriptTurn:
    question: str
    probe: str
    answer: str | None  # None when skipped


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


@dataclass(frozen=True)
class ProbeSuggestion:
    text: str
    probe: Probe
    source: str = "rules"  # "rules", or "llm:<template>@<version>"


class ProbeStrategy(Protocol):
    async def next_probe(self, ctx: ProbeContext) -> ProbeSuggestion | None:
        """A follow-up question, or None to move on to the next guide question."""
        ...


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_GENERAL = re.compile(
    r"\b(usually|generally|normally|typically|always|never|it depends|depends on|in general|"
    r"most of the time|often|sometimes|various|things like|and so on|etc)\b",
    re.I,
)
_CONCRETE = re.compile(
    r"\b(last (week|month|year|time|night|shift|case)|yesterday|once|one time|i remember|"
    r"there was a|in (19|20)\d\d|on (monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b",
    re.I,
)
# Acronyms (TCAS, QNH), or hyphenated jargon, are the usual unexplained terms.
_TERM = re.compile(r"\b([A-Z]{2,6}s?)\b")
_EXPLAINED = re.compile(r"\b(means|meaning|i\.e\.|that is|which is|stands for|called)\b", re.I)
_COMMON_ACRONYMS = {"OK", "US", "UK", "EU", "TV", "AM", "PM", "ID", "IT", "NO", "SO", "I", "A"}


class RuleProbes:
    """Follow-ups from simple, explainable rules; no model needed."""

    def __init__(self, *, min_words: int = 25, max_followups: int = 2):
        self.min_words = min_words
        self.max_followups = max_followups

    async def next_probe(self, ctx: ProbeContext) -> ProbeSuggestion | None:
        return self.suggest(ctx)

    def may_follow_up(self, ctx: ProbeContext) -> bool:
        """Whether the guide's limits leave room for another follow-up on this question."""
        limit = ctx.question.max_followups
        limit = self.max_followups if limit is None else limit
        if ctx.followups_asked >= limit:
            return False
        return not (ctx.question.probe in (Probe.wrapup, Probe.background) and ctx.followups_asked)

    def suggest(self, ctx: ProbeContext) -> ProbeSuggestion | None:
        if not self.may_follow_up(ctx):
            return None
        asked = set(ctx.probes_asked)
        words = _WORD.findall(ctx.answer)

        term = self._unexplained_term(ctx)
        if term and Probe.term_recognition not in asked:
            return ProbeSuggestion(
                f"You mentioned {term}. For someone who has never seen it: what is it, and how "
                f"would you recognise it when it happens?",
                Probe.term_recognition,
            )
        general = len(words) < self.min_words or (
            _GENERAL.search(ctx.answer) and not _CONCRETE.search(ctx.answer)
        )
        if general and Probe.concrete_instance not in asked and words:
            return ProbeSuggestion(
                "Can you tell me about one specific time that happened? "
                "Walk me through what you saw and what you did.",
                Probe.concrete_instance,
            )
        if _JUDGMENT.search(ctx.answer) and Probe.how_would_you_know not in asked:
            return ProbeSuggestion(
                "You said it felt that way. How would you know? What exactly tells you?",
                Probe.how_would_you_know,
            )
        return None

    def _unexplained_term(self, ctx: ProbeContext) -> str | None:
        if _EXPLAINED.search(ctx.answer):
            return None
        earlier = " ".join(
            f"{t.question} {t.answer or ''}" for t in ctx.transcript[:-1] if t.answer is not None
        )
        already = set(_TERM.findall(earlier)) | set(_TERM.findall(ctx.guide.profession.upper()))
        counts = Counter(
            t for t in _TERM.findall(ctx.answer) if t not in _COMMON_ACRONYMS and t not in already
        )
        # Terms the question itself used are the interviewer's words, not the expert's.
        counts -= Counter(_TERM.findall(ctx.question.text))
        return counts.most_common(1)[0][0] if counts else None


_JUDGMENT = re.compile(
    r"\b(felt (wrong|off|right)|gut (feeling|instinct)|just know|instinct|sixth sense|"
    r"something (was|is) off|didn't (look|feel) right)\b",
    re.I,
)
