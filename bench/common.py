"""Shared benchmark helpers: real answers, services on a scratch folder, percentiles."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
# ../shared beside the checkout; a worktree one level deeper finds it further up.
REAL = next(
    (
        p / "shared" / "data" / "real"
        for p in ROOT.parents
        if (p / "shared" / "data" / "real").is_dir()
    ),
    ROOT.parent / "shared" / "data" / "real",
)


def real_answers(limit: int | None = None) -> list[str]:
    """Answers written by real professionals, from ../shared/data/real/*.qa.jsonl."""
    out = []
    for path in sorted(REAL.glob("*.qa.jsonl")):
        with open(path, encoding="utf-8") as f:
            out += [json.loads(line)["answer"].strip() for line in f if line.strip()]
    out = [a for a in out if a]
    return out[:limit] if limit else out


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="tacit-bench-"))


def settings_in(folder: Path):
    from knowledge.config import Settings

    return Settings(
        data_dir=folder,
        database={"url": f"sqlite+aiosqlite:///{folder / 'tacit.db'}"},
        chroma={"path": str(folder / "chroma"), "collection": "bench"},
    )


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]
