"""Teach-back: what was learned, restated for the expert to correct (only with an LLM).

The summary is made once and stored with the template version that produced it; the expert's
correction is kept beside it and audited: a rejected and a preferred answer, for training.
"""

from __future__ import annotations

import logging
from typing import Protocol

from knowledge.experts.identity import expert_actor
from knowledge.guides import Guide, GuideLibrary
from knowledge.interview import turns
from knowledge.interview.probes import TranscriptTurn
from knowledge.storage import AuditEvent, Database, Interview

log = logging.getLogger(__name__)


class Summarizer(Protocol):
    async def summarize(self, transcript: list[TranscriptTurn], guide: Guide):
        """An object with .text and .source, or None."""
        ...


class TeachBack:
    def __init__(self, db: Database, guides: GuideLibrary, summarizer: Summarizer | None = None):
        self.db = db
        self.guides = guides
        self.summarizer = summarizer

    async def summarize(self, interview_id: int) -> str | None:
        """A summary of what was learned, for the expert to correct; None without an LLM."""
        async with self.db.sessions() as s:
            iv = await turns.load(s, interview_id)
            if iv.summary:
                return iv.summary
            transcript = turns.transcript(iv.turns)
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

    async def correct(self, interview_id: int, correction: str) -> None:
        """Keep the expert's correction of the summary (teach-back material)."""
        correction = correction.strip()
        if not correction:
            return
        async with self.db.sessions() as s, s.begin():
            iv = await turns.load(s, interview_id)
            iv.summary_correction = correction
            s.add(
                AuditEvent(
                    actor=expert_actor(iv.expert_id),
                    action="summary.corrected",
                    entity="interview",
                    entity_id=iv.id,
                    before={"summary": iv.summary},
                    after={"correction": correction},
                )
            )
