"""Which Discord channel holds which interview, and the answers being written there.

The table is this process's view of the interviews it serves (those of its shards); SQL holds
the truth, and `load` rebuilds the table from it at start, before any message arrives.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import discord

from bot.exts.interview._answers import PendingAnswer
from bot.identity import interview_channel, parse_interview_channel
from knowledge.config import DiscordSettings
from knowledge.experts import ExpertService
from knowledge.interview import InterviewEngine
from knowledge.vocab import InterviewStatus

log = logging.getLogger(__name__)


def runs(discord: DiscordSettings, kind: str, guild_id: int | None) -> bool:
    """Whether this process serves an interview: its server's shard is one of this process's
    (`[discord] shard_ids`); DMs arrive on shard 0."""
    return discord.runs_shard_of(None if kind == "dm" else guild_id)


@dataclass
class Route:
    """An interview running in a Discord thread or DM, as the bot knows it."""

    interview_id: int
    channel_id: int
    user_id: int  # the expert
    kind: str  # "thread" | "dm"
    status: str  # "active" | "paused"
    turn_id: int | None = None  # the question waiting for an answer
    question_message_id: int | None = None
    hinted_paused: bool = False

    @property
    def key(self) -> str:
        return interview_channel(self.kind, self.channel_id)

    @property
    def mention(self) -> str:
        return f"<#{self.channel_id}>" if self.kind == "thread" else "our DMs"

    @property
    def running(self) -> bool:
        return self.status == InterviewStatus.active


class Routes:
    """Interviews by channel id, answers in progress and locks by interview id."""

    def __init__(self, *, typing_in: frozenset[str] = frozenset()) -> None:
        # Where typing events reach the bot (its intents): "thread", "dm".
        self.typing_in = typing_in
        self._by_channel: dict[int, Route] = {}
        self.pending: dict[int, PendingAnswer] = {}  # by interview id
        self._locks: dict[int, asyncio.Lock] = {}
        self._user_ids: dict[int, int] = {}  # expert id -> Discord user id

    def __iter__(self):
        return iter(list(self._by_channel.values()))

    def __len__(self) -> int:
        return len(self._by_channel)

    def __contains__(self, route: Route) -> bool:
        return self._by_channel.get(route.channel_id) is route

    def in_channel(self, channel_id: int | None) -> Route | None:
        return self._by_channel.get(channel_id) if channel_id is not None else None

    def of_interview(self, interview_id: int) -> Route | None:
        return next((r for r in self if r.interview_id == interview_id), None)

    def of_user(self, user_id: int, prefer: str = InterviewStatus.active) -> Route | None:
        """The user's interview, one with status `prefer` if they have one."""
        mine = sorted(
            (r for r in self if r.user_id == user_id),
            key=lambda r: (r.status == prefer, r.interview_id),
        )
        return mine[-1] if mine else None

    def add(self, route: Route) -> None:
        self._by_channel[route.channel_id] = route

    def remember_user(self, expert_id: int, user_id: int) -> None:
        self._user_ids[expert_id] = user_id

    def drop(self, route: Route) -> None:
        """Stop serving the interview: it ended, or its expert was forgotten."""
        if self._by_channel.get(route.channel_id) is route:
            del self._by_channel[route.channel_id]
        pend = self.pending.pop(route.interview_id, None)
        if pend is not None:
            pend.cancel()

    def lock(self, interview_id: int) -> asyncio.Lock:
        return self._locks.setdefault(interview_id, asyncio.Lock())

    def pending_for(self, route: Route, turn_id: int) -> PendingAnswer:
        """The answer in progress to this question (a fresh one when the question changed)."""
        pend = self.pending.get(route.interview_id)
        if pend is None or pend.turn_id != turn_id:
            if pend is not None:
                pend.cancel()
            pend = self.pending[route.interview_id] = PendingAnswer(turn_id)
            if route.question_message_id is not None:
                pend.arrival.question_at = discord.utils.snowflake_time(route.question_message_id)
            pend.arrival.typing_watched = route.kind in self.typing_in
        return pend

    def take_pending(self, route: Route) -> PendingAnswer | None:
        pend = self.pending.pop(route.interview_id, None)
        if pend is not None:
            pend.cancel()
        return pend

    def cancel_all(self) -> None:
        for pend in self.pending.values():
            pend.cancel()

    async def load(
        self, engine: InterviewEngine, experts: ExpertService, discord: DiscordSettings
    ) -> None:
        """Know every Discord interview that is running or paused on this process's shards,
        from SQL (another process serves the others)."""
        for status in (InterviewStatus.active, InterviewStatus.paused):
            for iv in await engine.list(status=status, limit=100_000):
                where = parse_interview_channel(iv.channel)
                if where is None:
                    continue  # a terminal interview
                kind, channel_id = where
                if not runs(discord, kind, iv.guild_id):
                    continue
                route = Route(
                    iv.id, channel_id, await self._user(experts, iv.expert_id), kind, status
                )
                if status == InterviewStatus.active:
                    ask = await engine.current(iv.id)
                    if ask is None:
                        continue
                    route.turn_id = ask.turn_id
                self.add(route)
        log.info("%d Discord interview(s) to pick up", len(self))

    async def _user(self, experts: ExpertService, expert_id: int) -> int:
        if expert_id not in self._user_ids:
            expert = await experts.get(expert_id)
            self._user_ids[expert_id] = int(expert.external_id)
        return self._user_ids[expert_id]
