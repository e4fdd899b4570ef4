"""Slash-command arguments, property-based, through the bot's real command tree against the
fake Discord: whatever an expert or curator types, the bot answers and logs no error.

Values are what Discord lets through (the fake checks the commands' ranges as Discord does):
any text within the length limits, any id from 1 to 2**53, however far past the last entry.
The bot runs on an `asyncio.Runner` that each example drives.
"""

from __future__ import annotations

import asyncio

from botworld import World
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=120),
    st.sampled_from(["[bold]x[/bold]", "[/]", "\u202e", "\x00", "@everyone", "1" * 499, "../x"]),
)
NUMBER = st.one_of(st.integers(1, 2**53), st.sampled_from([1, 2**31, 2**53]))
QUERY = TEXT.filter(lambda t: 1 <= len(t) <= 500)


def test_any_slash_command_argument_gets_an_answer_and_no_error(settings, encoder, tmp_path):
    with asyncio.Runner() as runner:
        world = World(settings, encoder, tmp_path)
        runner.run(world.server.start())
        running = world.run()
        runner.run(running.__aenter__())
        server = world.server
        try:

            @examples(
                max_examples=20,
                deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            )
            @given(
                st.one_of(
                    st.tuples(st.just("interview start"), st.just("guide"), TEXT),
                    st.tuples(st.just("review search"), st.just("query"), QUERY),
                    st.tuples(st.just("review payouts"), st.just("from"), TEXT),
                    st.tuples(st.just("review entry"), st.just("id"), NUMBER),
                )
            )
            def check(call):
                command, option, value = call
                user = server.expert if command.startswith("interview") else server.admin
                runner.run(_answered(server, user, command, {option: value}))

            check()
        finally:
            runner.run(running.__aexit__(None, None, None))  # fails on any ERROR logged
            runner.run(world.close())


async def _answered(server, user, command: str, options: dict) -> None:
    ix = await server.slash(user, command, options)
    await ix.wait_response(timeout=15)
    await server.idle(quiet=0.05, timeout=10)
    for call in ix.responses:
        body = call.json or {}
        text = str(body.get("content") or (body.get("data") or {}).get("content") or "")
        assert "Traceback" not in text, text
