"""An interview in a private thread, from /interview start through consent to the last question."""

from __future__ import annotations

import pytest
from botworld import GUIDE, done_id
from fakediscord import EPHEMERAL, PRIVATE_THREAD


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_whole_interview_from_start_to_the_last_question(world):
    server = world.server
    async with world.run():
        ix = await world.consent_notice(server.expert)
        notice = ix.message
        assert notice.ephemeral and "consent" in notice.embeds[0]["footer"]["text"].lower()
        assert notice.custom_ids == [
            f"tacit:consent:agree:{server.expert.id}:{GUIDE}",
            f"tacit:consent:decline:{server.expert.id}:{GUIDE}",
        ]
        assert await world.expert_id() is None  # nothing stored before agreeing

        await server.click(server.expert, notice, notice.custom_ids[0])
        q1 = await world.wait_question(1)
        thread = server.channel(q1.channel_id)
        assert thread.type == PRIVATE_THREAD and thread.parent_id == server.general.id
        assert server.expert.id in thread.member_ids
        welcome = server.messages_in(thread)[0]
        assert server.expert.mention in welcome.content and "Thanks for helping" in welcome.content
        await server.wait_for(lambda c: thread.mention in notice.content)
        assert notice.embeds == [] and notice.custom_ids == []

        expert = await world.services.experts.find(
            "discord", str(server.expert.id), guild_id=server.guild.id
        )
        assert expert.guild_id == server.guild.id  # the interview's server is where it began
        assert expert.consented and expert.consent_version == world.settings.consent.version

        answers = [
            "I repair mechanical watches for collectors and a few shops.",
            "The sound of the balance wheel tells me more than the timing machine does.",
            "I keep a tray per customer so parts never wander between watches.",
            "Ask about the customers: they explain half of the repairs.",
        ]
        for number, text in enumerate(answers, 1):
            await server.user_sends(server.expert, thread, text)
            if number < 4:
                q = await world.wait_question(number + 1, thread)
                assert done_id(q)
        closing = await server.wait_for_message(thread, lambda m: "complete" in m.content)
        assert "That's all the test guide" in closing.content
        # the typing indicator showed while the answer was being stored
        assert any(c.matches("POST", "/channels/{channel_id}/typing") for c in server.calls)

    assert await world.answers() == answers
    (iv,) = await world.services.engine.list(expert_id=await world.expert_id())
    assert iv.status == "completed" and iv.channel == f"discord:thread:{thread.id}"
    assert iv.active_seconds >= 0
    # the buttons of answered questions were taken off
    asked = [m for m in server.messages_in(thread) if "Question" in m.content]
    assert len(asked) == 4 and all(m.custom_ids == [] for m in asked)


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_messages_close_together_are_one_answer(world):
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        await server.user_sends(server.expert, thread, "First, I look at the whole bench.")
        await server.user_sends(server.expert, thread, "Then the movement, under the loupe.")
        await server.user_sends(server.expert, thread, "Last, I listen to it tick.")
        await world.wait_question(2, thread)
    (first, second) = await world.answers()
    assert first == (
        "First, I look at the whole bench.\n\n"
        "Then the movement, under the loupe.\n\n"
        "Last, I listen to it tick."
    )
    assert second is None


@pytest.mark.asyncio
async def test_done_button_takes_the_answer_at_once(world):
    world.configure(quiet_period_seconds=600)
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        q1 = server.messages_in(thread)[-1]
        await server.user_sends(server.expert, thread, "Part one of my answer.")
        await server.user_sends(server.expert, thread, "Part two, after a thought.")
        click = await server.click(server.expert, q1, done_id(q1))
        assert (await click.wait_response()).json["type"] == 6  # deferred, then the work
        await world.wait_question(2, thread)
    assert (await world.answers())[0] == "Part one of my answer.\n\nPart two, after a thought."


@pytest.mark.asyncio
async def test_an_answer_written_before_discord_confirms_the_question_is_kept(world):
    # Discord shows the first question before its reply to the bot's post comes back: an
    # expert quick enough answers in that gap, and their words must not be dropped.
    world.configure(quiet_period_seconds=600)
    server = world.server
    server.slow_next("POST", "/channels/{channel_id}/messages", 1.5, times=2)  # welcome, Q1
    async with world.run():
        ix = await world.consent_notice(server.expert)
        await server.click(
            server.expert, ix.message, f"tacit:consent:agree:{server.expert.id}:{GUIDE}"
        )
        q1 = await world.wait_question(1)
        thread = server.channel(q1.channel_id)
        await server.user_sends(server.expert, thread, "I check the balance wheel first.")
        click = await server.click(server.expert, q1, done_id(q1))
        await click.wait_response()
        await world.wait_question(2, thread)
    assert (await world.answers())[0] == "I check the balance wheel first."


@pytest.mark.asyncio
async def test_done_with_nothing_written_says_so(world):
    world.configure(quiet_period_seconds=600)
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        q1 = server.messages_in(thread)[-1]
        click = await server.click(server.expert, q1, done_id(q1))
        await click.wait_response()
        note = await server.wait_for_message(thread, lambda m: "nothing to send" in m.content)
        assert note.flags & EPHEMERAL
    assert await world.answers() == [None]


@pytest.mark.asyncio
async def test_interview_next_command_takes_the_answer(world):
    world.configure(quiet_period_seconds=600)
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        await server.user_sends(server.expert, thread, "Short and sweet.")
        ix = await server.slash(server.expert, "interview next", channel=thread)
        assert (await ix.wait_response()).json["type"] == 5
        await world.wait_question(2, thread)
        reply = await server.wait_for_message(predicate=lambda m: m is ix.message)
        assert "saved" in reply.content
    assert (await world.answers())[0] == "Short and sweet."


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_text_attachment_is_read_as_answer_text(world):
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        await server.user_sends(
            server.expert,
            thread,
            "My notes are attached.",
            attachments=[("notes.txt", "Check the hairspring first.\nThen the pallet stones.")],
        )
        await world.wait_question(2, thread)
    (turn, _) = await world.turns()
    assert turn["answer"] == (
        "My notes are attached.\n\nCheck the hairspring first.\nThen the pallet stones."
    )
    assert not turn["references"]


@pytest.mark.asyncio
async def test_other_attachments_get_a_note_and_are_kept_as_references(world):
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        await server.user_sends(
            server.expert,
            thread,
            "Here is a photo of the worn pinion.",
            attachments=[("pinion.png", b"\x89PNG fake bytes", "image/png")],
        )
        note = await server.wait_for_message(thread, lambda m: "pinion.png" in m.content)
        assert "kept a link" in note.content
        await world.wait_question(2, thread)
    (turn, _) = await world.turns()
    assert turn["answer"] == "Here is a photo of the worn pinion."
    (ref,) = turn["references"]
    assert ref["name"] == "pinion.png" and ref["size"] == len(b"\x89PNG fake bytes")
    assert ref["url"].endswith("/pinion.png")


@pytest.mark.asyncio
async def test_edits_and_deletes_before_the_answer_is_taken_update_it(world):
    world.configure(quiet_period_seconds=600)
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        q1 = server.messages_in(thread)[-1]
        sent = await server.user_sends(server.expert, thread, "I fix clocks.")
        await server.user_edits(server.expert, sent, "I fix watches, not clocks.")
        oops = await server.user_sends(server.expert, thread, "Sorry, wrong window.")
        await server.user_deletes(server.expert, oops)
        await server.idle()
        await server.click(server.expert, q1, done_id(q1))
        await world.wait_question(2, thread)
    assert (await world.answers())[0] == "I fix watches, not clocks."


@pytest.mark.asyncio
async def test_skip_button_moves_on_without_an_answer(world):
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        q1 = server.messages_in(thread)[-1]
        await server.click(server.expert, q1, done_id(q1).replace(":done:", ":skip:"))
        q2 = await world.wait_question(2, thread)
        assert "Skipped" in q2.content
    turns = await world.turns()
    assert [t["status"] for t in turns] == ["skipped", "asked"]


@pytest.mark.asyncio
async def test_start_twice_points_to_the_running_interview(world):
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        ix = await server.slash(server.expert, "interview start", {"guide": GUIDE})
        reply = await server.wait_for_message(predicate=lambda m: m is ix.message)
        assert "already have an interview going" in reply.content
        assert thread.mention in reply.content
    assert len(server.threads) == 1


@pytest.mark.asyncio
async def test_guide_autocomplete_lists_the_guides(world):
    server = world.server
    async with world.run():
        ac = await server.autocomplete(
            server.expert, "interview start", {"guide": "test"}, focused="guide"
        )
        await ac.wait_response()
        assert [c["value"] for c in ac.choices] == [GUIDE]
