"""`tacit doctor`: finds where Chroma drifted from SQL and mends it without encoding again."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import pytest_asyncio
from sqlalchemy import delete, select, update

from knowledge.index import IndexItem
from knowledge.ops.doctor import check, quick_check, repair
from knowledge.services import build
from knowledge.storage import Database, Entry, Turn, TurnStatus
from tests.conftest import real_pairs
from tests.test_cli import rows, tacit

ANSWERS = [p["answer"] for p in real_pairs("scotus_2019.18-8369-t01") if len(p["answer"]) > 300]


class CountingEncoder:
    """The real MiniLM encoder, counting the texts it is asked to encode."""

    def __init__(self, inner):
        self.inner, self.name, self.texts = inner, inner.name, 0

    def encode(self, texts):
        self.texts += len(texts)
        return self.inner.encode(texts)


@pytest_asyncio.fixture
async def counted(settings, encoder):
    enc = CountingEncoder(encoder)
    svc = await build(settings, encoder=enc, background=False)
    yield svc, enc
    await svc.close()


async def interview(svc, answers: list[str]) -> tuple[int, list[int]]:
    ex = await svc.experts.identify("terminal", "lee", "Lee")
    await svc.experts.give_consent(ex.id)
    ask = await svc.engine.start(ex.id, "litigator")
    ids = []
    for a in answers:
        ids += (await svc.engine.answer(ask.interview_id, a)).entry_ids
    await svc.engine.drain()
    await svc.indexer.sync()
    return ask.interview_id, ids


async def sql_vectors(svc) -> dict[int, bytes]:
    async with svc.db.sessions() as s:
        return dict((await s.execute(select(Entry.id, Entry.embedding))).all())


@pytest.mark.asyncio
async def test_a_wiped_index_is_found_and_put_back_from_sql_without_encoding(counted):
    svc, enc = counted
    _, ids = await interview(svc, ANSWERS[:4])
    assert (await check(svc)).ok
    await svc.index.delete(ids)  # what deleting the folder or wiping a server leaves
    orphan = IndexItem(999_999, np.ones(384, dtype=np.float32) / np.sqrt(384), "gone", {"g": 1})
    await svc.index.upsert([orphan])
    async with svc.db.sessions() as s, s.begin():  # one entry lost its stored vector
        await s.execute(update(Entry).where(Entry.id == ids[0]).values(embedding=None))

    found = await check(svc)
    assert found.missing == sorted(ids[1:]) and found.orphans == [999_999]
    assert found.without_vector == 1 and not found.ok
    assert any("no vector in Chroma" in p for p in found.problems())
    assert "vectors are missing" in " ".join(await quick_check(svc))

    encoded_before = enc.texts
    done = await repair(svc, found)
    assert done.reindexed == 3 and done.encoded == 1 and done.orphans_deleted == 1
    assert enc.texts - encoded_before == 1  # only the entry SQL had no vector for
    assert (await check(svc)).ok
    assert await svc.index.ids() == set(ids)
    stored = await svc.index.get(ids)
    for entry_id, blob in (await sql_vectors(svc)).items():  # Chroma keeps them normalised
        assert np.allclose(stored[entry_id][0], np.frombuffer(blob, dtype=np.float32), atol=1e-6)


@pytest.mark.asyncio
async def test_an_interview_stopped_between_two_steps_is_found_and_resumed(counted):
    svc, _ = counted
    interview_id, _ = await interview(svc, ANSWERS[:2])
    async with svc.db.sessions() as s, s.begin():  # the crash came before the next question
        await s.execute(
            delete(Turn).where(Turn.interview_id == interview_id, Turn.status == TurnStatus.asked)
        )
    found = await check(svc)
    assert found.stuck == [interview_id]
    assert "stopped between two steps" in " ".join(found.problems())
    done = await repair(svc, found)
    assert done.interviews == 1 and (await check(svc)).ok
    assert (await svc.engine.current(interview_id)) is not None


@pytest.mark.asyncio
async def test_vectors_of_another_model_are_reported_not_hidden(counted):
    svc, _ = counted
    await interview(svc, ANSWERS[:1])
    async with svc.db.sessions() as s, s.begin():
        await s.execute(update(Entry).values(embedding_model="other-model"))
    found = await check(svc)
    assert found.other_model == 1 and "another model" in " ".join(found.problems())
    assert found.collection_model == svc.embedder.model_name


@pytest.mark.asyncio
async def test_pending_migrations_are_listed_until_applied(db_url):
    db = Database(db_url)
    try:
        pending = await db.pending_migrations()
        assert pending[0] == "0001" and len(pending) >= 3
        await db.upgrade()
        assert await db.pending_migrations() == []
    finally:
        await db.close()


def test_deleting_the_chroma_folder_is_found_and_repaired_on_the_command_line(tmp_path):
    answers = [p["answer"].replace("\n", " ") for p in real_pairs("primock57_day2_consultation03")]
    chat = ["chat", "--guide", "physician", "--consent", "--name", "Ana"]
    assert tacit(chat, tmp_path, "\n".join(answers[:3]) + "\n").returncode == 0
    db = tmp_path / "data" / "tacit.db"
    blobs = dict(rows(db, "select id, embedding from entries"))
    shutil.rmtree(tmp_path / "data" / "chroma")

    resumed = tacit(["chat", "--resume", "--name", "Ana"], tmp_path, "/pause\n")
    warned = [line for line in resumed.stderr.splitlines() if "tacit doctor" in line]
    assert resumed.returncode == 0 and len(warned) == 1, resumed.stderr
    assert "vectors are missing" in warned[0]
    stats = tacit(["stats"], tmp_path)
    assert "vectors are missing" in stats.stderr and "tacit doctor" in stats.stderr
    synced = tacit(["index", "sync"], tmp_path)
    assert "tacit doctor" in synced.stderr

    found = tacit(["doctor"], tmp_path)
    assert found.returncode == 1, found.stdout + found.stderr
    assert f"{len(blobs)} entries have no vector in Chroma" in found.stdout
    mended = tacit(["doctor", "--repair"], tmp_path)
    assert mended.returncode == 0, mended.stderr
    assert f"repaired: {len(blobs)} vectors put back from SQL, 0 encoded" in mended.stdout
    assert "all good" in mended.stdout and "Traceback" not in mended.stderr

    import asyncio

    from knowledge.config import ChromaSettings
    from knowledge.index import VectorIndex

    index = VectorIndex(ChromaSettings(path=tmp_path / "data" / "chroma"))
    stored = asyncio.run(index.get(list(blobs)))
    index.close()
    assert set(stored) == set(blobs)
    for entry_id, blob in blobs.items():  # the vectors SQL holds (Chroma normalises them)
        assert np.allclose(stored[entry_id][0], np.frombuffer(blob, dtype=np.float32), atol=1e-6)
