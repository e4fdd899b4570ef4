"""Chatbot stock phrases: validated data in knowledge/prompts/quality/boilerplate.toml."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from knowledge.errors import SetupError

DEFAULT_PHRASES: Traversable = files("knowledge") / "prompts" / "quality" / "boilerplate.toml"

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


class BoilerplateError(SetupError, ValueError):
    """The phrases file cannot be used; the message names the file and the field."""


class PhraseList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    phrases: list[str] = Field(min_length=1)

    @field_validator("phrases")
    @classmethod
    def _clean(cls, phrases: list[str]) -> list[str]:
        out = []
        for i, p in enumerate(phrases):
            if not normalise(p):
                raise ValueError(f"phrase {i + 1} is empty")
            if normalise(p) in (normalise(o) for o in out):
                raise ValueError(f"phrase {p!r} appears twice")
            out.append(p)
        return out


class Boilerplate:
    """Finds the stock phrases an answer contains."""

    def __init__(self, phrases: list[str]):
        self.phrases = phrases
        self._patterns = [(p, _pattern(p)) for p in phrases]

    def find(self, text: str) -> list[str]:
        """The phrases found, in the order they appear in the text."""
        norm = normalise(text)
        found = [(m.start(), p) for p, pattern in self._patterns if (m := pattern.search(norm))]
        return [p for _, p in sorted(found)]


def normalise(text: str) -> str:
    return " ".join(text.translate(_QUOTES).lower().split())


@cache
def load_boilerplate(path: Path | None = None) -> Boilerplate:
    source: Path | Traversable = path or DEFAULT_PHRASES
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
        return Boilerplate(PhraseList.model_validate(data).phrases)
    except OSError as e:
        raise BoilerplateError(f"{source}: cannot read it ({e.strerror or e})") from None
    except tomllib.TOMLDecodeError as e:
        raise BoilerplateError(f"{source}: {e}") from None
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(file)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise BoilerplateError(f"{source}: {field}: {msg}") from None


def _pattern(phrase: str) -> re.Pattern[str]:
    norm = normalise(phrase)
    # A word boundary only where the phrase starts or ends with a word character.
    start = r"\b" if norm[0].isalnum() else ""
    end = r"\b" if norm[-1].isalnum() else ""
    return re.compile(start + re.escape(norm) + end)
