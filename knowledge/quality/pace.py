"""How fast an answer came: typing speed over runs of its messages or lines, and the `pasted` flag.

For every run of consecutive chunks (messages, edits or lines) the window starts where typing of
its first chunk could have begun: the first typing event after the chunk before it, else that
chunk's arrival (or the question's). The window is as generous as the facts allow, so a run
faster than `max_chars_per_minute` could not have been typed. A paste in the terminal shows as
lines within milliseconds of each other; in Discord as one long message seconds after typing
began, or long after the question with no typing seen at all (evidence, not proof).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from knowledge.config import QualitySettings
from knowledge.quality.arrival import Arrival

MIN_SECONDS = 0.01  # lines of one paste can share a timestamp


@dataclass(frozen=True)
class Run:
    """Chunks `first`..`last` (inclusive) and the time they could have been typed in."""

    first: int
    last: int
    chars: int
    seconds: float
    typing_seen: bool

    @property
    def per_minute(self) -> float:
        return self.chars / max(self.seconds, MIN_SECONDS) * 60


@dataclass(frozen=True)
class Pace:
    """An answer's arrival in figures, as review cards and `tacit entries show` print them."""

    chars: int  # typed characters (messages, edits, lines)
    chunks: int
    seconds: float | None  # from the question to the last chunk (None: question time unknown)
    active_seconds: float  # the same with each gap capped at the idle gap: time worked
    typing_events: int
    fastest: Run | None  # the fastest run of at least min_chars characters
    too_fast: Run | None = None  # the longest run faster than the limit (the paste, whole)

    @property
    def per_minute(self) -> float | None:
        if not self.seconds or not self.chars:
            return None
        return self.chars / max(self.seconds, MIN_SECONDS) * 60


def pace_of(
    arrival: Arrival,
    *,
    min_chars: int,
    idle_gap_seconds: float,
    max_per_minute: float = float("inf"),
) -> Pace:
    chunks = arrival.chunks
    times = [c.at for c in chunks]
    previous: list[datetime | None] = [arrival.question_at, *times[:-1]]
    starts = [_typing_start(arrival, previous[i], times[i]) for i in range(len(chunks))]
    fastest: Run | None = None
    too_fast: Run | None = None
    for i in range(len(chunks)):
        if starts[i] is None:
            continue
        chars = 0
        for j in range(i, len(chunks)):
            chars += chunks[j].chars
            if chars < min_chars:
                continue
            seen = _typing_between(arrival, previous[i], times[j])
            run = Run(i, j, chars, (times[j] - starts[i]).total_seconds(), seen)
            if fastest is None or run.per_minute > fastest.per_minute:
                fastest = run
            if run.per_minute > max_per_minute and (too_fast is None or chars > too_fast.chars):
                too_fast = run
    seconds = None
    active = 0.0
    if chunks and arrival.question_at is not None:
        seconds = max(0.0, (times[-1] - arrival.question_at).total_seconds())
        for before, at in zip(previous, times, strict=True):
            gap = (at - before).total_seconds() if before is not None else 0.0
            active += min(max(gap, 0.0), idle_gap_seconds)
    return Pace(
        chars=sum(c.chars for c in chunks),
        chunks=len(chunks),
        seconds=seconds,
        active_seconds=active,
        typing_events=len(arrival.typing),
        fastest=fastest,
        too_fast=too_fast,
    )


def pasted(arrival: Arrival, pace: Pace, settings: QualitySettings) -> str | None:
    """The reason to flag the answer as pasted, or None."""
    run = pace.too_fast
    if run is not None:
        what = _what(arrival, run)
        reason = (
            f"could not have been typed: {what} {run.chars:,} characters in "
            f"{duration(run.seconds)} ({run.per_minute:,.0f} a minute; the limit is "
            f"{settings.max_chars_per_minute:,.0f})"
        )
        if arrival.typing_watched and not run.typing_seen:
            reason += "; no typing was seen before it"
        return reason
    if not (arrival.typing_watched and settings.untyped_message_chars):
        return None
    previous = [arrival.question_at, *(c.at for c in arrival.chunks[:-1])]
    for i, c in enumerate(arrival.chunks):
        if c.kind != "message" or c.chars < settings.untyped_message_chars:
            continue
        if _typing_between(arrival, previous[i], c.at):
            continue
        after = "the question" if i == 0 else "the message before"
        gap = f" {duration((c.at - previous[i]).total_seconds())}" if previous[i] else ""
        return (
            f"may be pasted (evidence, not proof): a {c.chars:,}-character message{gap} "
            f"after {after}, with no typing seen"
        )
    return None


def describe(pace: Pace, arrival: Arrival) -> str:
    """One line: how the answer arrived, e.g. '3 messages over 4 min 12 s, 310 a minute'."""
    noun = {"terminal": "line"}.get(str(arrival.platform), "message")
    parts = [f"{pace.chunks} {noun}{'s' if pace.chunks != 1 else ''}"]
    if pace.seconds is not None:
        parts[0] += f" over {duration(pace.seconds)}"
    if pace.per_minute is not None:
        parts.append(f"{pace.per_minute:,.0f} characters a minute")
    if arrival.typing_watched:
        parts.append(f"{pace.typing_events} typing event{'s' if pace.typing_events != 1 else ''}")
    if arrival.file_chars:
        parts.append(f"{arrival.file_chars:,} characters from files")
    return ", ".join(parts)


def duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f} s" if seconds < 1 else f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


# ---- internals -----------------------------------------------------------------------


def _typing_start(arrival: Arrival, before: datetime | None, at: datetime) -> datetime | None:
    """Where typing of the chunk arriving `at` could have begun (None: not known)."""
    for t in arrival.typing:
        if (before is None or t > before) and t <= at:
            return t
    return before


def _typing_between(arrival: Arrival, before: datetime | None, at: datetime) -> bool:
    return any((before is None or t > before) and t <= at for t in arrival.typing)


def _what(arrival: Arrival, run: Run) -> str:
    n = run.last - run.first + 1
    noun = "lines" if str(arrival.platform) == "terminal" else "messages"
    return f"{n} {noun}," if n > 1 else "a message of" if noun == "messages" else "a line of"
