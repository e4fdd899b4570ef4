"""/review curators: a server's admins choose which roles curate it, stored and audited."""

from __future__ import annotations

import pytest
from fakediscord.models import MANAGE_MESSAGES
from sqlalchemy import select
from test_review_support import ACROMEGALY, entry_on, interview, reply_to

from bot.exts.review._curators import ADMINS_ONLY
from bot.exts.review._views import NOT_ALLOWED
from knowledge.storage import AuditEvent

pytestmark = pytest.mark.asyncio


@pytest.mark.postgres
async def test_an_admin_makes_a_role_curate_and_takes_it_back(world):
    server = world.server
    reviewers = server.add_role("reviewers", MANAGE_MESSAGES)  # Discord shows them /review
    member = server.add_user("rita", roles=[reviewers])
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:1])
    async with world.run():
        ix = await server.slash(member, "review next")
        assert (await reply_to(server, ix)).content == NOT_ALLOWED

        ix = await server.slash(server.admin, "review curators add", {"role": reviewers})
        assert "now curate this server" in (await reply_to(server, ix)).content
        card = await reply_to(server, await server.slash(member, "review next"))
        assert entry_on(card) == ids[0]
        listing = await reply_to(server, await server.slash(server.admin, "review curators list"))
        assert f"<@&{reviewers.id}>, set by <@{server.admin.id}>" in listing.content

        # a curator who is no admin cannot change who curates
        ix = await server.slash(member, "review curators remove", {"role": reviewers})
        assert (await reply_to(server, ix)).content == ADMINS_ONLY

        ix = await server.slash(server.admin, "review curators remove", {"role": reviewers})
        assert "no longer curates" in (await reply_to(server, ix)).content
        ix = await server.slash(member, "review next")
        assert (await reply_to(server, ix)).content == NOT_ALLOWED
    async with services.db.sessions() as s:
        events = list(
            await s.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "curator_role")
                .order_by(AuditEvent.id)
            )
        )
    assert [(e.action, e.actor, e.after["role_id"]) for e in events] == [
        ("curator_role.add", f"discord:{server.admin.id}", str(reviewers.id)),
        ("curator_role.remove", f"discord:{server.admin.id}", str(reviewers.id)),
    ]


async def test_a_role_curates_only_the_server_it_was_set_in(world):
    server = world.server
    b = server.add_guild("Second")
    reviewers = server.add_role("reviewers", MANAGE_MESSAGES)
    rita = server.add_user("rita", roles=[reviewers])
    b_role = b.add_role("reviewers-b", MANAGE_MESSAGES)
    b.add_member(rita, roles=[b_role])
    services = await world.open()
    await services.curators.add(server.guild.id, reviewers.id, actor="discord:1")
    async with world.run():
        ix = await server.slash(rita, "review stats", channel=b.general)
        assert (await reply_to(server, ix)).content == NOT_ALLOWED
        ix = await server.slash(rita, "review stats")
        assert "entries" in (await reply_to(server, ix)).text
