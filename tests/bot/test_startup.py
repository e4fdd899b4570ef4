"""Starting the bot: the token and intents errors, command sync, sharding by config."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakediscord import FakeDiscord
from pydantic import SecretStr

from bot.__main__ import run
from bot.client import ShardedTacitBot, TacitBot, create_bot

ROOT = Path(__file__).resolve().parents[2]


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_no_token_says_what_to_do(settings, capsys):
    settings.discord.token = None
    assert run(settings) == 2
    line = _one_line(capsys.readouterr().err)
    assert "DISCORD_TOKEN" in line and "developers/applications" in line


def test_python_m_bot_without_a_token_exits_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["TACIT_DATABASE__URL"] = f"sqlite+aiosqlite:///{tmp_path / 'tacit.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "DISCORD_TOKEN" in _one_line(proc.stderr)


def test_an_unreachable_database_is_one_line_without_its_password(settings, capfd):
    settings.discord.token = SecretStr("MTIz.fake-token")
    settings.database.url = "postgresql+asyncpg://tacit:s3cret-pw@127.0.0.1:1/tacit"
    assert run(settings) == 2
    line = _one_line(capfd.readouterr().err)
    assert "database.url: cannot connect" in line
    assert "s3cret-pw" not in line and "fake-token" not in line


@pytest.mark.asyncio
async def test_bad_token_is_one_line_without_the_token(settings, capfd):
    secret = "not-the-right-token-1234567890"
    settings.discord.token = SecretStr(secret)
    async with FakeDiscord() as server:
        with server.patch_discord():
            code = await asyncio.to_thread(run, settings)
    assert code == 1
    out, err = capfd.readouterr()
    assert "rejected the bot token" in _one_line(err)
    assert secret not in out + err


@pytest.mark.asyncio
async def test_missing_privileged_intents_is_one_line(settings, capfd):
    async with FakeDiscord() as server:
        settings.discord.token = SecretStr(server.token)

        async def refuse(conn, data):  # what Discord does when Message Content is not enabled
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")

        server._identify = refuse
        with server.patch_discord():
            code = await asyncio.to_thread(run, settings)
    assert code == 1
    out, err = capfd.readouterr()
    line = _one_line(err)
    assert "MESSAGE CONTENT INTENT" in line
    assert server.token not in out + err


@pytest.mark.asyncio
async def test_commands_are_synced_to_the_dev_guild_only(world):
    world.settings.discord.dev_guild_id = world.server.guild.id
    server = world.server
    async with world.run(sync=False):
        await server.wait_for_call(
            "PUT", "/applications/{application_id}/guilds/{guild_id}/commands", since=0
        )
    names = {name for name, _ in server.commands[server.guild.id]}
    assert {"interview", "me"} <= names
    assert None not in server.commands  # nothing published globally


@pytest.mark.asyncio
async def test_no_sync_on_a_plain_start(world):
    server = world.server
    async with world.run(sync=False):
        await server.idle()
    assert not [c for c in server.calls if c.route and c.route.endswith("/commands")]


@pytest.mark.asyncio
async def test_sync_flag_publishes_globally(world):
    server = world.server
    async with world.run(sync=True):
        call = await server.wait_for_call("PUT", "/applications/{application_id}/commands", since=0)
    assert {"interview", "me"} <= {c["name"] for c in call.response}
    interview = next(c for c in call.response if c["name"] == "interview")
    assert {o["name"] for o in interview["options"]} == {
        "start",
        "next",
        "skip",
        "pause",
        "resume",
        "end",
        "status",
    }


@pytest.mark.asyncio
async def test_sharding_follows_the_config(services):
    discord_settings = services.settings.discord
    assert type(create_bot(services)) is TacitBot
    discord_settings.shards = "auto"
    bot = create_bot(services)
    assert isinstance(bot, ShardedTacitBot) and bot.shard_count is None
    discord_settings.shards = 3
    bot = create_bot(services)
    assert isinstance(bot, ShardedTacitBot) and bot.shard_count == 3
    assert bot.intents.message_content and not bot.intents.members
