"""Fine-tuning datasets from reviewed entries: select, drop near-duplicates, scrub, write.

An export reads SQL twice, never holding texts for the whole selection:
1. a scan of small columns (ids, lengths, flags) in keyset pages, then every entry's stored
   vector (Chroma first, SQL's copy where Chroma lacks it: nothing is re-encoded), to find
   near-duplicates and to split by interview;
2. the texts, a group of whole interviews at a time, turned into examples and written line by
   line. Personal data is looked for in worker processes on large exports (a thread on small
   ones) while the previous group is written; CPU work never runs on the event loop, so the
   Discord bot can await an export.

Experts who never consented are never read; experts who withdrew are gone from SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import case, func, or_, select

from knowledge.embeddings import from_bytes
from knowledge.formats import Example, Message
from knowledge.guides import GuideLibrary
from knowledge.storage import Database, Entry, EntryStatus, Expert, Interview, Turn
from knowledge.vectors import IndexUnavailable, VectorIndex

log = logging.getLogger(__name__)

FORMATS = ("openai", "sharegpt", "alpaca", "hf")
TURNS = ("single", "multi", "both")
STATUSES = tuple(s.value for s in EntryStatus)
TRAIN, VALIDATION = "train", "validation"

SCAN_PAGE = 5000  # rows per keyset page in the scan
CHROMA_PAGE = 400  # ids per Chroma get (measured fastest: larger pages get slower per id)
WRITE_GROUP = 2000  # entries per read-and-write group (whole interviews)
EXACT_LIMIT = 5_000  # up to this many vectors, compare every pair; above, LSH candidates
LSH_RECALL = 0.995  # wanted chance that a pair right at the threshold is compared
PII_PARALLEL_MIN = 10_000  # entries from which personal data is looked for in worker processes
PII_WORKERS = 2
LSH_BUCKET = 16  # vectors per LSH bucket, on average (measured fastest at 100k)


class ExportError(ValueError):
    """An export that cannot run as asked; the message says why, in one line."""

    exit_code = 1


# ---- what to export --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how. `None` fields take their value from [export] settings."""

    out: Path
    format: str = "openai"
    status: str = "approved"
    guide: str | None = None
    expert: str | None = None  # pseudonym, or the expert's numeric id
    since: datetime | None = None  # decided (or, undecided, created) at or after
    split: float = 0.0  # share of entries, by whole interviews, in the validation split
    seed: int | None = None
    turns: str = "both"  # single-turn examples, multi-turn, or both
    pii: str | None = None  # redact, hold, off
    dedupe_similarity: float | None = None  # cosine; above 1 turns removal off

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ExportError(f"format: {self.format!r} is not one of {', '.join(FORMATS)}")
        if self.status not in STATUSES:
            raise ExportError(f"status: {self.status!r} is not one of {', '.join(STATUSES)}")
        if self.turns not in TURNS:
            raise ExportError(f"turns: {self.turns!r} is not one of {', '.join(TURNS)}")
        if not 0 <= self.split < 1:
            raise ExportError(f"split: {self.split} must be at least 0 and below 1")
        if self.pii not in (None, "redact", "hold", "off"):
            raise ExportError(f"pii: {self.pii!r} is not one of redact, hold, off")
        if self.since is not None and self.since.tzinfo is None:
            object.__setattr__(self, "since", self.since.replace(tzinfo=UTC))


@dataclass
class ExportReport:
    format: str
    out: Path
    files: list[Path] = field(default_factory=list)
    entries: int = 0  # selected in SQL (consented experts, filters applied)
    examples: Counter = field(default_factory=Counter)  # by split
    kinds: Counter = field(default_factory=Counter)  # single, multi
    by_profession: Counter = field(default_factory=Counter)
    by_probe: Counter = field(default_factory=Counter)
    duplicates_removed: int = 0
    dedupe_method: str = "off"  # exact, lsh, off
    unchecked: int = 0  # entries with no stored vector: kept, not compared
    vectors_from_chroma: int = 0
    vectors_from_sql: int = 0
    held_pii: int = 0  # entries kept out under pii = "hold"
    held_flagged: int = 0  # entries a curator flagged for personal data
    redactions: Counter = field(default_factory=Counter)  # by kind of personal data
    not_in_format: int = 0  # multi-turn examples a single-turn format cannot hold
    interviews: Counter = field(default_factory=Counter)  # by split
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        return sum(self.examples.values())


Progress = Callable[[str, int, int], None]  # (phase, done, total)


def _no_progress(phase: str, done: int, total: int) -> None:
    pass


# ---- near-duplicates -------------------------------------------------------------------------


@dataclass
class Duplicates:
    """Which rows are near-duplicates of a kept row: `of[i]` is -1 (kept) or the kept row."""

    of: np.ndarray
    method: str
    pairs: int

    @property
    def removed(self) -> int:
        return int((self.of >= 0).sum())


def near_duplicates(
    vectors: np.ndarray,
    threshold: float,
    preference: np.ndarray,
    *,
    valid: np.ndarray | None = None,
    exact_limit: int = EXACT_LIMIT,
    seed: int = 0,
) -> Duplicates:
    """Greedy removal: in order of `preference` (row indices, best first), keep a row and drop
    every valid row at cosine similarity >= threshold to it.

    Rows are unit vectors, float32 or float16 (products are computed in float32; storing
    float16 moves a cosine by about 1e-4). Up to `exact_limit` rows every pair is compared
    (blocks of matrix products); above, random-hyperplane LSH picks the pairs to compare, sized
    so that a pair at the threshold is compared with probability LSH_RECALL (more similar
    pairs: higher).
    """
    n = len(vectors)
    of = np.full(n, -1, dtype=np.int64)
    if n < 2 or threshold > 1:
        return Duplicates(of, "off", 0)
    rows = np.arange(n) if valid is None else np.flatnonzero(valid)
    if len(rows) <= exact_limit:
        i, j = _pairs_exact(vectors[rows], threshold)
        i, j = rows[i], rows[j]
        method = "exact"
    else:
        i, j = _pairs_lsh(vectors, threshold, seed=seed, valid=valid)
        method = "lsh"
    if len(i):
        rank = np.empty(n, dtype=np.int64)
        rank[preference] = np.arange(n)
        # Adjacency lists (both directions), grouped by row, neighbours in preference order.
        a = np.concatenate([i, j])
        b = np.concatenate([j, i])
        order = np.lexsort((rank[b], a))
        a, b = a[order], b[order]
        nodes = np.unique(a)
        starts = np.searchsorted(a, nodes)
        ends = np.append(starts[1:], len(a))
        for k in np.argsort(rank[nodes], kind="stable").tolist():
            node = int(nodes[k])
            if of[node] >= 0:
                continue
            for other in b[starts[k] : ends[k]].tolist():
                if of[other] < 0 and rank[other] > rank[node]:
                    of[other] = node
    return Duplicates(of, method, len(i))


def _pairs_exact(v: np.ndarray, threshold: float, block: int = 2048):
    """Every pair i < j with v[i]·v[j] >= threshold, by blocks of matrix products."""
    out_i, out_j = [], []
    n = len(v)
    for s in range(0, n, block):
        a = np.asarray(v[s : s + block], dtype=np.float32)
        for t in range(s, n, block):
            b = a if t == s else np.asarray(v[t : t + block], dtype=np.float32)
            ii, jj = np.nonzero(a @ b.T >= threshold)
            if t == s:  # the diagonal block: each pair once, not a row with itself
                keep = ii < jj
                ii, jj = ii[keep], jj[keep]
            out_i.append(ii + s)
            out_j.append(jj + t)
    return _concat(out_i), _concat(out_j)


def lsh_plan(n: int, threshold: float, recall: float = LSH_RECALL) -> tuple[int, int]:
    """Bits per table and number of tables for random-hyperplane LSH over n unit vectors.

    Two vectors at angle θ fall on the same side of a random hyperplane with probability
    p = 1 - θ/π; they share a bucket of `bits` hyperplanes with p**bits, and a bucket in at
    least one of `tables` tables with 1 - (1 - p**bits)**tables, set to `recall` at the
    threshold. Buckets hold about n / 2**bits vectors.
    """
    bits = max(1, min(20, round(math.log2(max(n, 2) / LSH_BUCKET))))
    theta = math.acos(max(-1.0, min(1.0, threshold)))
    hit = (1 - theta / math.pi) ** bits
    if hit >= 1:
        return bits, 1
    return bits, max(1, math.ceil(math.log(1 - recall) / math.log(1 - hit)))


def _pairs_lsh(v: np.ndarray, threshold: float, *, seed: int = 0, valid=None, chunk: int = 2048):
    n, d = v.shape
    bits, tables = lsh_plan(n, threshold)
    rng = np.random.default_rng(seed)
    planes = rng.standard_normal((d, bits * tables)).astype(np.float32)
    weights = 1 << np.arange(bits, dtype=np.int32)  # bits <= 20
    codes = np.empty((n, tables), dtype=np.int32)
    for s in range(0, n, chunk):
        signs = (np.asarray(v[s : s + chunk], dtype=np.float32) @ planes) > 0
        codes[s : s + chunk] = signs.reshape(-1, tables, bits).astype(np.int32) @ weights
    if valid is not None:  # rows left out get codes of their own: buckets of one, never compared
        codes[~valid] = -1 - np.arange(int((~valid).sum()), dtype=np.int32)[:, None]

    def table(t: int, buf: _Buffers) -> list[np.ndarray]:
        order = np.argsort(codes[:, t], kind="stable")
        keys = codes[order, t]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(keys)) + 1])
        sizes = np.diff(np.append(starts, n))
        return _bucket_pairs(v, order, starts, sizes, threshold, buf)

    # One BLAS thread per product (OpenBLAS threads on stacks of small products cost more than
    # they give), and the tables shared by worker threads: numpy releases the GIL.
    workers = max(1, min(2, os.cpu_count() or 1, tables))
    with _one_blas_thread(), ThreadPoolExecutor(workers) as pool:
        bufs = [_Buffers(d, v.dtype) for _ in range(workers)]
        parts = pool.map(
            lambda w: [p for t in range(w, tables, workers) for p in table(t, bufs[w])],
            range(workers),
        )
        found = [p for part in parts for p in part]
    if not found:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    keys = np.unique(np.concatenate(found))
    return keys // n, keys % n


class _Buffers:
    """Scratch arrays reused for every stack of buckets.

    Fresh large arrays cost a page fault per page on first touch, which on a VM is slower than
    the arithmetic done in them.
    """

    def __init__(self, d: int, dtype, x_elems: int = 1 << 20, s_elems: int = 1 << 19):
        self.d = d
        self.x = np.empty(x_elems, dtype=np.float32)
        # Rows are gathered in their stored type, then widened (take cannot cast).
        self.raw = None if dtype == np.float32 else np.empty(x_elems, dtype=dtype)
        self.s = np.empty(s_elems, dtype=np.float32)
        self.hit = np.empty(s_elems, dtype=bool)

    def stack_size(self, cap: int) -> int:
        return max(1, min(len(self.x) // (cap * self.d), len(self.s) // (cap * cap)))


def _bucket_pairs(v, order, starts, sizes, threshold, buf: _Buffers):
    """Pairs above the threshold inside each bucket (rows order[start:start+size]).

    Buckets are many and small: one matrix product each would spend its time in call overhead,
    so buckets of similar size are padded to a power of two and multiplied as one stack.
    Encoded as lo * n + hi.
    """
    n, d = v.shape
    out = []
    cap = 2
    while (sizes > cap // 2).any():
        sel = (sizes > cap // 2) & (sizes <= cap) & (sizes > 1)
        if cap > 1024:  # the rare huge bucket: blocks of products
            for s, size in zip(
                starts[sizes > 1024].tolist(), sizes[sizes > 1024].tolist(), strict=True
            ):
                idx = order[s : s + size]
                ii, jj = _pairs_exact(v[idx], threshold)
                a, b = idx[ii], idx[jj]
                out.append(np.minimum(a, b) * n + np.maximum(a, b))
            break
        if sel.any():
            upper = np.triu(np.ones((cap, cap), dtype=bool), 1)
            step = buf.stack_size(cap)
            b_starts, b_sizes = starts[sel], sizes[sel]
            for k in range(0, len(b_starts), step):
                st, sz = b_starts[k : k + step], b_sizes[k : k + step]
                m = len(st)
                pos = st[:, None] + np.arange(cap)
                pad = np.arange(cap) >= sz[:, None]
                idx = order[np.minimum(pos, n - 1)]
                x = buf.x[: m * cap * d].reshape(m, cap, d)
                # mode "clip": with "raise", take copies `out` first
                if buf.raw is None:
                    np.take(v, idx, axis=0, out=x, mode="clip")
                else:
                    raw = buf.raw[: m * cap * d].reshape(m, cap, d)
                    np.take(v, idx, axis=0, out=raw, mode="clip")
                    np.copyto(x, raw)
                x[pad] = 0  # padding rows are zero: similarity 0, never a pair
                sims = buf.s[: m * cap * cap].reshape(m, cap, cap)
                np.matmul(x, x.transpose(0, 2, 1), out=sims)
                hit = buf.hit[: m * cap * cap].reshape(m, cap, cap)
                np.greater_equal(sims, threshold, out=hit)
                hit &= upper
                bb, rr, cc = np.nonzero(hit)
                a, b = idx[bb, rr], idx[bb, cc]
                out.append(np.minimum(a, b) * n + np.maximum(a, b))
        cap *= 2
    return out


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn (sentence-transformers)
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


# ---- selecting entries -----------------------------------------------------------------------


def _where(opts: ExportOptions) -> list:
    """The selection. Never-consented experts never pass."""
    # The status is compared as an expression: on the bare column SQLite walks the status index
    # and sorts every keyset page, where the primary key gives the pages in order (6x faster).
    conds = [Expert.consented_at.is_not(None), Entry.status + "" == opts.status]
    if opts.guide:
        conds.append(Entry.guide_slug == opts.guide)
    if opts.expert:
        who = opts.expert.strip()
        conds.append(Expert.id == int(who) if who.isdigit() else Expert.pseudonym == who)
    if opts.since is not None:
        conds.append(func.coalesce(Entry.decided_at, Entry.created_at) >= opts.since)
    return conds


def _edited():
    return or_(Entry.edited_answer.is_not(None), Entry.edited_question.is_not(None))


@dataclass
class _Scan:
    """Small columns of every selected entry, in id order."""

    ids: np.ndarray
    interview: np.ndarray
    length: np.ndarray  # characters in the final answer
    edited: np.ndarray
    flagged: np.ndarray  # a curator flagged personal data
    stale: np.ndarray  # Chroma's copy is not the current one (or there is none yet)
    pii: np.ndarray  # personal data found (pii = "hold" only)


# Personal data is looked for in worker processes on large exports: the rules are pure-Python
# regular expressions, bound by the GIL. These functions run there (or in a thread when small).
_SCRUBBERS: dict[tuple[int, str], Any] = {}


def _scrubber(expert_id: int, name: str):
    """A PII scrubber for one expert: it also looks for the expert's own name."""
    from knowledge.pii import PIIScrubber

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


class _Offload:
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


def _text_items(rows) -> list[tuple]:
    return [
        (
            r.expert_id,
            r.display_name,
            r.edited_question or r.question,
            r.edited_answer or r.answer,
            r.asked,
        )
        for r in rows
    ]


async def _count(db: Database, opts: ExportOptions) -> int:
    stmt = (
        select(func.count())
        .select_from(Entry)
        .join(Expert, Entry.expert_id == Expert.id)
        .where(*_where(opts))
    )
    async with db.sessions() as s:
        return int(await s.scalar(stmt) or 0)


async def _scan(
    db: Database,
    opts: ExportOptions,
    hold: bool,
    offload: _Offload,
    total: int,
    progress: Progress,
) -> _Scan:
    stale = or_(Entry.indexed_hash.is_(None), Entry.indexed_hash != Entry.content_hash)
    cols = [
        Entry.id,
        Entry.interview_id,
        func.length(func.coalesce(Entry.edited_answer, Entry.answer)),
        case((_edited(), 1), else_=0),
        case((Entry.flagged_pii, 1), else_=0),
        case((stale, 1), else_=0),
    ]
    if hold:
        cols += [
            Entry.question,
            Entry.edited_question,
            Entry.answer,
            Entry.edited_answer,
            Turn.question.label("asked"),
            Expert.id.label("expert_id"),
            Expert.display_name,
        ]
    stmt = select(*cols).select_from(Entry).join(Expert, Entry.expert_id == Expert.id)
    if hold:
        stmt = stmt.join(Turn, Entry.turn_id == Turn.id)
    stmt = stmt.where(*_where(opts)).order_by(Entry.id).limit(SCAN_PAGE)
    parts: list[np.ndarray] = []
    flags: list[tuple] = []  # PII checks (hold), in page order
    last, done = 0, 0
    while True:  # keyset pages: each a short read, never one long cursor
        async with db.sessions() as s:
            rows = (await s.execute(stmt.where(Entry.id > last))).all()
        if not rows:
            break
        last = rows[-1][0]
        parts.append(np.array([tuple(r[:6]) for r in rows], dtype=np.int64))
        if hold:
            flags.append(offload.submit(pii_flags, _text_items(rows)))
            running = [job[2] for job in flags if not job[2].done()]
            if len(running) > PII_WORKERS:  # bounded: texts in flight are held in memory
                await asyncio.wait(running[:1])
        done += len(rows)
        progress("scan", done, max(total, done))
    pii_parts = [np.asarray(await offload.result(job), dtype=bool) for job in flags]
    cols_ = np.concatenate(parts) if parts else np.zeros((0, 6), dtype=np.int64)
    n = len(cols_)
    return _Scan(
        ids=cols_[:, 0].copy(),
        interview=cols_[:, 1].copy(),
        length=cols_[:, 2].copy(),
        edited=cols_[:, 3].astype(bool),
        flagged=cols_[:, 4].astype(bool),
        stale=cols_[:, 5].astype(bool),
        pii=np.concatenate(pii_parts) if pii_parts else np.zeros(n, dtype=bool),
    )


async def _vectors(
    db: Database, index: VectorIndex, scan: _Scan, report: ExportReport, progress: Progress
) -> tuple[np.ndarray | None, np.ndarray]:
    """Unit vectors of the selection, as stored: Chroma's, else SQL's copy. None encoded here."""
    n = len(scan.ids)
    filled = np.zeros(n, dtype=bool)
    box: list[np.ndarray] = []  # the matrix, made once the dimension is known

    def put(ids: list[int], vectors: list[np.ndarray]) -> int:
        if not ids:
            return 0
        if not box:
            # float16: half the memory, cosines within ~1e-4 (see near_duplicates)
            box.append(np.zeros((n, len(vectors[0])), dtype=np.float16))
        v = box[0]
        ok = [k for k, vec in enumerate(vectors) if vec.shape == (v.shape[1],)]
        rows = np.searchsorted(scan.ids, np.asarray([ids[k] for k in ok], dtype=np.int64))
        if ok:
            v[rows] = np.stack([vectors[k] for k in ok])
            filled[rows] = True
        return len(ok)

    want = scan.ids[~scan.stale].tolist()
    try:
        for k in range(0, len(want), CHROMA_PAGE):
            got = await index.get(want[k : k + CHROMA_PAGE])
            report.vectors_from_chroma += put(list(got), [vec for vec, _ in got.values()])
            progress("vectors", min(n, k + CHROMA_PAGE), n)
    except IndexUnavailable as e:
        report.notes.append(f"Chroma unavailable, vectors read from SQL instead: {e}")
    missing = scan.ids[~filled].tolist()
    for k in range(0, len(missing), 1000):
        async with db.sessions() as s:
            rows = (
                await s.execute(
                    select(Entry.id, Entry.embedding).where(
                        Entry.id.in_(missing[k : k + 1000]), Entry.embedding.is_not(None)
                    )
                )
            ).all()
        report.vectors_from_sql += put([r[0] for r in rows], [from_bytes(r[1]) for r in rows])
        progress("vectors", min(n, len(want) + k + 1000), n)
    if not box:
        return None, filled
    v = box[0]
    for k in range(0, n, 2048):  # a block at a time: no copy of the whole matrix
        block = v[k : k + 2048].astype(np.float32)
        norms = np.linalg.norm(block, axis=1)
        filled[k : k + 2048] &= norms > 0
        v[k : k + 2048] = block / np.where(norms > 0, norms, 1)[:, None]
    return v, filled


def choose_validation(
    interviews: np.ndarray, sizes: np.ndarray, share: float, seed: int
) -> set[int]:
    """Whole interviews for the validation split, about `share` of the entries.

    Interviews are taken in a seeded random order until validation holds its share; at least
    one goes there (when share > 0) and at least one stays in train.
    """
    if share <= 0 or len(interviews) < 2:
        return set()
    order = np.random.default_rng(seed).permutation(len(interviews))
    target = share * float(sizes.sum())
    chosen: set[int] = set()
    held = 0
    for k in order.tolist():
        if held >= target or len(chosen) >= len(interviews) - 1:
            break
        chosen.add(int(interviews[k]))
        held += int(sizes[k])
    return chosen


def _groups(interviews: np.ndarray, sizes: np.ndarray) -> list[tuple[list[int], int]]:
    """Whole interviews in groups of about WRITE_GROUP entries: (interview ids, entries)."""
    out: list[tuple[list[int], int]] = []
    group: list[int] = []
    count = 0
    for iv, size in zip(interviews.tolist(), sizes.tolist(), strict=True):
        group.append(iv)
        count += size
        if count >= WRITE_GROUP:
            out.append((group, count))
            group, count = [], 0
    if group:
        out.append((group, count))
    return out


# ---- building examples -----------------------------------------------------------------------


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d else None


def _profession(text: str) -> str:
    for article in ("a ", "an "):
        if text.startswith(article):
            return text[len(article) :]
    return text


class _Builder:
    """Turns the rows of whole interviews into examples and hands them to the writer.

    Runs in a worker thread, one group at a time (never two at once).
    """

    def __init__(
        self,
        opts: ExportOptions,
        *,
        licence: str,
        pii: str,
        guides: GuideLibrary,
        validation: set[int],
        removed_by: dict[int, list[int]],
        writer,
        report: ExportReport,
        started: datetime,
    ):
        self.opts = opts
        self.licence = licence
        self.pii = pii
        self.guides = guides
        self.validation = validation
        self.removed_by = removed_by
        self.writer = writer
        self.report = report
        self.started = started
        self._guide_cache: dict[str, tuple[str, str, str]] = {}
        self.languages: set[str] = set()  # of the guides examples came from

    def _guide(self, slug: str) -> tuple[str, str, str]:
        """(persona, profession, language) of a guide; the generic guide's for one since removed."""
        if slug not in self._guide_cache:
            known = self.guides.slugs()
            g = self.guides.get(
                slug if slug in known else "generic" if "generic" in known else known[0]
            )
            if g.slug != slug:
                self.report.notes.append(
                    f"guide {slug!r} is gone: its examples use {g.slug!r}'s persona"
                )
            self._guide_cache[slug] = (g.persona, _profession(g.profession), g.language)
        return self._guide_cache[slug]

    def add(self, rows: list, redacted: list | None) -> None:
        """Rows of whole interviews, in order; with pii = redact, their texts as redact_items
        returned them (else None)."""
        texts = redacted or [None] * len(rows)
        current: list = []
        for r, t in zip(rows, texts, strict=True):
            if current and r.interview_id != current[0][0].interview_id:
                self._interview(current)
                current = []
            current.append((r, t))
        if current:
            self._interview(current)

    def _texts(self, r, redacted) -> tuple[str, str, str, dict[str, int]] | None:
        """(question, answer, question as asked, redactions) as shipped; None: held back."""
        if redacted is not None:
            self.report.redactions.update(redacted[3])
            return redacted
        q, a, asked = r.edited_question or r.question, r.edited_answer or r.answer, r.asked
        # Under hold the scan checked every entry; one changed since then is looked at again.
        if self.pii == "hold" and r.updated_at >= self.started:
            if pii_flags([(r.expert_id, r.display_name, q, a, asked)])[0]:
                self.report.held_pii += 1
                return None
        return q, a, asked, {}

    def _entry_provenance(self, r, redacted: dict[str, int]) -> dict[str, Any]:
        return {
            "entry_id": r.id,
            "turn_seq": r.seq,
            "step": r.step_id,
            "probe": r.probe,
            "part": r.part,
            "status": str(r.status),
            "draft_source": r.draft_source,
            "edited": r.edited_question is not None or r.edited_answer is not None,
            "curator": r.decided_by,
            "decided_at": _iso(r.decided_at),
            "redactions": redacted,
        }

    def _interview(self, items: list) -> None:
        first = items[0][0]
        split = VALIDATION if first.interview_id in self.validation else TRAIN
        persona, profession, language = self._guide(first.guide_slug)
        self.languages.add(language)
        base = {
            "interview_id": first.interview_id,
            "guide": first.guide_slug,
            "guide_version": first.guide_version,
            "expert": first.pseudonym,
            "consent_version": first.consent_version,
            "consented_at": _iso(first.consented_at),
            "licence": self.licence,
        }
        shipped = []  # (row, question, answer, asked, entry provenance)
        for r, redacted in items:
            texts = self._texts(r, redacted)
            if texts is not None:
                q, a, asked, red = texts
                shipped.append((r, q, a, asked, self._entry_provenance(r, red)))
        if not shipped:
            return
        wrote_any = False
        if self.opts.turns in ("single", "both"):
            for r, q, a, _, prov in shipped:
                ex = Example(
                    id=f"entry-{r.id}",
                    kind="single",
                    split=split,
                    guide=r.guide_slug,
                    profession=profession,
                    probes=[r.probe],
                    messages=[
                        Message("system", persona),
                        Message("user", q),
                        Message("assistant", a),
                    ],
                    provenance={
                        "id": f"entry-{r.id}",
                        "split": split,
                        "kind": "single",
                        "entry_ids": [r.id],
                        **base,
                        "entries": [prov],
                        "near_duplicates_removed": self.removed_by.get(r.id, []),
                    },
                )
                wrote_any |= self._write(ex)
        if self.opts.turns in ("multi", "both"):
            wrote_any |= self._multi(shipped, split, persona, profession, base)
        if wrote_any:
            self.report.interviews[split] += 1

    def _multi(self, shipped, split, persona, profession, base) -> bool:
        """The interview as one conversation, over its turns with shipped entries (>= 2 turns).

        A turn's question is the curator's edit if there is one; else as asked, when the turn
        before it is in the conversation too; else (the opening turn, or after a gap) the
        standalone question, which reads without what came before.
        """
        turns: dict[int, list] = {}
        for item in shipped:
            turns.setdefault(item[0].seq, []).append(item)
        if len(turns) < 2:
            return False
        messages = [Message("system", persona)]
        probes, entries, removed = [], [], []
        previous = None
        for seq, items in turns.items():
            r, q, _, asked, _ = items[0]
            if r.edited_question is not None:
                question = q
            elif previous is not None and previous == seq - 1:
                question = asked
            else:
                question = q
            messages.append(Message("user", question))
            messages.append(Message("assistant", "\n\n".join(it[2] for it in items)))
            probes.append(r.probe)
            for it in items:
                entries.append(it[4])
                removed += self.removed_by.get(it[0].id, [])
            previous = seq
        example_id = f"interview-{base['interview_id']}"
        return self._write(
            Example(
                id=example_id,
                kind="multi",
                split=split,
                guide=base["guide"],
                profession=profession,
                probes=probes,
                messages=messages,
                provenance={
                    "id": example_id,
                    "split": split,
                    "kind": "multi",
                    "entry_ids": [e["entry_id"] for e in entries],
                    **base,
                    "entries": entries,
                    "near_duplicates_removed": removed,
                },
            )
        )

    def _write(self, ex: Example) -> bool:
        if not self.writer.write(ex):
            self.report.not_in_format += 1
            return False
        rep = self.report
        rep.examples[ex.split] += 1
        rep.kinds[ex.kind] += 1
        rep.by_profession[ex.profession] += 1
        rep.by_probe.update(ex.probes)
        return True


def _rows_query(interview_ids: list[int]):
    return (
        select(
            Entry.id,
            Entry.interview_id,
            Entry.guide_slug,
            Entry.step_id,
            Entry.probe,
            Entry.part,
            Entry.question,
            Entry.answer,
            Entry.edited_question,
            Entry.edited_answer,
            Entry.status,
            Entry.decided_by,
            Entry.decided_at,
            Entry.draft_source,
            Entry.updated_at,
            Turn.seq,
            Turn.question.label("asked"),
            Interview.guide_version,
            Expert.id.label("expert_id"),
            Expert.pseudonym,
            Expert.display_name,
            Expert.consent_version,
            Expert.consented_at,
        )
        .select_from(Entry)
        .join(Expert, Entry.expert_id == Expert.id)
        .join(Turn, Entry.turn_id == Turn.id)
        .join(Interview, Entry.interview_id == Interview.id)
        # The selection was made by the scan (the ids to keep); consent is checked again.
        .where(Expert.consented_at.is_not(None), Entry.interview_id.in_(interview_ids))
        .order_by(Entry.interview_id, Turn.seq, Entry.part, Entry.id)
    )


# ---- the export ------------------------------------------------------------------------------


async def count_selected(services, opts: ExportOptions) -> int:
    """How many entries the export would read (before duplicates and personal data)."""
    return await _count(services.db, opts)


def default_out(out_dir: Path, fmt: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    name = f"tacit-{fmt}-{stamp}"
    return out_dir / (name if fmt == "hf" else name + ".jsonl")


async def export(
    services, opts: ExportOptions, *, progress: Progress | None = None
) -> ExportReport:
    """Write a dataset as `opts` asks; return what was written and what was left out.

    `services` is a knowledge.services.Services (its db, guides, index and [export] settings
    are used). Nothing is encoded: near-duplicates are found with the vectors already stored.
    The Discord bot can call this as is: SQL and Chroma reads are awaited and the CPU work runs
    in worker threads.
    """
    return await export_from(
        services.db,
        services.index,
        services.guides,
        opts,
        licence=services.settings.export.licence,
        pii=opts.pii or services.settings.export.pii,
        similarity=(
            opts.dedupe_similarity
            if opts.dedupe_similarity is not None
            else services.settings.export.dedupe_similarity
        ),
        seed=opts.seed if opts.seed is not None else services.settings.export.seed,
        progress=progress,
    )


@contextlib.contextmanager
def _pii_workers(pii: str, entries: int):
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


async def export_from(
    db: Database,
    index: VectorIndex,
    guides: GuideLibrary,
    opts: ExportOptions,
    *,
    licence: str,
    pii: str,
    similarity: float,
    seed: int,
    progress: Progress | None = None,
) -> ExportReport:
    from knowledge.formats import CardInfo, open_writer

    progress = progress or _no_progress
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    report = ExportReport(format=opts.format, out=opts.out)

    total = await _count(db, opts)
    with _pii_workers(pii, total) as pool:
        offload = _Offload(pool)
        scan = await _scan(db, opts, pii == "hold", offload, total, progress)
        report.entries = len(scan.ids)
        report.timings["scan"] = time.perf_counter() - t0

        t = time.perf_counter()
        held = scan.flagged | scan.pii if pii != "off" else np.zeros(len(scan.ids), dtype=bool)
        report.held_flagged = int((scan.flagged & held).sum())
        report.held_pii = int((scan.pii & ~scan.flagged).sum())
        vectors, filled = await _vectors(db, index, scan, report, progress)
        report.timings["vectors"] = time.perf_counter() - t

        t = time.perf_counter()
        usable = filled & ~held
        report.unchecked = int((~filled & ~held).sum())
        removed = np.zeros(len(scan.ids), dtype=bool)
        removed_by: dict[int, list[int]] = {}
        if vectors is not None and similarity <= 1:
            progress("duplicates", 0, 1)
            # Best first: edited by a curator, then the longest answer, then the oldest entry.
            preference = np.lexsort((scan.ids, -scan.length, ~scan.edited))
            dup = await asyncio.to_thread(
                near_duplicates, vectors, similarity, preference, valid=usable, seed=seed
            )
            removed = dup.of >= 0
            report.duplicates_removed = dup.removed
            report.dedupe_method = dup.method
            for r in np.flatnonzero(removed).tolist():
                removed_by.setdefault(int(scan.ids[dup.of[r]]), []).append(int(scan.ids[r]))
            progress("duplicates", 1, 1)
        del vectors
        report.timings["duplicates"] = time.perf_counter() - t

        keep_mask = ~removed & ~held
        interviews, sizes = np.unique(scan.interview[keep_mask], return_counts=True)
        validation = choose_validation(interviews, sizes, opts.split, seed)
        splits = [TRAIN, VALIDATION] if opts.split > 0 else [TRAIN]
        keep = set(scan.ids[keep_mask].tolist())
        del scan

        card = CardInfo(
            title="tacit expert interviews",
            licence=licence,
            languages=[],  # filled in once the examples are written
            splits=splits,
            how=_how(opts, pii, similarity, seed),
        )
        t = time.perf_counter()
        try:
            writer = open_writer(opts.format, opts.out, splits, card)
        except (FileExistsError, OSError) as e:
            raise ExportError(f"out: {e}") from None
        builder = _Builder(
            opts,
            licence=licence,
            pii=pii,
            guides=guides,
            validation=validation,
            removed_by=removed_by,
            writer=writer,
            report=report,
            started=started,
        )
        # Reading, looking for personal data and writing overlap: while the workers scrub the
        # next groups, this process builds and writes the one before.
        depth = PII_WORKERS + 1 if pool is not None else 1
        inflight: deque = deque()
        done = 0

        async def finish_one() -> None:
            nonlocal done
            rows, job, count = inflight.popleft()
            redacted = await offload.result(job) if job else None
            await asyncio.to_thread(builder.add, rows, redacted)
            done += count
            progress("write", done, len(keep))

        try:
            for group, count in _groups(interviews, sizes):
                async with db.sessions() as s:
                    rows = [r for r in (await s.execute(_rows_query(group))).all() if r.id in keep]
                job = offload.submit(redact_items, _text_items(rows)) if pii == "redact" else None
                inflight.append((rows, job, count))
                if len(inflight) >= depth:
                    await finish_one()
            while inflight:
                await finish_one()
            card.languages = sorted(builder.languages)
            report.files = await asyncio.to_thread(writer.commit, report)
        except BaseException:
            for _, job, _ in inflight:
                if job:
                    job[2].cancel()
            writer.abort()
            raise
        report.timings["write"] = time.perf_counter() - t
        report.seconds = time.perf_counter() - t0
        if report.not_in_format:
            report.notes.append(
                f"{opts.format} holds single-turn examples only: "
                f"{report.not_in_format} multi-turn examples were not written"
            )
        if report.unchecked:
            report.notes.append(
                f"{report.unchecked} entries have no stored vector and were not checked for "
                "near-duplicates (`tacit index sync` embeds them)"
            )
        log.info(
            "export %s: %d examples from %d entries, %d near-duplicates removed, %.1fs",
            opts.format,
            report.written,
            report.entries,
            report.duplicates_removed,
            report.seconds,
        )
        return report


def _how(opts: ExportOptions, pii: str, similarity: float, seed: int) -> list[str]:
    how = [
        "Experts were interviewed by tacit with a guide per profession (background, task "
        "diagram, ACTA knowledge audit, a simulation, the Critical Decision Method, laddering).",
        f"Only entries with status `{opts.status}` from experts who agreed to the consent notice "
        "are included; experts who withdrew are deleted before any export and are absent.",
        "Curators' edits of a question or an answer replace the original text.",
        "A single-turn example is one entry (a standalone question and its answer); a "
        "multi-turn example is an interview's included turns in order, when it has two or more.",
    ]
    if similarity <= 1:
        how.append(
            f"Near-duplicate answers (cosine similarity >= {similarity} between stored "
            "all-MiniLM-L6-v2 vectors) were removed, keeping the edited, else the longest."
        )
    how.append(
        {
            "redact": "Personal data found by rules (emails, phone numbers, URLs, ID numbers, "
            "people's names) was replaced by placeholders such as [PHONE] and [PERSON]; "
            "entries a curator flagged for personal data were left out.",
            "hold": "Entries in which personal data was found, or which a curator flagged, were "
            "left out.",
            "off": "No personal-data filtering was applied.",
        }[pii]
    )
    if opts.split > 0:
        how.append(
            f"The validation split holds about {opts.split:.0%} of the entries, by whole "
            f"interviews (seed {seed}): no interview is in both splits."
        )
    filters = [
        f"{k} = {v}"
        for k, v in (("guide", opts.guide), ("expert", opts.expert), ("since", _iso(opts.since)))
        if v
    ]
    if filters:
        how.append("Filters: " + ", ".join(filters) + ".")
    return how
