"""No log line of a real `tacit bot` or `tacit` process shows the Discord token or an API key,
at DEBUG, through a whole interview whose LLM calls fail (errors are where secrets leak)."""

from __future__ import annotations

import pytest
from botprocess import BotLife
from botworld import GUIDE, done_id, write_guide
from fakediscord import FakeDiscord

from tests.conftest import TEST_API_KEY, TEST_DISCORD_TOKEN, real_pairs
from tests.llm_servers import FakeOpenAI


@pytest.mark.asyncio
async def test_debug_logs_of_the_bot_and_the_cli_never_hold_the_token_or_api_keys(zygote, tmp_path):
    llm = await FakeOpenAI(mode="error").start()
    guides = tmp_path / "guides"
    write_guide(guides)
    answer = real_pairs("medquad_5_NIDDK_QA")[0]["answer"]
    try:
        async with FakeDiscord(token=TEST_DISCORD_TOKEN) as server:
            (tmp_path / "config.toml").write_text(
                f'log_level = "DEBUG"\n'
                f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "tacit.db"}"\n'
                f'[chroma]\npath = "{tmp_path / "chroma"}"\n'
                f'[interview]\nguides_dir = "{guides}"\ndefault_guide = "{GUIDE}"\n'
                "quiet_period_seconds = 600\n"
                f'[llm]\nmodel = "openai:gpt-4o-mini"\nbase_url = "{llm.url}"\n'
                "timeout = 2.0\nmax_retries = 0\n"
                f"[discord]\ndev_guild_id = {server.guild.id}\nhome_guild_id = {server.guild.id}\n"
            )
            life = BotLife(zygote, server, tmp_path, OPENAI_API_KEY=TEST_API_KEY)
            await life.start()
            expert = server.expert
            ix = await server.slash(expert, "interview start", {"guide": GUIDE})
            await ix.wait_response()
            await server.click(expert, ix.message, f"tacit:consent:agree:{expert.id}:{GUIDE}")
            q1 = await server.wait_for_message(
                predicate=lambda m: "Question 1 of 4" in m.content, timeout=20
            )
            await server.user_sends(expert, server.channel(q1.channel_id), answer)
            await server.click(expert, q1, done_id(q1))
            await server.wait_for_message(
                predicate=lambda m: "Question 2 of 4" in m.content or "Follow-up" in m.content,
                timeout=30,
            )
            await life.kill()
        env = {**life.env, "TACIT_LOG_LEVEL": "DEBUG"}
        chat = await zygote.spawn(
            ["-v", "chat", "--guide", GUIDE, "--consent", "--name", "Zed"],
            cwd=tmp_path,
            env=env,
            stderr=tmp_path / "chat.log",
        )
        chat.send(answer)
        chat.close_stdin()
        await chat.rest()
        assert await chat.wait() == 0, (tmp_path / "chat.log").read_text()[-3000:]
    finally:
        await llm.stop()
    assert llm.requests, "the LLM was never called: nothing tested the key"
    logs = sorted(tmp_path.glob("*.log"))
    text = {p.name: p.read_text(errors="replace") for p in logs}
    assert any("DEBUG" in t for t in text.values())  # loud enough to leak, if anything did
    for name, t in text.items():
        assert TEST_DISCORD_TOKEN not in t, name
        assert TEST_API_KEY not in t, name
