"""LLMSummary: the end-of-interview teach-back, every claim grounded in the transcript."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from knowledge.guides import Guide
from knowledge.interview.probes import TranscriptTurn
from knowledge.llm.client import LLMClient, LLMStats, Rejected, as_client, default_templates
from knowledge.llm.guards import Guard, normalised, render_transcript
from knowledge.llm.templates import PromptTemplate

log = logging.getLogger(__name__)


_STOPWORDS = frozenset(
    "about after again also because been before being between both could does doing down during "
    "each from further have having here into just more most other over same should some such "
    "than that their them then there these they this those through under until very what when "
    "where which while will with would your yours yourself you have right think".split()
)


@dataclass(frozen=True)
class Summary:
    text: str
    source: str  # "llm:summary@<version>"


class LLMSummary:
    """The teach-back at the end: what the expert does and why, for them to correct.

    None when the model fails or writes something the interview did not contain (fewer than
    `min_grounding` of its content words appear in the transcript); the interview then ends
    without a teach-back.
    """

    def __init__(
        self,
        model: BaseChatModel | LLMClient,
        *,
        template: PromptTemplate | None = None,
        timeout: float = 20.0,
        max_concurrency: int = 8,
        max_chars: int = 1200,
        max_transcript_chars: int = 6000,
        min_grounding: float = 0.6,
    ):
        self.client = as_client(model, timeout, max_concurrency)
        self.template = template or default_templates()["summary"]
        self.max_chars = max_chars
        self.max_transcript_chars = max_transcript_chars
        self.min_grounding = min_grounding

    @property
    def stats(self) -> LLMStats:
        return self.client.stats

    async def summarize(self, transcript: list[TranscriptTurn], guide: Guide) -> Summary | None:
        answered = [t for t in transcript if t.answer and t.answer.strip()]
        if not answered:
            return None
        per_answer = max(200, self.max_transcript_chars // len(answered))
        values = {
            "profession": guide.profession,
            "guide_title": guide.title,
            "transcript": render_transcript(
                answered, self.max_transcript_chars, per_answer=per_answer
            ),
        }
        try:
            text = await self.client.complete(self.template, values)
            text = self._check(text, values, answered)
        except Rejected as err:
            self.client.fell_back(self.template.source, err)
            return None
        self.stats.accepted += 1
        return Summary(text, self.template.source)

    def _check(self, text: str, values: dict[str, str], turns: list[TranscriptTurn]) -> str:
        text = " ".join(text.split())
        if not text:
            raise Rejected("empty")
        if len(text) > self.max_chars:
            raise Rejected("too_long")
        system, _ = self.template.render(**values)
        expert = [t.answer or "" for t in turns]
        # A summary restates the expert at length; only much longer verbatim runs are suspect.
        Guard.build(self.template, system, expert).check(text, echo_words=30)
        known = set(normalised(" ".join(f"{t.question} {t.answer}" for t in turns)).split())
        content = [w for w in normalised(text).split() if len(w) > 3 and w not in _STOPWORDS]
        if content and sum(w in known for w in content) / len(content) < self.min_grounding:
            raise Rejected("ungrounded")
        return text
