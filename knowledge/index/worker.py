"""`tacit worker`: embedding and indexing off the bot, any number of processes at once.

Each pass takes a batch of owed rows with `SELECT ... FOR UPDATE SKIP LOCKED` (so two workers
never take the same rows), embeds them in one batch, writes them to Chroma and marks them in
the same transaction. A worker that dies mid-batch holds no lock afterwards: its rows are taken
again (at least once; Chroma's upsert by entry id and the content hash make that harmless).
Workers sleep on PostgreSQL's LISTEN and wake on the bot's NOTIFY, or every `poll_seconds`;
they NOTIFY `tacit_vectors` when vectors are made, which wakes the bots waiting for them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from knowledge.errors import SetupError
from knowledge.guides import GuideLibrary
from knowledge.index.embeddings import BatchingEmbedder
from knowledge.index.outbox import owed
from knowledge.index.remote import CHANNEL, MADE, listen, made_payload, notify, text_hash
from knowledge.index.vectors import IndexItem, IndexUnavailable, VectorIndex
from knowledge.storage import Database, Entry, IndexDeletion, TextVector, utcnow
from knowledge.storage.entries import (
    content_hash,
    from_bytes,
    index_document,
    index_metadata,
    set_vector,
    to_bytes,
)

log = logging.getLogger(__name__)


class WorkerError(SetupError):
    """The worker cannot run as configured (it needs PostgreSQL)."""


@dataclass
class WorkerStats:
    entries: list[int] = field(default_factory=list)  # entry ids indexed, in order
    embedded: int = 0
    texts: int = 0
    deleted: int = 0
    passes: int = 0


class Worker:
    def __init__(
        self,
        db: Database,
        index: VectorIndex,
        embedder: BatchingEmbedder,
        *,
        batch: int = 64,
        poll_seconds: float = 5.0,
    ):
        if db.is_sqlite:
            raise WorkerError(
                "tacit worker needs PostgreSQL (database.url): on SQLite the bot embeds and "
                "indexes in its own process ([embeddings] in_process = true)"
            )
        self.db = db
        self.index = index
        self.embedder = embedder
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.stats = WorkerStats()
        self._wake = asyncio.Event()

    async def prepare(self, guides: GuideLibrary) -> int:
        """Embed every guide question for the processes without the model (coverage)."""
        texts = sorted({q.text for g in guides for _, q in g.questions})
        async with self.db.sessions() as s:
            known = set(
                await s.scalars(
                    select(TextVector.text_hash).where(
                        TextVector.model == self.embedder.model_name,
                        TextVector.vector.is_not(None),
                    )
                )
            )
        todo = [t for t in texts if text_hash(t) not in known]
        if todo:
            vectors = await self.embedder.embed(todo)
            rows = [
                {
                    "model": self.embedder.model_name,
                    "text_hash": text_hash(t),
                    "vector": to_bytes(v),
                    "made_at": utcnow(),
                }
                for t, v in zip(todo, vectors, strict=True)
            ]
            async with self.db.sessions() as s, s.begin():
                stmt = insert(TextVector).values(rows)
                await s.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["model", "text_hash"],
                        set_={"vector": stmt.excluded.vector, "made_at": stmt.excluded.made_at},
                    )
                )
        return len(todo)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Drain, then sleep until notified (or poll_seconds); until `stop` is set."""
        stop = stop or asyncio.Event()
        conn = await listen(self.db, CHANNEL, lambda *_: self._wake.set())
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self.drain()
                except IndexUnavailable as e:
                    log.warning("chroma unavailable, the outbox waits in SQL: %s", e)
                except Exception:  # never let the loop die: the outbox is still in SQL
                    log.exception("worker pass failed")
                waits = [
                    asyncio.ensure_future(self._wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                ]
                await asyncio.wait(waits, timeout=self.poll_seconds, return_when="FIRST_COMPLETED")
                for w in waits:
                    w.cancel()
        finally:
            await conn.close()

    async def drain(self) -> int:
        """Passes until one finds nothing to do; how many rows were handled."""
        total = 0
        while n := await self.pass_once():
            total += n
        return total

    async def pass_once(self) -> int:
        self.stats.passes += 1
        return await self._texts() + await self._entries() + await self._deletions()

    async def _texts(self) -> int:
        async with self.db.sessions() as s, s.begin():
            rows = list(
                await s.scalars(
                    select(TextVector)
                    .where(TextVector.vector.is_(None))
                    .limit(self.batch)
                    .with_for_update(skip_locked=True)
                )
            )
            if not rows:
                return 0
            vectors = await self.embedder.embed([r.text or "" for r in rows])
            for r, v in zip(rows, vectors, strict=True):
                r.vector, r.text, r.made_at = to_bytes(v), None, utcnow()
            await notify(s, MADE)  # the bots waiting for them wake at commit
        self.stats.texts += len(rows)
        return len(rows)

    async def _entries(self) -> int:
        async with self.db.sessions() as s, s.begin():
            entries = list(
                await s.scalars(
                    select(Entry)
                    .where(owed())
                    .order_by(Entry.id)
                    .limit(self.batch)
                    .with_for_update(skip_locked=True)
                )
            )
            if not entries:
                return 0
            missing = [e for e in entries if e.embedding is None]
            if missing:
                vectors = await self.embedder.embed([e.final_answer for e in missing])
                for e, v in zip(missing, vectors, strict=True):
                    set_vector(e, v, self.embedder.model_name)
            await self.index.upsert(
                [
                    IndexItem(e.id, from_bytes(e.embedding), index_document(e), index_metadata(e))
                    for e in entries
                ]
            )
            for e in entries:
                e.indexed_hash = content_hash(e)
            if missing:
                await notify(s, MADE, made_payload([e.id for e in missing]))
        self.stats.entries += [e.id for e in entries]
        self.stats.embedded += len(missing)
        return len(entries)

    async def _deletions(self) -> int:
        async with self.db.sessions() as s, s.begin():
            rows = list(
                await s.scalars(
                    select(IndexDeletion).limit(self.batch * 16).with_for_update(skip_locked=True)
                )
            )
            if not rows:
                return 0
            await self.index.delete([r.entry_id for r in rows])
            for r in rows:
                await s.delete(r)
        self.stats.deleted += len(rows)
        return len(rows)
