"""After a restart: post each running interview's open question again, with the answer so far.

Answers are only kept in memory until they are handed over, so the bot re-reads the channel:
the expert's messages after the last post of the open question are the answer in progress.
"""

from __future__ import annotations

import logging

import discord

from bot.exts.interview._answers import Part, read_part
from bot.exts.interview._conversation import Conversation
from bot.exts.interview._routes import Route
from bot.exts.interview._views import marks_turn
from knowledge.interview import InterviewError

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200  # messages read back after a restart to find the answer in progress
ANSWER_TYPES = (discord.MessageType.default, discord.MessageType.reply)


async def resume_all(conv: Conversation) -> None:
    await conv.bot.wait_until_ready()
    for route in conv.routes:
        if not route.running:
            continue
        try:
            await resume_route(conv, route)
        except InterviewError as e:
            log.warning("interview %s cannot resume: %s", route.interview_id, e)
            conv.routes.drop(route)
        except Exception:
            log.exception("interview %s could not be resumed", route.interview_id)


async def resume_route(conv: Conversation, route: Route) -> None:
    """Post the open question again, with the answer in progress read back from Discord."""
    async with conv.routes.lock(route.interview_id):
        ask = await conv.engine.current(route.interview_id)
        if ask is None:
            conv.routes.drop(route)
            return
        if route.question_message_id is not None and route.turn_id == ask.turn_id:
            return  # already asked since this process started
        channel = await conv.channel(route)
        if channel is None:
            log.warning("interview %s: its channel is gone", route.interview_id)
            return
        pend = conv.routes.pending_for(route, ask.turn_id)
        earlier, parts = await _answer_so_far(conv, channel, route, ask.turn_id)
        if earlier:  # typing before the restart was not seen; messages' times are known
            pend.arrival.question_at = discord.utils.snowflake_time(earlier[-1])
            pend.arrival.typing_watched = False
        for message_id, part in parts:
            if message_id not in pend.parts:
                pend.parts[message_id] = part
                at = discord.utils.snowflake_time(message_id)
                pend.arrival.add(at, len(part.content.strip()), key=message_id)
        note = "I was away for a moment; here is where we were."
        if pend.parts:
            n = len(pend.parts)
            note += (
                f" I still have what you wrote so far ({n} message{'s' if n != 1 else ''}):"
                " carry on, or press Done."
            )
        await conv.post_ask(route, channel, ask, note=note)
        for message_id in earlier:  # one live Done button: the one on the new post
            await conv.disable_buttons(channel, message_id, route.interview_id, ask.turn_id)
        if pend.has_text:
            conv.arm(pend, route)
    log.info("interview %s resumed after a restart", route.interview_id)


async def catch_up(conv: Conversation) -> None:
    """After a new gateway session (not a resume), read back what experts wrote meanwhile:
    Discord never delivers the messages sent while the bot had no session."""
    for route in list(conv.routes):
        if not route.running or route.turn_id is None or route.question_message_id is None:
            continue
        try:
            async with conv.routes.lock(route.interview_id):
                channel = await conv.channel(route)
                if channel is None:
                    continue
                _, parts = await _answer_so_far(conv, channel, route, route.turn_id)
                pend = conv.routes.pending_for(route, route.turn_id)
                missed = [(i, p) for i, p in parts if i not in pend.parts]
                for message_id, part in missed:
                    pend.parts[message_id] = part
                if missed and pend.has_text:
                    conv.arm(pend, route)
        except discord.HTTPException as e:
            log.warning("interview %s: could not read back its channel: %s", route.interview_id, e)


async def _answer_so_far(
    conv: Conversation, channel: discord.abc.Messageable, route: Route, turn_id: int
) -> tuple[list[int], list[tuple[int, Part]]]:
    """Earlier posts of the open question, and the expert's messages since the first."""
    messages = [m async for m in channel.history(limit=HISTORY_LIMIT)]  # newest first
    posts = [
        i
        for i, m in enumerate(messages)
        if m.author.id == conv.bot.user.id and marks_turn(m, turn_id)
    ]
    if not posts:
        return [], []
    parts = []
    for m in reversed(messages[: posts[-1]]):
        if m.author.id == route.user_id and m.type in ANSWER_TYPES:
            part, _ = await read_part(m)
            parts.append((m.id, part))
    return [messages[i].id for i in posts], parts
