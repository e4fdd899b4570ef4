"""A bot restart in the middle of an interview loses nothing: questions and answers carry on."""

from __future__ import annotations

import pytest
from botworld import done_id, turn_of


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_crash_mid_answer_then_restart_loses_nothing(world):
    world.configure(quiet_period_seconds=600)
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        await server.user_sends(server.expert, thread, "I run a small bakery.")
        q1 = server.messages_in(thread)[-1]
        await server.click(server.expert, q1, done_id(q1))
        q2 = await world.wait_question(2, thread)
        q2_turn = turn_of(q2)
        await server.user_sends(server.expert, thread, "The dough tells me by its smell.")
        await server.idle()
    # the process dies with half an answer in memory; a new one starts from the database
    await world.restart_services()
    async with world.run(sync=False):
        again = await world.wait_question(2, thread)
        assert again is not q2 and turn_of(again) == q2_turn
        assert "I was away" in again.content and "1 message" in again.content
        await server.idle()
        # One live Done button, on the question posted again; the earlier post's are disabled.
        assert all(q2.component(c).get("disabled") for c in q2.custom_ids)
        await server.user_sends(server.expert, thread, "And by how it springs back.")
        await server.click(server.expert, again, done_id(again))
        await world.wait_question(3, thread)
    assert await world.answers() == [
        "I run a small bakery.",
        "The dough tells me by its smell.\n\nAnd by how it springs back.",
        None,
    ]


@pytest.mark.asyncio
async def test_hard_crash_then_restart_reposts_the_question(world):
    world.configure(quiet_period_seconds=600)
    server = world.server
    async with world.run(settle=False, check_errors=False):
        thread = await world.start_interview()
    await world.restart_services()
    async with world.run(sync=False):
        again = await world.wait_question(1, thread)
        assert "I was away" in again.content and "still have" not in again.content
        await server.user_sends(server.expert, thread, "I am a ferry pilot.")
        await server.click(server.expert, again, done_id(again))
        await world.wait_question(2, thread)
    assert (await world.answers())[0] == "I am a ferry pilot."


@pytest.mark.asyncio
async def test_paused_interview_stays_quiet_after_restart_and_resumes(world):
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        pause = await server.slash(server.expert, "interview pause", channel=thread)
        await pause.wait_response()
        await server.wait_for_message(thread, lambda m: "paused" in m.content)
    await world.restart_services()
    async with world.run(sync=False):
        await server.idle()
        assert "paused" in server.messages_in(thread)[-1].content  # nothing re-posted
        resume = await server.slash(server.expert, "interview resume")
        await resume.wait_response()
        q1 = await world.wait_question(1, thread)
        assert "Welcome back" in q1.content
        await server.user_sends(server.expert, thread, "I keep bees on rooftops.")
        await world.wait_question(2, thread)
    assert (await world.answers())[0] == "I keep bees on rooftops."


@pytest.mark.asyncio
async def test_restart_in_the_middle_of_a_dm_interview(world):
    world.configure(where="dm", quiet_period_seconds=600)
    server = world.server
    async with world.run():
        dm = await world.start_interview()
        await server.user_sends(server.expert, dm, "I drive snowploughs in winter.")
        await server.idle()
    await world.restart_services()
    async with world.run(sync=False):
        again = await world.wait_question(1, dm)
        assert "1 message" in again.content
        await server.click(server.expert, again, done_id(again))
        await world.wait_question(2, dm)
    assert (await world.answers())[0] == "I drive snowploughs in winter."


@pytest.mark.asyncio
async def test_consent_notice_from_before_a_restart_still_works(world):
    server = world.server
    async with world.run():
        notice = (await world.consent_notice(server.expert)).message
    await world.restart_services()
    async with world.run(sync=False):
        await server.click(server.expert, notice, notice.custom_ids[0])
        await world.wait_question(1)
    assert await world.expert_id() is not None
