"""Gateway and REST faults during an interview, through the fake Discord: a reconnect (op 7),
an invalid session (op 9), a 429 with retry-after and 5xx on the bot's sends lose no answer and
post no question twice."""

from __future__ import annotations

import pytest
from botworld import done_id

from tests.conftest import real_pairs

SEND = "/channels/{channel_id}/messages"
PARTS = [p["answer"] for p in real_pairs("scotus_2019.18-1501-t01")[3:7]]


def _asked(server, thread) -> list[int]:
    return [
        n
        for m in server.messages_in(thread)
        for n in (1, 2, 3, 4)
        if f"Question {n} of 4" in m.content
    ]


async def _answer_with_done(world, thread, question, text):
    server = world.server
    await server.user_sends(server.expert, thread, text)
    await server.click(server.expert, question, done_id(question))


@pytest.mark.asyncio
async def test_a_reconnect_mid_answer_keeps_every_message_of_it(world):
    world.configure(quiet_period_seconds=600)
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        q1 = server.messages_in(thread)[-1]
        await server.user_sends(server.expert, thread, PARTS[0])
        (session,) = server.sessions_on()
        await server.gateway_reconnect()  # op 7: discord.py resumes, the fake replays
        await server.user_sends(server.expert, thread, PARTS[1])  # while it reconnects
        await _resumed(session)
        await server.idle(quiet=0.3)
        await server.click(server.expert, q1, done_id(q1))
        await world.wait_question(2, thread)
        await server.idle()
        assert _asked(server, thread) == [1, 2]
    assert (await world.answers())[0] == f"{PARTS[0].strip()}\n\n{PARTS[1].strip()}"


@pytest.mark.asyncio
async def test_an_invalid_session_mid_answer_loses_no_message_of_it(world):
    world.configure(quiet_period_seconds=600)
    server = world.server
    async with world.run() as bot:
        bot.before_identify_hook = _no_wait  # Discord's 5 s pause before a new IDENTIFY
        thread = await world.start_interview()
        q1 = server.messages_in(thread)[-1]
        await server.user_sends(server.expert, thread, PARTS[0])
        await server.invalidate_session(resumable=False)
        # Sent while the bot had no session: Discord never delivers it over the gateway.
        await server.user_sends(server.expert, thread, PARTS[1])
        await _reidentified(server)
        await server.idle(quiet=0.3)
        await server.click(server.expert, q1, done_id(q1))
        await world.wait_question(2, thread)
        await server.idle()
        assert _asked(server, thread) == [1, 2]
    assert (await world.answers())[0] == f"{PARTS[0].strip()}\n\n{PARTS[1].strip()}"


async def _resumed(session) -> None:
    import asyncio

    async with asyncio.timeout(30):
        while True:
            if session.resumes >= 1 and session.connected:
                return
            await asyncio.sleep(0.05)


async def _no_wait(*_args, **_kwargs) -> None:
    return None


async def _reidentified(server) -> None:
    import asyncio

    async with asyncio.timeout(20):
        while True:
            if len(server.identifies) >= 2 and any(
                s.ready and s.connected for s in server.sessions.values()
            ):
                return
            await asyncio.sleep(0.05)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"kind": "429", "retry_after": 0.3}, id="429-retry-after"),
        pytest.param({"kind": "5xx", "status": 500}, id="500"),
        pytest.param({"kind": "5xx", "status": 503}, id="503"),
    ],
)
async def test_a_failed_send_of_the_next_question_asks_it_once_and_keeps_the_answer(world, fault):
    world.configure(quiet_period_seconds=600)
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        q1 = server.messages_in(thread)[-1]
        if fault["kind"] == "429":
            server.rate_limit_next(
                "POST", SEND, retry_after=fault["retry_after"], channel_id=thread.id
            )
        else:
            server.fail_next("POST", SEND, status=fault["status"], channel_id=thread.id)
        await _answer_with_done(world, thread, q1, PARTS[0])
        q2 = await world.wait_question(2, thread)  # retried, or posted once Done is pressed
        await server.idle()
        assert _asked(server, thread) == [1, 2]
        await _answer_with_done(world, thread, q2, PARTS[1])
        await world.wait_question(3, thread)
    assert (await world.answers())[:2] == [PARTS[0].strip(), PARTS[1].strip()]
