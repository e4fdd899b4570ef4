"""Personal data in an export: PII rules run in worker processes on large exports, a thread on small."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from knowledge.pii import PIIScrubber

log = logging.getLogger(__name__)


PII_PARALLEL_MIN = 10_000  # entries from which personal data is looked for in worker processes
PII_WORKERS = 2

# Personal data is looked for in worker processes on large exports: the rules are pure-Python
# regular expressions, bound by the GIL. These functions run there (or in a thread when small).
_SCRUBBERS: dict[tuple[int, str], Any] = {}


def _scrubber(expert_id: int, name: str):
    """A PII scrubber for one expert: it also looks for the expert's own name."""
    key = (expert_id, name)
    scrubber = _SCRUBBERS.get(key)
    if scrubber is None:
        if len(_SCRUBBERS) > 1000:
            _SCRUBBERS.clear()
        scrubber = _SCRUBBERS[key] = PIIScrubber(known_names=[name] if name else [])
    return scrubber


def _redact(scrubber, text: str, counts: Counter) -> str:
    red = scrubber.redact(text)
    counts.update(span.kind for span in red.spans)
    return red.text


def redact_items(items: list[tuple]) -> list[tuple[str, str, str, dict[str, int]]]:
    """For (expert id, name, question, answer, question as asked): the texts with personal data
    replaced by placeholders, and how many spans of each kind were replaced."""
    out = []
    for expert_id, name, q, a, asked in items:
        sc = _scrubber(expert_id, name)
        counts: Counter = Counter()
        question, answer = _redact(sc, q, counts), _redact(sc, a, counts)
        as_asked = question if asked == q else _redact(sc, asked, counts)
        out.append((question, answer, as_asked, dict(counts)))
    return out


def pii_flags(items: list[tuple]) -> list[bool]:
    """For (expert id, name, question, answer, question as asked): is there personal data?"""
    return [
        any(_scrubber(e, n).has_pii(t) for t in {q, a, asked} if t) for e, n, q, a, asked in items
    ]


def _warm() -> None:
    _scrubber(0, "Warm Up").find("Dr. Tom Smith, on +44 7700 900461 or tom@example.org")


def _pii_pool(pii: str, entries: int) -> ProcessPoolExecutor | None:
    """Worker processes for the PII rules on large exports; None: a thread will do."""
    workers = min(PII_WORKERS, os.cpu_count() or 1)
    if pii == "off" or entries < PII_PARALLEL_MIN or workers < 2:
        return None
    import multiprocessing

    # spawn: forking a process that runs threads (SQLite, Chroma, BLAS) is not safe.
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


class Offload:
    """Runs a PII function on a batch in the worker processes, or in a thread when there are
    none. Workers that die (a script without a `__main__` guard cannot spawn them) are not
    fatal: the batch, and every later one, is done in a thread instead."""

    def __init__(self, pool: ProcessPoolExecutor | None):
        self.pool = pool

    def submit(self, fn: Callable, items: list) -> tuple[Callable, list, asyncio.Future]:
        return fn, items, asyncio.get_running_loop().run_in_executor(self.pool, fn, items)

    async def result(self, job: tuple[Callable, list, asyncio.Future]) -> Any:
        fn, items, future = job
        try:
            return await future
        except BrokenProcessPool:
            if self.pool is not None:
                log.warning("PII worker processes failed; looking for personal data in a thread")
                self.pool = None
            return await asyncio.to_thread(fn, items)


def text_items(rows) -> list[tuple]:
    return [
        (
            r.expert_id,
            r.display_name,
            r.edited_question or r.question,
            r.edited_answer or r.corrected_answer or r.answer,
            r.asked,
        )
        for r in rows
    ]


@contextlib.contextmanager
def pii_workers(pii: str, entries: int):
    """Worker processes for the PII rules on large exports (None: a thread will do).

    Started at once, so they load while the scan and the duplicate search run.
    """
    pool = _pii_pool(pii, entries)
    if pool is None:
        yield None
        return
    try:
        for _ in range(PII_WORKERS):
            pool.submit(_warm)
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
