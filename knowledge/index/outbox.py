"""Keeps Chroma in step with SQL: an outbox of entries whose vector or metadata changed.

An answer is saved in SQL first; its vector reaches Chroma here, now or after Chroma comes back.
Nothing is lost while Chroma is down: `content_hash != indexed_hash` marks what is owed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, or_, select

from knowledge.index.embeddings import BatchingEmbedder
from knowledge.index.vectors import IndexItem, IndexUnavailable, VectorIndex
from knowledge.ops import metrics
from knowledge.storage import Database, Entry, IndexDeletion, unavailable, utcnow
from knowledge.storage.entries import (
    content_hash,
    from_bytes,
    index_document,
    index_metadata,
    set_vector,
)

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    indexed: int = 0
    embedded: int = 0
    deleted: int = 0
    pending: int = 0  # still owed after this pass (Chroma unavailable)
    error: str | None = None


class Indexer:
    def __init__(
        self,
        db: Database,
        index: VectorIndex,
        embedder: BatchingEmbedder,
        *,
        retry_seconds: float = 30.0,
        batch: int = 256,
    ):
        self.db = db
        self.index = index
        self.embedder = embedder
        self.retry_seconds = retry_seconds
        self.batch = batch
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self.last_error: str | None = None

    def notify(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Background loop: sync when told, and retry what failed every retry_seconds."""
        while True:
            # asyncio.timeout, not wait_for: on 3.11 a wait_for cancelled at the wrong moment
            # can hang the task that cancels it.
            try:
                async with asyncio.timeout(self.retry_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                # Entries this young are still being embedded by the engine: not twice.
                await self.sync(min_age=self.retry_seconds)
            except Exception as e:  # never let the loop die: the outbox is still in SQL
                if (reason := unavailable(e)) is not None:
                    log.warning("indexer waits for the database: %s", reason)
                else:
                    log.exception("indexer pass failed")

    async def sync(self, *, min_age: float = 0.0) -> SyncResult:
        """Index everything owed; stop at the first Chroma failure and report what is left.

        Entries without a vector are embedded here only when older than `min_age` seconds.
        """
        async with self._lock:
            result = SyncResult()
            try:
                result.deleted = await self._deletions()
                while True:
                    n_embedded, n_indexed = await self._pass(min_age)
                    result.embedded += n_embedded
                    result.indexed += n_indexed
                    if n_indexed < self.batch:
                        break
            except IndexUnavailable as e:
                result.error = self.last_error = str(e)
                log.warning("chroma unavailable, answers stay queued in SQL: %s", e)
            else:
                self.last_error = None
            result.pending = await self.pending()
            metrics.OUTBOX.set(result.pending)
            return result

    async def pending(self) -> int:
        async with self.db.sessions() as s:
            due = await s.scalar(select(func.count()).select_from(Entry).where(owed()))
            gone = await s.scalar(select(func.count()).select_from(IndexDeletion))
        return int(due or 0) + int(gone or 0)

    async def _deletions(self) -> int:
        async with self.db.sessions() as s:
            ids = list(await s.scalars(select(IndexDeletion.entry_id).limit(10_000)))
        if not ids:
            return 0
        await self.index.delete(ids)
        async with self.db.sessions() as s, s.begin():
            await s.execute(delete(IndexDeletion).where(IndexDeletion.entry_id.in_(ids)))
        return len(ids)

    async def _pass(self, min_age: float = 0.0) -> tuple[int, int]:
        query = select(Entry).where(owed()).order_by(Entry.id).limit(self.batch)
        if min_age:
            young = utcnow() - timedelta(seconds=min_age)
            query = query.where(or_(Entry.embedding.is_not(None), Entry.created_at < young))
        async with self.db.sessions() as s:
            entries = list(await s.scalars(query))
        if not entries:
            return 0, 0
        missing = [e for e in entries if e.embedding is None]
        made = {e.id for e in missing}
        if missing:
            vectors = await self.embedder.embed([e.final_answer for e in missing])
            for e, v in zip(missing, vectors, strict=True):
                set_vector(e, v, self.embedder.model_name)
        for e in entries:
            e.content_hash = content_hash(e)
        await self.index.upsert(
            [
                IndexItem(e.id, from_bytes(e.embedding), index_document(e), index_metadata(e))
                for e in entries
            ]
        )
        async with self.db.sessions() as s, s.begin():
            for e in entries:
                row = await s.get(Entry, e.id)
                if row is None:  # deleted meanwhile (forgotten): drop its vector too
                    s.add(IndexDeletion(entry_id=e.id))
                    continue
                # Keep a vector made in this pass only if it is of the text the row holds now
                # (an edit meanwhile clears the embedding so that it is made again).
                if row.embedding is None and e.id in made and row.final_answer == e.final_answer:
                    row.embedding, row.embedding_model = e.embedding, e.embedding_model
                # Only mark what Chroma now holds; a change made meanwhile stays owed.
                if content_hash(row) == e.content_hash:
                    row.indexed_hash = e.content_hash
        metrics.VECTORS_INDEXED.inc(len(entries))
        return len(missing), len(entries)


def owed():
    """Entries Chroma does not hold as they are now."""
    return or_(
        Entry.embedding.is_(None),
        Entry.indexed_hash.is_(None),
        Entry.indexed_hash != Entry.content_hash,
    )
