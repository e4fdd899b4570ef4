"""`tacit doctor`: SQL against Chroma, stuck interviews, pending migrations; `--repair` mends them.

SQL is the truth. Chroma can drift from it (its folder deleted or restored from an older copy, a
server wiped, a collection of another model), an interview can be left between two steps by a
crash, and a database can be behind the code. `check` finds each of these; `repair` puts the
vectors back from the ones stored in SQL (encoding only the entries SQL holds no vector for),
deletes vectors of entries that are gone, finishes the interrupted steps and applies migrations.
`quick_check` is the cheap part (counts only) that the bot and `tacit chat` run at start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import exists, func, or_, select, update

from knowledge.index import IndexUnavailable
from knowledge.storage import Entry, IndexDeletion, Interview, Turn
from knowledge.vocab import InterviewStatus, TurnStatus

log = logging.getLogger(__name__)

_CHUNK = 500  # ids per IN (...) clause, well under every database's parameter limit


@dataclass
class Checkup:
    """What `check` found. `problems()` turns it into one line per thing that is off."""

    model: str  # the configured embedding model
    entries: int = 0
    indexed: int = 0  # entries SQL says Chroma holds (indexed once)
    vectors: int | None = None  # what Chroma holds; None: unreachable
    chroma_error: str | None = None
    collection_model: str | None = None
    missing: list[int] = field(default_factory=list)  # indexed once, not in Chroma now
    orphans: list[int] = field(default_factory=list)  # in Chroma, no such entry in SQL
    without_vector: int = 0  # entries SQL holds no vector for
    other_model: int = 0  # entries whose SQL vector is of another model
    outbox: int = 0  # changes owed to Chroma (the indexer's backlog)
    stuck: list[int] = field(default_factory=list)  # interviews left between two steps
    migrations: list[str] = field(default_factory=list)  # not applied yet
    quick: bool = False  # counts only: missing and orphans are not listed

    def problems(self) -> list[str]:
        out = []
        if self.migrations:
            out.append(
                f"database: {len(self.migrations)} migration(s) not applied "
                f"({', '.join(self.migrations)}): `tacit db upgrade`"
            )
        if self.chroma_error:
            out.append(f"chroma unreachable: {self.chroma_error}")
        elif self.quick and self.vectors is not None:
            if self.vectors < self.indexed:
                out.append(
                    f"chroma holds {self.vectors} vectors but SQL has {self.indexed} entries "
                    "indexed: vectors are missing"
                )
            elif self.vectors > self.entries + self.outbox:
                out.append(
                    f"chroma holds {self.vectors} vectors for {self.entries} entries: "
                    "vectors of deleted entries remain"
                )
        if self.missing:
            out.append(f"{len(self.missing)} entries have no vector in Chroma{_some(self.missing)}")
        if self.orphans:
            out.append(
                f"{len(self.orphans)} vectors in Chroma belong to no entry{_some(self.orphans)}"
            )
        if self.collection_model and self.collection_model != self.model:
            out.append(
                f"chroma collection holds vectors of {self.collection_model!r}, "
                f"embeddings.model is {self.model!r}"
            )
        if self.other_model:
            out.append(
                f"{self.other_model} entries have vectors of another model than {self.model!r} "
                "(re-embedding is not built: keep the model they were made with)"
            )
        if self.without_vector:
            out.append(f"{self.without_vector} entries have no vector in SQL")
        if self.outbox and not self.chroma_error:
            out.append(f"{self.outbox} changes are still owed to Chroma")
        if self.stuck:
            out.append(f"{len(self.stuck)} interviews stopped between two steps{_some(self.stuck)}")
        return out

    @property
    def ok(self) -> bool:
        return not self.problems()


@dataclass
class Repaired:
    migrated: list[str] = field(default_factory=list)
    reindexed: int = 0  # vectors put back into Chroma from SQL, not encoded
    encoded: int = 0  # entries SQL held no vector for, encoded now
    orphans_deleted: int = 0
    interviews: int = 0  # interviews whose interrupted step was finished
    error: str | None = None


def _some(ids: list[int], n: int = 5) -> str:
    shown = ", ".join(str(i) for i in sorted(ids)[:n])
    return f" (ids {shown}{', ...' if len(ids) > n else ''})"


def _chunks(ids: list[int]):
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


async def _sql_counts(svc, c: Checkup) -> None:
    async with svc.db.sessions() as s:
        c.entries = int(await s.scalar(select(func.count()).select_from(Entry)) or 0)
        c.indexed = int(
            await s.scalar(
                select(func.count()).select_from(Entry).where(Entry.indexed_hash.is_not(None))
            )
            or 0
        )
        c.without_vector = int(
            await s.scalar(select(func.count()).select_from(Entry).where(Entry.embedding.is_(None)))
            or 0
        )
        c.other_model = int(
            await s.scalar(
                select(func.count())
                .select_from(Entry)
                .where(Entry.embedding.is_not(None), Entry.embedding_model != c.model)
            )
            or 0
        )
        c.stuck = await stuck_interviews(s)
    c.outbox = await svc.indexer.pending()


async def stuck_interviews(s) -> list[int]:
    """Interviews a crash left between two steps: running with no open question, or with an
    answered turn that has no entries."""
    open_question = exists().where(
        Turn.interview_id == Interview.id, Turn.status == TurnStatus.asked
    )
    no_next = select(Interview.id).where(
        Interview.status.in_([InterviewStatus.active, InterviewStatus.paused]), ~open_question
    )
    has_entry = exists().where(Entry.turn_id == Turn.id)
    unentried = select(Turn.interview_id).where(Turn.status == TurnStatus.answered, ~has_entry)
    ids = set(await s.scalars(no_next)) | set(await s.scalars(unentried))
    return sorted(ids)


async def _chroma(svc, c: Checkup, *, quick: bool) -> None:
    try:
        c.vectors = await svc.index.count()
        c.collection_model = await svc.index.model_of_collection()
        if quick:
            return
        in_chroma = await svc.index.ids()
    except IndexUnavailable as e:
        c.vectors, c.chroma_error = None, str(e)
        return
    async with svc.db.sessions() as s:
        sql_ids = set(await s.scalars(select(Entry.id)))
        owed = set(
            await s.scalars(
                select(Entry.id).where(or_(Entry.indexed_hash.is_(None), Entry.embedding.is_(None)))
            )
        )
        deleting = set(await s.scalars(select(IndexDeletion.entry_id)))
    # Owed entries are the outbox's, deletions the outbox's too: only the rest is drift.
    c.missing = sorted(sql_ids - in_chroma - owed)
    c.orphans = sorted(in_chroma - sql_ids - deleting)


async def check(svc, *, quick: bool = False) -> Checkup:
    """Compare SQL and Chroma and look for stuck interviews and pending migrations.

    With pending migrations nothing else is looked at: the schema may not be the code's.
    """
    c = Checkup(model=svc.embedder.model_name, quick=quick)
    c.migrations = await svc.db.pending_migrations()
    if c.migrations:
        return c
    await _sql_counts(svc, c)
    await _chroma(svc, c, quick=quick)
    return c


async def quick_check(svc) -> list[str]:
    """The cheap part, run at start by the bot and `tacit chat`: counts, no id lists."""
    try:
        return (await check(svc, quick=True)).problems()
    except Exception as e:  # never keep a front-end from starting
        log.debug("quick check failed", exc_info=True)
        return [f"the check itself failed: {e}"]


def warn_if_off(problems: list[str]) -> None:
    """One warning line for everything `quick_check` found."""
    if problems:
        log.warning("%s; run `tacit doctor` (`--repair` mends it)", "; ".join(problems))


async def repair(svc, found: Checkup, *, home_guild_id: int | None = None) -> Repaired:
    """Mend what `check` found: migrations, vectors from SQL, orphans, interrupted steps."""
    done = Repaired()
    if found.migrations:
        await svc.db.upgrade(home_guild_id=home_guild_id)
        done.migrated = found.migrations
        found = await check(svc)
    for ids in _chunks(found.missing):
        # Owed again: the outbox re-sends them with the vectors SQL holds, nothing is encoded.
        async with svc.db.sessions() as s, s.begin():
            await s.execute(update(Entry).where(Entry.id.in_(ids)).values(indexed_hash=None))
    if found.orphans and not found.chroma_error:
        try:
            for ids in _chunks(found.orphans):
                await svc.index.delete(ids)
                done.orphans_deleted += len(ids)
        except IndexUnavailable as e:
            done.error = str(e)
    for interview_id in found.stuck:
        if await _finish_step(svc, interview_id):
            done.interviews += 1
    batches = svc.embedder.batches
    result = await svc.indexer.sync()
    done.encoded = result.embedded
    done.reindexed = max(0, result.indexed - result.embedded)
    done.error = done.error or result.error
    log.info(
        "doctor repaired: %d vectors from SQL, %d encoded (%d batches), %d orphans deleted",
        done.reindexed,
        done.encoded,
        svc.embedder.batches - batches,
        done.orphans_deleted,
    )
    return done


async def _finish_step(svc, interview_id: int) -> bool:
    """Make the entries of answered turns, and open the next question of a running interview."""
    async with svc.db.sessions() as s:
        unentried = list(
            await s.scalars(
                select(Turn.id).where(
                    Turn.interview_id == interview_id,
                    Turn.status == TurnStatus.answered,
                    ~exists().where(Entry.turn_id == Turn.id),
                )
            )
        )
    try:
        for turn_id in unentried:
            await svc.engine.entries.make(turn_id)
        await svc.engine.current(interview_id)  # opens the next question if none is open
    except Exception:
        log.exception("interview %d: could not finish its interrupted step", interview_id)
        return False
    return True
