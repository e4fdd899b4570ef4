"""Only curators review: the bot checks every command, button and form itself."""

from __future__ import annotations

import pytest
from test_review_support import (
    ACROMEGALY,
    audit,
    curators_see_review,
    entry_on,
    interview,
    moderator,
    next_card,
    open_form,
    row,
)

from bot.exts.review._views import NOT_ALLOWED

pytestmark = pytest.mark.asyncio

COMMANDS = [
    ("review next", {}),
    ("review search", {"query": "growth hormone"}),
    ("review entry", {"id": 1}),
    ("review undo", {}),
    ("review stats", {}),
    ("review payouts", {"from": "2020-01-01"}),
]


async def test_discord_hides_review_from_members_without_manage_messages(world):
    server = world.server
    async with world.run():
        with pytest.raises(PermissionError, match="default_member_permissions"):
            await server.slash(server.stranger, "review next")


@pytest.mark.postgres
async def test_a_non_curator_is_refused_every_review_command_and_nothing_happens(world):
    server = world.server
    stranger = moderator(server)  # Discord shows them /review: only the bot's check is left
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    await services.review.approve("cli:test", ids[1])
    async with world.run():
        for command, options in COMMANDS:
            ix = await server.slash(stranger, command, options)
            await ix.wait_response()
            assert ix.message.ephemeral and ix.message.content == NOT_ALLOWED, command
            assert ix.message.embeds == [] and ix.message.attachments == []
            assert ix.followup_messages == []
    e = await row(services, ids[0])
    assert (e.status, e.claimed_by) == ("pending", None)
    assert [ev.action for ev in await audit(services, ids[1])] == ["entry.approve"]


async def test_a_curator_who_lost_the_role_cannot_use_an_open_card(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    async with world.run():
        card = await next_card(server, server.curator)
        assert entry_on(card) == ids[0]
        versions = len(card.history)
        server.curator.role_ids.clear()  # an admin took the curator role away
        for action in ("approve", "skip", "reject", "edit", "pii"):
            click = await server.click(server.curator, card, f"tacit:review:{action}:{ids[0]}")
            await click.wait_response()
            assert click.response_type == 4 and click.modal is None, action
            assert click.message.ephemeral and click.message.content == NOT_ALLOWED
        assert entry_on(card) == ids[0] and len(card.history) == versions
    assert (await row(services, ids[0])).status == "pending"
    assert await audit(services, ids[0]) == []


async def test_a_form_submitted_after_losing_the_role_is_refused(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    async with world.run():
        card = await next_card(server, server.curator)
        await open_form(server, server.curator, card, "reject")
        server.curator.role_ids.clear()
        sub = await server.submit_modal(
            server.curator, f"tacit:review:reject-form:{ids[0]}", {"reason": "not useful"}
        )
        await sub.wait_response()
        assert sub.message.ephemeral and sub.message.content == NOT_ALLOWED
        assert entry_on(card) == ids[0]
    assert (await row(services, ids[0])).status == "pending"
    assert await audit(services, ids[0]) == []
