"""Deterministic kill points for the chaos tests, installed in a forked `tacit` child.

`TACIT_TEST_KILLPOINT=<point>:<n>` SIGKILLs the process the n-th time it reaches <point>:
- after_answer_commit: the answer's transaction (the answer, its entries and the next question,
  one commit) is done, the reply not shown yet;
- mid_transaction: an answer or its entries were flushed to the database, not committed;
- after_entries: an answer's entries committed (with the answer itself, since they share one
  transaction; on resume, the repair of an older crash's answer without entries);
- during_vector_write: Chroma took the vectors, SQL does not yet know it has them.
They wrap the product's functions from outside (this module is imported by tests/chaos/zygote.py
only), so the product carries no test branches.
"""

from __future__ import annotations

import functools
import os
import signal

POINTS = ("after_answer_commit", "mid_transaction", "after_entries", "during_vector_write")

_hits: dict[str, int] = {}


def _reached(point: str, target: str, n: int) -> None:
    if point != target:
        return
    _hits[point] = _hits.get(point, 0) + 1
    if _hits[point] >= n:
        os.kill(os.getpid(), signal.SIGKILL)


def _after(cls, name: str, point: str, target: str, n: int, when=lambda result: True) -> None:
    original = getattr(cls, name)

    @functools.wraps(original)
    async def wrapped(*args, **kwargs):
        result = await original(*args, **kwargs)
        if when(result):
            _reached(point, target, n)
        return result

    setattr(cls, name, wrapped)


def install(spec: str) -> None:
    if not spec:
        return
    target, _, count = spec.partition(":")
    if target not in POINTS:
        raise ValueError(f"unknown kill point {target!r}")
    n = int(count or 1)
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from knowledge.index.vectors import VectorIndex
    from knowledge.interview.engine import InterviewEngine
    from knowledge.interview.entries import EntryMaker
    from knowledge.storage import Entry, Turn

    _after(InterviewEngine, "_commit_answer", "after_answer_commit", target, n)
    _after(InterviewEngine, "_commit_answer", "after_entries", target, n, lambda r: bool(r[0]))
    _after(EntryMaker, "make", "after_entries", target, n, bool)
    _after(VectorIndex, "upsert", "during_vector_write", target, n)

    @event.listens_for(Session, "after_flush")
    def _flushed(session, _ctx):
        answered = any(isinstance(o, Turn) and o.answer is not None for o in session.dirty) or any(
            isinstance(o, Entry) for o in session.new
        )
        if answered:
            _reached("mid_transaction", target, n)
