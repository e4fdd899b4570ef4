"""Entries from answered turns: drafted (the guide's question, or the LLM's), stored, embedded.

Entries are stored at once; their vectors are made in the background (batched with other
interviews' answers) and written to SQL, then the outbox takes them to Chroma. A failure here
costs at most a retry: the answer is already committed, and the indexer embeds what is missing.
"""

from __future__ import annotations

import asyncio
import functools
import logging

import numpy as np

from knowledge.guides import GuideLibrary
from knowledge.index import BatchingEmbedder, Indexer
from knowledge.interview import turns
from knowledge.interview.drafting import DraftContext, EntryDrafter, GuideDrafts
from knowledge.storage import Database, Entry, Interview, Turn
from knowledge.storage.entries import from_bytes, set_vector

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
        """Draft and store the entries of an answered turn (once); their vectors follow."""
        async with self.db.sessions() as s:
            turn = await s.get(Turn, turn_id)
            iv = await s.get(Interview, turn.interview_id)
        guide = self.guides.get(iv.guide_slug)
        step, question = turns.find(guide, turn.step_id, turn.question_id)
        ctx = DraftContext(guide, question, turn.question, turn.answer or "", turn.followup)
        try:
            drafts = await self.drafter.draft(ctx)
            if not drafts:
                raise ValueError("drafter returned no entries")
        except Exception:
            log.warning("drafting failed for turn %s; using the guide's question", turn_id)
            drafts = await self._fallback.draft(ctx)
        async with self.db.sessions() as s, s.begin():
            if made_before := await turns.entry_ids(s, turn_id):  # by an earlier attempt
                return made_before
            rows = [
                Entry(
                    turn_id=turn_id,
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
                for part, d in enumerate(drafts)
            ]
            s.add_all(rows)
            await s.flush()
            made = [(e.id, e.answer) for e in rows]
        task = asyncio.create_task(self._attach(iv.id, made, turn.answer or "", answer_vector))
        self._background.add(task)
        self._pending.setdefault(iv.id, set()).add(task)
        task.add_done_callback(functools.partial(self._done, iv.id))
        return [i for i, _ in made]

    async def vectors(
        self, interview_id: int, turn_id: int, answer_vector: asyncio.Future | None
    ) -> tuple[np.ndarray | None, list[np.ndarray]]:
        """The latest answer's vector (None if the model failed), and every earlier answer's."""
        await self.settled(interview_id)
        async with self.db.sessions() as s:
            rows = await turns.vectors_by_turn(s, interview_id)
        earlier = [from_bytes(b) for t, b in rows if t != turn_id]
        latest = next((from_bytes(b) for t, b in rows if t == turn_id), None)
        if answer_vector is not None:
            try:
                latest = await answer_vector
            except Exception:  # the model failed: decide without this answer
                log.warning("no vector for the latest answer of interview %s", interview_id)
        return latest, earlier

    async def answer_vectors(
        self, interview_id: int, answer_vector: asyncio.Future | None
    ) -> list[np.ndarray]:
        """Vectors of every answer so far, the latest one included."""
        await self.settled(interview_id)
        async with self.db.sessions() as s:
            vectors = [from_bytes(b) for b in await turns.answer_vectors(s, interview_id)]
        if answer_vector is not None:
            try:
                vectors.append(await answer_vector)
            except Exception:  # the model failed: decide without this answer
                log.warning("no vector for the latest answer of interview %s", interview_id)
        return vectors

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
