"""Export: 100,000 approved entries to each dataset format, with near-duplicate removal.

The entries are built from the real transcripts (../shared/data/real, questions and answers
cycled), bulk-inserted with SQLAlchemy core into a scratch SQLite database; each has a random
but deterministic unit vector, in SQL and in an embedded Chroma collection, and 2% are planted
near-copies (cosine 0.95-1.0) of another entry. Vectors are made with numpy, never the model.
A further 5% of entries belong to experts who never consented (they must not be exported).

Each format runs in its own process: its peak memory is that process's high-water mark (VmHWM;
ru_maxrss would count the parent's, inherited across fork), and the peak of the whole process
tree (the export and its PII worker processes), sampled every 20 ms. The fixture is kept in the
temp folder and reused by later runs (building its Chroma index takes minutes).

    python -m bench.export             # every format
    python -m bench.export openai      # some formats
    python -m bench.export --dedupe    # the ways to find near-duplicates, compared (slow)
    python -m bench.export --views     # review and export counts: operator vs a server's view
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import REAL, settings_in

N = 100_000
NOT_CONSENTED = N // 20
PER_INTERVIEW = 25
EXPERTS = 400
DIM = 384
NEAR_COPIES = N // 50
SEED = 2026
FORMATS = ["openai", "sharegpt", "alpaca", "hf"]
FIXTURE_VERSION = 2  # 2: schema 0002 (servers, registry)


def fixture_folder(n: int = N) -> Path:
    return Path(tempfile.gettempdir()) / f"tacit-bench-export-{n}-v{FIXTURE_VERSION}"


def _pairs() -> list[tuple[str, str]]:
    out = []
    for path in sorted(REAL.glob("*.qa.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    p = json.loads(line)
                    if p["question"].strip() and p["answer"].strip():
                        out.append((p["question"].strip(), p["answer"].strip()))
    return out


def _vectors(total: int, rng):
    """Unit vectors; the last NEAR_COPIES rows of the approved set copy an earlier row closely."""
    import numpy as np

    v = rng.standard_normal((total, DIM), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    src = rng.choice(N - NEAR_COPIES, NEAR_COPIES, replace=False)
    dst = np.arange(N - NEAR_COPIES, N)
    cos = rng.uniform(0.95, 1.0, NEAR_COPIES).astype(np.float32)
    noise = rng.standard_normal((NEAR_COPIES, DIM), dtype=np.float32)
    noise -= (noise * v[src]).sum(1, keepdims=True) * v[src]
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    v[dst] = cos[:, None] * v[src] + np.sqrt(1 - cos**2)[:, None] * noise
    v[dst] /= np.linalg.norm(v[dst], axis=1, keepdims=True)
    return v


def build(folder: Path) -> float:
    """Create the fixture in `folder`; seconds taken."""
    import chromadb
    import numpy as np
    from chromadb.config import Settings as ChromaClientSettings
    from sqlalchemy import create_engine, insert

    from knowledge.guides import GuideLibrary
    from knowledge.storage import Entry, Expert, Interview, Turn
    from knowledge.storage.db import upgrade
    from knowledge.storage.models import utcnow

    t0 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    settings = settings_in(folder)
    asyncio.run(upgrade(settings.database.url))
    engine = create_engine(f"sqlite:///{folder / 'tacit.db'}")
    guides = list(GuideLibrary.load())
    pairs = _pairs()
    rng = np.random.default_rng(SEED)
    total = N + NOT_CONSENTED
    vectors = _vectors(total, rng)
    now = utcnow()
    n_interviews = total // PER_INTERVIEW
    consented_experts = EXPERTS - EXPERTS // 20
    with engine.begin() as conn:
        conn.execute(
            insert(Expert.__table__),
            [
                {
                    "id": e + 1,
                    "platform": "bench",
                    "external_id": str(e),
                    "display_name": f"Bench Expert {e}",
                    "pseudonym": f"expert-{e:012x}",
                    "consent_version": "bench" if e < consented_experts else None,
                    "consented_at": now if e < consented_experts else None,
                    "created_at": now,
                }
                for e in range(EXPERTS)
            ],
        )
        interviews = []
        for i in range(n_interviews):
            consented = i < N // PER_INTERVIEW
            expert = i % consented_experts if consented else consented_experts + i % (EXPERTS // 20)
            g = guides[i % len(guides)]
            interviews.append(
                {
                    "id": i + 1,
                    "expert_id": expert + 1,
                    "guide_slug": g.slug,
                    "guide_version": g.version,
                    "status": "completed",
                    "position": PER_INTERVIEW,
                    "started_at": now,
                    "last_activity_at": now,
                    "active_seconds": 1800.0,
                }
            )
        conn.execute(insert(Interview.__table__), interviews)
        for start in range(0, total, 5000):
            turns, entries = [], []
            for k in range(start, min(total, start + 5000)):
                iv = interviews[k // PER_INTERVIEW]
                g = guides[(iv["id"] - 1) % len(guides)]
                step, q = g.questions[(k % PER_INTERVIEW) % len(g.questions)]
                question, answer = pairs[(k * 7919) % len(pairs)]
                turns.append(
                    {
                        "id": k + 1,
                        "interview_id": iv["id"],
                        "seq": k % PER_INTERVIEW + 1,
                        "step_id": step.id,
                        "question_id": q.id,
                        "probe": q.probe.value,
                        "followup": False,
                        "source": "guide",
                        "question": question,
                        "answer": answer,
                        "status": "answered",
                        "asked_at": now,
                        "answered_at": now,
                    }
                )
                digest = hashlib.sha256(str(k).encode()).hexdigest()
                entries.append(
                    {
                        "id": k + 1,
                        "turn_id": k + 1,
                        "interview_id": iv["id"],
                        "expert_id": iv["expert_id"],
                        "guide_slug": g.slug,
                        "step_id": step.id,
                        "probe": q.probe.value,
                        "part": 0,
                        "question": question,
                        "answer": answer,
                        "draft_source": "guide",
                        "status": "approved",
                        "decided_by": "bench:curator",
                        "decided_at": now,
                        "flagged_pii": False,
                        "embedding": vectors[k].tobytes(),
                        "embedding_model": "bench:random",
                        "content_hash": digest,
                        "indexed_hash": digest,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            conn.execute(insert(Turn.__table__), turns)
            conn.execute(insert(Entry.__table__), entries)
    engine.dispose()

    client = chromadb.PersistentClient(
        path=str(settings.chroma.path), settings=ChromaClientSettings(anonymized_telemetry=False)
    )
    coll = client.get_or_create_collection(
        settings.chroma.collection, metadata={"hnsw:space": "cosine"}
    )
    for start in range(0, total, 5000):
        ids = range(start, min(total, start + 5000))
        coll.upsert(
            ids=[str(k + 1) for k in ids],
            embeddings=vectors[start : start + 5000],
            metadatas=[{"interview_id": k // PER_INTERVIEW + 1, "status": "approved"} for k in ids],
        )
    (folder / "ready").write_text(str(total))
    return time.perf_counter() - t0


def _high_water_mb() -> float:
    """This process's peak resident memory, MB (Linux VmHWM; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, MB (0 once it is gone)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack += [int(x) for x in f.read().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


def one(fmt: str, folder: Path, pii: str | None = None) -> dict:
    """Export one format from the fixture, in this process: seconds and peak memory."""
    from knowledge.export import ExportOptions, export
    from knowledge.services import build as build_services

    async def main() -> dict:
        svc = await build_services(settings_in(folder), background=False, migrate=False)
        try:
            base = _high_water_mb()
            out = folder / "out" / (f"{fmt}" if fmt == "hf" else f"{fmt}.jsonl")
            if fmt == "hf" and out.exists():
                import shutil

                shutil.rmtree(out)
            t = time.perf_counter()
            report = await export(
                svc, ExportOptions(out=out, format=fmt, split=0.1, pii=pii, turns="both")
            )
            seconds = time.perf_counter() - t
            erase = await _erase_one_expert(svc, fmt, report) if pii is None else None
        finally:
            await svc.close()
        return {
            "seconds": seconds,
            "peak_mb": _high_water_mb(),
            "before_export_mb": base,
            "entries": report.entries,
            "written": report.written,
            "duplicates_removed": report.duplicates_removed,
            "dedupe_method": report.dedupe_method,
            "redactions": sum(report.redactions.values()),
            "timings": report.timings,
            "erase": erase,
        }

    return asyncio.run(main())


async def _erase_one_expert(svc, fmt: str, report) -> dict:
    """Rewrite a copy of the written files without one expert's entries (what forgetting them
    does to this export; the copy keeps the fixture whole): seconds and examples removed."""
    import shutil

    from sqlalchemy import select

    from knowledge.export.erase import file_roles, rewrite_hf, rewrite_jsonl
    from knowledge.storage import Entry

    async with svc.db.sessions() as s:
        gone = set(await s.scalars(select(Entry.id).where(Entry.expert_id == 1)))
    copy = report.out.with_name(report.out.name + ".erasure")
    copies = {}
    for role, path in file_roles(fmt, report.out, report.splits).items():
        target = (
            copy / path.relative_to(report.out)
            if fmt == "hf"
            else copy.with_name(copy.name + "." + path.name)
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copies[role] = target
    t = time.perf_counter()
    if fmt == "hf":
        removed = await asyncio.to_thread(rewrite_hf, copies, gone, report.card)
    else:
        removed = await asyncio.to_thread(rewrite_jsonl, copies, gone)
    seconds = time.perf_counter() - t
    shutil.rmtree(copy, ignore_errors=True)
    for path in copies.values():
        path.unlink(missing_ok=True)
    return {"seconds": seconds, "entries": len(gone), "examples": removed}


def _measure(fmt: str, folder: Path, pii: str | None) -> dict:
    """Run `one` in a fresh process; add the peak memory of its process tree."""
    cmd = [sys.executable, "-m", "bench.export", "--one", fmt, str(folder)]
    proc = subprocess.Popen(
        [*cmd, *([pii] if pii else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_mb(proc.pid))
        time.sleep(0.02)
    out, err = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"export {fmt} failed: {err[-2000:]}")
    return {**json.loads(out.strip().splitlines()[-1]), "tree_peak_mb": peak}


def run(formats: list[str] | None = None) -> dict:
    folder = fixture_folder()
    setup = 0.0
    if not (folder / "ready").exists():
        setup = build(folder)
    figures: dict = {
        "entries exported": N,
        "fixture build s (0: reused)": round(setup, 1),
        "load average at start": os.getloadavg()[0],
    }
    runs = [(fmt, None) for fmt in formats or FORMATS]
    if not formats:
        runs.append(("openai", "off"))  # what looking for personal data costs
    for fmt, pii in runs:
        r = _measure(fmt, folder, pii)
        name = fmt if pii is None else f"{fmt} (pii {pii})"
        figures[f"{name} s"] = r["seconds"]
        figures[f"{name} peak MB"] = r["peak_mb"]
        figures[f"{name} peak MB with PII workers"] = r["tree_peak_mb"]
        figures[f"{name} examples"] = r["written"]
        figures[f"{name} record in registry s"] = r["timings"].get("record", 0.0)
        if r.get("erase"):
            figures[f"{name} erase one expert s"] = r["erase"]["seconds"]
            figures[f"{name} erase one expert examples removed"] = r["erase"]["examples"]
        if (fmt, pii) == runs[0]:
            figures["MB before export"] = r["before_export_mb"]
            figures["near-duplicates removed"] = r["duplicates_removed"]
            figures["dedupe method"] = r["dedupe_method"]
            figures["redactions"] = r["redactions"]
            for phase, secs in r["timings"].items():
                figures[f"{name} {phase} s"] = secs
    return figures


def dedupe_methods(folder: Path | None = None, sample: int = 300) -> dict:
    """Near-duplicate search over the fixture's 100k vectors, three ways: seconds.

    LSH and every pair (blocks of matrix products) run on the whole set; a Chroma query per
    entry on `sample` entries, scaled to 100k.
    """
    import numpy as np

    from knowledge.export.dedupe import _pairs_exact, near_duplicates
    from knowledge.index import VectorIndex

    folder = folder or fixture_folder()
    if not (folder / "ready").exists():
        build(folder)
    settings = settings_in(folder)
    rng = np.random.default_rng(SEED)
    vectors = _vectors(N + NOT_CONSENTED, rng)[:N]
    figures: dict = {"load average at start": os.getloadavg()[0]}
    t = time.perf_counter()
    dup = near_duplicates(vectors.astype(np.float16), 0.95, np.arange(N))
    figures["lsh s"] = time.perf_counter() - t
    figures["lsh removed"] = dup.removed
    t = time.perf_counter()
    i, _ = _pairs_exact(vectors, 0.95)
    figures["every pair s"] = time.perf_counter() - t
    figures["every pair pairs"] = len(i)

    async def per_entry() -> float:
        index = VectorIndex(settings.chroma)
        try:
            await index.query(vectors[0], n=5)  # load the index
            t = time.perf_counter()
            for k in range(sample):
                await index.query(vectors[k], n=5)
            return (time.perf_counter() - t) / sample * N
        finally:
            index.close()

    figures["chroma query per entry s (scaled)"] = asyncio.run(per_entry())
    return figures


def views(folder: Path | None = None) -> dict:
    """What scoping sessions to one server costs: the same queries over the same 100k rows,
    unscoped and through a scoped view that matches every row (best of 3, ms)."""
    from knowledge.export import ExportOptions, count_selected
    from knowledge.services import build as build_services
    from knowledge.storage import TERMINAL

    folder = folder or fixture_folder()
    if not (folder / "ready").exists():
        build(folder)

    async def main() -> dict:
        svc = await build_services(settings_in(folder), background=False, migrate=False)
        figures: dict = {"load average at start": os.getloadavg()[0]}
        try:
            for name, view in (("operator", svc), ("scoped", svc.tenant(TERMINAL))):
                for label, work in (
                    ("stats", lambda v=view: v.review.stats()),
                    ("list 1000", lambda v=view: v.review.list(status="approved", limit=1000)),
                    ("export count", lambda v=view: count_selected(v, ExportOptions(out=folder))),
                ):
                    best = float("inf")
                    for _ in range(3):
                        t = time.perf_counter()
                        await work()
                        best = min(best, time.perf_counter() - t)
                    figures[f"{name} {label} ms"] = best * 1000
        finally:
            await svc.close()
        return figures

    return asyncio.run(main())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--views"]:
        from bench.__main__ import show

        show("server views, 100k entries", views())
    elif sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(sys.argv[2], Path(sys.argv[3]), *sys.argv[4:5])))
    elif sys.argv[1:2] == ["--dedupe"]:
        from bench.__main__ import show

        show("near-duplicate search, 100k vectors", dedupe_methods())
    else:
        from bench.__main__ import show

        show("export", run(sys.argv[1:] or None))
