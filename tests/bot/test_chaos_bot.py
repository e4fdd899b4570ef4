"""kill -9 the real bot process mid-interview, against the fake Discord: nothing lost, nothing
asked twice.

`tacit bot` runs as its own OS process (forked from the pre-warmed zygote, tests/chaos/) and is
SIGKILLed during the quiet period of an answer and right after the expert presses Done, then
started again. Each time, the interview carries on: the answer in progress is read back from
the channel, every answer is stored exactly once, and no question is asked again once answered.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from botprocess import QUESTION, BotLife
from botworld import GUIDE, done_id, write_guide
from fakediscord import FakeDiscord

from tests.conftest import real_pairs


def _config(workdir: Path, server: FakeDiscord) -> None:
    guides = workdir / "guides"
    write_guide(guides)
    (workdir / "config.toml").write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{workdir / "tacit.db"}"\n'
        f'[chroma]\npath = "{workdir / "chroma"}"\n'
        f'[interview]\nguides_dir = "{guides}"\ndefault_guide = "{GUIDE}"\n'
        "quiet_period_seconds = 1.5\nmax_followups = 0\nskip_similarity = 1.01\n"
        f"[discord]\ndev_guild_id = {server.guild.id}\nhome_guild_id = {server.guild.id}\n"
    )


@pytest.mark.asyncio
async def test_kill_9_of_the_bot_in_the_quiet_period_and_after_done_loses_nothing(zygote, tmp_path):
    rng = random.Random(1203)
    answers = [p["answer"] for p in real_pairs("primock57_day2_consultation03")[2:5]]
    async with FakeDiscord() as server:
        _config(tmp_path, server)
        life = BotLife(zygote, server, tmp_path)
        await life.start()
        expert = server.expert
        ix = await server.slash(expert, "interview start", {"guide": GUIDE})
        await ix.wait_response()
        await server.click(expert, ix.message, f"tacit:consent:agree:{expert.id}:{GUIDE}")
        q = await server.wait_for_message(predicate=lambda m: "Question 1 of 4" in m.content)
        thread = server.channel(q.channel_id)
        asked_per_life: list[list[int]] = []
        for n, answer in enumerate(answers, 1):
            # 1. Killed during the quiet period: the words are only in the channel.
            await server.user_sends(expert, thread, answer)
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            before = life.questions(thread)
            await life.kill()
            await life.start()
            again = await server.wait_for_message(
                thread, lambda m, n=n: f"Question {n} of 4" in m.content, timeout=20
            )
            assert "I was away" in again.content, again.content
            asked_per_life.append(life.questions(thread)[len(before) :])
            # 2. Killed right after Done: the answer may or may not be stored yet.
            before = life.questions(thread)
            await server.click(expert, again, done_id(again))
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            await life.kill()
            # The question after Done may be posted before the kill and again, with "I was
            # away", by the next life: once per life each.
            asked_per_life.append(life.questions(thread)[len(before) :])
            before = life.questions(thread)
            await life.start()
            now = await server.wait_for_message(thread, lambda m: QUESTION.search(m.content))
            asked = int(QUESTION.search(now.content).group(1))
            if asked == n:  # not stored before the kill: the expert presses Done again
                await server.click(expert, now, done_id(now))
                await server.wait_for_message(
                    thread, lambda m, n=n: f"Question {n + 1} of 4" in m.content, timeout=20
                )
            asked_per_life.append(life.questions(thread)[len(before) :])
        await server.idle()
        await life.kill()  # stop, so that the database is read as the next process sees it
    import sqlite3

    with sqlite3.connect(tmp_path / "tacit.db") as conn:
        stored = [
            a
            for (a,) in conn.execute(
                "select answer from turns where answer is not null order by seq"
            )
        ]
        unentried = conn.execute(
            "select count(*) from turns t where t.answer is not null and not exists "
            "(select 1 from entries e where e.turn_id = t.id)"
        ).fetchone()[0]
    assert stored == [a.strip() for a in answers]  # each once, in order, none lost
    assert unentried == 0
    assert life.kills >= 6
    asked = life.questions(thread)
    assert asked == sorted(asked)  # never asked again once the interview moved on
    for posts in asked_per_life:  # at most one post of a question per bot life
        assert len(posts) == len(set(posts)), posts
    print(f"\nbot chaos: {life.kills} kills, {len(answers)} answers, 0 lost, 0 doubled")
