"""Checks any dataset file against its consumers' rules: OpenAI's, the formats', datasets', TRL's."""

from __future__ import annotations

import json
import logging
import math
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from knowledge.config import BUNDLED_MODEL
from knowledge.index.embeddings import resolve_model

log = logging.getLogger(__name__)

# OpenAI's limit on one training example for its current fine-tunable chat models.
OPENAI_MAX_TOKENS = 65_536
OPENAI_MIN_EXAMPLES = 10
TOKEN_ENCODING = "o200k_base"  # gpt-4o and gpt-4.1 families
TIKTOKEN_WAIT = 10.0  # seconds to wait for tiktoken to fetch its files before approximating


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based line (row, for parquet); 0 for the file as a whole
    message: str
    level: str = "error"  # error, warning

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.level}: {self.message}"


@dataclass(frozen=True)
class TokenCounter:
    exact: bool
    note: str
    _encoding: Any = None

    def count(self, text: str) -> int:
        if self._encoding is not None:
            return len(self._encoding.encode(text, disallowed_special=()))
        return math.ceil(len(text.encode("utf-8")) / 4)

    def messages(self, messages: list[dict]) -> int:
        """Tokens of a chat example as OpenAI counts them (3 per message, 1 per name, 3 to prime)."""
        n = 3
        for m in messages:
            n += 3
            for key, value in m.items():
                if isinstance(value, str):
                    n += self.count(value)
                if key == "name":
                    n += 1
        return n


@cache
def token_counter() -> TokenCounter:
    """tiktoken's o200k_base if its files are cached or can be fetched; else about 4 bytes a token.

    tiktoken downloads its BPE file on first use; offline that fails (or hangs on a silent
    network), so it gets a few seconds in a daemon thread.
    """
    result: dict[str, Any] = {}

    def load() -> None:
        try:
            import tiktoken

            result["encoding"] = tiktoken.get_encoding(TOKEN_ENCODING)
        except Exception as e:  # no network, no cache, no tiktoken
            result["error"] = e

    t = threading.Thread(target=load, name="tacit-tiktoken", daemon=True)
    t.start()
    t.join(TIKTOKEN_WAIT)
    if "encoding" in result:
        return TokenCounter(True, f"token counts: tiktoken {TOKEN_ENCODING}", result["encoding"])
    why = result.get("error")
    reason = f"{type(why).__name__}" if why else f"no answer in {TIKTOKEN_WAIT:.0f}s"
    return TokenCounter(
        False,
        f"token counts are approximate (UTF-8 bytes / 4): tiktoken could not load "
        f"{TOKEN_ENCODING} ({reason}; it downloads its files on first use)",
    )


def trl_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("trl") is not None


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
                if "messages" in keys:
                    return "openai"
                if "conversations" in keys:
                    return "sharegpt"
                if "instruction" in keys or "output" in keys:
                    return "alpaca"
                break
    raise ValueError(f"{path}: cannot tell the format from its first line; give --format")


_OPENAI_TOP = {"messages", "tools", "parallel_tool_calls", "functions"}
_OPENAI_MESSAGE = {
    "role",
    "content",
    "name",
    "weight",
    "function_call",
    "tool_calls",
    "tool_call_id",
}
_OPENAI_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


def check_openai(obj: Any, tokens: TokenCounter, max_tokens: int = OPENAI_MAX_TOKENS) -> list[str]:
    """OpenAI's chat fine-tuning rules for one example; one message per rule broken."""
    if not isinstance(obj, dict):
        return ["an example must be a JSON object"]
    out = []
    extra = set(obj) - _OPENAI_TOP
    if extra:
        out.append(f"unexpected key(s) {sorted(extra)}: only 'messages' belongs on the line")
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        return [*out, "'messages' must be a non-empty list"]
    assistant = False
    for k, m in enumerate(messages, 1):
        if not isinstance(m, dict):
            out.append(f"message {k} is not an object")
            continue
        extra = set(m) - _OPENAI_MESSAGE
        if extra:
            out.append(f"message {k}: unexpected key(s) {sorted(extra)}")
        role = m.get("role")
        if role not in _OPENAI_ROLES:
            out.append(f"message {k}: role {role!r} is not one of {sorted(_OPENAI_ROLES)}")
        assistant |= role == "assistant"
        content = m.get("content")
        calls = role == "assistant" and (m.get("function_call") or m.get("tool_calls"))
        if not calls and not _text(content):
            out.append(f"message {k} ({role}): content is missing or empty")
        if "weight" in m and (role != "assistant" or m["weight"] not in (0, 1)):
            out.append(f"message {k}: weight must be 0 or 1, on assistant messages only")
    if not assistant:
        out.append("no assistant message: nothing to learn from this example")
    if not out:
        n = tokens.messages(messages)
        if n > max_tokens:
            about = "" if tokens.exact else "about "
            out.append(f"{about}{n} tokens, over the {max_tokens} a training example may hold")
    return out


def _text(content: Any) -> bool:
    if isinstance(content, str):
        return bool(content.strip())
    if isinstance(content, list) and content:  # content parts
        return all(
            isinstance(p, dict)
            and (
                (p.get("type") == "text" and _text(p.get("text")))
                or (p.get("type") == "image_url" and isinstance(p.get("image_url"), dict))
            )
            for p in content
        )
    return False


_SHAREGPT_TOP = {"conversations", "system", "tools"}
_SHAREGPT_FROM = {"system", "human", "gpt", "function_call", "observation"}


def check_sharegpt(obj: Any) -> list[str]:
    """ShareGPT as LLaMA-Factory and axolotl read it: {"conversations": [{"from", "value"}]}."""
    if not isinstance(obj, dict):
        return ["an example must be a JSON object"]
    out = []
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


_ALPACA_KEYS = {"instruction", "input", "output", "system", "history"}


def check_alpaca(obj: Any) -> list[str]:
    if not isinstance(obj, dict):
        return ["an example must be a JSON object"]
    out = []
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


class _TRL:
    """TRL's own reading of conversational data (when trl is installed).

    Every line goes through `is_conversational` (what SFTTrainer uses to pick the chat path);
    the first lines are also rendered with a ChatML template through trl's
    `apply_chat_template`, as SFTTrainer would.
    """

    RENDER = 200
    CHATML = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )

    def __init__(self) -> None:
        from trl import data_utils

        self.du = data_utils
        self.rendered = 0
        self.tokenizer = None
        self.note = "TRL: is_conversational on every line"
        try:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(resolve_model(BUNDLED_MODEL))
            tok.chat_template = self.CHATML
            self.tokenizer = tok
            self.note += (
                f", ChatML rendering through apply_chat_template on the first {self.RENDER}"
            )
        except Exception as e:  # no tokenizer on disk: the shape check still runs
            self.note += f" (no tokenizer to render with: {type(e).__name__})"

    def check(self, fmt: str, obj: dict) -> list[str]:
        if fmt == "sharegpt":
            if not self.du.is_conversational_from_value(obj):
                return ["TRL does not read this as from/value conversational data"]
            obj = self.du.maybe_convert_to_chatml(json.loads(json.dumps(obj)))
            roles = {"human": "user", "gpt": "assistant"}
            for m in obj["messages"]:
                m["role"] = roles.get(m["role"], m["role"])
        if not self.du.is_conversational(obj):
            return ["TRL does not read this as conversational data (is_conversational)"]
        if self.tokenizer is not None and self.rendered < self.RENDER:
            self.rendered += 1
            try:
                out = self.du.apply_chat_template({"messages": obj["messages"]}, self.tokenizer)
            except Exception as e:
                return [f"TRL apply_chat_template failed: {type(e).__name__}: {e}"]
            if not out.get("text"):
                return ["TRL apply_chat_template rendered nothing"]
        return []


def check_notes(fmt: str) -> list[str]:
    """What `check_file` applies for this format, and what it could not."""
    notes = []
    if fmt in ("openai", "hf"):
        notes.append(token_counter().note)
    if fmt == "alpaca":
        notes.append("TRL: alpaca is not a TRL format (TRL reads messages or prompt/completion)")
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
        return _check_hf(path, max_tokens=max_tokens, trl=trl)
    if fmt not in ("openai", "sharegpt", "alpaca"):
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


def _check_hf(folder: Path, *, max_tokens: int, trl: bool | None) -> list[Problem]:
    import pyarrow.parquet as pq
    import yaml

    problems: list[Problem] = []
    readme = folder / "README.md"
    if not readme.is_file():
        return [Problem(0, "no README.md (the dataset card)")]
    text = readme.read_text(encoding="utf-8")
    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        return [Problem(0, "README.md has no YAML header between --- lines")]
    try:
        header = yaml.safe_load(text[4 : text.index("\n---\n", 4)])
    except yaml.YAMLError as e:
        return [Problem(0, f"README.md YAML header does not parse: {e}")]
    for key in ("license", "language", "size_categories", "configs", "dataset_info"):
        if key not in (header or {}):
            problems.append(Problem(0, f"README.md YAML header has no '{key}'"))
    files = sorted((folder / "data").glob("*.parquet"))
    if not files:
        return [*problems, Problem(0, "no parquet files under data/")]
    use_trl = trl_available() if trl is None else trl
    checker = _TRL() if use_trl else None
    tokens = token_counter()
    for file in files:
        row_no = 0
        for batch in pq.ParquetFile(file).iter_batches(batch_size=2000, columns=["id", "messages"]):
            for row in batch.to_pylist():
                row_no += 1
                obj = {"messages": row["messages"]}
                found = check_openai(obj, tokens, max_tokens)
                if not found and checker is not None:
                    found = checker.check("openai", obj)
                problems.extend(Problem(row_no, f"{file.name}: {m}") for m in found)
    try:
        import datasets

        with tempfile.TemporaryDirectory() as cache_dir:
            datasets.load_dataset(str(folder), cache_dir=cache_dir)
    except Exception as e:
        problems.append(
            Problem(0, f"datasets.load_dataset cannot load it: {type(e).__name__}: {e}")
        )
    return problems
