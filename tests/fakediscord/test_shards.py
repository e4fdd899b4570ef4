"""Several guilds, shards, gateway faults, REST faults and bots in other processes."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import discord
import pytest
from discord.ext import commands

from . import FakeDiscord, FakeMessage, capture_errors, run_bot
from .launch import spawn

# --------------------------------------------------------------------------- throwaway bots


class _NoIdentifyWait:
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s before every IDENTIFY but a client's first one (Discord's
        # identify rate limit); the fake has no such limit and the tests should stay fast
        return None


class Bot(_NoIdentifyWait, commands.Bot):
    pass


class ShardedBot(_NoIdentifyWait, commands.AutoShardedBot):
    pass


def make_bot(label: str = "bot", *, cls: type[commands.Bot] = Bot, sync: bool = True, **kw: Any):
    """Echoes messages as ``"<label>: <content>"``; ``/where`` names the guild and roles."""
    intents = discord.Intents.default()
    intents.members = True
    intents.message_content = True
    bot = cls(command_prefix="!", intents=intents, **kw)
    seen: list[tuple[int | None, str]] = []
    bot.seen = seen  # type: ignore[attr-defined]
    bot.second_channel_id = None  # type: ignore[attr-defined]

    @bot.tree.command(name="where", description="Where am I, and with which roles?")
    async def where(interaction: discord.Interaction) -> None:
        if interaction.guild is None:
            await interaction.response.send_message(f"{label}: dm")
            return
        # over REST too, so GET /guilds/{id}/members/{id} must answer for this guild
        member = await interaction.guild.fetch_member(interaction.user.id)
        roles = ",".join(sorted(r.name for r in member.roles if not r.is_default()))
        await interaction.response.send_message(
            f"{label}: guild={interaction.guild_id} roles={roles}", ephemeral=True
        )

    @bot.event
    async def on_ready() -> None:
        if sync:
            await bot.tree.sync()

    @bot.event
    async def on_message(message: discord.Message) -> None:
        if message.author.bot:
            return
        seen.append((message.guild.id if message.guild else None, message.content))
        if message.content == "!two":
            # a second request on another bucket, sent while the first one is being retried
            async def later() -> None:
                await asyncio.sleep(0.1)
                await bot.get_channel(bot.second_channel_id).send("second")

            await asyncio.gather(message.channel.send("first"), later())
        else:
            await message.channel.send(f"{label}: {message.content}")

    return bot


def sharded(label: str, *shard_ids: int, shard_count: int = 2, **kw: Any) -> commands.Bot:
    return make_bot(label, cls=ShardedBot, shard_ids=list(shard_ids), shard_count=shard_count, **kw)


async def _reply(server: FakeDiscord, channel, text: str) -> FakeMessage:
    return await server.wait_for_message(channel, lambda m: m.content.endswith(": " + text))


# --------------------------------------------------------------------------- several guilds


@pytest.mark.asyncio
async def test_two_guilds_have_their_own_members_roles_and_channels() -> None:
    async with FakeDiscord() as server:
        b = server.add_guild("Second", expert=server.expert)  # the same user plays B's expert
        b.add_member(server.expert, roles=[b.curator_role])  # ...and is a curator in B only
        async with run_bot(server, make_bot()) as bot:
            assert {g.id for g in bot.guilds} == {server.guild.id, b.id}
            guild_a, guild_b = bot.get_guild(server.guild.id), bot.get_guild(b.id)
            assert guild_b.name == "Second" and guild_b.owner_id == b.admin.id
            assert [c.id for c in guild_b.text_channels] == [b.general.id]
            assert {m.name for m in guild_b.members} == {
                "tacit",
                "expert",
                "curator-2",
                "admin-2",
                "stranger-2",
            }
            assert guild_b.get_member(server.curator.id) is None
            assert guild_a.get_member(b.curator.id) is None
            # roles are per guild, and so are the bot's
            assert {r.id for r in guild_b.roles} == {r.id for r in b.roles}
            assert guild_b.me.top_role.id == b.bot_role.id
            assert guild_a.get_member(server.expert.id).roles == [guild_a.default_role]

            # interactions carry the guild they come from, and that guild's member roles
            ix_b = await server.slash(server.expert, "where", channel=b.general)
            await ix_b.wait_response()
            assert ix_b.payload["guild_id"] == str(b.id)
            assert ix_b.payload["member"]["roles"] == [str(b.curator_role.id)]
            assert ix_b.message.content == f"bot: guild={b.id} roles=curator"
            ix_a = await server.slash(server.expert, "where")
            await ix_a.wait_response()
            assert ix_a.message.content == f"bot: guild={server.guild.id} roles="

            # messages stay in their guild
            await server.user_sends(b.stranger, b.general, "hello B")
            reply = await _reply(server, b.general, "hello B")
            assert reply.raw["guild_id"] == str(b.id)
            assert [m.content for m in server.messages_in(server.general)] == [ix_a.message.content]
            with pytest.raises(PermissionError):  # not a member of the default guild
                await server.user_sends(b.stranger, server.general, "let me in")

            # role changes in B do not touch the default guild
            await server.set_roles(server.expert, [b.curator_role, b.admin_role])
            await _until(lambda: len(guild_b.get_member(server.expert.id).roles) == 3)
            assert guild_a.get_member(server.expert.id).roles == [guild_a.default_role]
            assert server.expert.role_ids == []


@pytest.mark.asyncio
async def test_a_running_bot_joins_a_new_guild_on_its_shard() -> None:
    async with FakeDiscord(shard_count=2) as server:
        bot0, bot1 = sharded("bot0", 0), sharded("bot1", 1, sync=False)
        joined: list[int] = []

        async def on_guild_join(guild: discord.Guild) -> None:
            joined.append(guild.id)

        bot1.add_listener(on_guild_join)
        async with run_bot(server, bot0), run_bot(server, bot1):
            c = server.add_guild("Third", shard=1)
            await server.join_guild(c)
            await _until(lambda: joined == [c.id])
            assert bot0.get_guild(c.id) is None
            await server.user_sends(c.expert, c.general, "new here")
            assert (await _reply(server, c.general, "new here")).content == "bot1: new here"


def test_guild_ids_choose_their_shard() -> None:
    server = FakeDiscord(shard_count=3)
    assert all(server.shard_of(server.guild, n) == 0 for n in range(1, 13))
    worlds = [server.add_guild(shard=s) for s in (2, 1, 0, 2)]
    assert [w.shard_id() for w in worlds] == [2, 1, 0, 2]
    assert server.add_guild(shard=1, shard_count=2).shard_id(2) == 1
    assert server.shard_of(server.dm(server.expert)) == 0
    assert len({w.id for w in worlds}) == 4
    with pytest.raises(ValueError):
        server.add_guild(id=worlds[0].id)
    with pytest.raises(ValueError):
        server.add_guild(id=(5 << 22), shard=0, shard_count=2)  # 5 % 2 == 1
    assert server.add_guild(id=(5 << 22)).id == 5 << 22


# --------------------------------------------------------------------------- shards


@pytest.mark.asyncio
async def test_autosharded_bot_follows_gateway_bot_and_each_shard_gets_its_guilds() -> None:
    async with FakeDiscord(shard_count=2) as server:
        b = server.add_guild("Second", shard=1)
        async with run_bot(
            server, make_bot(cls=ShardedBot)
        ) as bot:  # shard_count from /gateway/bot
            assert bot.shard_count == 2 and set(bot.shards) == {0, 1}
            assert sorted(i["shard"] for i in server.identifies) == [[0, 2], [1, 2]]
            s0, s1 = server.sessions_on(0)[0], server.sessions_on(1)[0]
            assert [g["id"] for g in s0.events("READY")[0]["guilds"]] == [str(server.guild.id)]
            assert [g["id"] for g in s1.events("READY")[0]["guilds"]] == [str(b.id)]
            assert [g["id"] for g in s1.events("GUILD_CREATE")] == [str(b.id)]
            assert bot.get_guild(b.id).shard_id == 1

            await server.user_sends(b.expert, b.general, "in B")
            await _reply(server, b.general, "in B")
            await server.user_sends(server.expert, server.dm(server.expert), "in a DM")
            await _reply(server, server.dm(server.expert), "in a DM")
            ix = await server.slash(b.expert, "where", channel=b.general)
            await ix.wait_response()

            def contents(session, event):
                return [e.get("content") for e in session.events(event)]

            assert contents(s1, "MESSAGE_CREATE") == ["in B", "bot: in B"]
            assert contents(s0, "MESSAGE_CREATE") == ["in a DM", "bot: in a DM"]
            assert [e["id"] for e in s1.events("INTERACTION_CREATE")] == [str(ix.id)]
            assert s0.events("INTERACTION_CREATE") == []


@pytest.mark.asyncio
async def test_two_bot_objects_each_run_one_shard() -> None:
    async with FakeDiscord(shard_count=2) as server:
        b = server.add_guild("Second", shard=1, expert=server.expert)
        bot0, bot1 = sharded("bot0", 0), sharded("bot1", 1, sync=False)
        async with run_bot(server, bot0), run_bot(server, bot1):
            assert [g.id for g in bot0.guilds] == [server.guild.id]
            assert [g.id for g in bot1.guilds] == [b.id]

            await server.user_sends(server.expert, server.general, "to A")
            assert (await _reply(server, server.general, "to A")).content == "bot0: to A"
            await server.user_sends(server.expert, b.general, "to B")
            assert (await _reply(server, b.general, "to B")).content == "bot1: to B"
            dm = server.dm(server.expert)
            await server.user_sends(server.expert, dm, "to the DM")
            assert (await _reply(server, dm, "to the DM")).content == "bot0: to the DM"

            ix = await server.slash(server.expert, "where", channel=b.general)
            await ix.wait_response()
            assert ix.message.content == f"bot1: guild={b.id} roles="
            ix_dm = await server.slash(server.expert, "where", channel=dm)
            await ix_dm.wait_response()
            assert ix_dm.message.content == "bot0: dm"
            await server.idle()
        assert bot0.seen == [(server.guild.id, "to A"), (None, "to the DM")]
        assert bot1.seen == [(b.id, "to B")]
        assert server.sessions == {}  # both closed cleanly (1000)


@pytest.mark.asyncio
async def test_identify_with_an_invalid_shard_is_refused() -> None:
    async with FakeDiscord() as server:
        bot = make_bot(cls=Bot, shard_id=2, shard_count=2)
        with server.patch_discord(), pytest.raises(discord.ConnectionClosed) as info:
            await asyncio.wait_for(bot.start(server.token), 10)
        assert info.value.code == 4010
        await bot.close()


# --------------------------------------------------------------------------- gateway faults


@pytest.mark.asyncio
async def test_op7_on_one_shard_resumes_it_and_replays_what_it_missed() -> None:
    async with FakeDiscord(shard_count=2) as server:
        b = server.add_guild("Second", shard=1)
        async with run_bot(server, make_bot(cls=ShardedBot)):
            s0, s1 = server.sessions_on(0)[0], server.sessions_on(1)[0]
            await server.gateway_reconnect(shard=1)
            # sent right behind the op 7: the bot closes the socket before reading it
            await server.user_sends(b.expert, b.general, "while reconnecting")
            await _reply(server, b.general, "while reconnecting")
            await _until(lambda: s1.resumes == 1)
            assert s0.resumes == 0 and len(server.identifies) == 2
            resume = next(f["d"] for f in server.gateway_received if f["op"] == 6)
            assert resume["session_id"] == s1.id
            (sent,) = [f for f in s1.history if f["t"] == "MESSAGE_CREATE"][:1]
            assert sent["s"] > resume["seq"]  # so the bot saw it only through the replay
            assert len(server.messages_in(b.general)) == 1


@pytest.mark.asyncio
async def test_op9_resumable_resumes_without_losing_events() -> None:
    async with FakeDiscord() as server, run_bot(server, make_bot()):
        (session,) = server.sessions_on()
        await server.invalidate_session(resumable=True)
        dm = server.dm(server.expert)
        await server.user_sends(server.expert, dm, "still here?")
        await _reply(server, dm, "still here?")
        await _until(lambda: session.resumes == 1)
        assert server.sessions_on() == [session] and len(server.identifies) == 1


@pytest.mark.asyncio
async def test_op9_not_resumable_makes_the_shard_identify_again() -> None:
    async with FakeDiscord(shard_count=2) as server:
        b = server.add_guild("Second", shard=1)
        async with run_bot(server, make_bot(cls=ShardedBot)) as bot:
            (old,) = server.sessions_on(1)
            (s0,) = server.sessions_on(0)
            await server.invalidate_session(resumable=False, shard=1, wait=True)
            (new,) = server.sessions_on(1)
            assert new is not old and old.id not in server.sessions
            assert [i["shard"] for i in server.identifies] == [[0, 2], [1, 2], [1, 2]]
            assert server.sessions_on(0) == [s0] and s0.resumes == 0
            await server.user_sends(b.expert, b.general, "after the new session")
            await _reply(server, b.general, "after the new session")
            assert bot.get_guild(b.id) is not None
            assert len(new.events("GUILD_CREATE")) == 1


# --------------------------------------------------------------------------- REST faults

SEND = "/channels/{channel_id}/messages"


def _sends(server: FakeDiscord, channel) -> list:
    return [c for c in server.calls if c.matches("POST", SEND, channel_id=channel.id)]


@pytest.mark.asyncio
@pytest.mark.parametrize("scope", ["user", "shared"])
async def test_429_is_slept_on_and_retried_once(scope: str) -> None:
    async with FakeDiscord() as server, run_bot(server, make_bot()):
        dm = server.dm(server.expert)
        server.rate_limit_next("POST", SEND, retry_after=0.3, scope=scope, channel_id=dm.id)
        await server.user_sends(server.expert, dm, "hi")
        reply = await _reply(server, dm, "hi")
        limited, retried = _sends(server, dm)
        assert (limited.status, retried.status) == (429, 200)
        assert limited.response["retry_after"] == 0.3 and limited.response["global"] is False
        assert limited.response_headers["X-RateLimit-Scope"] == scope
        assert limited.response_headers["Retry-After"] == "1"
        assert limited.message is None and retried.message is reply
        assert retried.at - limited.at >= 0.3
        assert server.messages_in(dm) == [reply]  # recorded once


@pytest.mark.asyncio
@pytest.mark.parametrize("scope", ["user", "global"])
async def test_a_global_429_holds_back_other_requests_too(scope: str) -> None:
    async with FakeDiscord() as server, run_bot(server, make_bot()) as bot:
        bot.second_channel_id = server.general.id
        dm = server.dm(server.expert)
        server.rate_limit_next("POST", SEND, retry_after=0.5, scope=scope, channel_id=dm.id)
        await server.user_sends(server.expert, dm, "!two")
        second = await server.wait_for_message(server.general)
        limited = _sends(server, dm)[0]
        call = next(c for c in server.calls if c.message is second)
        waited = call.at - limited.at
        if scope == "global":
            assert limited.response_headers["X-RateLimit-Global"] == "true"
            assert waited >= 0.4  # discord.py held it until the global limit was over
        else:
            assert waited < 0.4  # another bucket: not held back
        await server.wait_for_message(dm)


@pytest.mark.asyncio
async def test_429_five_times_makes_discordpy_give_up() -> None:
    with capture_errors() as errors:
        async with FakeDiscord() as server, run_bot(server, make_bot(), check_errors=False):
            dm = server.dm(server.expert)
            server.rate_limit_next("POST", SEND, retry_after=0.01, times=6, channel_id=dm.id)
            await server.user_sends(server.expert, dm, "hi")
            await _until(lambda: errors.records)
            assert [c.status for c in _sends(server, dm)] == [429] * 5
            assert server.messages_in(dm) == []
        (record,) = errors.take()
        assert isinstance(record.exc_info[1], discord.HTTPException)
        assert record.exc_info[1].status == 429


@pytest.mark.asyncio
@pytest.mark.parametrize("case", ["too-long", "cloudflare"])
async def test_429_that_discordpy_does_not_retry(case: str) -> None:
    with capture_errors() as errors:
        async with FakeDiscord() as server:
            bot = make_bot(max_ratelimit_timeout=30.0)
            async with run_bot(server, bot, check_errors=False):
                dm = server.dm(server.expert)
                if case == "too-long":
                    server.rate_limit_next("POST", SEND, retry_after=31.0, channel_id=dm.id)
                else:
                    server.rate_limit_next("POST", SEND, cloudflare=True, channel_id=dm.id)
                await server.user_sends(server.expert, dm, "hi")
                await _until(lambda: errors.records)
                assert [c.status for c in _sends(server, dm)] == [429]
        (record,) = errors.take()
        expected = discord.RateLimited if case == "too-long" else discord.HTTPException
        assert isinstance(record.exc_info[1], expected)


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [500, 502, 504, 524])
async def test_5xx_on_a_send_is_retried_after_a_second(status: int) -> None:
    async with FakeDiscord() as server, run_bot(server, make_bot()):
        dm = server.dm(server.expert)
        server.fail_next("POST", SEND, status=status, channel_id=dm.id)
        await server.user_sends(server.expert, dm, "hi")
        reply = await _reply(server, dm, "hi")
        failed, retried = _sends(server, dm)
        assert (failed.status, retried.status) == (status, 200)
        assert 0.9 <= retried.at - failed.at < 2.5  # discord.py sleeps 1 + 2 * tries seconds
        assert server.messages_in(dm) == [reply]  # the failed attempt created nothing


@pytest.mark.asyncio
async def test_503_on_a_send_is_not_retried() -> None:
    with capture_errors() as errors:
        async with FakeDiscord() as server, run_bot(server, make_bot(), check_errors=False):
            dm = server.dm(server.expert)
            server.fail_next("POST", SEND, status=503, channel_id=dm.id)
            await server.user_sends(server.expert, dm, "hi")
            await _until(lambda: errors.records)
            assert [c.status for c in _sends(server, dm)] == [503]
            assert server.messages_in(dm) == []
        (record,) = errors.take()
        assert isinstance(record.exc_info[1], discord.DiscordServerError)


# --------------------------------------------------------------------------- other processes


@pytest.mark.asyncio
async def test_one_bot_process_per_shard() -> None:
    async with FakeDiscord(shard_count=2) as server:
        b = server.add_guild("Second", shard=1, expert=server.expert)
        target = "fakediscord.demo_shard_bot:main"
        async with (
            await spawn(server, target, "--shard", "0", "--shards", "2") as p0,
            await spawn(server, target, "--shard", "1", "--shards", "2") as p1,
        ):
            assert len(await server.wait_for_sessions(2)) == 2
            assert await p0.wait_for_output("ready") == f"ready shard=0 guilds={[server.guild.id]}"
            assert await p1.wait_for_output("ready") == f"ready shard=1 guilds={[b.id]}"
            assert sorted(i["shard"] for i in server.identifies) == [[0, 2], [1, 2]]

            await server.user_sends(server.expert, server.general, "to A")
            assert (await _reply(server, server.general, "to A")).content == "shard 0: to A"
            await server.user_sends(server.expert, b.general, "to B")
            assert (await _reply(server, b.general, "to B")).content == "shard 1: to B"
            dm = server.dm(server.expert)
            await server.user_sends(server.expert, dm, "to the DM")
            assert (await _reply(server, dm, "to the DM")).content == "shard 0: to the DM"
            await server.idle()
            for channel in (server.general, b.general, dm):
                assert len(server.messages_in(channel)) == 1  # nobody else answered
        codes = (p0.proc.returncode, p1.proc.returncode)
        assert codes == (0, 0), f"{codes}:\n{p0.output[-1500:]}\n---\n{p1.output[-1500:]}"
        assert server.sessions == {}  # Ctrl-C closed both sessions cleanly
        assert "Traceback" not in p0.output + p1.output


PROBE = """
import sys
import discord

def main():
    print("base", discord.http.Route.BASE)
    print("gateway", discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    print("argv", sys.argv[1:])
    return int(sys.argv[-1])

if __name__ == "__main__":
    sys.exit(main())
"""


@pytest.mark.asyncio
@pytest.mark.parametrize("form", ["module:callable", "-m", "script"])
async def test_launcher_points_discord_at_the_fake_for_every_target_form(
    form: str, tmp_path
) -> None:
    (tmp_path / "probe_bot.py").write_text(PROBE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    target = {
        "module:callable": ["probe_bot:main"],
        "-m": ["-m", "probe_bot"],
        "script": [str(tmp_path / "probe_bot.py")],
    }[form]
    async with FakeDiscord() as server:
        proc = await spawn(server, *target, "--flag", "3", env=env)
        assert await proc.wait() == 3
        assert proc.lines == [
            f"base {server.url}/api/v10",
            f"gateway {server.url}/gateway",
            "argv ['--flag', '3']",
        ]


async def _until(condition, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
