"""Coverage: which guide questions an expert has already answered without being asked.

A guide question whose vector is this close (cosine) to any answer so far is skipped as covered.
Each guide's questions are encoded once per process and shared by every interview.
"""

from __future__ import annotations

import asyncio
import logging

import numpy as np

from knowledge.guides import Guide, GuideLibrary, Probe
from knowledge.index import BatchingEmbedder

log = logging.getLogger(__name__)

# Questions that set up a scenario or close the interview are always asked, however much the
# expert has already said.
NEVER_SKIPPED = {
    Probe.background,
    Probe.task_diagram,
    Probe.simulation,
    Probe.incident_select,
    Probe.incident_account,
    Probe.wrapup,
}


class Coverage:
    def __init__(self, embedder: BatchingEmbedder):
        self.embedder = embedder
        self._question_vectors: dict[tuple[str, int], asyncio.Future[np.ndarray]] = {}

    async def prepare(self, guides: GuideLibrary) -> None:
        """Load the model and encode every guide's questions now, not on the first answer."""
        await asyncio.gather(*(self.question_vectors(g) for g in guides))

    def skippable(self, guide: Guide, position: int) -> bool:
        return position < len(guide.questions) and guide.questions[position][1].probe not in (
            NEVER_SKIPPED
        )

    async def question_vectors(self, guide: Guide) -> np.ndarray:
        key = (guide.slug, guide.version)
        if key not in self._question_vectors:  # one encoding per guide, shared by all callers
            self._question_vectors[key] = asyncio.ensure_future(
                self.embedder.embed([q.text for _, q in guide.questions])
            )
        try:
            return await asyncio.shield(self._question_vectors[key])
        except Exception:
            self._question_vectors.pop(key, None)  # try again next time
            raise

    async def similarity(self, guide: Guide, position: int, answers: list[np.ndarray]) -> float:
        """How close the guide question at `position` comes to the closest answer."""
        qv = (await self.question_vectors(guide))[position]
        return float(np.max(np.stack(answers) @ qv))

    async def skip_covered(
        self, guide: Guide, position: int, answers: list[np.ndarray], threshold: float
    ) -> list[int]:
        """The positions, from `position` on, of guide questions already covered (in a row)."""
        covered: list[int] = []
        while answers and self.skippable(guide, position):
            sim = await self.similarity(guide, position, answers)
            if sim < threshold:
                break
            q = guide.questions[position][1]
            log.info("guide %s: question %s covered (%.2f)", guide.slug, q.id, sim)
            covered.append(position)
            position += 1
        return covered
