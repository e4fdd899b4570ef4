"""Blind double review through the bot: two curators, a disagreement, a third who settles it."""

from __future__ import annotations

import pytest
from botworld import GUIDE, GUIDE_TOML
from test_review_support import (
    ACROMEGALY,
    actor,
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

pytestmark = pytest.mark.asyncio

RUBRIC = """
[[rubric]]
name = "specificity"
description = "Concrete cues and cases, not generalities"
"""


def blind_world(world) -> None:
    """Two reviews per entry (the guide says so), and a rubric of one criterion."""
    path = world.guides_dir / f"{GUIDE}.toml"
    text = GUIDE_TOML.replace("{audit_intro}", "Now, what experience lets you see.")
    path.write_text("reviews_per_entry = 2\n" + text + RUBRIC, encoding="utf-8")


def field(card, name: str) -> str:
    [embed] = card.embeds
    return next((f["value"] for f in embed.get("fields", []) if f["name"] == name), "")


async def pick(server, user, card, custom_id: str, value: str):
    before, start = len(card.history), len(server.calls)
    click = await server.click(user, card, custom_id, values=[value])
    await click.wait_response()
    await server.wait_for_message(
        predicate=lambda m: m is card and len(m.history) > before, since=start
    )
    return card


async def test_a_disagreement_reaches_a_third_curator_first_who_sees_both_decisions(world):
    server = world.server
    curators_see_review(server)
    blind_world(world)
    services = await world.open()
    e0, e1, e2, e3 = await interview(services, ACROMEGALY[:4])
    ana, ben = server.curator, server.admin
    cat = server.add_user("cat", roles=[server.curator_role])
    async with world.run():
        a = await next_card(server, ana)
        assert entry_on(a) == e0 and "0 of 2 decisions made" in field(a, "Review")
        await press(server, ana, a, "skip")
        assert entry_on(a) == e1
        await pick(server, ana, a, f"tacit:review:score:{e1}:specificity", "4")
        assert a.content == f"Saved your score on entry {e1}."
        await press(server, ana, a, "approve")
        assert a.content.startswith(f"Recorded your decision on entry {e1}: it needs 1 more")
        assert entry_on(a) == e2
        # Ben gets the entry Ana reviewed, and nothing on it says what she decided
        b = await next_card(server, ben)
        assert entry_on(b) == e1
        review = field(b, "Review")
        assert "1 of 2 decisions made" in review and "hidden until you decide" in review
        assert f"<@{ana.id}>" not in str(b.embeds) and "approved" not in review
        await open_form(server, ben, b, "reject")
        await submit(
            server, ben, b, f"tacit:review:reject-form:{e1}", {"reason": "only general facts"}
        )
        assert "the reviews disagree" in b.content
        await press(server, ben, b, "skip")  # Ben lets e0 go: an older entry waits, unclaimed
        # Cat gets the disputed entry before the older one, with both decisions and reasons
        c = await next_card(server, cat)
        assert entry_on(c) == e1
        settle = field(c, "⚖️ Adjudication")
        assert f"<@{ana.id}> approved" in settle and "specificity 4" in settle
        assert f"<@{ben.id}> rejected: “only general facts”" in settle
        await press(server, cat, c, "approve")
        assert c.content == f"Approved entry {e1}." and entry_on(c) == e0
        # Ana and Ben agree on the two others: each is final at the second approval
        await press(server, ana, a, "approve")  # e2; e0 is Cat's card now, e3 Ben's
        assert entry_on(a) is None and "Nothing left to review" in a.content
        await press(server, ben, b, "approve")  # e3; next, the one Ana reviewed
        assert entry_on(b) == e2
        await press(server, ben, b, "approve")
        a = await next_card(server, ana)
        assert entry_on(a) == e3
        await press(server, ana, a, "approve")
        stats = await reply_to(server, await server.slash(cat, "review stats"))
        agreement = field(stats, "Agreement")
    e = await row(services, e1)
    assert (e.status, e.decided_by, e.disputed) == ("approved", actor(cat), False)
    assert (await row(services, e2)).status == (await row(services, e3)).status == "approved"
    assert "over 3 entries reviewed by two or more curators (2 agreed), 1 adjudicated" in agreement
    assert f"<@{ana.id}> & <@{ben.id}>" in agreement
    assert "Rubric specificity: mean 4.00" in agreement
