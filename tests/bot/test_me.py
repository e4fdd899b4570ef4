"""/me data, /me forget and /me earnings, through the real bot and the real services."""

from __future__ import annotations

import json

import pytest
from fakediscord import WaitTimeout


async def _answer_first_question(world, text: str):
    thread = await world.start_interview()
    await world.server.user_sends(world.server.expert, thread, text)
    await world.wait_question(2, thread)
    return thread


async def _reply_to(server, ix):
    await ix.wait_response()
    return await server.wait_for_message(predicate=lambda m: m is ix.message)


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_me_data_returns_a_file_with_their_answers(world):
    server = world.server
    async with world.run():
        await _answer_first_question(world, "I am a stonemason; limestone is my favourite.")
        ix = await server.slash(server.expert, "me data")
        reply = await _reply_to(server, ix)
        assert reply.ephemeral and "1 interview" in reply.content
        (file,) = reply.attachments
        assert file.filename == "tacit-my-data.json"
    data = json.loads(file.data)
    assert data["expert"]["external_id"] == str(server.expert.id)
    assert data["expert"]["consent_version"] == world.settings.consent.version
    (iv,) = data["interviews"]
    assert iv["turns"][0]["answer"] == "I am a stonemason; limestone is my favourite."
    assert data["entries"] and "limestone" in data["entries"][0]["answer"]


@pytest.mark.asyncio
async def test_me_data_with_nothing_stored_says_so(world):
    server = world.server
    async with world.run():
        ix = await server.slash(server.stranger, "me data")
        reply = await _reply_to(server, ix)
        assert reply.content == "Nothing is stored about you." and not reply.attachments


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_me_forget_removes_everything(world):
    server = world.server
    async with world.run():
        thread = await _answer_first_question(world, "I am a glassblower in Murano.")
        services = world.services
        await services.indexer.sync()
        assert await services.index.count() > 0

        ix = await server.slash(server.expert, "me forget")
        warning = await _reply_to(server, ix)
        assert warning.ephemeral and "cannot be undone" in warning.content
        yes = f"tacit:forget:yes:{server.expert.id}"
        assert warning.custom_ids == [yes, f"tacit:forget:no:{server.expert.id}"]
        click = await server.click(server.expert, warning, yes)
        await click.wait_response()
        await server.wait_for(lambda c: "is deleted" in warning.content)
        assert warning.custom_ids == []

        # the interview stops listening: later messages in the thread are not kept
        await server.user_sends(server.expert, thread, "Still here, with more to say.")
        with pytest.raises(WaitTimeout):
            await server.wait_for_message(thread, timeout=0.8)

    assert await world.expert_id() is None
    assert await services.engine.list() == []
    await services.indexer.sync()
    assert await services.index.count() == 0


@pytest.mark.asyncio
async def test_me_forget_keep_my_data_deletes_nothing(world):
    server = world.server
    async with world.run():
        await _answer_first_question(world, "I am a cooper: I make barrels.")
        warning = await _reply_to(server, await server.slash(server.expert, "me forget"))
        click = await server.click(server.expert, warning, f"tacit:forget:no:{server.expert.id}")
        await click.wait_response()
        assert warning.content == "Nothing was deleted."
    assert (await world.answers())[0] == "I am a cooper: I make barrels."


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_me_earnings_shows_time_entries_and_amount(world):
    server = world.server
    async with world.run():
        await _answer_first_question(world, "I restore stained glass windows in churches.")
        services = world.services
        (entry,) = (await services.experts.data(await world.expert_id()))["entries"]
        await services.review.approve("curator:test", entry["id"])
        reply = await _reply_to(server, await server.slash(server.expert, "me earnings"))
    assert reply.ephemeral
    assert "Time interviewing:" in reply.content and "over 1 interview" in reply.content
    assert "Entries accepted: 1 of 1" in reply.content
    assert "105.00 USD/h" in reply.content and reply.content.endswith(" USD")


@pytest.mark.asyncio
async def test_me_earnings_without_interviews(world):
    server = world.server
    async with world.run():
        reply = await _reply_to(server, await server.slash(server.stranger, "me earnings"))
    assert "no interviews yet" in reply.content
