"""Two bot processes, one shard each, on one PostgreSQL database: each serves its own servers'
interviews, and killing one (kill -9) neither disturbs the other nor loses its interview."""

from __future__ import annotations

import os
import re

import pytest
from botworld import GUIDE, done_id, write_guide
from fakediscord import FakeDiscord
from fakediscord.launch import spawn

from knowledge.config import Settings
from knowledge.services import open_services


def _env(tmp_path, pg_url: str, chroma_url: str, server: FakeDiscord, shard: int) -> dict:
    return {
        "TACIT_DATABASE__URL": pg_url,
        "TACIT_CHROMA__URL": chroma_url,
        "TACIT_CHROMA__COLLECTION": "shards",
        # No model in the bots: no worker runs here, so turns go on without vectors at once.
        "TACIT_EMBEDDINGS__IN_PROCESS": "false",
        "TACIT_EMBEDDINGS__VECTOR_WAIT_SECONDS": "0",
        "TACIT_INTERVIEW__GUIDES_DIR": str(tmp_path / "guides"),
        "TACIT_INTERVIEW__DEFAULT_GUIDE": GUIDE,
        "TACIT_INTERVIEW__QUIET_PERIOD_SECONDS": "600",
        "TACIT_INTERVIEW__MAX_FOLLOWUPS": "0",
        "TACIT_DISCORD__HOME_GUILD_ID": str(server.guild.id),
        "TACIT_DISCORD__SHARDS": "2",
        "TACIT_DISCORD__SHARD_IDS": f"[{shard}]",
        "DISCORD_TOKEN": server.token,
        "TACIT_DATA_DIR": str(tmp_path / f"data{shard}"),
    }


async def _bot(server, env):
    return await spawn(server, "-m", "bot", "--sync", env={**os.environ, **env})


def _question(n: int):
    return lambda m: f"Question {n} of 4" in m.content


async def _start(server: FakeDiscord, user, channel):
    """/interview start in `channel`, agree, and the thread with its first question."""
    ix = await server.slash(user, "interview start", {"guide": GUIDE}, channel=channel)
    await ix.wait_response(timeout=15)
    await server.click(user, ix.message, f"tacit:consent:agree:{user.id}:{GUIDE}")
    first = await server.wait_for_message(None, _question(1), timeout=15)
    return server.channel(first.channel_id), first


async def _answer(server, user, thread, question, text: str, then: int):
    await server.user_sends(user, thread, text)
    await server.click(user, question, done_id(question))
    return await server.wait_for_message(thread, _question(then), timeout=15)


@pytest.mark.asyncio
async def test_two_shard_processes_share_postgres_and_survive_kill_9(
    tmp_path, pg_url, chroma_server
):
    write_guide(tmp_path / "guides")
    async with FakeDiscord(shard_count=2) as server:
        b = server.add_guild("Second", shard=1)
        p0 = await _bot(server, _env(tmp_path, pg_url, chroma_server, server, 0))
        p1 = await _bot(server, _env(tmp_path, pg_url, chroma_server, server, 1))
        try:
            await server.wait_for_sessions(2, timeout=60)
            await p0.wait_for_output("connected as", timeout=30)
            await p1.wait_for_output("connected as", timeout=30)
            assert sorted(i["shard"] for i in server.identifies) == [[0, 2], [1, 2]]

            thread_a, qa1 = await _start(server, server.expert, server.general)
            thread_b, qb1 = await _start(server, b.expert, b.general)
            qa2 = await _answer(server, server.expert, thread_a, qa1, "I bake bread.", 2)
            qb2 = await _answer(server, b.expert, thread_b, qb1, "I repair clocks.", 2)

            p1.proc.kill()  # kill -9: no goodbye, shard 1's interview mid-question
            await p1.wait(10)
            await server.user_sends(b.expert, thread_b, "A clock that stops at night")

            # Shard 0 carries on as if nothing happened, and never touches B's interview.
            await _answer(server, server.expert, thread_a, qa2, "The crust sings.", 3)
            await server.idle()
            assert server.messages_in(thread_b)[-1].id == qb2.id

            server.mark()
            p1 = await _bot(server, _env(tmp_path, pg_url, chroma_server, server, 1))
            again = await server.wait_for_message(thread_b, _question(2), timeout=60)
            assert "I was away" in again.content and "1 message" in again.content
            await server.user_sends(b.expert, thread_b, "has a tired mainspring.")
            await server.click(b.expert, again, done_id(again))
            await server.wait_for_message(thread_b, _question(3), timeout=15)
        finally:
            await p0.stop()
            await p1.stop()
        assert "Traceback" not in p0.output, p0.output[-3000:]
        assert "Traceback" not in p1.output, p1.output[-3000:]
        # Each process loaded only its own shard's interview at start.
        assert re.search(r"\b1 Discord interview\(s\) to pick up", p1.output), p1.output[-2000:]

    settings = Settings(
        database={"url": pg_url},
        chroma={"url": chroma_server},
        interview={"guides_dir": tmp_path / "guides", "default_guide": GUIDE},
    )
    settings.embeddings.in_process = False
    async with open_services(settings, background=False) as svc:
        answers = {}
        for view in await svc.engine.list():
            data = await svc.experts.data(view.expert_id)
            answers[view.guild_id] = [t["answer"] for iv in data["interviews"] for t in iv["turns"]]
    assert answers == {
        server.guild.id: ["I bake bread.", "The crust sings.", None],
        b.id: ["I repair clocks.", "A clock that stops at night\n\nhas a tired mainspring.", None],
    }
