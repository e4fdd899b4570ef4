"""Chroma as a vector index over entries. SQL is the truth; this index can always be rebuilt.

The vector id is the entry's SQL id. Chroma's client is synchronous, so every call runs in one
worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np

from knowledge.config import ChromaSettings

log = logging.getLogger(__name__)


MODEL_KEY = "tacit_model"  # the collection's metadata key naming its embedding model


class IndexUnavailable(RuntimeError):
    """Chroma could not be reached or refused the call; the caller retries later."""


@dataclass(frozen=True)
class IndexItem:
    entry_id: int
    vector: np.ndarray
    document: str
    metadata: dict[str, str | int | float | bool]


@dataclass(frozen=True)
class Hit:
    entry_id: int
    similarity: float  # cosine similarity, 1.0 = same direction
    metadata: dict[str, Any]
    document: str | None = None


class VectorIndex:
    def __init__(self, settings: ChromaSettings, *, model: str | None = None):
        self.settings = settings
        # The embedding model whose vectors the collection holds, recorded in its metadata
        # when tacit creates it, so `tacit doctor` can tell a collection of another model.
        self.model = model
        self._collection = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tacit-chroma")

    @property
    def where(self) -> str:
        return self.settings.url or str(self.settings.path)

    def _client(self):
        import chromadb
        from chromadb.config import Settings as ChromaClientSettings

        client_settings = ChromaClientSettings(anonymized_telemetry=False)
        if self.settings.url:
            u = urlparse(self.settings.url)
            return chromadb.HttpClient(
                host=u.hostname or "localhost",
                port=u.port or (443 if u.scheme == "https" else 8000),
                ssl=u.scheme == "https",
                settings=client_settings,
            )
        self.settings.path.mkdir(parents=True, exist_ok=True)
        # Absolute: Chroma keeps one client per path string for the whole process.
        path = str(self.settings.path.resolve())
        return chromadb.PersistentClient(path=path, settings=client_settings)

    def _coll(self):
        if self._collection is None:
            metadata = {"hnsw:space": "cosine"}
            if self.model:
                metadata[MODEL_KEY] = self.model
            self._collection = self._client().get_or_create_collection(
                self.settings.collection, metadata=metadata
            )
        return self._collection

    async def _call(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()

        def run():
            try:
                return fn(self._coll(), *args, **kwargs)
            except Exception as e:
                # The HTTP client caches a dead connection's collection: start afresh next time.
                self._collection = None
                raise IndexUnavailable(f"chroma at {self.where}: {e}") from e

        return await loop.run_in_executor(self._pool, run)

    async def upsert(self, items: list[IndexItem]) -> None:
        if not items:
            return
        await self._call(
            lambda c: c.upsert(
                ids=[str(i.entry_id) for i in items],
                embeddings=np.stack([i.vector for i in items]),
                documents=[i.document for i in items],
                metadatas=[i.metadata for i in items],
            )
        )

    async def delete(self, entry_ids: list[int]) -> None:
        if entry_ids:
            await self._call(lambda c: c.delete(ids=[str(i) for i in entry_ids]))

    async def query(
        self, vector: np.ndarray, *, n: int = 5, where: dict[str, Any] | None = None
    ) -> list[Hit]:
        def run(c):
            count = c.count()
            if count == 0:
                return []
            res = c.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32)],
                n_results=min(n, count),
                where=where or None,
                include=["distances", "metadatas", "documents"],
            )
            return [
                Hit(int(i), 1.0 - float(d), dict(m or {}), doc)
                for i, d, m, doc in zip(
                    res["ids"][0],
                    res["distances"][0],
                    res["metadatas"][0],
                    res["documents"][0],
                    strict=True,
                )
            ]

        return await self._call(run)

    async def get(self, entry_ids: list[int]) -> dict[int, tuple[np.ndarray, dict[str, Any]]]:
        """Stored vectors and metadata of these entries (those the index has)."""

        def run(c):
            res = c.get(ids=[str(i) for i in entry_ids], include=["embeddings", "metadatas"])
            return {
                int(i): (np.asarray(e, dtype=np.float32), dict(m or {}))
                for i, e, m in zip(res["ids"], res["embeddings"], res["metadatas"], strict=True)
            }

        return await self._call(run) if entry_ids else {}

    async def ids(self, where: dict[str, Any] | None = None) -> set[int]:
        res = await self._call(lambda c: c.get(where=where or None, include=[]))
        return {int(i) for i in res["ids"]}

    async def model_of_collection(self) -> str | None:
        """The embedding model the collection was made for (None: made before it was recorded)."""
        return await self._call(lambda c: (c.metadata or {}).get(MODEL_KEY))

    async def count(self) -> int:
        return await self._call(lambda c: c.count())

    def close(self) -> None:
        self._pool.shutdown(wait=False)
