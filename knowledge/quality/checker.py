"""The quality checks of an answer at capture: pasted, boilerplate (at once), repeat (its vector).

`record` stores an answer's arrival facts and its pasted/boilerplate flags on the turn right
after the answer is saved (best effort: a failure costs the flags, never the answer);
`check_repeat` runs in the background once the answer's entries have their vectors, and asks
Chroma for the nearest answers of other experts of the same server with the vectors stored in
SQL (nothing is encoded again). Flags are stored on the turn as `[{"kind", "reason"}]`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from knowledge.config import QualitySettings
from knowledge.index import Indexer, IndexUnavailable, VectorIndex
from knowledge.quality.arrival import Arrival
from knowledge.quality.boilerplate import load_boilerplate
from knowledge.quality.pace import describe, pace_of, pasted
from knowledge.storage import Entry, Expert, Interview, Turn, unavailable
from knowledge.storage.entries import from_bytes, index_guild
from knowledge.vocab import AnswerFlag

if TYPE_CHECKING:
    import numpy as np

    from knowledge.storage import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Flag:
    kind: AnswerFlag
    reason: str  # shown to curators as it is

    def as_json(self) -> dict[str, str]:
        return {"kind": str(self.kind), "reason": self.reason}


def flags_of(stored: list[dict[str, Any]] | None) -> list[Flag]:
    """A turn's stored flags as Flags (unknown kinds from a later version are kept as text)."""
    out = []
    for f in stored or ():
        try:
            out.append(Flag(AnswerFlag(f["kind"]), f.get("reason", "")))
        except (KeyError, ValueError):
            continue
    return out


class QualityChecker:
    def __init__(
        self,
        db: Database,
        index: VectorIndex | None,
        settings: QualitySettings | None = None,
        *,
        idle_gap_minutes: float = 10.0,
    ):
        self.db = db
        self.index = index
        self.settings = settings or QualitySettings()
        self.idle_gap_seconds = idle_gap_minutes * 60
        self.boilerplate = load_boilerplate(self.settings.boilerplate_file)
        self._background: set[asyncio.Task] = set()

    @classmethod
    def default(cls, db: Database, indexer: Indexer | None, idle_gap_minutes: float):
        """The checker with default settings, over the indexer's index (tests, tools)."""
        return cls(db, indexer.index if indexer else None, idle_gap_minutes=idle_gap_minutes)

    def at_save(
        self, text: str, arrival: Arrival | None, asked_at: datetime | None = None
    ) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
        """(the arrival record to store, the flags) of an answer being saved; `asked_at` is
        the question's time when the front-end did not know it."""
        flags = []
        record = None
        if arrival is not None:
            arrival = arrival.with_question_at(asked_at)
            pace = pace_of(
                arrival,
                min_chars=self.settings.min_chars,
                idle_gap_seconds=self.idle_gap_seconds,
                max_per_minute=self.settings.max_chars_per_minute,
            )
            record = {
                **arrival.as_json(),
                "summary": describe(pace, arrival),
                "active_seconds": round(pace.active_seconds, 3),
                "fastest_per_minute": round(pace.fastest.per_minute, 1) if pace.fastest else None,
            }
            if reason := pasted(arrival, pace, self.settings):
                flags.append(Flag(AnswerFlag.pasted, reason))
        if phrases := self.boilerplate.find(text):
            quoted = ", ".join(f"“{p}”" for p in phrases[:3])
            more = f" and {len(phrases) - 3} more" if len(phrases) > 3 else ""
            noun = "phrase" if len(phrases) == 1 else "phrases"
            flags.append(Flag(AnswerFlag.boilerplate, f"chatbot {noun}: {quoted}{more}"))
        return record, [f.as_json() for f in flags]

    async def answered(
        self, reply, text: str, arrival: Arrival | None, settled: Callable[[int], Awaitable]
    ) -> None:
        """After the engine saved an answer (`reply`): its flags now, the repeat check once
        `settled(interview_id)` says its entries have their vectors."""
        await self.record(reply.turn_id, text, arrival)
        self.check_repeat(reply.turn_id, lambda: settled(reply.interview_id))

    async def record(self, turn_id: int, text: str, arrival: Arrival | None) -> None:
        """Store the arrival facts and flags of a just-saved answer (once: a resent answer
        keeps what its first attempt recorded)."""
        try:
            async with self.db.sessions() as s, s.begin():
                turn = await s.get(Turn, turn_id)
                if turn is None or turn.flags is not None:
                    return
                turn.arrival, turn.flags = self.at_save(text, arrival, turn.asked_at)
        except Exception as e:
            _failed(e, "quality flags of turn %s not stored", turn_id)

    def check_repeat(self, turn_id: int, settled: Callable[[], Awaitable]) -> None:
        """Look for another expert's answer this one repeats, once `settled()` says the
        answer's entries have their vectors."""
        if self.index is None:
            return
        task = asyncio.ensure_future(self._repeat(turn_id, settled))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def repeat_of(
        self, vector: np.ndarray, *, guild_id: int | None, expert_id: int, turn_id: int
    ) -> Flag | None:
        """The repeat flag for an answer with this vector, or None."""
        where = {
            "$and": [{"guild": index_guild(guild_id)}, {"expert_id": {"$ne": expert_id}}],
        }
        hits = await self.index.query(vector, n=5, where=where)
        near = [h for h in hits if h.similarity >= self.settings.repeat_similarity]
        if not near:
            return None
        async with self.db.sessions() as s:
            rows = {
                e_id: (t_id, ex_id, pseudonym)
                for e_id, t_id, ex_id, pseudonym in await s.execute(
                    select(Entry.id, Entry.turn_id, Entry.expert_id, Expert.pseudonym)
                    .join(Expert, Entry.expert_id == Expert.id)
                    .where(Entry.id.in_([h.entry_id for h in near]))
                )
            }
        for h in near:  # SQL has the last word: the entry may be gone, or the index behind
            row = rows.get(h.entry_id)
            if row is None or row[0] == turn_id or row[1] == expert_id:
                continue
            return Flag(
                AnswerFlag.repeat,
                f"repeats entry {h.entry_id} by another expert ({row[2]}), "
                f"similarity {h.similarity:.2f}",
            )
        return None

    async def _repeat(self, turn_id: int, settled: Callable[[], Awaitable]) -> None:
        try:
            await settled()
            async with self.db.sessions() as s:
                rows = (
                    await s.execute(
                        select(Interview.guild_id, Interview.expert_id, Entry.embedding)
                        .join(Entry, Entry.interview_id == Interview.id)
                        .where(Entry.turn_id == turn_id, Entry.embedding.is_not(None))
                    )
                ).all()
            flag = None
            for guild_id, expert_id, vector in rows:  # each entry of the answer (often one)
                flag = await self.repeat_of(
                    from_bytes(vector), guild_id=guild_id, expert_id=expert_id, turn_id=turn_id
                )
                if flag is not None:
                    break
            if flag is not None:
                await self._add(turn_id, flag)
        except IndexUnavailable as e:
            log.warning("repeat check of turn %s skipped: %s", turn_id, e)
        except Exception as e:
            _failed(e, "repeat check of turn %s failed", turn_id)

    async def _add(self, turn_id: int, flag: Flag) -> None:
        async with self.db.sessions() as s, s.begin():
            turn = await s.get(Turn, turn_id)
            if turn is None:
                return
            kept = [f for f in turn.flags or () if f.get("kind") != str(flag.kind)]
            turn.flags = [*kept, flag.as_json()]


def _failed(e: Exception, what: str, turn_id: int) -> None:
    """One line when the database is out of reach (the answer is safe); a bug in full."""
    if (reason := unavailable(e)) is not None:
        log.warning(what + ": database unavailable: %s", turn_id, reason)
    else:
        log.error(what, turn_id, exc_info=e)
