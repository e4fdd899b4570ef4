"""Checks any dataset file against its consumers' rules: OpenAI's, the formats', datasets', TRL's."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from knowledge.export.formats.rules import (  # noqa: F401  (re-exported)
    _TRL,
    OPENAI_MAX_TOKENS,
    OPENAI_MIN_EXAMPLES,
    TOKEN_ENCODING,
    Problem,
    TokenCounter,
    _id_problem,
    check_openai,
    token_counter,
    trl_available,
)

log = logging.getLogger(__name__)


def detect_format(path: Path) -> str:
    """hf for a folder; else from the keys of the first non-empty line."""
    if path.is_dir():
        return "hf"
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.strip():
                try:
                    keys = set(json.loads(line))
                except (ValueError, TypeError, RecursionError):
                    break
                if "chosen" in keys and "rejected" in keys:
                    return "dpo"
                if "messages" in keys:
                    return "openai"
                if "conversations" in keys:
                    return "sharegpt"
                if "instruction" in keys or "output" in keys:
                    return "alpaca"
                break
    raise ValueError(f"{path}: cannot tell the format from its first line; give --format")


# `id`: tacit's key into the provenance file. OpenAI's own format check (the cookbook's
# "Chat_finetuning_data_prep") looks only at `messages` and ignores other top-level keys.
_SHAREGPT_TOP = {"id", "conversations", "system", "tools"}
_SHAREGPT_FROM = {"system", "human", "gpt", "function_call", "observation"}


def check_sharegpt(obj: Any) -> list[str]:
    """ShareGPT as LLaMA-Factory and axolotl read it: {"conversations": [{"from", "value"}]}."""
    if not isinstance(obj, dict):
        return ["an example must be a JSON object"]
    out = _id_problem(obj)
    extra = set(obj) - _SHAREGPT_TOP
    if extra:
        out.append(f"unexpected key(s) {sorted(extra)}")
    conv = obj.get("conversations")
    if not isinstance(conv, list) or not conv:
        return [*out, "'conversations' must be a non-empty list"]
    turns = []
    for k, t in enumerate(conv, 1):
        if not isinstance(t, dict):
            out.append(f"turn {k} is not an object")
            continue
        if set(t) != {"from", "value"}:
            out.append(f"turn {k}: keys must be exactly 'from' and 'value', got {sorted(t)}")
        who = t.get("from")
        if who not in _SHAREGPT_FROM:
            out.append(f"turn {k}: 'from' {who!r} is not one of {sorted(_SHAREGPT_FROM)}")
        elif who == "system" and k != 1:
            out.append(f"turn {k}: a system turn may only come first")
        if not isinstance(t.get("value"), str) or not t["value"].strip():
            out.append(f"turn {k} ({who}): value is missing or empty")
        if who != "system":
            turns.append((k, who))
    if out:
        return out
    for pos, (k, who) in enumerate(turns):
        asks = who in ("human", "observation")
        if asks != (pos % 2 == 0):
            out.append(f"turn {k}: human and gpt turns must alternate, starting with human")
            break
    if not out and (not turns or turns[-1][1] not in ("gpt", "function_call")):
        out.append("the conversation must end with a gpt turn")
    return out


_ALPACA_KEYS = {"id", "instruction", "input", "output", "system", "history"}


def check_alpaca(obj: Any) -> list[str]:
    if not isinstance(obj, dict):
        return ["an example must be a JSON object"]
    out = _id_problem(obj)
    extra = set(obj) - _ALPACA_KEYS
    if extra:
        out.append(f"unexpected key(s) {sorted(extra)}")
    for key in ("instruction", "output"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            out.append(f"'{key}' is missing or empty")
    for key in ("input", "system"):
        if key in obj and not isinstance(obj[key], str):
            out.append(f"'{key}' must be a string")
    hist = obj.get("history", [])
    if not isinstance(hist, list) or not all(
        isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h) for h in hist
    ):
        out.append("'history' must be a list of [instruction, response] pairs")
    return out


_DPO_KEYS = {"id", "prompt", "chosen", "rejected"}


def check_dpo(obj: Any) -> list[str]:
    """TRL's conversational preference format: `prompt` messages ending with the user's,
    `chosen` and `rejected` one non-empty assistant message each, and different."""
    if not isinstance(obj, dict):
        return ["an example must be a JSON object"]
    out = _id_problem(obj)
    extra = set(obj) - _DPO_KEYS
    if extra:
        out.append(f"unexpected key(s) {sorted(extra)}")
    for key in ("prompt", "chosen", "rejected"):
        value = obj.get(key)
        if not isinstance(value, list) or not value:
            out.append(f"'{key}' must be a non-empty list of messages")
            continue
        for k, m in enumerate(value, 1):
            if not isinstance(m, dict) or set(m) != {"role", "content"}:
                out.append(f"{key} message {k}: must have exactly 'role' and 'content'")
            elif not isinstance(m["content"], str) or not m["content"].strip():
                out.append(f"{key} message {k} ({m['role']}): content is missing or empty")
        if out:
            continue
        roles = [m["role"] for m in value]
        if key == "prompt" and roles[-1] != "user":
            out.append("the prompt must end with a user message")
        if key == "prompt" and any(r not in ("system", "user", "assistant") for r in roles):
            out.append(f"prompt roles {roles}: only system, user and assistant")
        if key != "prompt" and roles != ["assistant"]:
            out.append(f"'{key}' must be one assistant message, got roles {roles}")
    if not out and obj["chosen"][0]["content"].strip() == obj["rejected"][0]["content"].strip():
        out.append("chosen and rejected are the same text: nothing to prefer")
    return out


def check_notes(fmt: str) -> list[str]:
    """What `check_file` applies for this format, and what it could not."""
    notes = []
    if fmt in ("openai", "hf"):
        notes.append(token_counter().note)
    if fmt == "alpaca":
        notes.append("TRL: alpaca is not a TRL format (TRL reads messages or prompt/completion)")
    elif trl_available() and fmt == "dpo":
        notes.append(
            f"TRL: is_conversational on every pair, the first {_TRL.RENDER} prepared through "
            "maybe_apply_chat_template with a ChatML template, as DPOTrainer does"
        )
    elif trl_available():
        notes.append(
            f"TRL: is_conversational on every line, the first {_TRL.RENDER} rendered through "
            "apply_chat_template with a ChatML template"
        )
        if fmt == "sharegpt":
            notes.append(
                "TRL: maybe_convert_to_chatml keeps 'human'/'gpt' as role names; map them to "
                "user/assistant (or use the openai format) before a chat template sees them"
            )
    else:
        notes.append("TRL: not installed, its conversational checks were skipped")
    return notes


def check_file(
    path: str | Path,
    format: str | None = None,
    *,
    max_tokens: int = OPENAI_MAX_TOKENS,
    trl: bool | None = None,
) -> list[Problem]:
    """Everything wrong with a dataset file (or hf folder), line by line; [] when all is well.

    `trl`: run TRL's checks too (default: when trl is installed; never for alpaca).
    """
    path = Path(path)
    fmt = format or detect_format(path)
    if fmt == "hf":
        from knowledge.export.formats.check_hf import check_hf

        return check_hf(path, max_tokens=max_tokens, trl=trl)
    if fmt not in ("openai", "sharegpt", "alpaca", "dpo"):
        raise ValueError(f"unknown format {fmt!r}")
    use_trl = (trl_available() if trl is None else trl) and fmt != "alpaca"
    checker = _TRL() if use_trl else None
    tokens = token_counter() if fmt == "openai" else None
    problems: list[Problem] = []
    examples = 0
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                problems.append(Problem(n, f"not UTF-8 text (byte {e.start + 1})"))
                continue
            if not line.strip():
                problems.append(Problem(n, "empty line"))
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                problems.append(Problem(n, f"not valid JSON: {e}"))
                continue
            except RecursionError:
                problems.append(Problem(n, "not valid JSON here: nested too deeply"))
                continue
            examples += 1
            if fmt == "openai":
                found = check_openai(obj, tokens, max_tokens)
            elif fmt == "sharegpt":
                found = check_sharegpt(obj)
            elif fmt == "dpo":
                found = check_dpo(obj)
            else:
                found = check_alpaca(obj)
            if not found and checker is not None:
                found = checker.check(fmt, obj)
            problems.extend(Problem(n, msg) for msg in found)
    if fmt == "openai" and examples < OPENAI_MIN_EXAMPLES:
        problems.append(
            Problem(
                0, f"{examples} examples: OpenAI wants at least {OPENAI_MIN_EXAMPLES}", "warning"
            )
        )
    return problems
