"""LLMProbes: the rules choose what is worth following up; the model picks one and words it."""

from __future__ import annotations

import logging
import re

from langchain_core.language_models import BaseChatModel

from knowledge.interview import phrases as ph
from knowledge.interview.probes import ProbeContext, ProbeSuggestion, RuleProbes, TranscriptTurn
from knowledge.llm.client import LLMClient, LLMStats, Rejected, as_client, default_templates
from knowledge.llm.guards import (
    MAX_QUESTION_CHARS,
    Guard,
    check_question,
    clip,
    normalised,
    render_transcript,
    wrap,
)
from knowledge.llm.templates import PromptTemplate

log = logging.getLogger(__name__)

_PICK = re.compile(r"^\s*\(?(\d)\)?\s*[:.)\-–]\s*(.*)$", re.S)


class LLMProbes:
    """A ProbeStrategy: the rules decide whether to follow up and offer the options; the model
    picks one and words it.

    - the rules' budgets and novelty checks (RuleProbes.options) decide whether there is a
      follow-up at all, never the model;
    - the model sees the same moves the rules would make, each on the expert's phrase it is about
      (or the step's own probe), with the rules' own wording;
    - it replies with the option's number and its question, which must name that option's phrase
      and pass the checks of knowledge/llm/guards.py; the turn records the option's probe type and
      phrase;
    - on any failure the rules' first option is asked as the rules word it.
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
        max_transcript_chars: int = 2500,
    ):
        self.client = as_client(model, timeout, max_concurrency)
        self.fallback = fallback or RuleProbes()
        self.template = template or default_templates()["probe"]
        self.max_chars = max_chars
        self.max_transcript_chars = max_transcript_chars

    @property
    def stats(self) -> LLMStats:
        return self.client.stats

    async def next_probe(self, ctx: ProbeContext) -> ProbeSuggestion | None:
        options = await self.fallback.options(ctx)
        if not options:
            return None
        try:
            picked = await self._ask(ctx, options)
        except Rejected as err:
            self.client.fell_back(self.template.source, err)
            return options[0]
        if picked is None:
            self.stats.declined += 1
            return None
        self.stats.accepted += 1
        return picked

    def render_options(self, options: list[ProbeSuggestion]) -> str:
        lines = []
        for i, o in enumerate(options, 1):
            about = f'on "{o.focus}"' if o.focus else "on the answer as a whole"
            how = self.template.kinds.get(o.probe.value, "ask a follow-up")
            lines.append(f"{i}. {o.probe.value} {about}: {how}. The rules would ask: {o.text}")
        return "\n".join(lines)

    async def _ask(self, ctx: ProbeContext, options: list[ProbeSuggestion]):
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
            "options": self.render_options(options),
        }
        text = await self.client.complete(self.template, values)
        if text.strip().strip(".").upper() == "NONE":
            return None
        m = _PICK.match(text.strip())
        if m is None or not 1 <= int(m.group(1)) <= len(options):
            raise Rejected("no_option", "the reply does not start with an option's number")
        option = options[int(m.group(1)) - 1]
        system, _ = self.template.render(**values)
        expert = [ctx.answer, *(t.answer for t in ctx.transcript if t.answer)]
        guard = Guard.build(self.template, system, expert)
        question = check_question(m.group(2), guard, max_chars=self.max_chars)
        if option.focus and not names(question, option.focus):
            raise Rejected("ungrounded", f"does not name {option.focus!r}")
        return ProbeSuggestion(
            question, option.probe, self.template.source, focus=option.focus, move=option.move
        )


def names(question: str, phrase: str) -> bool:
    """Whether the question names the phrase: its words, up to case, hyphens and plural."""
    said = f" {ph.normalise(normalised(question))} "
    return f" {ph.normalise(normalised(phrase))} " in said
