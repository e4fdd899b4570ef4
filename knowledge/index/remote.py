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
POLL = 0.02  # seconds between looks for a vector being made


class VectorTimeout(EmbeddingError):
    """No worker made the vector in time; the message says what to check."""


def text_hash(t: str) -> str:
    return hashlib.sha256(t.encode()).hexdigest()


async def notify(s) -> None:
    """Wake the workers when the caller's transaction commits (PostgreSQL delivers it then)."""
    await s.execute(text(f"NOTIFY {CHANNEL}"))


class RemoteEmbedder:
    """The embedder's interface, served by `tacit worker` through PostgreSQL."""

    remote = True

    def __init__(self, db: Database, settings: EmbeddingSettings):
        self.db = db
        self.model_name = settings.model
        self.wait = settings.vector_wait_seconds
        self.batches = 0

    async def wake(self, s) -> None:
        await notify(s)

    async def entry_vector(self, entry_id: int) -> np.ndarray:
        """The vector a worker stores on this entry, once it is there."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        while True:
            async with self.db.sessions() as s:
                vector = await s.scalar(select(Entry.embedding).where(Entry.id == entry_id))
            if vector is not None:
                return from_bytes(vector)
            if loop.time() >= deadline:
                raise VectorTimeout(
                    f"no vector for entry {entry_id} within {self.wait:g} s: is `tacit worker`"
                    " running?"
                )
            await asyncio.sleep(POLL)

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
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.wait
            while len(found) < len(set(hashes)):
                if loop.time() >= deadline:
                    raise VectorTimeout(
                        f"no vectors for {len(set(hashes)) - len(found)} text(s) within "
                        f"{self.wait:g} s: is `tacit worker` running?"
                    )
                await asyncio.sleep(POLL)
                found |= await self._known(set(hashes) - found.keys())
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
        pass
