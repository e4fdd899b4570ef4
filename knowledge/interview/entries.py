"""Entries from answered turns: drafted (the guide's question, or the LLM's), stored, embedded.

A new answer's entries are stored in the answer's own transaction, with their vectors (made
off the loop, batched with other interviews' answers); the outbox then takes them to Chroma.
A vector that could not be made is made later by the indexer (or the worker).
"""

from __future__ import annotations

import asyncio
import functools
import logging

import numpy as np

from knowledge.guides import Guide, GuideLibrary
from knowledge.index import BatchingEmbedder, Indexer
from knowledge.interview import turns
from knowledge.interview.drafting import DraftContext, EntryDraft, EntryDrafter, GuideDrafts
from knowledge.storage import Database, Entry, Interview, Turn
from knowledge.storage.entries import set_vector

log = logging.getLogger(__name__)


class EntryMaker:
    def __init__(
        self,
        db: Database,
        guides: GuideLibrary,
        embedder: BatchingEmbedder,
        indexer: Indexer | None,
        drafter: EntryDrafter | None = None,
    ):
        self.db = db
        self.guides = guides
        self.embedder = embedder
        self.indexer = indexer
        self.drafter = drafter or GuideDrafts()
        self._fallback = GuideDrafts()
        self._background: set[asyncio.Task] = set()
        self._pending: dict[int, set[asyncio.Task]] = {}  # vector tasks by interview id

    async def make(self, turn_id: int, *, answer_vector: asyncio.Future | None = None) -> list[int]:
        """Draft and store the entries of an answered turn (once); their vectors follow.

        The repair path (an answer stored before its entries, by an older version or a crash);
        a new answer's entries are stored with it, in its transaction (`store`)."""
        async with self.db.sessions() as s:
            turn = await s.get(Turn, turn_id)
            iv = await s.get(Interview, turn.interview_id)
        guide = self.guides.get(iv.guide_slug)
        drafts = await self.draft(guide, turn, turn.answer or "")
        async with self.db.sessions() as s, s.begin():
            if made_before := await turns.entry_ids(s, turn_id):  # by an earlier attempt
                return made_before
            rows = self.rows(iv, guide, turn, drafts, {})
            s.add_all(rows)
            await s.flush()
            made = [(e.id, e.answer) for e in rows]
        task = asyncio.create_task(self._attach(iv.id, made, turn.answer or "", answer_vector))
        self._background.add(task)
        self._pending.setdefault(iv.id, set()).add(task)
        task.add_done_callback(functools.partial(self._done, iv.id))
        return [i for i, _ in made]

    async def draft(self, guide: Guide, turn, answer: str) -> list[EntryDraft]:
        """The drafter's entries for this answer, or the guide's when it fails."""
        _, question = turns.find(guide, turn.step_id, turn.question_id)
        ctx = DraftContext(guide, question, turn.question, answer, turn.followup)
        try:
            drafts = await self.drafter.draft(ctx)
            if not drafts:
                raise ValueError("drafter returned no entries")
        except Exception:
            log.warning("drafting failed for turn %s; using the guide's question", turn.id)
            drafts = await self._fallback.draft(ctx)
        return drafts

    async def vectors(
        self, drafts: list[EntryDraft], answer: str, answer_vector: np.ndarray | None
    ) -> dict[str, np.ndarray]:
        """Vectors of the drafts' texts; empty on failure (the indexer embeds them later)."""
        out = {answer: answer_vector} if answer_vector is not None else {}
        others = sorted({d.answer for d in drafts if d.answer not in out})
        if others and self.embedder is not None and not self.embedder.remote:
            try:
                out.update(zip(others, await self.embedder.embed(others), strict=True))
            except Exception as e:
                log.warning("no vectors for drafted entries (%s); the indexer retries", e)
        return out

    def rows(self, iv, guide: Guide, turn, drafts, vectors: dict[str, np.ndarray]) -> list[Entry]:
        """The entries of an answered turn, with their vectors when known (one INSERT each)."""
        step, _ = turns.find(guide, turn.step_id, turn.question_id)
        rows = []
        for part, d in enumerate(drafts):
            e = Entry(
                turn_id=turn.id,
                interview_id=iv.id,
                expert_id=iv.expert_id,
                guild_id=iv.guild_id,
                guide_slug=guide.slug,
                step_id=step.id,
                probe=turn.probe,
                part=part,
                question=d.question,
                answer=d.answer,
                draft_source=d.source,
            )
            if (v := vectors.get(d.answer)) is not None:
                set_vector(e, v, self.embedder.model_name)
            rows.append(e)
        return rows

    async def settled(self, interview_id: int) -> None:
        """Wait for this interview's vectors still being made."""
        pending = [t for t in self._pending.get(interview_id, ()) if not t.done()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def drain(self) -> None:
        """Wait for every vector still being made (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def _done(self, interview_id: int, task: asyncio.Task) -> None:
        self._background.discard(task)
        pending = self._pending.get(interview_id)
        if pending is not None:
            pending.discard(task)
            if not pending:
                del self._pending[interview_id]

    async def _attach(
        self,
        interview_id: int,
        entries: list[tuple[int, str]],
        answer: str,
        answer_vector: asyncio.Future | None,
    ) -> None:
        """Store each entry's vector in SQL and wake the indexer; on failure the indexer
        embeds them later, so nothing waits on the model."""
        try:
            vectors = {}
            if answer_vector is not None and any(text == answer for _, text in entries):
                vectors[answer] = await answer_vector
            others = sorted({text for _, text in entries if text not in vectors})
            if others:
                vectors.update(zip(others, await self.embedder.embed(others), strict=True))
            async with self.db.sessions() as s, s.begin():
                for entry_id, text in entries:
                    e = await s.get(Entry, entry_id)
                    if e is None or e.embedding is not None or e.final_answer != text:
                        continue  # forgotten, indexed meanwhile, or edited by a curator
                    set_vector(e, vectors[text], self.embedder.model_name)
        except Exception:
            log.exception("vectors for interview %s failed; the indexer retries", interview_id)
        if self.indexer is not None:
            self.indexer.notify()
