"""Reminders: one friendly nudge, in its thread or DM, for an interview paused or left idle for
`[interview] remind_after_hours`, with a Resume button. `/me reminders off` stops them.

Which reminders are due, and claiming each once across bot processes, is the core's
(`knowledge.interview.reminders`); this posts them.
"""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.exts.interview._conversation import Conversation
from bot.exts.interview._routes import runs
from bot.exts.interview._views import resume_view
from bot.identity import parse_interview_channel
from knowledge.interview.reminders import Reminder, claim_due
from knowledge.ops import metrics
from knowledge.services import Services

log = logging.getLogger(__name__)

MIN_CHECK_SECONDS, MAX_CHECK_SECONDS = 5.0, 900.0


def text(reminder: Reminder, user_id: int, guide_title: str) -> str:
    state = "is paused" if reminder.status == "paused" else "is waiting for your next answer"
    return (
        f"<@{user_id}> a friendly reminder: your **{guide_title}** interview {state}. "
        "Press **Resume** whenever you have a moment; everything so far is saved. "
        "(`/me reminders off` stops these.)"
    )


class Reminders:
    def __init__(self, conv: Conversation, services: Services) -> None:
        self.conv = conv
        self.services = services
        self.hours = services.settings.interview.remind_after_hours

    async def run(self) -> None:
        """Look for due reminders every so often (a sixth of the delay, 5 s to 15 min)."""
        if self.hours <= 0:
            return
        await self.conv.bot.wait_until_ready()
        every = min(MAX_CHECK_SECONDS, max(MIN_CHECK_SECONDS, self.hours * 3600 / 6))
        while True:
            try:
                await self.send_due()
            except Exception:
                log.exception("reminders failed; trying again later")
            await asyncio.sleep(every)

    async def send_due(self) -> int:
        """Post every reminder due now; how many were posted."""
        sent = 0
        due = await claim_due(
            self.services.db, self.hours, channel_prefix="discord:", keep=self._ours
        )
        for r in due:
            if await self._post(r):
                sent += 1
                metrics.REMINDERS.inc()
        return sent

    def _ours(self, r: Reminder) -> bool:
        """An interview of this process's shards (another process reminds the others)."""
        place = parse_interview_channel(r.channel)
        return place is not None and runs(self.services.settings.discord, place[0], r.guild_id)

    async def _post(self, r: Reminder) -> bool:
        place = parse_interview_channel(r.channel)
        if place is None:
            return False
        route = self.conv.routes.of_interview(r.interview_id)
        channel = await self.conv.channel(route) if route else None
        if channel is None:
            try:
                channel = await self.conv.bot.fetch_channel(place[1])
            except discord.HTTPException:
                log.info("interview %s: no channel to remind in", r.interview_id)
                return False
        guild = getattr(channel, "guild", None)
        if guild is not None and not self.services.settings.discord.serves(guild.id):
            return False
        try:
            title = self.services.guides.get(r.guide_slug).title
        except ValueError:
            title = r.guide_slug
        try:
            await channel.send(
                text(r, int(r.external_id), title),
                view=resume_view(r.interview_id),
                allowed_mentions=discord.AllowedMentions(users=True),
            )
        except discord.HTTPException as e:
            log.info("interview %s: the reminder could not be posted: %s", r.interview_id, e)
            return False
        log.info("reminded the expert of interview %s", r.interview_id)
        return True
