"""Simulated experts at the keyboard: when each message or line of a real answer would arrive.

A human types a sustained 150-400 characters a minute (drawn per answer), each message a little
faster or slower than that (x0.75-1.35, so bursts reach ~540), thinks before starting (3-30 s) and
between sentences (0.3-6 s), and in Discord sends 1-3 sentences a message (at most 1,800
characters), with a typing event when typing starts and every 9.5 s while it goes on, as
Discord's clients send them. A paste arrives after a wait for the chatbot (20-120 s): in the
terminal as lines within a few milliseconds, in Discord as one message (several when longer than
Discord allows) with one typing event just before each, or none.

Timings are offsets in seconds from the moment the question was shown; the benchmark and the
tests play them on a simulated clock, so no test waits for them.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

DISCORD_MAX = 1800
TYPING_EVERY = 9.5  # seconds between a Discord client's typing events while typing goes on

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Send:
    """One message or line: when it arrives, what it says, and typing events before it."""

    at: float
    text: str
    typing: list[float] = field(default_factory=list)


def sentences(text: str) -> list[str]:
    out = []
    for s in _SENTENCE.split(" ".join(text.split())):
        while len(s) > DISCORD_MAX:  # a run-on "sentence": cut at a space
            cut = s.rfind(" ", 0, DISCORD_MAX)
            cut = cut if cut > 0 else DISCORD_MAX
            out.append(s[:cut])
            s = s[cut:].strip()
        if s:
            out.append(s)
    return out


def human_discord(text: str, rng: random.Random) -> list[Send]:
    """The answer typed by a person in Discord: messages of 1-3 sentences."""
    cpm = rng.uniform(150, 400)
    parts = sentences(text)
    sends, t, i = [], rng.uniform(3, 30), 0
    while i < len(parts):
        group = [parts[i]]
        i += 1
        while i < len(parts) and len(group) < rng.randint(1, 3):
            if sum(len(g) + 1 for g in group) + len(parts[i]) > DISCORD_MAX:
                break
            group.append(parts[i])
            i += 1
        start = t
        speed = cpm * rng.uniform(0.75, 1.35)
        for s in group:
            t += len(s) / speed * 60 + rng.uniform(0.3, 6)
        typing = [start + k * TYPING_EVERY for k in range(int((t - start) // TYPING_EVERY) + 1)]
        sends.append(Send(t, " ".join(group), typing))
        t += rng.uniform(1, 15)
    return sends


def human_terminal(text: str, rng: random.Random, *, width: int = 100) -> list[Send]:
    """The answer typed by a person in `tacit chat`: lines of about `width` characters."""
    cpm = rng.uniform(150, 400)
    t = rng.uniform(3, 30)
    sends = []
    for line in _lines(text, width):
        speed = cpm * rng.uniform(0.75, 1.35)
        t += len(line) / speed * 60 + (rng.uniform(0.3, 6) if rng.random() < 0.3 else 0.2)
        sends.append(Send(t, line))
    return sends


def pasted_discord(text: str, rng: random.Random, *, typing: bool = True) -> list[Send]:
    """The answer pasted into Discord: Discord's clients send a typing event on a paste."""
    t = rng.uniform(20, 120)
    sends = []
    for chunk in _chunks(sentences(text)):
        before = t - rng.uniform(0.2, 1.5)
        sends.append(Send(t, chunk, [before] if typing else []))
        t += rng.uniform(1, 3)
    return sends


def pasted_terminal(text: str, rng: random.Random, *, width: int = 100) -> list[Send]:
    """The answer pasted into `tacit chat`: every line within a few milliseconds."""
    t = rng.uniform(20, 120)
    sends = []
    for line in _lines(text, width):
        sends.append(Send(t, line))
        t += rng.uniform(0.0002, 0.004)
    return sends


def _lines(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    if line:
        lines.append(line)
    return lines


def _chunks(parts: list[str]) -> list[str]:
    chunks, cur = [], ""
    for p in parts:
        if cur and len(cur) + 1 + len(p) > DISCORD_MAX:
            chunks.append(cur)
            cur = p
        else:
            cur = f"{cur} {p}" if cur else p
    if cur:
        chunks.append(cur)
    return chunks


def arrival_of(
    sends: list[Send],
    platform: str,
    *,
    question_at,
    typing_watched: bool = False,
):
    """The Arrival a front-end records for these sends, the question shown at `question_at`
    (Discord's resolution: messages to the millisecond, typing events to the second)."""
    from datetime import timedelta

    from knowledge.quality import ArrivalLog
    from knowledge.vocab import Platform

    log = ArrivalLog(Platform(platform), question_at=question_at, typing_watched=typing_watched)
    for i, s in enumerate(sends):
        log.add(question_at + timedelta(milliseconds=round(s.at * 1000)), len(s.text), key=i)
        for t in s.typing:
            log.typed(question_at + timedelta(seconds=int(t)))
    return log.freeze()
