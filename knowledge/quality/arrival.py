"""How an answer arrived: when its question was put, when each message or line came, typing seen.

Front-ends record these facts as they happen (Discord: message and typing timestamps; the
terminal: line arrival times) and hand them to the engine with the answer; they are stored with
the turn as JSON, so the flags can always be recomputed from what was seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from knowledge.vocab import Platform


@dataclass(frozen=True)
class Chunk:
    """One piece of an answer as it arrived: a message, an edit's new characters, a line."""

    at: datetime
    chars: int
    kind: str = "message"  # "message", "edit", "line"


@dataclass(frozen=True)
class Arrival:
    """The arrival facts of one answer, in the order they happened."""

    platform: Platform
    question_at: datetime | None  # when the question was posted or shown
    chunks: tuple[Chunk, ...] = ()
    typing: tuple[datetime, ...] = ()  # Discord typing events seen (the typing intent)
    typing_watched: bool = False  # whether typing events could be seen at all
    file_chars: int = 0  # characters read from attached text files (not typed, not timed)

    def as_json(self) -> dict[str, Any]:
        return {
            "platform": str(self.platform),
            "question_at": _iso(self.question_at),
            "chunks": [{"at": _iso(c.at), "chars": c.chars, "kind": c.kind} for c in self.chunks],
            "typing": [_iso(t) for t in self.typing],
            "typing_watched": self.typing_watched,
            "file_chars": self.file_chars,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Arrival:
        return cls(
            platform=Platform(data["platform"]),
            question_at=_time(data.get("question_at")),
            chunks=tuple(
                Chunk(_time(c["at"]), int(c["chars"]), c.get("kind", "message"))
                for c in data.get("chunks", ())
            ),
            typing=tuple(_time(t) for t in data.get("typing", ())),
            typing_watched=bool(data.get("typing_watched", False)),
            file_chars=int(data.get("file_chars", 0)),
        )

    def with_question_at(self, question_at: datetime | None) -> Arrival:
        """The same facts, with the question's time filled in when the front-end had none."""
        if self.question_at is not None or question_at is None:
            return self
        return Arrival(
            self.platform,
            question_at,
            self.chunks,
            self.typing,
            self.typing_watched,
            self.file_chars,
        )


@dataclass
class ArrivalLog:
    """Arrival facts being collected while an answer is written (front-ends fill it in).

    A chunk may carry a key (a Discord message id) so that a deleted message takes its
    characters out again."""

    platform: Platform
    question_at: datetime | None = None
    typing_watched: bool = False
    typing: list[datetime] = field(default_factory=list)
    file_chars: dict[int | None, int] = field(default_factory=dict)
    _chunks: list[tuple[int | None, Chunk]] = field(default_factory=list)

    def add(self, at: datetime, chars: int, kind: str = "message", key: int | None = None) -> None:
        if chars > 0:
            self._chunks.append((key, Chunk(at, chars, kind)))

    def drop(self, key: int) -> None:
        """A message deleted before the answer was handed over: its words are not in it."""
        self._chunks = [(k, c) for k, c in self._chunks if k != key]
        self.file_chars.pop(key, None)

    def typed(self, at: datetime) -> None:
        self.typing.append(at)

    def freeze(self) -> Arrival:
        return Arrival(
            self.platform,
            self.question_at,
            tuple(sorted((c for _, c in self._chunks), key=lambda c: c.at)),
            tuple(sorted(self.typing)),
            self.typing_watched,
            sum(self.file_chars.values()),
        )


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
