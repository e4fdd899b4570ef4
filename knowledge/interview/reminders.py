"""Reminders: one friendly nudge for an interview paused or left idle too long.

An interview is due when it is active or paused, its last activity is older than
`[interview] remind_after_hours`, its expert wants reminders, and it has not been reminded
since that activity. Claiming a reminder is one conditional UPDATE, so two bot processes never
send the same one; any answer or resume is new activity, so the next pause can be nudged again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from knowledge.storage import Database, Expert, Interview, utcnow
from knowledge.vocab import InterviewStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reminder:
    interview_id: int
    expert_id: int
    channel: str | None  # where to post it ("discord:thread:<id>", ...)
    status: str  # active (left idle) or paused
    guide_slug: str
    external_id: str  # the expert's platform id (a Discord user id)
    guild_id: int | None = None


def _due(cutoff: datetime):
    return (
        Interview.status.in_([InterviewStatus.active, InterviewStatus.paused]),
        Interview.last_activity_at < cutoff,
        or_(Interview.reminded_at.is_(None), Interview.reminded_at < Interview.last_activity_at),
    )


async def claim_due(
    db: Database,
    hours: float,
    *,
    channel_prefix: str,
    now: datetime | None = None,
    keep: Callable[[Reminder], bool] | None = None,
) -> list[Reminder]:
    """Claim the reminders due now for interviews whose channel starts with `channel_prefix`
    ("discord:"); each is returned once, to one caller. Off when `hours` is 0. `keep` leaves
    the ones another process serves (another shard's) unclaimed."""
    if hours <= 0:
        return []
    now = now or utcnow()
    cutoff = now - timedelta(hours=hours)
    q = (
        select(Interview, Expert.external_id)
        .join(Expert, Interview.expert_id == Expert.id)
        .where(*_due(cutoff), Expert.reminders.is_(True))
        .where(Interview.channel.startswith(channel_prefix))
        .order_by(Interview.id)
        .limit(200)
    )
    async with db.sessions() as s:
        rows = (await s.execute(q)).all()
    claimed = []
    for iv, external_id in rows:
        reminder = Reminder(
            iv.id, iv.expert_id, iv.channel, str(iv.status), iv.guide_slug, external_id, iv.guild_id
        )
        if keep is not None and not keep(reminder):
            continue
        async with db.sessions() as s, s.begin():
            result = await s.execute(
                update(Interview)
                .where(Interview.id == iv.id, *_due(cutoff))
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            )
        if result.rowcount == 1:
            claimed.append(reminder)
    return claimed
