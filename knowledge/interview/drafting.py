"""Turning an answered question into entries: the seam where an LLM can rewrite and split.

The default, GuideDrafts, makes one entry per answer: the guide's standalone question and the
expert's answer, word for word. The LLM drafter (knowledge/llm.py) may rewrite the question and
split a long answer into several entries, keeping the expert's own words, and falls back to this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from knowledge.guides import Guide, Question


@dataclass(frozen=True)
class EntryDraft:
    question: str  # reads on its own, outside the interview
    answer: str  # the expert's words
    source: str = "guide"  # "guide", or "llm:<template>@<version>"


@dataclass(frozen=True)
class DraftContext:
    guide: Guide
    question: Question  # the guide question this answer belongs to
    asked: str  # the text actually asked (the guide question or a follow-up probe)
    answer: str
    followup: bool  # True when `asked` is a follow-up probe, not the guide question


class EntryDrafter(Protocol):
    async def draft(self, ctx: DraftContext) -> list[EntryDraft]:
        """One or more entries for this answer; never empty."""
        ...


class GuideDrafts:
    """One entry per answer, with the guide's standalone question."""

    async def draft(self, ctx: DraftContext) -> list[EntryDraft]:
        return [EntryDraft(standalone_question(ctx), ctx.answer.strip())]


def standalone_question(ctx: DraftContext) -> str:
    base = ctx.guide.standalone(ctx.question)
    if not ctx.followup:
        return base
    # A follow-up ("can you tell me about one specific time?") means nothing alone: anchor it to
    # the guide question it followed.
    return f"{base} Follow-up: {ctx.asked}"
