"""Vectors without the model: a process with `[embeddings] in_process = false` asks the workers.

The bot then never imports torch. An answer's vector is the one `tacit worker` stores on its
entry; any other text (a guide question, a search) is requested as a `text_vectors` row that a
worker fills. Both are waited for within `vector_wait_seconds`, then given up on (the caller
goes on without: the next question is asked without the coverage check).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from knowledge.config import EmbeddingSettings
from knowledge.index.embeddings import EmbeddingError
from knowledge.storage import Database, Entry, TextVector
from knowledge.storage.entries import from_bytes

log = logging.getLogger(__name__)

CHANNEL = "tacit_outbox"  # NOTIFY channel the workers LISTEN on
MADE = "tacit_vectors"  # NOTIFY channel the workers signal made vectors on
POLL = 0.02  # seconds between looks for a vector being made, when LISTEN is not available
LISTENING_POLL = 1.0  # the same while listening: a notification wakes the waiters first


class VectorTimeout(EmbeddingError):
    """No worker made the vector in time; the message says what to check."""


def text_hash(t: str) -> str:
    return hashlib.sha256(t.encode()).hexdigest()


async def notify(s, channel: str = CHANNEL, payload: str = "") -> None:
    """Wake the listeners when the caller's transaction commits (PostgreSQL delivers it then):
    the workers (CHANNEL), or the processes waiting for vectors (MADE)."""
    await s.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
    )


async def listen(db: Database, channel: str, callback, *, connect_timeout: float = 60):
    """A raw asyncpg connection LISTENing on `channel` (SQLAlchemy's pool cannot hold one)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(db.url).set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=connect_timeout)
    await conn.add_listener(channel, callback)
    return conn


def made_payload(entry_ids: list[int]) -> str:
    """MADE's payload: the entries whose vectors were just stored ("" for texts, or too many
    to list: every waiter looks). PostgreSQL takes payloads under 8,000 bytes."""
    listed = ",".join(map(str, entry_ids))
    return listed if len(listed) < 7000 else ""


class RemoteEmbedder:
    """The embedder's interface, served by `tacit worker` through PostgreSQL."""

    remote = True

    def __init__(self, db: Database, settings: EmbeddingSettings):
        self.db = db
        self.model_name = settings.model
        self.wait = settings.vector_wait_seconds
        self.batches = 0
        self.looks = 0  # queries made while waiting for vectors
        self._made = asyncio.Event()  # for every waiter: replaced at each notification
        self._made_for: dict[int, asyncio.Event] = {}  # for the waiters of one entry's vector
        self._listener = None  # an asyncpg connection LISTENing on MADE
        self._listen_lock = asyncio.Lock()
        self._listen_failed_at: float | None = None  # when LISTEN last failed (loop time)

    async def wake(self, s) -> None:
        await notify(s)

    async def _listening(self) -> bool:
        """LISTEN for the workers' notifications (one connection, opened at the first wait);
        False when that is not possible: the waiters then poll."""
        if self._listener is not None and not self._listener.is_closed():
            return True
        if self.db.is_sqlite:
            return False
        loop = asyncio.get_running_loop()

        def tried_lately() -> bool:  # then poll, and try again in a minute
            return self._listen_failed_at is not None and loop.time() - self._listen_failed_at < 60

        if tried_lately():
            return False
        async with self._listen_lock:
            if tried_lately():  # another waiter just tried
                return False
            if self._listener is None or self._listener.is_closed():
                try:
                    self._listener = await listen(self.db, MADE, self._notified, connect_timeout=5)
                except Exception as e:  # the waits poll instead; the reason, not the DSN
                    log.warning("cannot LISTEN for made vectors (polling instead): %s", e)
                    self._listen_failed_at = loop.time()
                    return False
                self._listen_failed_at = None
        return True

    def _notified(self, _conn, _pid, _channel, payload: str) -> None:
        """Wake the waiters of the entries named (all of them when none are: text vectors)."""
        ids = [int(i) for i in payload.split(",") if i.isdigit()] if payload else []
        if ids:
            for entry_id in ids:
                if (event := self._made_for.pop(entry_id, None)) is not None:
                    event.set()
            return
        made, self._made = self._made, asyncio.Event()
        made.set()
        for event in self._made_for.values():
            event.set()
        self._made_for.clear()

    async def _until(self, look, what: str, entry_id: int | None = None):
        """`look()` again until it finds something, woken by the workers' notifications: only
        those naming `entry_id` when it is given, so a thousand waiting turns do not all ask the
        database again each time one vector is made."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        listening = await self._listening() if self.wait > 0 else False
        while True:
            # Taken before looking: a notification meanwhile is not missed.
            if entry_id is None:
                made = self._made
            else:
                made = self._made_for.setdefault(entry_id, asyncio.Event())
            self.looks += 1
            found = await look()
            if found is not None:
                return found
            left = deadline - loop.time()
            if left <= 0:
                raise VectorTimeout(f"no {what} within {self.wait:g} s: is `tacit worker` running?")
            try:
                async with asyncio.timeout(min(left, LISTENING_POLL if listening else POLL)):
                    await made.wait()
            except TimeoutError:
                pass

    async def entry_vector(self, entry_id: int) -> np.ndarray:
        """The vector a worker stores on this entry, once it is there."""

        async def look():
            async with self.db.sessions() as s:
                vector = await s.scalar(select(Entry.embedding).where(Entry.id == entry_id))
            return None if vector is None else from_bytes(vector)

        try:
            return await self._until(look, f"vector for entry {entry_id}", entry_id)
        finally:
            self._made_for.pop(entry_id, None)

    async def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors of texts: made before, or requested now and waited for."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        hashes = [text_hash(t) for t in texts]
        found = await self._known(set(hashes))
        if len(found) < len(set(hashes)):
            async with self.db.sessions() as s, s.begin():
                missing = {h: t for h, t in zip(hashes, texts, strict=True) if h not in found}
                await s.execute(
                    insert(TextVector)
                    .values(
                        [
                            {"model": self.model_name, "text_hash": h, "text": t}
                            for h, t in missing.items()
                        ]
                    )
                    .on_conflict_do_nothing()
                )
                await notify(s)

            async def look():
                found.update(await self._known(set(hashes) - found.keys()))
                return True if len(found) == len(set(hashes)) else None

            await self._until(look, f"vectors for {len(missing)} text(s)")
        return np.stack([found[h] for h in hashes])

    async def embed_one(self, t: str) -> np.ndarray:
        return (await self.embed([t]))[0]

    async def _known(self, hashes: set[str]) -> dict[str, np.ndarray]:
        async with self.db.sessions() as s:
            rows = await s.execute(
                select(TextVector.text_hash, TextVector.vector).where(
                    TextVector.model == self.model_name,
                    TextVector.text_hash.in_(hashes),
                    TextVector.vector.is_not(None),
                )
            )
            return {h: from_bytes(v) for h, v in rows}

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
