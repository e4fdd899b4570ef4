"""The interview as it runs in a channel: answers handed to the engine, the next question posted.

Answers are kept in memory only until they are handed over (the quiet period, Done, or
`/interview next`); a failure to store one keeps the words (in memory and in the channel) so
that Done tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import discord
from discord.ext import commands

from bot.exts.interview import _render
from bot.exts.interview._answers import PendingAnswer
from bot.exts.interview._routes import Route, Routes
from bot.exts.interview._views import correct_view, question_view
from bot.messages import send_long, sentence
from knowledge.interview import Ask, InterviewError, NotActive, NotFound, NotSaved, Reply
from knowledge.services import Services

log = logging.getLogger(__name__)

POST_RETRIES = (1.0, 3.0, 9.0)  # seconds before posting a question again after a 5xx


class Conversation:
    def __init__(self, bot: commands.Bot, services: Services, routes: Routes) -> None:
        self.bot = bot
        self.engine = services.engine
        self.settings = services.settings
        self.routes = routes
        self._tasks: set[asyncio.Task] = set()

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.routes.cancel_all()

    # ---- handing answers over ------------------------------------------------------------

    def arm(self, pend: PendingAnswer, route: Route) -> None:
        """(Re)start the quiet period after which what was written is taken as the answer."""
        pend.cancel()
        pend.timer = asyncio.get_running_loop().call_later(
            self.settings.interview.quiet_period_seconds,
            self._quiet_elapsed,
            route.interview_id,
            pend,
        )

    def _quiet_elapsed(self, interview_id: int, pend: PendingAnswer) -> None:
        if self.routes.pending.get(interview_id) is pend:
            self.spawn(self._close_after_quiet(interview_id, pend.turn_id))

    async def _close_after_quiet(self, interview_id: int, turn_id: int) -> None:
        try:
            await self.close_answer(interview_id, turn_id)
        except InterviewError as e:
            route = self.routes.of_interview(interview_id)
            channel = await self.channel(route) if route else None
            if channel is not None:
                await channel.send(sentence(str(e)))

    async def close_answer(self, interview_id: int, turn_id: int | None = None) -> bool:
        """Hand the answer in progress to the engine and ask the next question.

        False when there was nothing to hand over. With `turn_id`, an answer to that question
        that was already taken (by the quiet period, say) counts as done.
        """
        async with self.routes.lock(interview_id):
            route = self.routes.of_interview(interview_id)
            if route is None:
                return False
            if turn_id is not None and route.turn_id != turn_id:
                return True
            channel = await self.channel_or_fail(route)
            return await self.save_pending(route, channel, post_next=True)

    async def save_pending(
        self, route: Route, channel: discord.abc.Messageable, *, post_next: bool
    ) -> bool:
        """With the interview's lock held: store the answer in progress, if it has any text."""
        pend = self.routes.pending.get(route.interview_id)
        if pend is None or not pend.has_text:
            return False
        try:
            async with channel.typing():
                reply = await self.engine.answer(
                    route.interview_id,
                    pend.text(),
                    turn_id=pend.turn_id,  # a retry of an answer already stored is not stored twice
                    references=pend.references() or None,
                    arrival=pend.arrival.freeze(),
                )
        except (NotActive, NotFound) as e:
            log.info("interview %s no longer takes answers: %s", route.interview_id, e)
            self.routes.drop(route)
            return False
        except NotSaved:  # the engine logged why; the words stay in memory and in the channel
            raise InterviewError(
                "I couldn't save your answer: the database is unavailable right now. It is not "
                "lost: press Done (or `/interview next`) in a moment to send it again."
            ) from None
        except Exception:
            # The words stay in memory (and in the channel): Done tries again.
            log.exception("interview %s: the answer could not be stored", route.interview_id)
            raise InterviewError(
                "I couldn't save your answer just now. It is not lost: press Done (or "
                "`/interview next`) in a moment to try again."
            ) from None
        self.routes.take_pending(route)
        await self.retire_question(route, channel)
        await self.after(route, channel, reply, post_next=post_next)
        return True

    async def skip(self, route: Route) -> None:
        async with self.routes.lock(route.interview_id):
            channel = await self.channel_or_fail(route)
            pend = self.routes.take_pending(route)
            reply = await self.engine.skip(route.interview_id)
            await self.retire_question(route, channel)
            note = "Skipped."
            if pend is not None and pend.parts:
                note += " What you had written for it was not saved."
            await self.after(route, channel, reply, note=note)

    async def after(
        self,
        route: Route,
        channel: discord.abc.Messageable,
        reply: Reply,
        *,
        post_next: bool = True,
        note: str | None = None,
    ) -> None:
        """What follows an answer or a skip: the next question, or the close."""
        if reply.finished:
            self.routes.drop(route)
            await self._teach_back(route, channel)
            await send_long(channel, _render.closing(reply))
            return
        covered = _render.covered(reply)
        note = " ".join(n for n in (note, covered) if n) or None
        if post_next:
            await self.post_ask(route, channel, reply.next, note=note)
        else:
            route.turn_id, route.question_message_id = reply.next.turn_id, None

    async def _teach_back(self, route: Route, channel: discord.abc.Messageable) -> None:
        """What was understood, for the expert to correct (only when an LLM is configured)."""
        if not self.settings.llm.enabled:
            return
        async with channel.typing():
            summary = await self.engine.summarize(route.interview_id)
        if summary:
            await send_long(
                channel, _render.teach_back(summary), view=correct_view(route.interview_id)
            )

    # ---- questions -----------------------------------------------------------------------

    async def post_ask(
        self,
        route: Route,
        channel: discord.abc.Messageable,
        ask: Ask,
        *,
        note: str | None = None,
    ) -> None:
        text = _render.ask(ask, note=note)
        # The open question from now on: Discord shows the post (and its Done button) to the
        # expert before its reply to us comes back, and what they do meanwhile is for it.
        route.turn_id = ask.turn_id
        for wait in (*POST_RETRIES, None):
            try:
                message = await send_long(
                    channel, text, view=question_view(route.interview_id, ask.turn_id)
                )
                break
            except discord.HTTPException as e:
                # Discord's 503s and overloads are not retried by discord.py; the answer is
                # stored, so the expert must see the next question, not a silence.
                if wait is None or e.status < 500:
                    raise
                log.warning("posting a question failed (%s); again in %ss", e.status, wait)
                await asyncio.sleep(wait)
        route.question_message_id = message.id

    async def retire_question(self, route: Route, channel: discord.abc.Messageable) -> None:
        """Take the Done/Skip buttons off the question that was just dealt with."""
        if route.question_message_id is not None:
            await self.remove_buttons(channel, route.question_message_id)
            route.question_message_id = None

    async def disable_buttons(
        self, channel: discord.abc.Messageable, message_id: int, interview_id: int, turn_id: int
    ) -> None:
        try:
            view = question_view(interview_id, turn_id, disabled=True)
            await channel.get_partial_message(message_id).edit(view=view)
        except discord.HTTPException:
            pass  # deleted: the newer post carries the question

    async def remove_buttons(self, channel: discord.abc.Messageable, message_id: int) -> None:
        try:
            await channel.get_partial_message(message_id).edit(view=None)
        except discord.HTTPException:
            pass  # deleted, or too old to matter: the buttons answer "already dealt with"

    # ---- channels and background work ----------------------------------------------------

    async def channel(self, route: Route) -> discord.abc.Messageable | None:
        channel = self.bot.get_channel(route.channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(route.channel_id)
            except (discord.NotFound, discord.Forbidden):
                return None
        return channel

    async def channel_or_fail(self, route: Route) -> discord.abc.Messageable:
        channel = await self.channel(route)
        if channel is None:
            raise InterviewError("I can no longer reach the interview's thread or DM.")
        return channel

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("interview background work failed", exc_info=task.exception())
