"""LLMDrafts: a standalone question, and a long answer split into points, verbatim."""

from __future__ import annotations

import json
import logging
import re

from langchain_core.language_models import BaseChatModel

from knowledge.interview.drafting import DraftContext, EntryDraft, GuideDrafts
from knowledge.llm.client import LLMClient, LLMStats, Rejected, as_client, default_templates
from knowledge.llm.guards import Guard, check_question, check_verbatim, coverage, wrap
from knowledge.llm.templates import PromptTemplate

log = logging.getLogger(__name__)


class LLMDrafts:
    """An EntryDrafter: a standalone question, and a long answer split into points, verbatim.

    Every sentence of every answer the model returns must be the expert's own (compared with
    case, spacing and punctuation normalised), and together they must keep `min_coverage` of the
    answer; otherwise the guide's own entry is used.
    """

    def __init__(
        self,
        model: BaseChatModel | LLMClient,
        fallback: GuideDrafts | None = None,
        *,
        template: PromptTemplate | None = None,
        timeout: float = 20.0,
        max_concurrency: int = 8,
        max_entries: int = 5,
        min_words: int = 60,
        max_answer_chars: int = 6000,
        min_coverage: float = 0.8,
    ):
        self.client = as_client(model, timeout, max_concurrency)
        self.fallback = fallback or GuideDrafts()
        self.template = template or default_templates()["draft"]
        self.max_entries = max_entries
        self.min_words = min_words
        self.max_answer_chars = max_answer_chars
        self.min_coverage = min_coverage

    @property
    def stats(self) -> LLMStats:
        return self.client.stats

    async def draft(self, ctx: DraftContext) -> list[EntryDraft]:
        plain = await self.fallback.draft(ctx)
        answer = ctx.answer.strip()
        # A short answer to a guide question already has its author-written standalone question;
        # a very long one would take the model longer than an interview should wait.
        if not answer or len(answer) > self.max_answer_chars:
            return plain
        if not ctx.followup and len(answer.split()) < self.min_words:
            return plain
        try:
            drafts = await self._ask(ctx, answer)
        except Rejected as err:
            self.client.fell_back(self.template.source, err)
            return plain
        self.stats.accepted += 1
        return drafts

    async def _ask(self, ctx: DraftContext, answer: str) -> list[EntryDraft]:
        values = {
            "profession": ctx.guide.profession,
            "standalone": ctx.guide.standalone(ctx.question),
            "asked": ctx.asked,
            "answer": wrap("answer", answer),
            "max_entries": str(self.max_entries),
        }
        text = await self.client.complete(self.template, values)
        items = _parse_entries(text)
        if len(items) > self.max_entries:
            raise Rejected("too_many_entries")
        system, _ = self.template.render(**values)
        guard = Guard.build(self.template, system, [answer])
        covered: list[tuple[int, int]] = []
        drafts = []
        for question, part in items:
            # The question is the model's; it may reuse the expert's terms but not their answer.
            question = check_question(question, guard, max_sentences=2)
            spans = check_verbatim(part, answer)
            covered += spans
            # Stored as the expert typed it, not as the model copied it.
            words = " ".join(" ".join(answer[a:b].split()) for a, b in spans)
            drafts.append(EntryDraft(question, words, self.template.source))
        if coverage(covered, answer) < self.min_coverage:
            raise Rejected("dropped_content")
        return drafts


def _parse_entries(text: str) -> list[tuple[str, str]]:
    cleaned = re.sub(r"^```(?:json)?|```$", "", text.strip(), flags=re.M).strip()
    starts = [i for i in (cleaned.find("{"), cleaned.find("[")) if i >= 0]
    if not starts:
        raise Rejected("empty" if not cleaned else "malformed", "no JSON")
    try:
        data, _ = json.JSONDecoder().raw_decode(cleaned[min(starts) :])
    except json.JSONDecodeError:
        raise Rejected("malformed", "invalid JSON") from None
    if isinstance(data, dict):
        data = data.get("entries", [data] if "answer" in data else None)
    if not isinstance(data, list) or not data:
        raise Rejected("malformed", "no entries")
    items = []
    for item in data:
        if not isinstance(item, dict):
            raise Rejected("malformed", "entry is not an object")
        q, a = item.get("question"), item.get("answer")
        if not isinstance(q, str) or not isinstance(a, str) or not a.strip():
            raise Rejected("malformed", "entry without question or answer")
        items.append((q, a))
    return items
