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

from knowledge.export.card import HF_FILE, CardInfo, dataset_card
from knowledge.export.formats import TRAIN, jsonl_paths, provenance_path
from knowledge.export.options import ExportReport
from knowledge.export.trainers import TRAINER_ROLES, trainer_paths

log = logging.getLogger(__name__)

HF_BATCH_ROWS = 2048  # rows read at a time when a parquet file is rewritten (bounded memory)


def file_roles(fmt: str, out: Path, splits: list[str], card: dict | None = None) -> dict[str, Path]:
    """Every file an export writes, by role: each split ("<config>/<split>" in an hf folder),
    "provenance", and "card" (hf)."""
    if fmt == "hf":
        parts = CardInfo(**card).parts() if card and card.get("configs") else splits
        roles = {p: out / HF_FILE.format(part=p) for p in parts}
        roles.update(provenance=out / "provenance.jsonl", card=out / "README.md")
    else:
        roles = {**jsonl_paths(out, splits or [TRAIN]), "provenance": provenance_path(fmt, out)}
    return {**roles, **trainer_paths(fmt, out)}


# Files an export writes that are not examples: erasure rewrites the data and the provenance,
# and the card; the trainer files name paths only, so they stay as they are (or are deleted).
NOT_DATA = {"provenance", "card", *TRAINER_ROLES}


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


def _to_drop(prov: Path, gone: set[int]) -> dict[str, set[int]]:
    """The line numbers, in each split's file, of the examples that hold a `gone` entry."""
    drop: dict[str, set[int]] = {}
    seen: Counter[str] = Counter()
    with open(prov, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            p = _loads(line)
            split = p.get("split", TRAIN)
            if gone.intersection(p.get("entry_ids", [])):
                drop.setdefault(split, set()).add(seen[split])
            seen[split] += 1
    return drop


def _kept_provenance(prov: Path, gone: set[int]):
    """The provenance lines that stay, one at a time (mentions of erased near-duplicates
    dropped), as (line, parsed)."""
    with open(prov, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            p = _loads(line)
            if gone.intersection(p.get("entry_ids", [])):
                continue
            near = p.get("near_duplicates_removed") or []
            if gone.intersection(near):
                p["near_duplicates_removed"] = [i for i in near if i not in gone]
                line = _dumps(p)
            yield (line if line.endswith(b"\n") else line + b"\n"), p


def _replace(path: Path, lines) -> None:
    """Write `lines` (streamed) beside `path`, then rename over it."""
    tmp = path.with_name(path.name + ".erasing")
    try:
        with open(tmp, "wb") as f:
            for line in lines:
                f.write(line)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _without(path: Path, drop: set[int]):
    with open(path, "rb") as f:
        for k, line in enumerate(f):
            if k not in drop:
                yield line


def rewrite_jsonl(roles: dict[str, Path], gone: set[int]) -> int:
    """Drop the examples holding `gone` entries from a JSONL export; how many went. Streams:
    memory does not grow with the file."""
    drop = _to_drop(roles["provenance"], gone)
    for split, path in roles.items():
        if split not in NOT_DATA and drop.get(split):
            _replace(path, _without(path, drop[split]))
    _replace(roles["provenance"], (line for line, _ in _kept_provenance(roles["provenance"], gone)))
    return sum(len(d) for d in drop.values())


def rewrite_hf(roles: dict[str, Path], gone: set[int], card: dict | None) -> int:
    """Drop the examples holding `gone` entries from a Hugging Face folder; how many went.
    Parquet files are read and written a row group at a time."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    removed_ids: set[str] = set()
    with open(roles["provenance"], "rb") as f:
        for line in f:
            if line.strip() and gone.intersection((p := _loads(line)).get("entry_ids", [])):
                removed_ids.add(p["id"])
    interviews: dict[str, set[int]] = {}

    def kept():
        for line, p in _kept_provenance(roles["provenance"], gone):
            interviews.setdefault(p.get("split", TRAIN), set()).add(p["interview_id"])
            yield line

    _replace(roles["provenance"], kept())
    drop = pa.array(sorted(removed_ids), type=pa.string())
    report = ExportReport(format="hf", out=Path("."))
    for part in (r for r in roles if r not in NOT_DATA):
        split = part.rsplit("/", 1)[-1]
        source = pq.ParquetFile(roles[part])
        tmp = roles[part].with_name(roles[part].name + ".erasing")
        with pq.ParquetWriter(tmp, source.schema_arrow) as out:
            for batch in source.iter_batches(batch_size=HF_BATCH_ROWS):
                table = pa.Table.from_batches([batch], schema=source.schema_arrow)
                table = table.filter(pc.invert(pc.is_in(table["id"], value_set=drop)))
                out.write_table(table)
                report.parts[part] += table.num_rows
                report.part_bytes[part] += table.nbytes
                report.examples[split] += table.num_rows
                for row in table.select(["profession", "probes"]).to_pylist():
                    report.by_profession[row["profession"]] += 1
                    report.by_probe.update(row["probes"])
        os.replace(tmp, roles[part])
        report.part_size[part] = roles[part].stat().st_size
        report.interviews[split] = len(interviews.get(split, ()))
    if card is not None and roles["card"].exists():
        roles["card"].write_text(str(dataset_card(CardInfo(**card), report)), encoding="utf-8")
    return len(removed_ids)


def delete_files(paths: list[Path], out: Path) -> list[str]:
    """Delete an export's files (and its folder, once empty); the paths deleted."""
    deleted = []
    for path in paths:
        if path.is_file():
            path.unlink()
            deleted.append(str(path))
    folders = {p.parent for p in paths if p.parent != out.parent} | {out}
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        while folder != out.parent and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    return deleted
