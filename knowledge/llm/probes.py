"""LLMProbes: the rules decide whether and which follow-up; the model words it, checked."""

from __future__ import annotations

import logging

from langchain_core.language_models import BaseChatModel

from knowledge.guides import Probe
from knowledge.interview.probes import ProbeContext, ProbeSuggestion, RuleProbes, TranscriptTurn
from knowledge.llm.client import LLMClient, LLMStats, Rejected, as_client, default_templates
from knowledge.llm.guards import (
    ECHO_WORDS,
    MAX_QUESTION_CHARS,
    Guard,
    check_question,
    clip,
    render_transcript,
    wrap,
)
from knowledge.llm.templates import PromptTemplate

log = logging.getLogger(__name__)


_KIND_PROBE = {
    "deepening": Probe.deepening,
    "concrete_instance": Probe.concrete_instance,
    "teach_back": Probe.teach_back,
}


class LLMProbes:
    """A ProbeStrategy: the rules decide whether and which kind of follow-up; the model words it.

    - the guide's limits (RuleProbes.may_follow_up) end the follow-ups, never the model;
    - when the rules would ask about an unexplained term or "how would you know", that targeted
      question is asked as it is;
    - when the rules want a concrete instance, the model asks for one about what was said;
    - when the rules see nothing to ask, the model deepens on a cue or decision the expert
      mentioned, then (after `teach_back_min_words` words) restates it for the expert to correct.
    """

    def __init__(
        self,
        model: BaseChatModel | LLMClient,
        fallback: RuleProbes | None = None,
        *,
        template: PromptTemplate | None = None,
        timeout: float = 20.0,
        max_concurrency: int = 8,
        max_chars: int = MAX_QUESTION_CHARS,
        teach_back_min_words: int = 40,
        max_transcript_chars: int = 2500,
    ):
        self.client = as_client(model, timeout, max_concurrency)
        self.fallback = fallback or RuleProbes()
        self.template = template or default_templates()["probe"]
        self.max_chars = max_chars
        self.teach_back_min_words = teach_back_min_words
        self.max_transcript_chars = max_transcript_chars

    @property
    def stats(self) -> LLMStats:
        return self.client.stats

    async def next_probe(self, ctx: ProbeContext) -> ProbeSuggestion | None:
        if not self.fallback.may_follow_up(ctx):
            return None
        rule = self.fallback.suggest(ctx)
        kind = self._kind(ctx, rule)
        if kind is None:
            return rule
        try:
            text = await self._ask(ctx, kind)
        except Rejected as err:
            self.client.fell_back(self.template.source, err)
            return rule
        if text is None:
            self.stats.declined += 1
            return rule
        self.stats.accepted += 1
        return ProbeSuggestion(text, _KIND_PROBE[kind], self.template.source)

    def _kind(self, ctx: ProbeContext, rule: ProbeSuggestion | None) -> str | None:
        if rule is not None:
            return "concrete_instance" if rule.probe is Probe.concrete_instance else None
        asked = set(ctx.probes_asked)
        if Probe.deepening not in asked:
            return "deepening"
        words = len(ctx.answer.split())
        if Probe.teach_back not in asked and words >= self.teach_back_min_words:
            return "teach_back"
        return None

    async def _ask(self, ctx: ProbeContext, kind: str) -> str | None:
        earlier = list(ctx.transcript)
        last = earlier[-1] if earlier else None
        if last is not None and (last.answer or "").strip() == ctx.answer.strip():
            # The latest answer is shown once, on its own; the transcript keeps what was asked.
            earlier[-1] = TranscriptTurn(last.question, last.probe, "(the latest answer, below)")
        values = {
            "profession": ctx.guide.profession,
            "guide_title": ctx.guide.title,
            "step_title": ctx.step.title,
            "method": ctx.step.method.value,
            "probe": ctx.question.probe.value,
            "question": ctx.question.text,
            "answer": wrap("answer", clip(ctx.answer, 3000)),
            "transcript": render_transcript(earlier, self.max_transcript_chars),
            "kind": kind,
            "kind_instruction": self.template.kinds[kind],
        }
        text = await self.client.complete(self.template, values)
        if text.strip().strip(".").upper() == "NONE":
            return None
        system, _ = self.template.render(**values)
        expert = [ctx.answer, *(t.answer for t in ctx.transcript if t.answer)]
        guard = Guard.build(self.template, system, expert)
        # A teach-back restates the expert: "So you would ... . Have I got that right?" may be
        # two sentences and quote longer runs of their words.
        teach_back = kind == "teach_back"
        return check_question(
            text,
            guard,
            max_chars=self.max_chars,
            max_sentences=2 if teach_back else 1,
            echo_words=20 if teach_back else ECHO_WORDS,
        )
