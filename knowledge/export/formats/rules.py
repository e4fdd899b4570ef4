"""The rules every chat format shares: OpenAI's (with exact token counts) and TRL's reading."""

from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import dataclass
from functools import cache
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


def _id_problem(obj: dict) -> list[str]:
    """`id` is optional; when there, the non-empty string the provenance is keyed by."""
    if "id" in obj and (not isinstance(obj["id"], str) or not obj["id"].strip()):
        return [f"'id' must be a non-empty string, got {obj['id']!r}"]
    return []


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
    """tiktoken's o200k_base, exact: its file rebuilt from the copy quicktok-v1 ships and checked
    against tiktoken's hash (`encodings.py`), so nothing is downloaded. Without that package,
    tiktoken may still have the file cached or fetch it (a few seconds in a daemon thread: a
    silent network hangs); else about 4 UTF-8 bytes a token, and over-limit is a warning.
    """
    from knowledge.export.formats.encodings import EncodingUnavailable, offline_encoding

    try:
        encoding = offline_encoding(TOKEN_ENCODING)
        return TokenCounter(
            True, f"token counts: tiktoken {TOKEN_ENCODING} (shipped file, hash checked)", encoding
        )
    except (EncodingUnavailable, ImportError) as e:
        shipped = str(e)
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
        f"token counts are approximate (UTF-8 bytes / 4): {shipped}, and tiktoken could not "
        f"load {TOKEN_ENCODING} ({reason}; it downloads its files on first use)",
    )


def trl_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("trl") is not None


_OPENAI_TOP = {"id", "messages", "tools", "parallel_tool_calls", "functions"}
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
    out = _id_problem(obj)
    extra = set(obj) - _OPENAI_TOP
    if extra:
        out.append(f"unexpected key(s) {sorted(extra)}: only 'id' and 'messages' belong here")
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
            if fmt == "dpo":
                return self._render_pair(obj)
            try:
                out = self.du.apply_chat_template({"messages": obj["messages"]}, self.tokenizer)
            except Exception as e:
                return [f"TRL apply_chat_template failed: {type(e).__name__}: {e}"]
            if not out.get("text"):
                return ["TRL apply_chat_template rendered nothing"]
        return []

    def _render_pair(self, obj: dict) -> list[str]:
        """As DPOTrainer prepares a conversational pair: maybe_apply_chat_template gives the
        prompt (ending with the assistant's header) and the two completions as text."""
        pair = {k: obj[k] for k in ("prompt", "chosen", "rejected")}
        try:
            out = self.du.maybe_apply_chat_template(pair, self.tokenizer)
        except Exception as e:
            return [f"TRL maybe_apply_chat_template failed: {type(e).__name__}: {e}"]
        if not all(isinstance(out.get(k), str) and out[k] for k in pair):
            return ["TRL maybe_apply_chat_template did not give prompt, chosen and rejected text"]
        if out["chosen"] == out["rejected"]:
            return ["TRL renders chosen and rejected as the same text"]
        return []
