"""What trainers need beside an export: a LLaMA-Factory `dataset_info.json` and an Axolotl snippet.

Both name the export's files by paths relative to where they are written, and map tacit's
fields the way each tool's loader reads them:

- LLaMA-Factory (`src/llamafactory/data/parser.py` DatasetAttr, `converter.py`): openai rows
  and hf folders as `formatting: sharegpt` with role/content tags, sharegpt with its default
  from/value tags, alpaca by its columns. Its `ranking` (DPO) data wants `chosen` and
  `rejected` as single message objects, where TRL's (tacit's dpo) are lists: no entry for dpo.
- Axolotl (`src/axolotl/prompt_strategies/chat_template.py`): `type: chat_template` with
  `field_messages` and `message_property_mappings` (and `roles` for sharegpt's human/gpt),
  training on assistant turns; alpaca as `type: alpaca`; dpo as `rl: dpo` with the
  `passthrough` strategy, so TRL reads the conversational pairs as they are.

Files: `<stem>.llamafactory/dataset_info.json` and `<stem>.axolotl.yaml` beside JSONL exports;
`llamafactory/dataset_info.json` and `axolotl.yaml` inside an hf folder (a `dataset_info.json`
at the folder's top would be read by `datasets` as its own legacy metadata).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from knowledge.export.card import HF_FILE

TRAINER_ROLES = ("llamafactory", "axolotl")
OPENAI_TAGS = {
    "role_tag": "role",
    "content_tag": "content",
    "user_tag": "user",
    "assistant_tag": "assistant",
    "system_tag": "system",
}


def _stem(out: Path) -> str:
    return out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.name


def trainer_paths(fmt: str, out: Path) -> dict[str, Path]:
    """Where the LLaMA-Factory and Axolotl files of an export go, by role."""
    if fmt == "hf":
        return {
            "llamafactory": out / "llamafactory" / "dataset_info.json",
            "axolotl": out / "axolotl.yaml",
        }
    paths = {"axolotl": out.with_name(f"{_stem(out)}.axolotl.yaml")}
    if fmt != "dpo":
        paths["llamafactory"] = out.with_name(f"{_stem(out)}.llamafactory") / "dataset_info.json"
    return paths


def _llamafactory_entry(fmt: str, file_name: str) -> dict[str, Any]:
    if fmt in ("openai", "hf"):
        return {
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "messages"},
            "tags": OPENAI_TAGS,
        }
    if fmt == "sharegpt":
        return {
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "conversations"},
        }
    return {
        "file_name": file_name,
        "formatting": "alpaca",
        "columns": {
            "prompt": "instruction",
            "query": "input",
            "response": "output",
            "system": "system",
        },
    }


def _axolotl_dataset(fmt: str, path: str, **where: str) -> dict[str, Any]:
    base: dict[str, Any] = {"path": path, **where}
    if fmt == "dpo":
        return {**base, "type": "passthrough"}
    if fmt == "alpaca":
        return {**base, "type": "alpaca"}
    if fmt == "sharegpt":
        return {
            **base,
            "type": "chat_template",
            "field_messages": "conversations",
            "message_property_mappings": {"role": "from", "content": "value"},
            "roles": {"user": ["human"], "assistant": ["gpt"], "system": ["system"]},
            "roles_to_train": ["assistant"],
        }
    return {
        **base,
        "type": "chat_template",
        "field_messages": "messages",
        "message_property_mappings": {"role": "role", "content": "content"},
        "roles_to_train": ["assistant"],
    }


def trainer_files(fmt: str, out: Path, data: dict[str, Path], name: str) -> dict[Path, str]:
    """The text of each trainer file: `data` is the export's data files by split (for hf,
    by "<config>/<split>"); `name` names the dataset in them."""
    import yaml

    paths = trainer_paths(fmt, out)
    files: dict[Path, str] = {}
    if "llamafactory" in paths:
        where = paths["llamafactory"].parent
        info = {
            f"{name}-{part.replace('/', '-')}": _llamafactory_entry(
                fmt, os.path.relpath(path, where)
            )
            for part, path in data.items()
        }
        files[paths["llamafactory"]] = json.dumps(info, indent=2, ensure_ascii=False) + "\n"
    where = paths["axolotl"].parent
    if fmt == "hf":
        train = [
            _axolotl_dataset(fmt, os.path.relpath(out, where), name=p.split("/")[0], split="train")
            for p in data
            if p.endswith("/train")
        ]
        test = [
            _axolotl_dataset(
                fmt, os.path.relpath(out, where), name=p.split("/")[0], split="validation"
            )
            for p in data
            if p.endswith("/validation")
        ]
    else:
        rel = {s: os.path.relpath(p, where) for s, p in data.items()}
        ds_type = {"ds_type": "json"}
        train = [_axolotl_dataset(fmt, rel["train"], **ds_type)] if "train" in rel else []
        test = [_axolotl_dataset(fmt, rel["validation"], **ds_type)] if "validation" in rel else []
    config: dict[str, Any] = {}
    if fmt == "dpo":
        config["rl"] = "dpo"
    config["datasets"] = train[:1] if fmt == "hf" else train  # hf: the default config
    if test:
        config["test_datasets"] = test[:1]
    head = (
        "# Axolotl dataset section for this tacit export: merge it into your config. Paths are\n"
        "# relative to this file's folder (run axolotl there, or make them absolute).\n"
        "# hf: the single-turn config; the multi-turn one is `name: multi`. Train on one of\n"
        "# the two, not both: they hold the same answers.\n"
    )
    files[paths["axolotl"]] = head + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    return files


def hf_data(out: Path, parts: list[str]) -> dict[str, Path]:
    return {p: out / HF_FILE.format(part=p) for p in parts}
