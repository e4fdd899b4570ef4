"""Taking erased entries out of export files already written: the examples that hold them go.

JSONL exports (openai, sharegpt, alpaca) keep one provenance line per example, written in the
same order as the examples (each split's lines in its own file): the k-th provenance line of a
split is the k-th line of that split's file. A Hugging Face folder has an `id` column. An
example that holds any erased entry is removed whole (a conversation is not re-cut), files are
written beside the old ones and renamed over them, and a card is written again with the new
counts. Everything here is blocking file work: callers run it in a worker thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

from knowledge.export.card import CardInfo, dataset_card
from knowledge.export.formats import TRAIN, jsonl_paths, provenance_path
from knowledge.export.options import ExportReport

log = logging.getLogger(__name__)

HF_DATA = "data/{split}-00000-of-00001.parquet"


def file_roles(fmt: str, out: Path, splits: list[str]) -> dict[str, Path]:
    """Every file an export writes, by role: each split, "provenance", and "card" (hf)."""
    if fmt == "hf":
        roles = {s: out / HF_DATA.format(split=s) for s in splits}
        return {**roles, "provenance": out / "provenance.jsonl", "card": out / "README.md"}
    return {**jsonl_paths(out, splits or [TRAIN]), "provenance": provenance_path(fmt, out)}


def fingerprint(path: Path) -> dict[str, Any]:
    """What tacit wrote at `path`: its size and SHA-256, to know later if it is still ours."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"path": str(path), "size": path.stat().st_size, "sha256": h.hexdigest()}


def unchanged(info: dict[str, Any]) -> bool | None:
    """True when the file is as tacit last wrote it, False when it changed, None when gone."""
    path = Path(info["path"])
    if not path.is_file():
        return None
    if path.stat().st_size != info["size"]:
        return False
    return fingerprint(path)["sha256"] == info["sha256"]


def _loads(line: bytes) -> dict[str, Any]:
    return json.loads(line)


def _dumps(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _kept_provenance(prov: Path, gone: set[int]) -> tuple[list[bytes], dict[str, set[int]], int]:
    """Provenance lines to keep (near-duplicate mentions of erased ids dropped), the line
    numbers to drop in each split's file, and how many examples go."""
    keep: list[bytes] = []
    drop: dict[str, set[int]] = {}
    seen: Counter[str] = Counter()
    removed = 0
    with open(prov, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            p = _loads(line)
            split = p.get("split", TRAIN)
            k = seen[split]
            seen[split] += 1
            if gone.intersection(p.get("entry_ids", [])):
                drop.setdefault(split, set()).add(k)
                removed += 1
                continue
            near = p.get("near_duplicates_removed") or []
            if gone.intersection(near):
                p["near_duplicates_removed"] = [i for i in near if i not in gone]
                line = _dumps(p)
            keep.append(line if line.endswith(b"\n") else line + b"\n")
    return keep, drop, removed


def _replace(path: Path, lines) -> None:
    tmp = path.with_name(path.name + ".erasing")
    with open(tmp, "wb") as f:
        for line in lines:
            f.write(line)
    os.replace(tmp, path)


def rewrite_jsonl(roles: dict[str, Path], gone: set[int]) -> int:
    """Drop the examples holding `gone` entries from a JSONL export; how many went."""
    keep, drop, removed = _kept_provenance(roles["provenance"], gone)
    if not removed and not any(drop.values()):
        _replace(roles["provenance"], keep)  # only near-duplicate mentions changed
        return 0
    for split, path in roles.items():
        if split == "provenance" or not drop.get(split):
            continue
        with open(path, "rb") as f:
            lines = [line for k, line in enumerate(f) if k not in drop[split]]
        _replace(path, lines)
    _replace(roles["provenance"], keep)
    return removed


def rewrite_hf(roles: dict[str, Path], gone: set[int], card: dict | None) -> int:
    """Drop the examples holding `gone` entries from a Hugging Face folder; how many went."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    keep, _, removed = _kept_provenance(roles["provenance"], gone)
    kept = [_loads(line) for line in keep]
    ids = pa.array([p["id"] for p in kept], type=pa.string())
    splits = [r for r in roles if r not in ("provenance", "card")]
    tables = {}
    for split in splits:
        table = pq.read_table(roles[split])
        tables[split] = table.filter(pc.is_in(table["id"], value_set=ids))
        tmp = roles[split].with_name(roles[split].name + ".erasing")
        pq.write_table(tables[split], tmp)
        os.replace(tmp, roles[split])
    _replace(roles["provenance"], keep)
    if card is not None and roles["card"].exists():
        roles["card"].write_text(_card_again(card, tables, kept), encoding="utf-8")
    return removed


def _card_again(card: dict, tables: dict, kept: list[dict]) -> str:
    """The dataset card with the counts of what is left."""
    report = ExportReport(format="hf", out=Path("."))
    for split, table in tables.items():
        report.examples[split] = table.num_rows
        for row in table.select(["profession", "probes"]).to_pylist():
            report.by_profession[row["profession"]] += 1
            report.by_probe.update(row["probes"])
    for split in tables:
        report.interviews[split] = len({p["interview_id"] for p in kept if p["split"] == split})
    return dataset_card(CardInfo(**card), report)


def delete_files(paths: list[Path], out: Path) -> list[str]:
    """Delete an export's files (and its folder, once empty); the paths deleted."""
    deleted = []
    for path in paths:
        if path.is_file():
            path.unlink()
            deleted.append(str(path))
    for folder in (out / "data", out):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return deleted
