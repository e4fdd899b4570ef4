"""The LLaMA-Factory and Axolotl files beside an export, loaded the way each tool loads them.

Neither tool installs here without another torch, so their documented field mapping is
reimplemented from their source: LLaMA-Factory `src/llamafactory/data/parser.py` (DatasetAttr,
its defaults and `join`), `loader.py` (a file by its extension through `load_dataset`) and
`converter.py` (SharegptDatasetConverter, AlpacaDatasetConverter); axolotl
`src/axolotl/prompt_strategies/chat_template.py` (ChatTemplatePrompter's default roles,
`get_conversation_thread`, `transform_message`).
"""

from __future__ import annotations

import json
import os

import pytest
import yaml

from knowledge.export import export
from tests.test_dataset import corpus, opts  # noqa: F401  (the fixture)

# LLaMA-Factory DatasetAttr defaults (parser.py).
LF_DEFAULTS = {
    "formatting": "alpaca",
    "ranking": False,
    "split": "train",
    "system": None,
    "prompt": "instruction",
    "query": "input",
    "response": "output",
    "history": None,
    "messages": "conversations",
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "observation_tag": "observation",
    "function_tag": "function_call",
    "system_tag": "system",
}
LF_COLUMNS = ["prompt", "query", "response", "history", "messages", "system", "tools"]
LF_TAGS = ["role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag"]
LF_TAGS += ["function_tag", "system_tag"]


def lf_attr(entry: dict) -> dict:
    """DatasetAttr.join: formatting and ranking, then any `columns` and `tags` given."""
    attr = dict(LF_DEFAULTS)
    attr["formatting"] = entry.get("formatting", "alpaca")
    attr["ranking"] = entry.get("ranking", False)
    if "columns" in entry:
        for name in LF_COLUMNS:
            attr[name] = entry["columns"].get(name)
    if "tags" in entry:
        for name in LF_TAGS:
            attr[name] = entry["tags"].get(name)
    return attr


def lf_load(dataset_dir: str, entry: dict):
    """loader.py for load_from "file": the data file's type from its extension."""
    import datasets

    path = os.path.join(dataset_dir, entry["file_name"])
    kind = {"json": "json", "jsonl": "json", "parquet": "parquet"}[path.rsplit(".", 1)[-1]]
    return datasets.load_dataset(kind, data_files=path, split="train")


def lf_convert(attr: dict, ex: dict) -> dict | None:
    """The converters' prompt/response/system; None where LLaMA-Factory would skip it."""
    if attr["formatting"] == "alpaca":
        query = [ex[attr["prompt"]]] + ([ex[attr["query"]]] if ex[attr["query"]] else [])
        return {
            "_prompt": [{"role": "user", "content": "\n".join(query)}],
            "_response": [{"role": "assistant", "content": ex[attr["response"]]}],
            "_system": ex[attr["system"]] if attr["system"] else "",
        }
    tags = {
        attr["user_tag"]: "user",
        attr["assistant_tag"]: "assistant",
        attr["observation_tag"]: "observation",
        attr["function_tag"]: "function",
        attr["system_tag"]: "system",
    }
    accept = (
        (attr["user_tag"], attr["observation_tag"]),
        (attr["assistant_tag"], attr["function_tag"]),
    )
    messages = ex[attr["messages"]]
    system = ""
    if attr["system_tag"] and messages and messages[0][attr["role_tag"]] == attr["system_tag"]:
        system, messages = messages[0][attr["content_tag"]], messages[1:]
    aligned = []
    for k, m in enumerate(messages):
        if m[attr["role_tag"]] not in accept[k % 2]:
            return None  # "Invalid role tag": skipped
        aligned.append({"role": tags[m[attr["role_tag"]]], "content": m[attr["content_tag"]]})
    if len(aligned) % 2 != 0:
        return None  # "Invalid message count": skipped
    return {"_prompt": aligned[:-1], "_response": aligned[-1:], "_system": system}


# axolotl ChatTemplatePrompter's roles when a dataset gives none (chat_template.py).
AX_ROLES = {
    "human": "user",
    "user": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "system": "system",
    "tool": "tool",
}


def ax_thread(ds_cfg: dict, row: dict) -> list[dict]:
    """get_conversation_thread: each message through message_property_mappings and roles."""
    mappings = ds_cfg.get("message_property_mappings") or {"role": "role", "content": "content"}
    roles = (
        {s: t for t, sources in ds_cfg["roles"].items() for s in sources}
        if ds_cfg.get("roles")
        else AX_ROLES
    )
    turns = []
    for message in row[ds_cfg.get("field_messages", "messages")]:
        turn = {k: message[v] for k, v in mappings.items() if message.get(v) is not None}
        turn["role"] = roles.get(turn["role"], turn["role"])
        turns.append(turn)
    return turns


def ax_load(base: str, ds_cfg: dict):
    import datasets

    path = os.path.join(base, ds_cfg["path"])
    if ds_cfg.get("ds_type"):
        return datasets.load_dataset(ds_cfg["ds_type"], data_files=path, split="train")
    return datasets.load_dataset(path, ds_cfg.get("name"), split=ds_cfg.get("split", "train"))


def expected(report) -> dict[str, list[dict]]:
    """Every example's messages as tacit wrote them (the openai shape), by id."""
    import pyarrow.parquet as pq

    out = {}
    if report.format == "hf":
        for f in report.out.glob("data/**/*.parquet"):
            for row in pq.read_table(f).to_pylist():
                out[row["id"]] = row["messages"]
        return out
    for path in report.files:
        if path.suffix == ".jsonl" and "provenance" not in path.name:
            for line in path.read_text().splitlines():
                rec = json.loads(line)
                if "messages" in rec:
                    out[rec["id"]] = rec["messages"]
                elif "conversations" in rec:
                    back = {"human": "user", "gpt": "assistant", "system": "system"}
                    out[rec["id"]] = [
                        {"role": back[t["from"]], "content": t["value"]}
                        for t in rec["conversations"]
                    ]
                elif "instruction" in rec:
                    out[rec["id"]] = [
                        {"role": "system", "content": rec["system"]},
                        {"role": "user", "content": rec["instruction"]},
                        {"role": "assistant", "content": rec["output"]},
                    ]
    return out


@pytest.mark.usefixtures("corpus")
@pytest.mark.asyncio
async def test_llamafactory_and_axolotl_read_every_format_as_tacit_wrote_it(services, tmp_path):
    for fmt in ("openai", "sharegpt", "alpaca", "hf"):
        report = await export(services, opts(tmp_path / fmt, fmt, split=0.3, seed=5))
        want = expected(report)
        assert want
        base = report.out if fmt == "hf" else report.out.parent
        # LLaMA-Factory: every entry loads, and no example is skipped or changed.
        lf_file = next(p for p in report.files if p.name == "dataset_info.json")
        info = json.loads(lf_file.read_text())
        seen = 0
        for entry in info.values():
            attr = lf_attr(entry)
            for row in lf_load(str(lf_file.parent), entry):
                got = lf_convert(attr, row)
                assert got is not None, f"{fmt}: LLaMA-Factory would skip {row['id']}"
                messages = [{"role": "system", "content": got["_system"]}]
                messages += got["_prompt"] + got["_response"]
                assert messages == want[row["id"]], fmt
                seen += 1
        assert seen == len(want)
        # Axolotl: the dataset sections load, and each row's thread is the conversation.
        config = yaml.safe_load(
            (base / ("axolotl.yaml" if fmt == "hf" else "ds-" + fmt + ".axolotl.yaml")).read_text()
        )
        sections = config["datasets"] + config.get("test_datasets", [])
        assert len(sections) == 2  # train and validation
        for ds_cfg in sections:
            rows = ax_load(str(base), ds_cfg)
            assert len(rows) > 0
            for row in rows:
                if ds_cfg["type"] == "alpaca":
                    assert {"instruction", "input", "output"} <= set(row)
                    continue
                assert ds_cfg["type"] == "chat_template" and ds_cfg["roles_to_train"] == [
                    "assistant"
                ]
                assert ax_thread(ds_cfg, row) == want[row["id"]]


@pytest.mark.asyncio
async def test_the_axolotl_dpo_section_hands_trl_the_pairs_as_they_are(services, tmp_path):
    from trl.data_utils import is_conversational

    from tests.test_dataset import approve, entries, expert, interview, long_answers
    from tests.test_export_pairs import EDITED

    ana = await expert(services, "ana", "Ana Ruiz")
    await interview(services, ana.id, "litigator", long_answers("scotus_2019.18-1501-t01", 2))
    await approve(services)
    first = (await entries(services))[0]
    await services.review.edit("cli:carla", first.id, answer=EDITED)
    report = await export(services, opts(tmp_path, "dpo"))
    assert not any(p.name == "dataset_info.json" for p in report.files)  # see trainers.py
    config = yaml.safe_load(report.out.with_name("ds-dpo.axolotl.yaml").read_text())
    assert config["rl"] == "dpo"
    (section,) = config["datasets"]
    assert section["type"] == "passthrough"
    (row,) = ax_load(str(report.out.parent), section)
    assert is_conversational(row) and row["chosen"][0]["content"] == EDITED
