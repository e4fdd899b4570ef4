"""The database goes away while an expert answers in Discord: they are told to resend, their
words are kept, and Done sends them once the database is back, stored once, asked once."""

from __future__ import annotations

import pytest
from botworld import World, done_id
from sqlalchemy.engine import make_url

from tests.chaos.proxy import Proxy
from tests.conftest import PG_URL, _pg_database, real_pairs


@pytest.fixture
def pg_url():
    if not PG_URL:
        pytest.skip("TACIT_TEST_POSTGRES_URL is not set")
    url, drop = _pg_database(PG_URL)
    yield url
    drop()


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_database_gone_then_back_keeps_the_answer_and_asks_once(tmp_path, encoder, pg_url):
    from knowledge.config import ChromaSettings, Settings

    url = pg_url
    parsed = make_url(url)
    proxy = await Proxy(parsed.host or "127.0.0.1", parsed.port or 5432).up()
    settings = Settings(
        data_dir=tmp_path,
        database={"url": parsed.set(port=proxy.port).render_as_string(hide_password=False)},
        chroma=ChromaSettings(path=tmp_path / "chroma", collection="entries"),
    )
    world = World(settings, encoder, tmp_path)
    world.configure(quiet_period_seconds=600)
    await world.server.start()
    answers = [p["answer"] for p in real_pairs("scotus_2019.18-8369-t01")[1:3]]
    server = world.server
    try:
        async with world.run():
            thread = await world.start_interview()
            q1 = server.messages_in(thread)[-1]
            await server.user_sends(server.expert, thread, answers[0])
            await server.click(server.expert, q1, done_id(q1))
            q2 = await world.wait_question(2, thread)
            await server.user_sends(server.expert, thread, answers[1])
            await proxy.down()
            await server.click(server.expert, q2, done_id(q2))
            note = await server.wait_for_message(
                thread, lambda m: "database is unavailable" in m.content
            )
            assert "It is not lost" in note.content and "Done" in note.content
            await proxy.up()
            await server.click(server.expert, q2, done_id(q2))
            await world.wait_question(3, thread)
            await server.idle()
            asked = [m.content for m in server.messages_in(thread) if "Question " in m.content]
            assert [sum(f"Question {n} of 4" in c for c in asked) for n in (1, 2, 3)] == [1, 1, 1]
        assert await world.answers() == [answers[0].strip(), answers[1].strip(), None]
    finally:
        await world.close()
        await proxy.down()
