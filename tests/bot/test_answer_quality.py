"""How an answer arrived in Discord, and its quality flags on the curator's card.

The fake Discord's clock is moved forward between messages (`advance_clock`), so minutes of
typing play in no time: message ids, timestamps and typing events all follow that clock.
"""

from __future__ import annotations

import pytest
from botworld import done_id
from sqlalchemy import select
from test_review_support import LEGAL, curators_see_review, next_card, press

from knowledge.storage import Turn

pytestmark = pytest.mark.asyncio


async def answer_and_done(world, thread, question: int, steps) -> None:
    """Play (seconds to wait, action) steps in the thread, then press Done."""
    server = world.server
    q = await world.wait_question(question, thread)
    for wait, action in steps:
        server.advance_clock(wait)
        if action == "typing":
            await server.user_types(server.expert, thread)
        else:
            await server.user_sends(server.expert, thread, action)
    await server.click(server.expert, q, done_id(q))


@pytest.mark.postgres
async def test_a_pasted_answer_is_flagged_on_the_card_and_a_typed_one_is_not(world):
    world.configure(quiet_period_seconds=60)  # Done hands each answer over, not the clock
    server = world.server
    curators_see_review(server)
    typed = LEGAL[0].split(". ")
    pasted = LEGAL[1]
    async with world.run():
        thread = await world.start_interview()
        # Typed: three messages, each after typing began, at about 250 characters a minute.
        steps = []
        for part in (". ".join(typed[:2]), ". ".join(typed[2:4]), ". ".join(typed[4:])):
            if part:
                steps += [(4, "typing"), (len(part) / 250 * 60, part)]
        await answer_and_done(world, thread, 1, steps)
        # Pasted: a wait, one typing event (a paste sends one), the whole answer a second later.
        await answer_and_done(world, thread, 2, [(75, "typing"), (1, pasted)])
        await world.wait_question(3, thread)
        card = await next_card(server, server.curator)
        first_card = card.embeds[0]
        await press(server, server.curator, card, "skip")
        second_card = card.embeds[0]
    async with world.services.db.sessions() as s:
        first, second = (await s.scalars(select(Turn).order_by(Turn.seq).limit(2))).all()
    assert first.flags == [] and [f["kind"] for f in second.flags] == ["pasted"]
    # What was recorded: every message with its time and length, the typing events seen.
    arrival = first.arrival
    assert arrival["platform"] == "discord" and arrival["typing_watched"] is True
    assert len(arrival["chunks"]) == 3 and len(arrival["typing"]) == 3
    assert "3 messages over" in arrival["summary"]
    assert "🚩 Quality flags" not in {f["name"] for f in first_card["fields"]}
    fields = {f["name"]: f["value"] for f in second_card["fields"]}
    flag = fields["🚩 Quality flags"]
    assert flag.startswith("**pasted**: could not have been typed: a message of")
    assert "Arrived as 1 message over" in flag
