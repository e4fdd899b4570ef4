"""`tacit db backup|restore`: a round trip gives back every row, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import text

from knowledge.ops.backup import BackupError, backup, restore
from knowledge.services import build
from knowledge.storage import Base
from tests.clirunner import clean, one_line_error, run
from tests.conftest import real_pairs
from tests.test_cli import rows

ANSWERS = [p["answer"] for p in real_pairs("scotus_2019.18-8369-t01") if len(p["answer"]) > 300]


async def everything(svc) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    out = {}
    async with svc.db.engine.connect() as conn:
        for table in [*Base.metadata.sorted_tables, "alembic_version"]:
            name = getattr(table, "name", table)
            got = (await conn.execute(text(f'select * from "{name}"'))).all()
            out[name] = sorted((tuple(r) for r in got), key=repr)
    return out


async def interview(svc, who: str, answers: list[str]) -> None:
    ex = await svc.experts.identify("terminal", who, who)
    await svc.experts.give_consent(ex.id)
    ask = await svc.engine.start(ex.id, "litigator")
    for a in answers:
        await svc.engine.answer(ask.interview_id, a)
    await svc.engine.drain()


@pytest.mark.asyncio
async def test_a_backup_restores_every_row_as_it_was(settings, encoder, tmp_path):
    svc = await build(settings, encoder=encoder, background=False)
    try:
        await interview(svc, "lee", ANSWERS[:3])
        before = await everything(svc)
        assert before["entries"] and before["turns"]
        kind = "sqlite" if svc.db.is_sqlite else "postgresql"
        done = await backup(settings.database.url, tmp_path / "b.bak")
        assert done.kind == kind and done.size > 0
        await interview(svc, "kim", ANSWERS[3:5])  # written after the backup
        async with svc.db.sessions() as s, s.begin():
            await s.execute(text("update entries set status = 'approved'"))
        assert await everything(svc) != before
        await svc.db.engine.dispose()  # restoring replaces what other connections hold
        assert await restore(settings.database.url, tmp_path / "b.bak") == kind
        assert await everything(svc) == before
    finally:
        await svc.close()


@pytest.mark.asyncio
async def test_a_backup_taken_while_a_writer_commits_is_one_consistent_snapshot(tmp_path, encoder):
    from knowledge.config import Settings

    url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    svc = await build(Settings(database={"url": url}), encoder=encoder, background=False)
    await svc.close()
    stop = threading.Event()
    batches = []

    def writer():  # each transaction writes five audit rows: a snapshot holds all or none
        conn = sqlite3.connect(tmp_path / "live.db", timeout=30)
        n = 0
        while not stop.is_set():
            with conn:
                for _ in range(5):
                    conn.execute(
                        "insert into audit_log (at, actor, action, entity) "
                        "values (datetime('now'), ?, 'write', 'test')",
                        (f"batch-{n}",),
                    )
            batches.append(n)
            n += 1
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen = []
        for i in range(5):
            while len(batches) < 20 * (i + 1):
                stop.wait(0.01)
            path = tmp_path / f"snap{i}.db"
            await backup(url, path)
            with sqlite3.connect(path) as snap:
                assert snap.execute("pragma integrity_check").fetchone() == ("ok",)
                per = snap.execute(
                    "select actor, count(*) from audit_log group by actor"
                ).fetchall()
            assert per and all(count == 5 for _, count in per)
            seen.append(len(per))
    finally:
        stop.set()
        thread.join()
    assert seen == sorted(seen) and seen[-1] > seen[0]  # taken while the writer went on


@pytest.mark.asyncio
async def test_restore_refuses_a_file_that_is_not_a_backup_of_that_kind(settings, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    with pytest.raises(BackupError, match="not a tacit backup"):
        await restore(settings.database.url, junk)
    other = tmp_path / "other.bak"
    if settings.database.url.startswith("sqlite"):
        other.write_bytes(b"PGDMP" + b"\0" * 64)
        expected = "is a postgresql backup but database.url is a sqlite database"
    else:
        sqlite3.connect(other).close()
        other.write_bytes(b"SQLite format 3\x00" + b"\0" * 84)
        expected = "is a sqlite backup but database.url is a postgresql database"
    with pytest.raises(BackupError, match=expected):
        await restore(settings.database.url, other)


def test_backup_and_restore_on_the_command_line(tmp_path, encoder):
    import asyncio

    from knowledge.config import Settings

    settings = Settings(data_dir=tmp_path / "data")
    db = tmp_path / "data" / "tacit.db"

    async def answer(who, answers):
        svc = await build(settings, encoder=encoder, background=False)
        try:
            await interview(svc, who, answers)
            await svc.indexer.sync()
        finally:
            await svc.close()

    asyncio.run(answer("ana", ANSWERS[:2]))
    before = rows(db, "select id, answer from entries order by id")
    made = run(tmp_path, "db", "backup", "tacit.bak")
    assert "backed up the sqlite database" in clean(made, (0,))
    assert "already exists" in one_line_error(run(tmp_path, "db", "backup", "tacit.bak"), 1)

    asyncio.run(answer("bo", ANSWERS[2:3]))  # written after the backup
    assert len(rows(db, "select id from entries")) > len(before)
    refused = one_line_error(run(tmp_path, "db", "restore", "tacit.bak"), 1)
    assert "--yes" in refused
    assert len(rows(db, "select id from entries")) > len(before)  # nothing was touched
    done = clean(run(tmp_path, "db", "restore", "tacit.bak", "--yes"), (0,))
    assert "tacit doctor --repair" in done
    assert rows(db, "select id, answer from entries order by id") == before
    mended = clean(run(tmp_path, "doctor", "--repair"), (0,))
    assert "1 orphan vectors deleted" in mended and "all good" in mended  # bo's vector went

    missing = one_line_error(run(tmp_path, "db", "restore", "nothing.bak", "--yes"), 1)
    assert "no such backup file" in missing
