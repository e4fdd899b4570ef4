"""What an export is asked to do, and the report of what it did."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from knowledge.errors import TacitError
from knowledge.export.formats import TRAIN, VALIDATION  # noqa: F401  (re-exported)
from knowledge.export.scores import parse_min_scores
from knowledge.vocab import EntryStatus, ExportFormat, PIIPolicy, Turns, values


class ExportError(TacitError, ValueError):
    """An export that cannot run as asked; the message says why, in one line."""

    exit_code = 1


# ---- what to export --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how. `None` fields take their value from [export] settings."""

    out: Path
    format: str = "openai"
    status: str = "approved"
    guide: str | None = None
    expert: str | None = None  # pseudonym, or the expert's numeric id
    since: datetime | None = None  # decided (or, undecided, created) at or after
    split: float = 0.0  # share of entries, by whole interviews, in the validation split
    seed: int | None = None
    # single-turn examples, multi-turn, or both; None: both for hf (a config each), single
    # for the JSONL formats (both would repeat every answer in the one file)
    turns: str | None = None
    pii: str | None = None  # redact, hold, off
    dedupe_similarity: float | None = None  # cosine; above 1 turns removal off
    # Rubric minimums, (criterion, score): an entry's average on each must reach it.
    min_scores: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        _check("format", self.format, ExportFormat)
        _check("status", self.status, EntryStatus)
        if self.turns is None:
            object.__setattr__(self, "turns", "both" if self.format == "hf" else "single")
        _check("turns", self.turns, Turns)
        if not 0 <= self.split < 1:
            raise ExportError(f"split: {self.split} must be at least 0 and below 1")
        if self.pii is not None:
            _check("pii", self.pii, PIIPolicy)
        if self.min_scores:
            try:
                object.__setattr__(self, "min_scores", parse_min_scores(self.min_scores))
            except ValueError as e:
                raise ExportError(str(e)) from None
        if self.since is not None and self.since.tzinfo is None:
            object.__setattr__(self, "since", self.since.replace(tzinfo=UTC))


@dataclass
class ExportReport:
    format: str
    out: Path
    files: list[Path] = field(default_factory=list)
    entries: int = 0  # selected in SQL (consented experts, filters applied)
    examples: Counter = field(default_factory=Counter)  # by split
    kinds: Counter = field(default_factory=Counter)  # single, multi
    by_profession: Counter = field(default_factory=Counter)
    by_probe: Counter = field(default_factory=Counter)
    duplicates_removed: int = 0
    dedupe_method: str = "off"  # exact, lsh, off
    unchecked: int = 0  # entries with no stored vector: kept, not compared
    vectors_from_chroma: int = 0
    vectors_from_sql: int = 0
    held_pii: int = 0  # entries kept out under pii = "hold"
    held_flagged: int = 0  # entries a curator flagged for personal data
    redactions: Counter = field(default_factory=Counter)  # by kind of personal data
    not_in_format: int = 0  # multi-turn examples a single-turn format cannot hold
    interviews: Counter = field(default_factory=Counter)  # by split
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)  # the files written: train[, validation]
    # hf: per "<config>/<split>" (e.g. "single/train"): examples, their Arrow bytes (what
    # `datasets` records as num_bytes), the parquet file's size
    parts: Counter = field(default_factory=Counter)
    part_bytes: Counter = field(default_factory=Counter)
    part_size: Counter = field(default_factory=Counter)
    # What the files hold, for the registry (erasure finds its exports through it).
    entry_ids: array = field(default_factory=lambda: array("q"))  # with repeats (multi-turn)
    pseudonyms: set[str] = field(default_factory=set)
    card: dict | None = None  # the dataset card's fields (hf), to write it again after erasure
    export_id: int | None = None  # its id in the registry, once recorded

    @property
    def written(self) -> int:
        return sum(self.examples.values())


Progress = Callable[[str, int, int], None]  # (phase, done, total)


def no_progress(phase: str, done: int, total: int) -> None:
    pass


def _check(name: str, value: str, enum) -> None:
    if value not in values(enum):
        raise ExportError(f"{name}: {value!r} is not one of {', '.join(values(enum))}")
