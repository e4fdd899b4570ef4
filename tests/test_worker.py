"""`tacit worker`: bots without the model, workers draining the outbox on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
import uuid
from asyncio.subprocess import PIPE

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from knowledge.config import ConfigError, Settings
from knowledge.index import BatchingEmbedder, VectorIndex
from knowledge.index.worker import Worker, WorkerError
from knowledge.services import build
from knowledge.storage import Database, Entry
from tests.conftest import real_pairs

pytestmark = pytest.mark.asyncio

ANSWERS = [p["answer"] for p in real_pairs("scotus_2019.18-8369-t01") if len(p["answer"]) > 200]


def remote_settings(pg_url: str, chroma_url: str, *, wait: float) -> Settings:
    return Settings(
        database={"url": pg_url},
        chroma={"url": chroma_url, "collection": f"w{uuid.uuid4().hex[:10]}"},
        embeddings={"in_process": False, "vector_wait_seconds": wait},
    )


@pytest_asyncio.fixture
async def bot_side(pg_url, chroma_server):
    """The core as a bot without the model sees it (no worker yet: vectors never wait)."""
    svc = await build(remote_settings(pg_url, chroma_server, wait=0), background=False)
    yield svc
    await svc.close()


def worker(svc, encoder, *, batch: int = 64) -> Worker:
    """A worker on the bot's database and Chroma server, with the real model."""
    return Worker(svc.db, VectorIndex(svc.settings.chroma), BatchingEmbedder(encoder), batch=batch)


async def answer_all(svc, answers: list[str], guide: str = "litigator") -> list[int]:
    ex = await svc.experts.identify("terminal", "lee", "Lee")
    await svc.experts.give_consent(ex.id)
    ask = await svc.engine.start(ex.id, guide)
    ids = []
    for a in answers:
        reply = await svc.engine.answer(ask.interview_id, a)
        ids += reply.entry_ids
    return ids


async def test_two_workers_share_the_outbox_and_write_each_entry_once(bot_side, encoder):
    ids = await answer_all(bot_side, ANSWERS[:12])
    async with bot_side.db.sessions() as s:
        assert await s.scalar(select(func.count()).where(Entry.embedding.is_not(None))) == 0
    one, two = worker(bot_side, encoder, batch=3), worker(bot_side, encoder, batch=3)
    await asyncio.gather(one.drain(), two.drain())
    assert one.stats.entries and two.stats.entries  # both took batches
    assert not set(one.stats.entries) & set(two.stats.entries)  # never the same entry
    assert sorted(one.stats.entries + two.stats.entries) == sorted(ids)
    assert one.stats.embedded + two.stats.embedded == len(ids)
    assert await bot_side.index.count() == len(ids)
    assert await bot_side.indexer.pending() == 0
    again = worker(bot_side, encoder)
    assert await again.drain() == 0  # idempotent: nothing owed twice


async def test_a_killed_workers_batch_is_taken_again(bot_side, encoder):
    ids = await answer_all(bot_side, ANSWERS[:4])
    crashing = worker(bot_side, encoder, batch=2)

    async def boom(items):
        raise RuntimeError("worker died mid-batch")

    crashing.index.upsert = boom  # dies after embedding, before Chroma holds the batch
    with pytest.raises(RuntimeError):
        await crashing.drain()
    survivor = worker(bot_side, encoder)
    await survivor.drain()
    assert sorted(survivor.stats.entries) == sorted(ids)  # the rolled-back batch too
    assert await bot_side.index.count() == len(ids)


async def test_the_next_question_waits_for_the_workers_vector_to_skip_what_is_covered(
    pg_url, chroma_server, encoder
):
    """The same answer covers the next guide question: with a worker running the bot sees it
    (and skips that question); with none, the turn goes on after the bound, asking it."""
    covered = {}
    for with_worker in (True, False):
        settings = remote_settings(pg_url, chroma_server, wait=3.0 if with_worker else 0.2)
        settings.interview.skip_similarity = 0.75
        settings.interview.max_followups = 0
        svc = await build(settings, background=False)
        stop, task = asyncio.Event(), None
        try:
            if with_worker:
                w = worker(svc, encoder)
                await w.prepare(svc.guides)
                task = asyncio.create_task(w.run(stop))
            ex = await svc.experts.identify("terminal", f"u{with_worker}", "Lee")
            await svc.experts.give_consent(ex.id)
            ask = await svc.engine.start(ex.id, "air-traffic-controller")
            while ask.step_id != "knowledge_audit":
                ask = (await svc.engine.skip(ask.interview_id)).next
            guide = svc.guides.get("air-traffic-controller")
            following = guide.questions[ask.number][1].text  # the question after this one
            # An answer that says, in its own words, everything the next question asks about.
            reply = await svc.engine.answer(
                ask.interview_id, f"{following} {following} Last Tuesday, for instance."
            )
            covered[with_worker] = list(reply.covered)
            while reply.next.followup:
                reply = await svc.engine.skip(ask.interview_id)
                covered[with_worker] += reply.covered
        finally:
            stop.set()
            if task:
                await task
            await svc.close()
    assert following in covered[True]
    assert covered[False] == []


async def test_a_bot_without_the_model_never_imports_torch(pg_url, chroma_server, tmp_path):
    script = textwrap.dedent(f"""
        import asyncio, json, sys
        import bot.client  # the whole bot, as `tacit bot` loads it
        from knowledge.config import Settings
        from knowledge.services import build

        async def main():
            s = Settings(
                database={{"url": {pg_url!r}}},
                chroma={{"url": {chroma_server!r}, "collection": "notorch"}},
                embeddings={{"in_process": False, "vector_wait_seconds": 0}},
            )
            svc = await build(s, background=True)
            ex = await svc.experts.identify("terminal", "t", "T")
            await svc.experts.give_consent(ex.id)
            ask = await svc.engine.start(ex.id, "generic")
            reply = await svc.engine.answer(ask.interview_id, {ANSWERS[1]!r})
            await svc.close()
            heavy = sorted(m for m in sys.modules
                           if m.split(".")[0] in ("torch", "sentence_transformers", "transformers"))
            print(json.dumps({{"next": reply.next.text, "heavy": heavy}}))

        asyncio.run(main())
    """)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, cwd=tmp_path, stdout=PIPE, stderr=PIPE
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, stderr.decode()[-3000:]
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    assert result["next"] and result["heavy"] == []


async def test_without_postgres_and_a_chroma_server_the_remote_setting_is_refused(tmp_path):
    settings = Settings(
        database={"url": f"sqlite+aiosqlite:///{tmp_path / 't.db'}"},
        embeddings={"in_process": False},
    )
    with pytest.raises(ConfigError, match="in_process = false needs PostgreSQL"):
        await build(settings, background=False)


async def test_the_worker_refuses_sqlite(tmp_path, encoder):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    try:
        with pytest.raises(WorkerError, match="needs PostgreSQL"):
            Worker(db, VectorIndex(Settings().chroma), BatchingEmbedder(encoder))
    finally:
        await db.close()


async def test_a_bot_waiting_for_a_vector_is_woken_by_the_worker_not_by_polling(
    pg_url, chroma_server, encoder, monkeypatch
):
    """The worker NOTIFYs when it has made vectors: the bot's wait asks the database a
    handful of times, where polling every 20 ms would ask it dozens of times a second."""
    from knowledge.index import remote

    monkeypatch.setattr(remote, "LISTENING_POLL", 600.0)  # only a notification can wake it
    svc = await build(remote_settings(pg_url, chroma_server, wait=10.0), background=False)
    stop = asyncio.Event()
    try:
        svc.embedder.wait = 0  # the answer itself goes on without its vector
        (entry_id,) = (await answer_all(svc, ANSWERS[:1]))[:1]
        svc.embedder.wait, svc.embedder.looks = 600.0, 0  # no deadline look in this test
        w = worker(svc, encoder)

        async def late_worker():
            await asyncio.sleep(1.5)  # the bot is already waiting
            await w.run(stop)

        task = asyncio.create_task(late_worker())
        async with asyncio.timeout(60):  # woken, or never within the test
            vector = await svc.embedder.entry_vector(entry_id)
        assert vector.shape == (384,)
        # Polling would have looked at least 75 times in the 1.5 s before the worker started.
        assert svc.embedder.looks <= 4, svc.embedder.looks
        stop.set()
        await task
        async with svc.db.sessions() as s:
            stored = await s.scalar(select(Entry.embedding).where(Entry.id == entry_id))
        assert stored is not None
    finally:
        stop.set()
        await svc.close()


async def test_a_notification_wakes_only_the_turns_waiting_for_the_entries_it_names(
    pg_url, chroma_server, encoder, monkeypatch
):
    """A thousand turns waiting for vectors must not all ask the database again each time a
    worker makes one: the notification names its entries."""
    from sqlalchemy import text, update

    from knowledge.index import remote
    from knowledge.storage.entries import to_bytes

    monkeypatch.setattr(remote, "LISTENING_POLL", 600.0)
    svc = await build(remote_settings(pg_url, chroma_server, wait=0), background=False)
    try:
        first, second = (await answer_all(svc, ANSWERS[:2]))[:2]
        svc.embedder.wait, svc.embedder.looks = 600.0, 0
        waiting = asyncio.create_task(svc.embedder.entry_vector(first))
        await asyncio.sleep(0.5)  # listening, looked once
        assert svc.embedder.looks == 1

        async def made(entry_id: int, vector) -> None:
            async with svc.db.sessions() as s, s.begin():
                if vector is not None:
                    await s.execute(
                        update(Entry).where(Entry.id == entry_id).values(embedding=vector)
                    )
                await s.execute(
                    text("SELECT pg_notify('tacit_vectors', :ids)"), {"ids": str(entry_id)}
                )

        await made(second, None)  # another entry's vector: this turn does not look again
        await asyncio.sleep(0.5)
        assert svc.embedder.looks == 1 and not waiting.done()
        await made(first, to_bytes(encoder.encode([ANSWERS[0]])[0]))
        async with asyncio.timeout(30):
            vector = await waiting
        assert vector.shape == (384,) and svc.embedder.looks == 2
    finally:
        await svc.close()
