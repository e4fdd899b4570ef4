"""Migrations on databases that hold rows (0002 tenancy, 0005 blind review), SQLite and PG."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from knowledge.storage import Database, Entry, Expert, Interview
from knowledge.storage.db import alembic_config
from knowledge.storage.models import Base

pytestmark = pytest.mark.asyncio

HOME = 912_345_678_901_234_567  # a Discord snowflake: needs 64 bits


async def _at_0001(db: Database, revision: str = "0001") -> None:
    def run(connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def _rows_of_0001(db: Database) -> None:
    """What a tacit of before tenancy stored: a Discord and a terminal expert, an interview
    each, an answered turn and an indexed entry each."""
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)
    async with db.engine.begin() as conn:
        for i, (platform, ext, name) in enumerate(
            [("discord", "4242", "Dana"), ("terminal", "tom", "Tom")], start=1
        ):
            await conn.execute(
                text(
                    "INSERT INTO experts (id, platform, external_id, display_name, pseudonym,"
                    " consented_at, created_at) VALUES (:i, :p, :x, :n, :ps, :t, :t)"
                ),
                {"i": i, "p": platform, "x": ext, "n": name, "ps": f"expert-{i:012d}", "t": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO interviews (id, expert_id, guide_slug, guide_version, status,"
                    " position, channel, started_at, last_activity_at, active_seconds)"
                    " VALUES (:i, :i, 'generic', 1, 'completed', 3, :c, :t, :t, 600)"
                ),
                {
                    "i": i,
                    "c": "discord:thread:77" if platform == "discord" else "terminal",
                    "t": now,
                },
            )
            await conn.execute(
                text(
                    "INSERT INTO turns (id, interview_id, seq, step_id, question_id, probe,"
                    " followup, source, question, answer, status, asked_at)"
                    " VALUES (:i, :i, 1, 's', 'q', 'background', false, 'guide', 'Q?', :a,"
                    " 'answered', :t)"
                ),
                {"i": i, "a": f"answer of {name}", "t": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO entries (id, turn_id, interview_id, expert_id, guide_slug,"
                    " step_id, probe, part, question, answer, draft_source, status,"
                    " flagged_pii, content_hash, indexed_hash, created_at, updated_at)"
                    " VALUES (:i, :i, :i, :i, 'generic', 's', 'background', 0, 'Q?', :a,"
                    " 'guide', 'approved', false, 'h', 'h', :t, :t)"
                ),
                {"i": i, "a": f"answer of {name}", "t": now},
            )


async def _schema_matches_models(db: Database) -> list:
    def diff(connection):
        ctx = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)

    async with db.engine.connect() as conn:
        return await conn.run_sync(diff)


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection", "ignore:autogenerate skipping")
async def test_existing_discord_rows_go_to_the_home_server_and_terminal_rows_to_none(db_url):
    db = Database(db_url)
    try:
        await _at_0001(db)
        await _rows_of_0001(db)
        await db.upgrade(home_guild_id=HOME)
        async with db.sessions() as s:
            experts = {e.platform: e for e in await s.scalars(select(Expert))}
            interviews = {iv.expert_id: iv for iv in await s.scalars(select(Interview))}
            entries = {e.expert_id: e for e in await s.scalars(select(Entry))}
        dana, tom = experts["discord"], experts["terminal"]
        assert (dana.guild_id, tom.guild_id) == (HOME, None)
        assert interviews[dana.id].guild_id == HOME and interviews[tom.id].guild_id is None
        assert entries[dana.id].guild_id == HOME and entries[tom.id].guild_id is None
        # the words are untouched, and every entry is owed to Chroma again (new metadata)
        assert entries[dana.id].answer == "answer of Dana"
        assert entries[dana.id].corrected_answer is None
        assert {e.indexed_hash for e in entries.values()} == {None}
        assert dana.reminders is True
        assert await _schema_matches_models(db) == []
        # foreign keys hold again after the migration: forgetting cascades
        async with db.sessions() as s, s.begin():
            await s.delete(await s.get(Expert, tom.id))
        async with db.sessions() as s:
            assert await s.get(Interview, interviews[tom.id].id) is None
            assert await s.scalar(select(Entry.id).where(Entry.expert_id == tom.id)) is None
    finally:
        await db.close()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection", "ignore:autogenerate skipping")
async def test_a_database_at_0004_with_rows_upgrades_through_tenancy_to_one_head(db_url):
    db = Database(db_url)
    try:
        await _at_0001(db, "0004")  # main's turn focus, before tenancy
        await _rows_of_0001(db)
        await db.upgrade(home_guild_id=HOME)
        async with db.sessions() as s:
            assert set(await s.scalars(select(Entry.guild_id))) == {HOME, None}
        assert await _schema_matches_models(db) == []
    finally:
        await db.close()


async def test_without_a_home_server_existing_discord_rows_belong_to_none(db_url):
    db = Database(db_url)
    try:
        await _at_0001(db)
        await _rows_of_0001(db)
        await db.upgrade()
        async with db.sessions() as s:
            assert set(await s.scalars(select(Entry.guild_id))) == {None}
    finally:
        await db.close()


async def test_the_same_person_may_be_an_expert_in_two_servers_but_once_in_each(db_url):
    from sqlalchemy.exc import IntegrityError

    db = Database(db_url)
    try:
        await db.upgrade()
        async with db.sessions() as s, s.begin():
            s.add_all(
                [
                    Expert(platform="discord", external_id="1", display_name="A", guild_id=HOME),
                    Expert(platform="discord", external_id="1", display_name="A", guild_id=7),
                    Expert(platform="terminal", external_id="ana", display_name="Ana"),
                ]
            )
        for guild in (HOME, None):
            with pytest.raises(IntegrityError):
                async with db.sessions() as s, s.begin():
                    platform, ext = ("discord", "1") if guild else ("terminal", "ana")
                    s.add(
                        Expert(platform=platform, external_id=ext, display_name="x", guild_id=guild)
                    )
    finally:
        await db.close()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection", "ignore:autogenerate skipping")
async def test_decisions_made_before_blind_review_become_one_row_each_and_stay_final(db_url):
    from knowledge.storage import ReviewDecision

    db = Database(db_url)
    try:
        await _at_0001(db, "0002a")
        await _rows_of_0001(db)
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE entries SET decided_by = 'discord:77', decided_at = :t,"
                    " edited_answer = 'tidied by the curator', edited_by = 'discord:77', guild_id = :g"
                    " WHERE id = 1"
                ),
                {"t": datetime(2026, 11, 21, 9, tzinfo=UTC), "g": HOME},
            )
            await conn.execute(text("UPDATE entries SET status = 'pending' WHERE id = 2"))
        await db.upgrade(home_guild_id=HOME)
        async with db.sessions() as s:
            rows = list(await s.scalars(select(ReviewDecision)))
            entries = {e.id: e for e in await s.scalars(select(Entry))}
        assert [(r.entry_id, r.curator, r.kind, r.verdict) for r in rows] == [
            (1, "discord:77", "review", "approved")
        ]
        assert rows[0].edited_answer == "tidied by the curator"
        assert rows[0].decided_at == datetime(2026, 11, 21, 9, tzinfo=UTC)
        assert rows[0].guild_id == HOME
        assert (entries[1].status, entries[1].disputed) == ("approved", False)
        assert (entries[2].status, entries[2].disputed) == ("pending", False)
        assert await _schema_matches_models(db) == []
    finally:
        await db.close()
