"""The follow-up moves: validated data in knowledge/prompts/followups/moves.toml.

A move is a way of asking about something the expert said (its cues, what they do about it, what
a newcomer would miss, its kinds, why it matters, one real instance, what a term is), with several
wordings. Each kind of step prefers some moves; a guide step may add its own, in the trade's words
(ACTA's follow-up pair, CDM's deepening probes), and those come first.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from knowledge.errors import SetupError
from knowledge.guides import Method, Move, Probe, Step

DEFAULT_MOVES: Traversable = files("knowledge") / "prompts" / "followups" / "moves.toml"


class MovesError(SetupError, ValueError):
    """The moves file cannot be used; the message names the field."""


class MoveBook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    methods: dict[Method, list[str]]
    # Per probe type: signs that a sentence already says what the probe asks.
    answered_by: dict[Probe, list[str]] = Field(default_factory=dict)
    moves: dict[str, Move]

    @model_validator(mode="after")
    def _consistent(self) -> MoveBook:
        for method in Method:
            if method not in self.methods:
                raise ValueError(f"methods: no moves for {method.value!r}")
        for method, names in self.methods.items():
            for name in names:
                if name not in self.moves:
                    raise ValueError(f"methods.{method.value}: unknown move {name!r}")
        for probe, patterns in self.answered_by.items():
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as e:
                    raise ValueError(f"answered_by.{probe.value}: {pattern!r}: {e}") from None
        wordings = [t for m in self.moves.values() for t in (*m.texts, *m.plain)]
        if dupes := {t for t in wordings if wordings.count(t) > 1}:
            raise ValueError(f"wording {sorted(dupes)[0]!r} appears twice")
        return self

    def for_step(self, step: Step) -> list[NamedMove]:
        """The moves a follow-up in this step may make, in order of preference."""
        own = [NamedMove(f"{step.id}:{m.probe.value}", m, own=True) for m in step.followups]
        shared = [NamedMove(n, self.moves[n]) for n in self.methods[step.method]]
        return own + shared

    def move(self, name: str) -> Move:
        return self.moves[name]

    def answered(self, move: Move, text: str) -> bool:
        """Whether `text` already says what the move asks (its own signs, else its probe's)."""
        if move.answered_by:
            return move.answered(text)
        return any(p.search(text) for p in _patterns(self.answered_by.get(move.probe, ())))


@dataclass(frozen=True)
class NamedMove:
    name: str  # the shared move's name, or "<step id>:<probe>" for a guide step's own
    move: Move
    own: bool = False  # a guide step's own move (the step's own probe)


def load_moves(path: Path | Traversable = DEFAULT_MOVES) -> MoveBook:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise MovesError(f"{path.name}: not valid TOML: {e}") from None
    try:
        return MoveBook.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise MovesError(f"{path.name}: {where}: {first['msg']}") from None


@cache
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.I)


def _patterns(patterns) -> list[re.Pattern]:
    return [_compiled(p) for p in patterns]


@cache
def default_moves() -> MoveBook:
    return load_moves()
