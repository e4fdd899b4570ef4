"""Dataset file formats: writers for openai, sharegpt, alpaca and Hugging Face, and their checks.

Writers stream: one example in, one line (or one buffered parquet row) out. Files are written
under a temporary name and renamed on commit, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.dataset import ExportReport

log = logging.getLogger(__name__)

TRAIN, VALIDATION = "train", "validation"
SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}
# OpenAI's limit on one training example for its current fine-tunable chat models.
OPENAI_MAX_TOKENS = 65_536
OPENAI_MIN_EXAMPLES = 10
TOKEN_ENCODING = "o200k_base"  # gpt-4o and gpt-4.1 families
TIKTOKEN_WAIT = 10.0  # seconds to wait for tiktoken to fetch its files before approximating


@dataclass(frozen=True)
class Message:
    role: str  # system, user, assistant
    content: str


@dataclass
class Example:
    id: str  # "entry-<id>" (single turn) or "interview-<id>" (multi-turn)
    kind: str  # single, multi
    split: str
    guide: str
    profession: str
    probes: list[str]
    messages: list[Message]
    provenance: dict[str, Any]


def record(fmt: str, ex: Example) -> dict[str, Any] | None:
    """One example as a line of `fmt`; None when the format cannot hold it (alpaca, multi-turn)."""
    if fmt == "openai":
        return {"messages": [{"role": m.role, "content": m.content} for m in ex.messages]}
    if fmt == "sharegpt":
        return {
            "conversations": [
                {"from": SHAREGPT_FROM[m.role], "value": m.content} for m in ex.messages
            ]
        }
    if fmt == "alpaca":
        if ex.kind != "single":
            return None
        system = [m.content for m in ex.messages if m.role == "system"]
        user = [m.content for m in ex.messages if m.role == "user"]
        answer = [m.content for m in ex.messages if m.role == "assistant"]
        return {"instruction": user[0], "input": "", "output": answer[0], "system": system[0]}
    if fmt == "hf":
        return {
            "id": ex.id,
            "kind": ex.kind,
            "guide": ex.guide,
            "profession": ex.profession,
            "probes": ex.probes,
            "messages": [{"role": m.role, "content": m.content} for m in ex.messages],
        }
    raise ValueError(f"unknown format {fmt!r}")


# ---- writers ---------------------------------------------------------------------------------


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


try:  # orjson (a chromadb dependency) writes UTF-8 lines several times faster than json
    import orjson

    def _line(obj: Any) -> bytes:
        return orjson.dumps(obj) + b"\n"

except ImportError:  # pragma: no cover

    def _line(obj: Any) -> bytes:
        return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


class JsonlWriter:
    """openai, sharegpt and alpaca: one JSON object a line, one file per split."""

    def __init__(self, fmt: str, out: Path, splits: list[str]):
        self.fmt = fmt
        self.paths = jsonl_paths(out, splits)
        self.paths["provenance"] = provenance_path(fmt, out)
        for p in self.paths.values():
            p.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = {k: p.with_name(p.name + ".part") for k, p in self.paths.items()}
        self._files = {k: open(p, "wb") for k, p in self._tmp.items()}  # noqa: SIM115

    def write(self, ex: Example) -> bool:
        rec = record(self.fmt, ex)
        if rec is None:
            return False
        self._files[ex.split].write(_line(rec))
        self._files["provenance"].write(_line(ex.provenance))
        return True

    def commit(self, report: ExportReport) -> list[Path]:
        for f in self._files.values():
            f.close()
        for k, tmp in self._tmp.items():
            os.replace(tmp, self.paths[k])
        return list(self.paths.values())

    def abort(self) -> None:
        for f in self._files.values():
            f.close()
        for tmp in self._tmp.values():
            tmp.unlink(missing_ok=True)


class HfWriter:
    """A Hugging Face dataset folder: data/<split>-00000-of-00001.parquet, README.md (the card
    with its YAML header) and provenance.jsonl. Built in a sibling temporary folder."""

    GROUP_BYTES = 8 << 20  # text buffered per split before it becomes a parquet row group

    def __init__(self, out: Path, splits: list[str], card: CardInfo):
        import pyarrow as pa

        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(f"{out} already exists and is not an empty folder")
        self.out = out
        self.splits = splits
        self.card = card
        out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        (self.tmp / "data").mkdir()
        message = pa.struct([("role", pa.string()), ("content", pa.string())])
        self.schema = pa.schema(
            [
                ("id", pa.string()),
                ("kind", pa.string()),
                ("guide", pa.string()),
                ("profession", pa.string()),
                ("probes", pa.list_(pa.string())),
                ("messages", pa.list_(message)),
            ]
        )
        self._rows: dict[str, list[dict]] = {s: [] for s in splits}
        self._bytes: dict[str, int] = dict.fromkeys(splits, 0)
        self._writers: dict[str, Any] = {}
        self._prov = open(self.tmp / "provenance.jsonl", "wb")  # noqa: SIM115
        self.counts: dict[str, int] = Counter()

    def _file(self, split: str) -> Path:
        return self.tmp / "data" / f"{split}-00000-of-00001.parquet"

    def write(self, ex: Example) -> bool:
        self._rows[ex.split].append(record("hf", ex))
        self._prov.write(_line(ex.provenance))
        self.counts[ex.split] += 1
        self._bytes[ex.split] += sum(len(m.content) for m in ex.messages)
        if self._bytes[ex.split] >= self.GROUP_BYTES:
            self._flush(ex.split)
        return True

    def _flush(self, split: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = self._rows[split]
        if not rows:
            return
        if split not in self._writers:
            self._writers[split] = pq.ParquetWriter(self._file(split), self.schema)
        self._writers[split].write_table(pa.Table.from_pylist(rows, schema=self.schema))
        rows.clear()
        self._bytes[split] = 0

    def commit(self, report: ExportReport) -> list[Path]:
        import pyarrow.parquet as pq

        for split in self.splits:
            self._flush(split)
            if split not in self._writers:  # an empty split still gets its (empty) file
                pq.ParquetWriter(self._file(split), self.schema).close()
        for w in self._writers.values():
            w.close()
        self._prov.close()
        (self.tmp / "README.md").write_text(dataset_card(self.card, report), encoding="utf-8")
        if self.out.exists():
            self.out.rmdir()  # checked empty in __init__
        os.replace(self.tmp, self.out)
        files = [self.out / "README.md", self.out / "provenance.jsonl"]
        return files + [self.out / "data" / self._file(s).name for s in self.splits]

    def abort(self) -> None:
        for w in self._writers.values():
            w.close()
        self._prov.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def open_writer(fmt: str, out: Path, splits: list[str], card: CardInfo):
    if fmt == "hf":
        return HfWriter(out, splits, card)
    return JsonlWriter(fmt, out, splits)


# ---- the dataset card ------------------------------------------------------------------------

# Hugging Face licence identifiers, by the lower-cased name a config may use.
_HF_LICENCES = {
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0",
    "cc-by-nc-nd-4.0",
    "cc-by-nd-4.0",
    "cc0-1.0",
    "mit",
    "apache-2.0",
    "odc-by",
    "odbl",
    "openrail",
    "other",
    "unknown",
}


@dataclass
class CardInfo:
    title: str
    licence: str
    languages: list[str]
    how: list[str]  # how the data was made and cleaned, one sentence each
    splits: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


def size_category(n: int) -> str:
    for limit, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < limit:
            return label
    return "10M<n<100M"


def card_header(card: CardInfo, counts: dict[str, int]) -> dict[str, Any]:
    lic = card.licence.lower()
    header: dict[str, Any] = {"license": lic if lic in _HF_LICENCES else "other"}
    if header["license"] == "other":
        header["license_name"] = card.licence
    header.update(
        {
            "language": card.languages or ["en"],
            "pretty_name": card.title,
            "size_categories": [size_category(sum(counts.values()))],
            "task_categories": ["text-generation"],
            "tags": ["tacit-knowledge", "expert-interviews", "conversational", "sft"],
            "configs": [
                {
                    "config_name": "default",
                    "data_files": [
                        {"split": s, "path": f"data/{s}-*.parquet"} for s in card.splits
                    ],
                }
            ],
            "dataset_info": {
                "features": [
                    {"name": "id", "dtype": "string"},
                    {"name": "kind", "dtype": "string"},
                    {"name": "guide", "dtype": "string"},
                    {"name": "profession", "dtype": "string"},
                    {"name": "probes", "list": "string"},
                    {
                        "name": "messages",
                        "list": [
                            {"name": "role", "dtype": "string"},
                            {"name": "content", "dtype": "string"},
                        ],
                    },
                ],
                "splits": [{"name": s, "num_examples": counts.get(s, 0)} for s in card.splits],
            },
        }
    )
    return header


def dataset_card(card: CardInfo, report: ExportReport) -> str:
    import yaml

    counts = dict(report.examples)
    head = yaml.safe_dump(card_header(card, counts), sort_keys=False, allow_unicode=True)
    lines = [
        "---",
        head.rstrip(),
        "---",
        "",
        f"# {card.title}",
        "",
        "Answers given by working professionals in structured interviews (tacit, an interview "
        "bot that draws out tacit knowledge), reviewed by curators and exported as chat "
        "fine-tuning data. Each example has a system message that sets the profession's "
        "persona, then the interview's question(s) and the expert's answer(s).",
        "",
        "## Fields",
        "",
        "| field | type | what it holds |",
        "|---|---|---|",
        "| `id` | string | `entry-<n>` for a single question and answer, `interview-<n>` for a "
        "multi-turn conversation; the key into `provenance.jsonl` |",
        "| `kind` | string | `single` or `multi` |",
        "| `guide` | string | the interview guide (profession) it came from |",
        "| `profession` | string | the profession, as a phrase |",
        "| `probes` | list of string | the interviewing probe behind each answer "
        "(e.g. `cdm_cues`, `job_smarts`, `concrete_instance`) |",
        "| `messages` | list of {role, content} | `system`, then `user` and `assistant` turns |",
        "",
        "## Splits",
        "",
        "| split | examples | interviews |",
        "|---|---|---|",
        *(
            f"| {s} | {report.examples.get(s, 0)} | {report.interviews.get(s, 0)} |"
            for s in card.splits
        ),
        "",
        "No interview has examples in more than one split.",
        "",
        "## Counts",
        "",
        "| profession | examples |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in sorted(report.by_profession.items())),
        "",
        "| probe type | answers |",
        "|---|---|",
        *(f"| `{k}` | {v} |" for k, v in sorted(report.by_probe.items())),
        "",
        "## How it was made",
        "",
        *(f"- {sentence}" for sentence in card.how),
        "",
        "## Provenance",
        "",
        "`provenance.jsonl` holds one line per example, keyed by `id`: the entry and interview "
        "ids, the guide and probe of each answer, the expert's pseudonym (never a name), the "
        "consent version the expert agreed to, the licence, the curator and time of the "
        "decision, and whether a curator edited the text.",
        "",
        "## Licence",
        "",
        f"{card.licence}. Keep the attribution when redistributing.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'ds = load_dataset("path/to/this/folder")',
        "```",
        "",
    ]
    return "\n".join(lines)


# ---- checks ----------------------------------------------------------------------------------


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
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                try:
                    keys = set(json.loads(line))
                except (ValueError, TypeError):
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

            from knowledge.config import BUNDLED_MODEL
            from knowledge.embeddings import resolve_model

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
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                problems.append(Problem(n, "empty line"))
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                problems.append(Problem(n, f"not valid JSON: {e}"))
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
