"""The words the whole product shares: statuses, export formats, policies and phases.

Each vocabulary is defined once, here; storage columns, click choices and slash-command choices
are derived from these enums.
"""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    """Where an expert is known from: the `platform` of their record."""

    discord = "discord"
    terminal = "terminal"


class InterviewStatus(StrEnum):
    active = "active"
    paused = "paused"
    completed = "completed"
    ended = "ended"  # stopped by the expert before the guide's end


class TurnStatus(StrEnum):
    asked = "asked"
    answered = "answered"
    skipped = "skipped"
    withdrawn = "withdrawn"  # the expert withdrew every entry of the answer: its words are gone


class EntryStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    duplicate = "duplicate"


class ExportFormat(StrEnum):
    openai = "openai"  # chat JSONL, OpenAI's fine-tuning format
    sharegpt = "sharegpt"
    alpaca = "alpaca"  # single-turn only
    hf = "hf"  # a Hugging Face dataset folder (parquet per split + card)
    dpo = "dpo"  # preference pairs, TRL's conversational prompt/chosen/rejected JSONL


class Turns(StrEnum):
    """Which examples an export builds from the entries."""

    single = "single"
    multi = "multi"
    both = "both"


class PIIPolicy(StrEnum):
    """What an export does with personal data it finds."""

    redact = "redact"  # replace each span with a placeholder such as [PHONE]
    hold = "hold"  # leave the whole example out
    off = "off"  # keep the text as it is


class OnErasure(StrEnum):
    """What erasure (forgetting an expert, withdrawing an entry) does to export files on disk."""

    rewrite = "rewrite"  # write them again without the erased examples
    delete = "delete"  # delete every file of an export that held any of them


class ExportPhase(StrEnum):
    """The steps of an export, in order, as progress reports name them."""

    scan = "scan"
    vectors = "vectors"
    duplicates = "duplicates"
    write = "write"

    @property
    def label(self) -> str:
        return {
            "scan": "reading entries",
            "vectors": "reading stored vectors",
            "duplicates": "finding near-duplicates",
            "write": "writing examples",
        }[self.value]


def values(enum: type[StrEnum]) -> list[str]:
    """The enum's values, in order: for click.Choice and slash-command choices."""
    return [m.value for m in enum]
