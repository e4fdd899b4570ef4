"""The review queue over time: curators side by side, a restart under an open card, undo."""

from __future__ import annotations

import asyncio

import pytest
from test_review_support import (
    ACROMEGALY,
    LEGAL,
    actor,
    audit,
    curators_see_review,
    entry_on,
    interview,
    next_card,
    open_form,
    press,
    reply_to,
    row,
    submit,
)

from knowledge.review import APPROVE, REJECT, UNDO

pytestmark = pytest.mark.asyncio


@pytest.mark.postgres
async def test_two_curators_at_once_never_see_the_same_entry(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:4])
    ids += await interview(services, LEGAL[:2], name="rapawy", external_id="700002")
    async with world.run():
        start = len(server.calls)
        a, b = await asyncio.gather(
            server.slash(server.curator, "review next"), server.slash(server.admin, "review next")
        )
        cards = await asyncio.gather(reply_to(server, a, start), reply_to(server, b, start))
        seen = [{entry_on(c) for c in cards}]
        for _ in range(2):  # both decide at the same moment; their next cards differ again
            await asyncio.gather(
                press(server, server.curator, cards[0], "approve"),
                press(server, server.admin, cards[1], "approve"),
            )
            seen.append({entry_on(c) for c in cards})
    assert all(len(pair) == 2 and None not in pair for pair in seen)
    shown = set().union(*seen)
    assert len(shown) == 6 and shown == set(ids)
    for eid in [i for pair in seen[:2] for i in pair]:
        [ev] = await audit(services, eid)
        assert ev.action == APPROVE


@pytest.mark.postgres
async def test_a_card_from_before_a_restart_still_works_on_a_new_bot(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    async with world.run():
        card = await next_card(server, server.curator)
    first_bot = world.bots[-1]
    services = await world.restart_services()
    async with world.run():
        assert world.bots[-1] is not first_bot
        await press(server, server.curator, card, "approve")
        assert card.content == f"Approved entry {ids[0]}." and entry_on(card) == ids[1]
        fields, _ = await open_form(server, server.curator, card, "reject")
        await submit(
            server,
            server.curator,
            card,
            f"tacit:review:reject-form:{ids[1]}",
            {"reason": "repeats the first answer"},
        )
    assert (await row(services, ids[0])).status == "approved"
    assert (await row(services, ids[1])).status == "rejected"


@pytest.mark.postgres
async def test_undo_restores_the_state_before_the_last_decision(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    async with world.run():
        card = await next_card(server, server.curator)
        await press(server, server.curator, card, "approve")
        await open_form(server, server.curator, card, "reject")
        await submit(
            server,
            server.curator,
            card,
            f"tacit:review:reject-form:{ids[1]}",
            {"reason": "too general"},
        )
        undo = await reply_to(server, await server.slash(server.curator, "review undo"))
        assert undo.ephemeral
        assert undo.content.startswith(f"Undone: entry {ids[1]} is pending again")
        e = await row(services, ids[1])
        assert (e.status, e.reason, e.decided_by) == ("pending", None, None)
        undo = await reply_to(server, await server.slash(server.curator, "review undo"))
        assert undo.content.startswith(f"Undone: entry {ids[0]} is pending again")
        again = await next_card(server, server.curator)
        assert entry_on(again) == ids[0]  # an undone entry comes back to its curator first
        nothing = await reply_to(server, await server.slash(server.admin, "review undo"))
        assert nothing.content.startswith("Nothing to undo")
    assert [ev.action for ev in await audit(services, ids[1])] == [REJECT, UNDO]
    undone = await audit(services, ids[0])
    assert [(ev.action, ev.actor) for ev in undone] == [
        (APPROVE, actor(server.curator)),
        (UNDO, actor(server.curator)),
    ]
    assert undone[1].after["status"] == "pending"
