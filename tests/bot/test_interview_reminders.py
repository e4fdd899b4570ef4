"""Reminders through the real bot: one nudge for a paused interview, a Resume button that picks
it up, and none at all after /me reminders off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from test_review_support import reply_to

from knowledge.storage import Interview

pytestmark = pytest.mark.asyncio


async def let_time_pass(services, hours: float) -> None:
    """Move every interview's last activity and last reminder `hours` into the past."""
    async with services.db.sessions() as s, s.begin():
        for iv in await s.scalars(select(Interview)):
            iv.last_activity_at -= timedelta(hours=hours)
            if iv.reminded_at is not None:
                iv.reminded_at -= timedelta(hours=hours)


async def pause(server, thread):
    ix = await server.slash(server.expert, "interview pause", channel=thread)
    await reply_to(server, ix)


@pytest.mark.postgres
async def test_a_paused_interview_gets_one_nudge_whose_button_resumes_it(world):
    world.configure(remind_after_hours=24)
    server = world.server
    async with world.run() as bot:
        reminders = bot.get_cog("Interview").reminders
        thread = await world.start_interview()
        await pause(server, thread)
        services = world.services
        assert await reminders.send_due() == 0  # not yet: paused a moment ago
        await let_time_pass(services, 25)
        assert await reminders.send_due() == 1
        nudge = server.messages_in(thread)[-1]
        assert server.expert.mention in nudge.content and "friendly reminder" in nudge.content
        (iid,) = [iv.id for iv in await services.engine.list()]
        assert nudge.custom_ids == [f"tacit:remind:resume:{iid}"]
        await let_time_pass(services, 48)
        assert await reminders.send_due() == 0  # never twice for one pause

        click = await server.click(server.admin, nudge, f"tacit:remind:resume:{iid}")
        await click.wait_response()
        assert "for the person being interviewed" in click.message.content
        click = await server.click(server.expert, nudge, f"tacit:remind:resume:{iid}")
        await click.wait_response()
        again = await server.wait_for_message(thread, lambda m: "Welcome back." in m.content)
        assert "Question 1 of 4" in again.content
        await server.wait_for(lambda c: nudge.custom_ids == [])
    assert (await world.services.engine.get(iid)).status == "active"


async def test_reminders_off_means_no_nudge(world):
    world.configure(remind_after_hours=24)
    server = world.server
    async with world.run() as bot:
        reminders = bot.get_cog("Interview").reminders
        thread = await world.start_interview()
        reply = await reply_to(
            server, await server.slash(server.expert, "me reminders", {"setting": "off"})
        )
        assert reply.content.startswith("Reminders are off")
        await pause(server, thread)
        await let_time_pass(world.services, 30)
        assert await reminders.send_due() == 0
        reply = await reply_to(
            server, await server.slash(server.expert, "me reminders", {"setting": "on"})
        )
        assert reply.content.startswith("Reminders are on")
        assert await reminders.send_due() == 1
