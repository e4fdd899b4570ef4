"""/review search, entry, stats and payouts, through the real bot and the real services."""

from __future__ import annotations

import re

import pytest
from test_review_support import (
    ACROMEGALY,
    LEGAL,
    curators_see_review,
    interview,
    next_card,
    open_form,
    press,
    reply_to,
    submit,
)

pytestmark = pytest.mark.asyncio


async def test_search_finds_entries_by_meaning_and_filters_by_status(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    medical = await interview(services, ACROMEGALY[:2])
    legal = await interview(services, LEGAL[:2], name="rapawy", external_id="700002")
    await services.review.approve("cli:test", medical[1])
    await services.indexer.sync()
    async with world.run():
        found = await reply_to(
            server,
            await server.slash(
                server.curator, "review search", {"query": "too much growth hormone"}
            ),
        )
        approved = await reply_to(
            server,
            await server.slash(
                server.curator,
                "review search",
                {"query": "too much growth hormone", "status": "approved"},
            ),
        )
    assert found.ephemeral
    names = [f["name"] for f in found.embeds[0]["fields"]]
    assert names[0].startswith(f"Entry {medical[0]}: pending") or names[0].startswith(
        f"Entry {medical[1]}: approved"
    )
    shown = [int(re.match(r"Entry (\d+)", n).group(1)) for n in names]
    assert set(shown[:2]) == set(medical) and set(shown) <= set(medical + legal)
    (only,) = approved.embeds[0]["fields"]
    assert only["name"].startswith(f"Entry {medical[1]}: approved, similarity 0.")


@pytest.mark.postgres
async def test_entry_shows_the_text_and_who_did_what(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    short = ACROMEGALY[0].split(". ")[0] + "."
    async with world.run():
        card = await next_card(server, server.curator)
        fields, _ = await open_form(server, server.curator, card, "edit")
        form = f"tacit:review:edit-form:{ids[0]}"
        await submit(server, server.curator, card, form, {**fields, "answer": short})
        await press(server, server.curator, card, "approve")
        ix = await server.slash(server.admin, "review entry", {"id": ids[0]})
        first = await reply_to(server, ix)
        await server.idle()
    text = "\n".join(m.content for m in [first, *ix.followup_messages])
    assert text.startswith(f"**Entry {ids[0]}**: approved")
    assert f"**Answer**\n{short}" in text and "**The expert's answer**" in text
    assert " ".join(ACROMEGALY[0].split()) in " ".join(text.split())
    history = text.split("**History**\n")[1].splitlines()
    assert len(history) == 2
    assert f"<@{server.curator.id}> edited (answer changed)" in history[0]
    assert f"<@{server.curator.id}> approved (pending → approved)" in history[1]


async def test_entry_that_does_not_exist_says_so(world):
    server = world.server
    curators_see_review(server)
    async with world.run():
        reply = await reply_to(
            server, await server.slash(server.curator, "review entry", {"id": 9})
        )
    assert reply.ephemeral and reply.content == "No entry 9."


@pytest.mark.postgres
async def test_stats_reply_carries_counts_and_a_png_chart(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:3])
    async with world.run():
        card = await next_card(server, server.curator)
        await press(server, server.curator, card, "approve")
        await open_form(server, server.curator, card, "reject")
        await submit(
            server, server.curator, card, f"tacit:review:reject-form:{ids[1]}", {"reason": "thin"}
        )
        reply = await reply_to(server, await server.slash(server.curator, "review stats"))
    assert reply.ephemeral
    (chart,) = reply.attachments
    assert chart.filename == "review-stats.png" and chart.data.startswith(b"\x89PNG\r\n\x1a\n")
    (embed,) = reply.embeds
    assert embed["image"]["url"] == "attachment://review-stats.png"
    assert embed["description"].startswith(
        "**3** entries: 1 pending, 1 approved, 1 rejected, 0 duplicate."
    )
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Backlog by guide"] == "test-trade: 1 pending"
    assert fields["By expert"].startswith("Ana (expert-")
    assert "2 decisions in the last 14 days" in fields["Throughput"]
    assert f"<@{server.curator.id}>: 2" in fields["Throughput"]


@pytest.mark.postgres
async def test_payouts_show_the_figures_the_expert_sees_in_me_earnings(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2], external_id=str(server.expert.id))
    await services.review.approve("cli:test", ids[0])
    async with world.run():
        mine = await reply_to(server, await server.slash(server.expert, "me earnings"))
        paid = await reply_to(server, await server.slash(server.curator, "review payouts"))
        later = await reply_to(
            server, await server.slash(server.curator, "review payouts", {"from": "2999-01-01"})
        )
        bad = await reply_to(
            server, await server.slash(server.curator, "review payouts", {"to": "31/12/2026"})
        )
    time_ = re.search(r"Time interviewing: (.+) over 1 interview", mine.content).group(1)
    amount = re.search(r"Amount at (.+): (\d+\.\d\d USD)", mine.content)
    assert "Entries accepted: 1 of 2" in mine.content
    assert paid.ephemeral and paid.content.startswith("**Payouts, all time**")
    line = paid.content.splitlines()[1]
    assert line.startswith("- **Ana** (expert-")
    assert f"{time_} over 1 interview, 1 of 2 entries accepted" in line
    assert line.endswith(f"{amount.group(2)} at {amount.group(1)}")
    assert "No interviews in that period" in later.content
    assert bad.content == "To: '31/12/2026' is not a date like 2026-11-30."
