"""SQL is the truth, Chroma the index: vectors follow answers, even after Chroma was down."""

from __future__ import annotations

import pytest
import pytest_asyncio

from knowledge.config import ChromaSettings
from knowledge.index import VectorIndex
from knowledge.services import build
from tests.conftest import free_port, real_pairs

pytestmark = pytest.mark.asyncio

ANSWERS = [p["answer"] for p in real_pairs("scotus_2019.18-8369-t01") if len(p["answer"]) > 300]


@pytest_asyncio.fixture
async def indexed_services(settings, encoder, chroma_settings):
    """Services on SQLite/PostgreSQL with Chroma embedded or as a `chroma run` server."""
    settings.chroma = chroma_settings
    svc = await build(settings, encoder=encoder, background=False)
    yield svc
    await svc.close()


async def interview(svc, answers: list[str]) -> list[int]:
    ex = await svc.experts.identify("terminal", "lee", "Lee")
    await svc.experts.give_consent(ex.id)
    ask = await svc.engine.start(ex.id, "litigator")
    ids = []
    for a in answers:
        reply = await svc.engine.answer(ask.interview_id, a)
        ids += reply.entry_ids
    return ids


async def test_every_answer_is_in_chroma_under_its_sql_id_with_metadata(indexed_services):
    svc = indexed_services
    ids = await interview(svc, ANSWERS[:3])
    result = await svc.indexer.sync()
    assert result.indexed == 3 and result.pending == 0
    stored = await svc.index.get(ids)
    assert set(stored) == set(ids)
    vector, meta = stored[ids[0]]
    assert meta["guide"] == "litigator" and meta["status"] == "pending"
    assert meta["interview_id"] > 0 and meta["probe"]
    assert abs(float(vector @ vector) - 1.0) < 1e-3


async def test_indexing_twice_changes_nothing(indexed_services):
    svc = indexed_services
    await interview(svc, ANSWERS[:2])
    await svc.indexer.sync()
    again = await svc.indexer.sync()
    assert again.indexed == 0 and await svc.index.count() == 2


async def test_search_finds_the_answer_on_the_same_subject(indexed_services):
    svc = indexed_services
    ids = await interview(svc, ANSWERS[:4])
    await svc.indexer.sync()
    query = await svc.embedder.embed_one(ANSWERS[2][:200])
    hits = await svc.index.query(query, n=2)
    assert hits[0].entry_id == ids[2] and hits[0].similarity > hits[1].similarity


async def test_answers_are_kept_while_chroma_is_down_and_indexed_when_it_returns(
    settings, encoder, chroma_server
):
    settings.chroma = ChromaSettings(url=f"http://127.0.0.1:{free_port()}", collection="back")
    svc = await build(settings, encoder=encoder, background=False)
    try:
        ids = await interview(svc, ANSWERS[:2])  # answering works with no Chroma at all
        down = await svc.indexer.sync()
        assert down.error and down.pending == 2 and down.indexed == 0
        # Chroma is back (here: the same settings pointing at a live server).
        svc.indexer.index = VectorIndex(ChromaSettings(url=chroma_server, collection="back"))
        up = await svc.indexer.sync()
        assert up.error is None and up.indexed == 2 and up.pending == 0
        assert await svc.indexer.index.ids() == set(ids)
    finally:
        await svc.close()


async def test_a_forgotten_expert_leaves_chroma_too(indexed_services):
    svc = indexed_services
    ids = await interview(svc, ANSWERS[:2])
    await svc.indexer.sync()
    expert = await svc.experts.find("terminal", "lee")
    assert (await svc.experts.forget(expert.id, actor="expert:self")).entries == 2
    await svc.indexer.sync()
    assert await svc.index.ids() == set()
    assert await svc.index.get(ids) == {}


async def test_the_background_indexer_indexes_new_answers_by_itself(settings, encoder):
    import asyncio

    svc = await build(settings, encoder=encoder, background=True)
    try:
        ids = await interview(svc, ANSWERS[:1])
        for _ in range(200):  # up to 20 s: the loop is woken by the answer, not by a timer
            # Chroma holds the vector before SQL records that it does: wait for both.
            if await svc.index.ids() == set(ids) and await svc.indexer.pending() == 0:
                break
            await asyncio.sleep(0.1)
        assert await svc.index.ids() == set(ids)
        assert await svc.indexer.pending() == 0
    finally:
        await svc.close()
