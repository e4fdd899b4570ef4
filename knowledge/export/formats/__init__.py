"""Dataset file formats: an example, and how each format writes it as a record.

Writers (`writers.py`) stream: one example in, one line (or one buffered parquet row) out. Files
are written under a temporary name and renamed on commit, so a failed export leaves nothing
half-written. `check.py` checks any dataset file against its consumers' rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRAIN, VALIDATION = "train", "validation"
SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}


@dataclass(frozen=True)
class Message:
    role: str  # system, user, assistant
    content: str


@dataclass
class Example:
    # "entry-<id>" (single turn), "interview-<id>" (multi-turn), or a preference pair's:
    # "curator_edit-<entry id>", "expert_correction-<entry id>", "teach_back-<interview id>"
    id: str
    kind: str  # single, multi; a pair's kind (dpo)
    split: str
    guide: str
    profession: str
    probes: list[str]
    messages: list[Message]  # for a preference pair (dpo): the prompt
    provenance: dict[str, Any]
    chosen: list[Message] | None = None  # dpo only
    rejected: list[Message] | None = None


def record(fmt: str, ex: Example) -> dict[str, Any] | None:
    """One example as a line of `fmt`; None when the format cannot hold it (alpaca, multi-turn)."""
    if fmt == "openai":
        return {
            "id": ex.id,
            "messages": [{"role": m.role, "content": m.content} for m in ex.messages],
        }
    if fmt == "sharegpt":
        return {
            "id": ex.id,
            "conversations": [
                {"from": SHAREGPT_FROM[m.role], "value": m.content} for m in ex.messages
            ],
        }
    if fmt == "alpaca":
        if ex.kind != "single":
            return None
        system = [m.content for m in ex.messages if m.role == "system"]
        user = [m.content for m in ex.messages if m.role == "user"]
        answer = [m.content for m in ex.messages if m.role == "assistant"]
        return {
            "id": ex.id,
            "instruction": user[0],
            "input": "",
            "output": answer[0],
            "system": system[0],
        }
    if fmt == "dpo":
        if ex.chosen is None:
            return None
        return {
            "id": ex.id,
            "prompt": [{"role": m.role, "content": m.content} for m in ex.messages],
            "chosen": [{"role": m.role, "content": m.content} for m in ex.chosen],
            "rejected": [{"role": m.role, "content": m.content} for m in ex.rejected or []],
        }
    if fmt == "hf":
        return {
            "id": ex.id,
            "kind": ex.kind,
            "guide": ex.guide,
            "profession": ex.profession,
            "probes": ex.probes,
            "licence": ex.provenance.get("licence", ""),
            "messages": [{"role": m.role, "content": m.content} for m in ex.messages],
        }
    raise ValueError(f"unknown format {fmt!r}")


def jsonl_paths(out: Path, splits: list[str]) -> dict[str, Path]:
    """`out` itself without a split; `<stem>.train.jsonl` and `<stem>.validation.jsonl` with one."""
    if splits == [TRAIN]:
        return {TRAIN: out}
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return {s: out.with_name(f"{stem}.{s}.jsonl") for s in splits}


def provenance_path(fmt: str, out: Path) -> Path:
    if fmt == "hf":
        return out / "provenance.jsonl"
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return out.with_name(f"{stem}.provenance.jsonl")
