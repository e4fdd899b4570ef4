"""Several servers through the real bot: each sees its own data, a server not served gets one
line and nothing is stored, DM interviews belong to the home server."""

from __future__ import annotations

import pytest
from fakediscord import WaitTimeout
from fakediscord.models import MANAGE_MESSAGES
from sqlalchemy import func, select
from test_review_support import ACROMEGALY, LEGAL, curators_see_review, interview, reply_to

from bot.checks import NOT_SERVED
from bot.tenancy import NO_HOME
from knowledge.storage import Expert

pytestmark = pytest.mark.asyncio


async def _experts(services) -> int:
    async with services.db.sessions() as s:
        return await s.scalar(select(func.count()).select_from(Expert))


@pytest.mark.postgres
async def test_each_servers_curators_see_their_own_servers_entries_only(world):
    server = world.server
    curators_see_review(server)
    b = server.add_guild("Second")
    b.curator_role.permissions |= MANAGE_MESSAGES
    services = await world.open()
    a_ids = await interview(services, ACROMEGALY[:2])
    b_ids = await interview(services, LEGAL[:2], name="bo", external_id="700002", guild_id=b.id)
    async with world.run():
        seen = {}
        for who, channel in ((server.curator, server.general), (b.curator, b.general)):
            ix = await server.slash(who, "review stats", channel=channel)
            stats = await reply_to(server, ix)
            ix = await server.slash(
                who, "review search", {"query": LEGAL[0][:200]}, channel=channel
            )
            found = await reply_to(server, ix)
            seen[who.id] = (stats.text, found.text)
        for eid in b_ids:  # A's curator asks for B's entries by id: not there
            ix = await server.slash(server.curator, "review entry", {"id": eid})
            assert (await reply_to(server, ix)).content == f"No entry {eid}."
    a_stats, a_found = seen[server.curator.id]
    b_stats, b_found = seen[b.curator.id]
    assert "**2** entries" in a_stats and "Ana" in a_stats and "Bo" not in a_stats
    assert "**2** entries" in b_stats and "Bo" in b_stats and "Ana" not in b_stats
    assert all(f"Entry {i}:" not in a_found for i in b_ids)
    assert any(f"Entry {i}:" in b_found for i in b_ids)
    assert all(f"Entry {i}:" not in b_found for i in a_ids)


async def test_a_server_not_served_gets_one_line_and_nothing_is_stored(world):
    server = world.server
    b = server.add_guild("Not ours")
    world.settings.discord = world.settings.discord.model_copy(
        update={"allowed_guilds": [server.guild.id]}
    )
    services = await world.open()
    async with world.run():
        for user, command, options in (
            (b.expert, "interview start", {}),
            (b.expert, "me data", {}),
            (b.expert, "me entries", {}),
            (b.admin, "review next", {}),
            (b.admin, "review curators add", {"role": b.curator_role}),
            (b.admin, "export dataset", {"format": "openai"}),
        ):
            ix = await server.slash(user, command, options, channel=b.general)
            await ix.wait_response()
            assert ix.message.ephemeral and ix.message.content == NOT_SERVED, command
            assert ix.message.embeds == [] and ix.message.custom_ids == []
        await server.user_sends(b.expert, b.general, "Hello? Is anyone recording this?")
        with pytest.raises(WaitTimeout):
            await server.wait_for_message(b.general, timeout=0.5)
        # the served server works as ever
        await world.start_interview()
    assert await services.curators.list(b.id) == []
    assert await _experts(services) == 1  # the one who started in the served server
    assert await world.expert_id(b.expert, b.guild) is None


async def test_an_interview_started_in_dms_belongs_to_the_home_server(world):
    server = world.server
    async with world.run():
        dm = server.dm(server.expert)
        await world.start_interview(channel=dm)
        await server.user_sends(server.expert, dm, "I keep bees on three rooftops in Lyon.")
        await world.wait_question(2, dm)
    expert = await world.services.experts.find(
        "discord", str(server.expert.id), guild_id=server.guild.id
    )
    (iv,) = await world.services.engine.list(expert_id=expert.id)
    assert expert.guild_id == server.guild.id and iv.channel == f"discord:dm:{dm.id}"


async def test_without_a_home_server_an_interview_in_dms_is_refused(world):
    server = world.server
    world.settings.discord = world.settings.discord.model_copy(update={"home_guild_id": None})
    services = await world.open()
    async with world.run():
        ix = await server.slash(server.expert, "interview start", channel=server.dm(server.expert))
        await ix.wait_response()
        assert ix.message.content.startswith("Interviews in DMs are not set up here")
        assert ix.message.embeds == []
    assert NO_HOME.startswith("interviews in DMs")
    assert await _experts(services) == 0
