"""Reminders of paused or idle interviews: due once per pause, never twice, never when off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from knowledge.interview.reminders import claim_due
from knowledge.storage import Interview
from tests.conftest import real_pairs

pytestmark = pytest.mark.asyncio

ANSWER = real_pairs("primock57_day2_consultation03")[0]["answer"]


async def started(services, user: str, guild=901):
    ex = await services.experts.identify("discord", user, user, guild_id=guild)
    await services.experts.give_consent(ex.id)
    ask = await services.engine.start(ex.id, "generic", channel=f"discord:thread:{user}")
    return ex, ask.interview_id


async def age(services, interview_id: int, hours: float) -> None:
    """Let `hours` pass for the interview: its last activity and last reminder move back."""
    async with services.db.sessions() as s, s.begin():
        iv = await s.get(Interview, interview_id)
        iv.last_activity_at -= timedelta(hours=hours)
        if iv.reminded_at is not None:
            iv.reminded_at -= timedelta(hours=hours)


async def test_a_paused_interview_is_reminded_once_until_the_expert_is_back(services):
    ex, iid = await started(services, "11")
    await services.engine.pause(iid)
    await age(services, iid, 30)
    (due,) = await claim_due(services.db, 24, channel_prefix="discord:")
    assert (due.interview_id, due.status, due.channel, due.external_id) == (
        iid,
        "paused",
        "discord:thread:11",
        "11",
    )
    assert await claim_due(services.db, 24, channel_prefix="discord:") == []  # never twice
    await services.engine.resume(iid)  # back: a new pause may be nudged again
    await services.engine.answer(iid, ANSWER)
    await services.engine.pause(iid)
    await age(services, iid, 25)
    assert [
        d.interview_id for d in await claim_due(services.db, 24, channel_prefix="discord:")
    ] == [iid]


async def test_no_reminder_when_turned_off_too_soon_or_when_the_feature_is_off(services):
    ex, iid = await started(services, "12")
    _, other = await started(services, "13")
    await age(services, iid, 30)
    await age(services, other, 2)  # idle, but not long enough
    assert await claim_due(services.db, 0, channel_prefix="discord:") == []
    await services.experts.set_reminders([ex.id], False)
    assert await claim_due(services.db, 24, channel_prefix="discord:") == []
    await services.experts.set_reminders([ex.id], True)
    assert [
        d.interview_id for d in await claim_due(services.db, 24, channel_prefix="discord:")
    ] == [iid]
