"""The selection's stored vectors: Chroma's, else SQL's copy. Nothing is encoded."""

from __future__ import annotations

import logging

import numpy as np
from sqlalchemy import select

from knowledge.export.options import ExportReport, Progress
from knowledge.export.select import Scan
from knowledge.index import IndexUnavailable, VectorIndex
from knowledge.storage import Database, Entry
from knowledge.storage.entries import from_bytes
from knowledge.vocab import ExportPhase

log = logging.getLogger(__name__)


CHROMA_PAGE = 400  # ids per Chroma get (measured fastest: larger pages get slower per id)


async def stored_vectors(
    db: Database, index: VectorIndex, scan: Scan, report: ExportReport, progress: Progress
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
            progress(ExportPhase.vectors, min(n, k + CHROMA_PAGE), n)
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
        progress(ExportPhase.vectors, min(n, len(want) + k + 1000), n)
    if not box:
        return None, filled
    v = box[0]
    for k in range(0, n, 2048):  # a block at a time: no copy of the whole matrix
        block = v[k : k + 2048].astype(np.float32)
        norms = np.linalg.norm(block, axis=1)
        filled[k : k + 2048] &= norms > 0
        v[k : k + 2048] = block / np.where(norms > 0, norms, 1)[:, None]
    return v, filled
