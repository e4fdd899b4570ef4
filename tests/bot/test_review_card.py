"""/review next and its card: what it shows, and Approve, Reject, Edit, Skip, Flag, Duplicate."""

from __future__ import annotations

import pytest
from test_review_support import (
    ACROMEGALY,
    LEGAL,
    THREAD,
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

from knowledge.review import APPROVE, DUPLICATE, EDIT, FLAG_PII, REJECT

pytestmark = pytest.mark.asyncio


@pytest.mark.postgres
async def test_next_shows_a_private_card_with_what_a_curator_needs(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:3])
    async with world.run():
        card = await next_card(server, server.curator)
    assert card.ephemeral
    assert entry_on(card) == ids[0]
    e = await row(services, ids[0])
    (embed,) = card.embeds
    assert embed["title"] == f"Entry {ids[0]}: pending"
    assert e.question in embed["description"] and ACROMEGALY[0] in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Expert"].startswith("Ana (expert-") and "a test practitioner" in fields["Expert"]
    assert "Test trade: Background, probe `background`" in fields["Interview"]
    assert f"https://discord.com/channels/{server.guild.id}/{THREAD}" in fields["Interview"]
    similar = fields["Closest entries"].splitlines()
    assert len(similar) == 2 and all("pending, similarity 0." in s for s in similar)
    assert {int(s.split("`")[1]) for s in similar} == set(ids[1:])
    assert "Likely duplicate" not in card.text
    assert card.custom_ids == [
        f"tacit:review:{a}:{ids[0]}" for a in ("approve", "reject", "edit", "skip", "pii")
    ]
    assert "3 pending in all" in embed["footer"]["text"]


@pytest.mark.postgres
async def test_approve_is_audited_and_the_next_card_follows(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    async with world.run():
        card = await next_card(server, server.curator)
        await press(server, server.curator, card, "approve")
        assert card.content == f"Approved entry {ids[0]}."
        assert entry_on(card) == ids[1] and card.ephemeral
        await press(server, server.curator, card, "approve")
        assert "Nothing left to review" in card.content and card.custom_ids == []
    e = await row(services, ids[0])
    assert (e.status, e.decided_by) == ("approved", actor(server.curator))
    [ev] = await audit(services, ids[0])
    assert (ev.action, ev.actor) == (APPROVE, actor(server.curator))
    assert (ev.before["status"], ev.after["status"]) == ("pending", "approved")


@pytest.mark.postgres
async def test_reject_asks_for_a_reason_and_keeps_it(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    async with world.run():
        card = await next_card(server, server.curator)
        fields, _ = await open_form(server, server.curator, card, "reject")
        assert list(fields) == ["reason"]
        assert await row(services, ids[0]) is not None
        assert (await row(services, ids[0])).status == "pending"  # nothing before the form
        reason = "Reads like a leaflet, not like experience."
        await submit(
            server, server.curator, card, f"tacit:review:reject-form:{ids[0]}", {"reason": reason}
        )
        assert card.content == f"Rejected entry {ids[0]}." and entry_on(card) == ids[1]
    e = await row(services, ids[0])
    assert (e.status, e.reason, e.decided_by) == ("rejected", reason, actor(server.curator))
    [ev] = await audit(services, ids[0])
    assert (ev.action, ev.actor, ev.after["reason"]) == (REJECT, actor(server.curator), reason)


@pytest.mark.postgres
async def test_edit_form_is_prefilled_and_saves_an_audited_edit(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    e = await row(services, ids[0])
    async with world.run():
        card = await next_card(server, server.curator)
        fields, _ = await open_form(server, server.curator, card, "edit")
        assert fields == {"question": e.question, "answer": ACROMEGALY[0]}
        answer = ACROMEGALY[0].split(". ")[0] + "."
        await submit(
            server,
            server.curator,
            card,
            f"tacit:review:edit-form:{ids[0]}",
            {"question": e.question, "answer": answer},
        )
        assert card.content == f"Saved your edit of entry {ids[0]}."
        assert entry_on(card) == ids[0]  # still to be decided
        (embed,) = card.embeds
        assert embed["description"].endswith(answer) and "Edited by" in card.text
    after = await row(services, ids[0])
    assert (after.answer, after.edited_answer) == (ACROMEGALY[0], answer)
    assert after.edited_by == actor(server.curator) and after.status == "pending"
    [ev] = await audit(services, ids[0])
    assert (ev.action, ev.actor) == (EDIT, actor(server.curator))
    assert (ev.before["answer"], ev.after["answer"]) == (ACROMEGALY[0], answer)


async def test_skip_shows_the_next_entry_and_keeps_the_skipped_one_pending(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    async with world.run():
        card = await next_card(server, server.curator)
        await press(server, server.curator, card, "skip")
        assert entry_on(card) == ids[1] and "Skipped entry" in card.content
    e = await row(services, ids[0])
    assert (e.status, e.claimed_by) == ("pending", None)


async def test_flag_personal_data_keeps_the_note_and_the_card(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    async with world.run():
        card = await next_card(server, server.curator)
        fields, _ = await open_form(server, server.curator, card, "pii")
        assert fields == {"note": None}
        await submit(
            server,
            server.curator,
            card,
            f"tacit:review:pii-form:{ids[0]}",
            {"note": "names the patient's town"},
        )
        assert entry_on(card) == ids[0] and "Flagged for personal data" in card.text
    assert (await row(services, ids[0])).flagged_pii
    [ev] = await audit(services, ids[0])
    assert (ev.action, ev.after["note"]) == (FLAG_PII, "names the patient's town")


@pytest.mark.postgres
async def test_a_near_duplicate_is_shown_on_the_card_and_can_be_marked(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    [first] = await interview(services, [LEGAL[0]], name="rapawy", external_id="700002")
    await services.review.approve("cli:test", first)
    again = "So, as I said before: " + LEGAL[0]
    [second] = await interview(services, [again], name="kneedler", external_id="700003")
    async with world.run():
        card = await next_card(server, server.curator)
        assert entry_on(card) == second
        fields = {f["name"]: f["value"] for f in card.embeds[0]["fields"]}
        dup = fields["⚠️ Likely duplicate of an approved entry"]
        assert dup.startswith(f"Entry {first} is 0.9") and "Mark duplicate" in dup
        mark = f"tacit:review:dup:{second}:of{first}"
        assert mark in card.custom_ids
        assert card.component(mark)["label"] == f"Mark duplicate of {first}"
        await press(server, server.curator, card, "dup")
        assert card.content.startswith(f"Marked entry {second} as a duplicate of entry {first}")
    e = await row(services, second)
    assert (e.status, e.duplicate_of) == ("duplicate", first)
    [ev] = await audit(services, second)
    assert (ev.action, ev.actor) == (DUPLICATE, actor(server.curator))


async def test_a_long_answer_is_cut_on_the_card_and_shown_whole_by_review_entry(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    long = "\n\n".join(LEGAL[:12])
    assert len(long) > 6000
    [eid] = await interview(services, [long])
    async with world.run():
        card = await next_card(server, server.curator)
        description = card.embeds[0]["description"]
        assert len(description) <= 4096
        assert f"`/review entry id:{eid}` shows the whole answer" in description
        ix = await server.slash(server.curator, "review entry", {"id": eid})
        first = await reply_to(server, ix)
        await server.idle()
    pieces = [first, *ix.followup_messages]
    shown = "\n".join(m.content for m in pieces) + "".join(
        a.text for m in pieces for a in m.attachments
    )
    assert all(m.ephemeral for m in pieces)
    assert " ".join(long.split()) in " ".join(shown.split())


async def test_an_empty_queue_says_so(world):
    server = world.server
    curators_see_review(server)
    async with world.run():
        card = await next_card(server, server.curator)
    assert card.ephemeral and card.content == "Nothing left to review. Thank you!"
    assert card.custom_ids == []


async def test_next_keeps_to_the_chosen_expert_and_refuses_an_unknown_guide(world):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    await interview(services, ACROMEGALY[:2])
    [theirs] = await interview(services, LEGAL[:1], name="rapawy", external_id="700002")
    async with world.run():
        card = await next_card(server, server.curator, expert="Rapawy")
        assert entry_on(card) == theirs
        assert all(cid.endswith(":x2") for cid in card.custom_ids)  # the filter rides along
        await press(server, server.curator, card, "approve")
        assert card.content.startswith(
            f"Approved entry {theirs}.\nNothing left to review for expert 2"
        )
        unknown = await next_card(server, server.curator, guide="nope")
    assert unknown.content == "No guide 'nope'; known guides: test-trade."
