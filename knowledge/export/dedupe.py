"""Near-duplicate removal over stored unit vectors: every pair up to a size, LSH above it."""

from __future__ import annotations

import contextlib
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


EXACT_LIMIT = 5_000  # up to this many vectors, compare every pair; above, LSH candidates
LSH_RECALL = 0.995  # wanted chance that a pair right at the threshold is compared
LSH_BUCKET = 16  # vectors per LSH bucket, on average (measured fastest at 100k)


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
