"""False flags and paste detection: the real transcripts' answers typed at human pace, and pasted.

Every answer in ../shared/data/real/*.qa.jsonl goes through two front-ends, on a simulated clock
(bench/typist.py draws the timings):
- the terminal: `tacit chat`'s own TerminalInterview reads the lines from a scripted keyboard,
  through the real engine and storage, and the flags stored with each turn are counted;
- Discord: the bot's own answer-in-progress (bot/exts/interview/_answers.py) is filled the way
  its listeners fill it (message times at Discord's millisecond resolution, typing events in
  whole seconds) and checked by the same QualityChecker the engine uses. The whole bot path, over
  the gateway, is exercised by tests/bot/test_answer_quality.py on fewer answers.
A false flag is a `pasted` flag on a human-typed answer; detection is the share of pasted answers
of at least `[quality] min_chars` characters flagged `pasted` (shorter ones are never judged).
"""

from __future__ import annotations

import asyncio
import io
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.common import real_answers, scratch, settings_in
from bench.typist import Send, human_discord, human_terminal, pasted_discord, pasted_terminal

SEED = 12


class SimClock:
    """The simulated time: the scripted keyboard moves it, the front-end reads it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Keyboard:
    """Stands in for a terminal: each answer's lines at their times, an empty line to send."""

    def __init__(self, answers: list[list[Send]], clock: SimClock) -> None:
        self.answers, self.clock = answers, clock
        self.given = 0  # answers begun
        self._queue: list[str] = []
        self._base = clock.now
        self._ended = False

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        if not self._queue:
            if self.given >= len(self.answers):  # one /end, then end of input
                ended, self._ended = self._ended, True
                return "" if ended else "/end\n"
            self._base = self.clock.now
            sends = self.answers[self.given]
            self._queue = [*(f"{s.at}\t{s.text}" for s in sends), ""]
            self.given += 1
        item = self._queue.pop(0)
        if not item:
            return "\n"
        at, text = item.split("\t", 1)
        self.clock.now = max(self.clock.now, self._base + timedelta(seconds=float(at)))
        return text + "\n"


async def through_terminal(answers: list[list[Send]], encoder, *, per_interview: int = 25):
    """Type the answers into `tacit chat` (a new interview every `per_interview`); the flags."""
    from rich.console import Console
    from sqlalchemy import select

    from knowledge.cli.terminal import TerminalInterview
    from knowledge.storage import Database, Turn

    folder = scratch()
    settings = settings_in(folder)
    clock = SimClock()
    done = 0
    n = 0
    while done < len(answers):
        batch = answers[done : done + per_interview]
        keys = Keyboard(batch, clock)
        term = TerminalInterview(
            settings,
            name=f"typist-{n}",
            stdin=keys,
            out=Console(file=io.StringIO()),
            clock=clock,
            encoder=encoder,
        )
        await term.run(guide_slug="generic", consent=True, resume=None)
        done += max(keys.given, 1)
        n += 1
    db = Database(settings.database.url)
    try:
        async with db.sessions() as s:
            rows = await s.execute(
                select(Turn.answer, Turn.flags).where(Turn.answer.is_not(None)).order_by(Turn.id)
            )
            return [(a, [f["kind"] for f in flags or ()]) for a, flags in rows.all()]
    finally:
        await db.close()


def through_discord(answers: list[list[Send]], checker) -> list[tuple[str, list[str]]]:
    """Fill the bot's answer in progress as its listeners do, and check it as the engine does."""
    from bot.exts.interview._answers import Part, PendingAnswer

    out = []
    clock = SimClock()
    for sends in answers:
        t0 = clock.now.replace(microsecond=0)
        pend = PendingAnswer(turn_id=0)
        pend.arrival.question_at = t0
        pend.arrival.typing_watched = True
        for i, s in enumerate(sends):
            at = t0 + timedelta(milliseconds=round(s.at * 1000))  # snowflakes: milliseconds
            pend.parts[i] = Part(s.text)
            pend.arrival.add(at, len(s.text.strip()), key=i)
            for t in s.typing:  # TYPING_START carries whole seconds
                pend.arrival.typed(t0 + timedelta(seconds=int(t)))
        _, flags = checker.at_save(pend.text(), pend.arrival.freeze())
        out.append((pend.text(), [f["kind"] for f in flags]))
        clock.now += timedelta(minutes=30)
    return out


@dataclass(frozen=True)
class Counts:
    answers: int
    flagged: int
    judged: int  # answers of at least min_chars characters

    @property
    def rate(self) -> float:
        return self.flagged / self.answers if self.answers else 0.0

    @property
    def judged_rate(self) -> float:
        return self.flagged / self.judged if self.judged else 0.0


def count(results, min_chars: int, kind: str = "pasted") -> Counts:
    return Counts(
        len(results),
        sum(kind in flags for _, flags in results),
        sum(len(a) >= min_chars for a, _ in results),
    )


async def measure(*, terminal_every: int = 1, encoder=None, seed: int = SEED) -> dict[str, float]:
    """The figures; `terminal_every` types only every n-th answer into the terminal (the
    slower path: the real engine stores each one), Discord's path takes them all."""
    from knowledge.config import QualitySettings
    from knowledge.index import SentenceTransformerEncoder
    from knowledge.quality import QualityChecker

    texts = real_answers()
    typed = texts[::terminal_every]
    rng = random.Random(seed)
    settings = QualitySettings()
    checker = QualityChecker(None, None, settings)
    encoder = encoder or SentenceTransformerEncoder()
    # One run of the terminal for both: the human-paced answers, then the same pasted.
    both = [human_terminal(t, rng) for t in typed] + [pasted_terminal(t, rng) for t in typed]
    results = await through_terminal(both, encoder)
    human_t, paste_t = results[: len(typed)], results[len(typed) :]
    human_d = through_discord([human_discord(t, rng) for t in texts], checker)
    paste_d = through_discord([pasted_discord(t, rng) for t in texts], checker)
    paste_quiet = through_discord([pasted_discord(t, rng, typing=False) for t in texts], checker)
    m = settings.min_chars
    figures: dict[str, float] = {"answers": len(texts)}
    for name, results in (("terminal", human_t), ("discord", human_d)):
        c = count(results, m)
        figures[f"{name} human-pace answers"] = c.answers
        figures[f"{name} false pasted flags"] = c.flagged
        figures[f"{name} false-flag rate"] = round(c.rate, 4)
    for name, results in (
        ("terminal paste", paste_t),
        ("discord paste", paste_d),
        ("discord paste, no typing event", paste_quiet),
    ):
        c = count(results, m)
        figures[f"{name}: answers >= {m} chars"] = c.judged
        figures[f"{name}: flagged"] = c.flagged
        figures[f"{name}: detection rate"] = round(c.judged_rate, 4)
    figures["boilerplate flags on human answers"] = sum(
        count(r, m, "boilerplate").flagged for r in (human_t, human_d)
    )
    return figures


def run() -> dict[str, float]:
    # Every 4th answer through the terminal (each one a full turn of the engine), all of
    # them through Discord's capture.
    return asyncio.run(measure(terminal_every=4))


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k}: {v}")
