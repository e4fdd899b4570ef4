"""Pausing, resuming, ending, status, who may answer, consent declined, interviews in DMs."""

from __future__ import annotations

import pytest
from botworld import GUIDE, done_id
from fakediscord import DM
from fakediscord.models import MANAGE_THREADS


async def _reply_to(server, ix):
    await ix.wait_response()
    return await server.wait_for_message(predicate=lambda m: m is ix.message)


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_declining_consent_stores_nothing(world):
    server = world.server
    async with world.run():
        ix = await world.consent_notice(server.expert)
        click = await server.click(
            server.expert, ix.message, f"tacit:consent:decline:{server.expert.id}:{GUIDE}"
        )
        assert (await click.wait_response()).json["type"] == 7  # the notice itself is updated
        assert "nothing was recorded" in ix.message.content
        assert ix.message.custom_ids == [] and ix.message.embeds == []
    assert await world.expert_id() is None
    assert await world.services.engine.list() == []
    assert server.threads == []


@pytest.mark.asyncio
async def test_someone_else_cannot_use_a_consent_button(world):
    server = world.server
    async with world.run():
        ix = await world.consent_notice(server.expert)
        # an ephemeral notice is only clickable by its owner in Discord; the id is checked anyway
        with pytest.raises(PermissionError):
            await server.click(server.stranger, ix.message, ix.message.custom_ids[0])
    assert await world.expert_id() is None


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_pause_keeps_the_answer_ignores_messages_and_resume_asks_again(world):
    world.configure(quiet_period_seconds=600)
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        await server.user_sends(server.expert, thread, "I sharpen tools before every job.")
        pause = await server.slash(server.expert, "interview pause", channel=thread)
        assert "answer so far is saved" in (await _reply_to(server, pause)).content
        await server.wait_for_message(thread, lambda m: "paused" in m.content)

        await server.user_sends(server.expert, thread, "A thought while paused.")
        hint = await server.wait_for_message(thread, lambda m: "not recording" in m.content)
        assert hint

        status = await server.slash(server.expert, "interview status", channel=thread)
        assert "paused" in (await _reply_to(server, status)).content

        resume = await server.slash(server.expert, "interview resume")  # from #general
        assert thread.mention in (await _reply_to(server, resume)).content
        q2 = await world.wait_question(2, thread)
        assert "Welcome back" in q2.content
        await server.user_sends(server.expert, thread, "Newcomers miss the smell of hot oil.")
        await server.click(server.expert, q2, done_id(q2))
        await world.wait_question(3, thread)
    answers = await world.answers()
    assert answers[:2] == [
        "I sharpen tools before every job.",
        "Newcomers miss the smell of hot oil.",
    ]
    assert not any("while paused" in (a or "") for a in answers)


@pytest.mark.asyncio
async def test_status_shows_progress_and_time(world):
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        await server.user_sends(server.expert, thread, "I build drystone walls in the hills.")
        await world.wait_question(2, thread)
        ix = await server.slash(server.expert, "interview status")
        reply = await _reply_to(server, ix)
        assert reply.ephemeral
        assert "Test trade" in reply.content and "running" in reply.content
        assert "Question 2 of 4 (1 answered, 0 skipped)" in reply.content
        assert "Time spent:" in reply.content and thread.mention in reply.content


@pytest.mark.asyncio
async def test_end_stops_the_interview_and_later_messages_are_not_kept(world):
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        ix = await server.slash(server.expert, "interview end", channel=thread)
        assert "ended" in (await _reply_to(server, ix)).content
        await server.wait_for_message(thread, lambda m: "has ended" in m.content)
        await server.user_sends(server.expert, thread, "One more thing I forgot.")
        await server.idle()
        status = await server.slash(server.expert, "interview status")
        assert "ended" in (await _reply_to(server, status)).content
    (iv,) = await world.services.engine.list()
    assert iv.status == "ended"
    assert await world.answers() == [None]


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_a_stranger_in_the_thread_is_ignored_and_not_stored(world):
    server = world.server
    moderator = server.add_user("moderator", roles=[server.add_role("mods", MANAGE_THREADS)])
    async with world.run():
        thread = await world.start_interview()
        q1 = server.messages_in(thread)[-1]
        await server.user_sends(moderator, thread, "Psst, say you are a surgeon.")
        await server.idle()
        assert server.messages_in(thread)[-1] is q1  # no reaction, no question moved on

        click = await server.click(moderator, q1, done_id(q1))
        await click.wait_response()
        refused = await server.wait_for_message(thread, lambda m: "Only the person" in m.content)
        assert refused.ephemeral
        skip = await server.slash(moderator, "interview skip", channel=thread)
        assert "someone else's interview" in (await _reply_to(server, skip)).content

        await server.user_sends(server.expert, thread, "I restore old pianos.")
        await world.wait_question(2, thread)
    (first, _) = await world.turns()
    assert first["answer"] == "I restore old pianos." and not first["references"]
    assert await world.expert_id(moderator) is None
    data = str(await world.services.experts.data(await world.expert_id()))
    assert "surgeon" not in data


@pytest.mark.asyncio
async def test_a_curators_words_are_kept_as_a_note_not_as_the_answer(world):
    world.configure(quiet_period_seconds=600)
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        q1 = server.messages_in(thread)[-1]
        # the admin is a curator (and, as an administrator, sees private threads)
        await server.user_sends(server.admin, thread, "Do mention which tools you use.")
        await server.user_sends(server.expert, thread, "I tune harpsichords, mostly by ear.")
        await server.click(server.admin, q1, done_id(q1))  # curators may move it on
        await world.wait_question(2, thread)
    (first, _) = await world.turns()
    assert first["answer"] == "I tune harpsichords, mostly by ear."
    (note,) = first["references"]
    assert note["kind"] == "curator_note" and note["text"] == "Do mention which tools you use."


@pytest.mark.asyncio
async def test_interview_in_dms_when_configured(world):
    world.configure(where="dm")
    server = world.server
    async with world.run():
        thread_or_dm = await world.start_interview()  # /interview start in #general
        assert thread_or_dm.type == DM and thread_or_dm.recipients == [server.expert]
        assert server.threads == []
        await server.user_sends(server.expert, thread_or_dm, "I am a lighthouse keeper.")
        await world.wait_question(2, thread_or_dm)
        ix = await server.slash(server.expert, "interview status", channel=thread_or_dm)
        assert "Question 2 of 4" in (await _reply_to(server, ix)).content
    (iv,) = await world.services.engine.list()
    assert iv.channel == f"discord:dm:{thread_or_dm.id}"
    assert (await world.answers())[0] == "I am a lighthouse keeper."


@pytest.mark.asyncio
async def test_start_in_dms_runs_the_interview_there(world):
    server = world.server
    dm = server.dm(server.expert)
    async with world.run():
        channel = await world.start_interview(channel=dm)
        assert channel is dm
        await server.user_sends(server.expert, dm, "I bind books by hand.")
        await world.wait_question(2, dm)
    assert (await world.answers())[0] == "I bind books by hand."


@pytest.mark.asyncio
async def test_closed_dms_are_explained_and_no_interview_starts(world):
    world.configure(where="dm")
    server = world.server
    server.expert.dms_open = False
    async with world.run():
        ix = await world.consent_notice(server.expert)
        await server.click(server.expert, ix.message, ix.message.custom_ids[0])
        await server.wait_for(lambda c: "direct messages" in ix.message.content)
    assert await world.services.engine.list() == []


@pytest.mark.asyncio
async def test_one_interview_at_a_time_in_dms(world):
    world.configure(where="dm", max_active_per_expert=2)
    server = world.server
    async with world.run():
        dm = await world.start_interview()
        await _reply_to(server, await server.slash(server.expert, "interview pause", channel=dm))
        again = await _reply_to(
            server, await server.slash(server.expert, "interview start", {"guide": GUIDE})
        )
        assert "paused interview in our DMs" in again.content
    assert len(await world.services.engine.list()) == 1
