"""/interview commands and the listener that turns an expert's messages into answers.

An interview runs in a private thread or a DM. Every message the expert writes there is part of
their answer; messages close together (the quiet period) are one answer, and Done or
`/interview next` hands it over at once. Answers are only kept in memory until then, so after a
restart the bot re-reads the channel: the expert's messages after the open question are the
answer in progress, and the question is posted again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_curator
from bot.exts.interview import _render
from bot.exts.interview._answers import (
    Part,
    PendingAnswer,
    Route,
    channel_key,
    parse_channel_key,
    read_part,
)
from bot.exts.interview._views import (
    CorrectionModal,
    consent_view,
    correct_view,
    marks_turn,
    question_view,
)
from bot.messages import send_long, sentence, tell
from knowledge.guides import Guide, GuideError
from knowledge.interview import Ask, InterviewError, NotActive, NotFound, Reply, TooManyActive
from knowledge.services import Services

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200  # messages read back after a restart to find the answer in progress
ANSWER_TYPES = (discord.MessageType.default, discord.MessageType.reply)


class InterviewCog(
    commands.GroupCog,
    name="Interview",
    group_name="interview",
    group_description="Your interview about your work",
):
    def __init__(self, bot: commands.Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        self.engine = services.engine
        self.experts = services.experts
        self.settings = services.settings
        self.routes: dict[int, Route] = {}  # by channel id
        self.pending: dict[int, PendingAnswer] = {}  # by interview id
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task] = set()
        self._user_ids: dict[int, int] = {}  # expert id -> Discord user id

    # ---- lifecycle -------------------------------------------------------------------------

    async def cog_load(self) -> None:
        await self._load_routes()
        self._spawn(self._resume_all())

    async def cog_unload(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for pend in self.pending.values():
            pend.cancel()

    async def _load_routes(self) -> None:
        """Know every Discord interview that is running or paused, before any message arrives."""
        for status in ("active", "paused"):
            for iv in await self.engine.list(status=status, limit=100_000):
                where = parse_channel_key(iv.channel)
                if where is None:
                    continue  # a terminal interview
                kind, channel_id = where
                user_id = await self._user_id(iv.expert_id)
                route = Route(iv.id, channel_id, user_id, kind, status)
                if status == "active":
                    ask = await self.engine.current(iv.id)
                    if ask is None:
                        continue
                    route.turn_id = ask.turn_id
                self.routes[channel_id] = route
        log.info("%d Discord interview(s) to pick up", len(self.routes))

    async def _resume_all(self) -> None:
        await self.bot.wait_until_ready()
        for route in list(self.routes.values()):
            if route.status != "active":
                continue
            try:
                await self._resume_route(route)
            except InterviewError as e:
                log.warning("interview %s cannot resume: %s", route.interview_id, e)
                self._drop(route)
            except Exception:
                log.exception("interview %s could not be resumed", route.interview_id)

    async def _resume_route(self, route: Route) -> None:
        """Post the open question again, with the answer in progress read back from Discord."""
        async with self._lock(route.interview_id):
            ask = await self.engine.current(route.interview_id)
            if ask is None:
                self._drop(route)
                return
            if route.question_message_id is not None and route.turn_id == ask.turn_id:
                return  # already asked since this process started
            channel = await self._channel(route)
            if channel is None:
                log.warning("interview %s: its channel is gone", route.interview_id)
                return
            pend = self._pending(route, ask.turn_id)
            earlier, parts = await self._answer_so_far(channel, route, ask.turn_id)
            for message_id, part in parts:
                pend.parts.setdefault(message_id, part)
            note = "I was away for a moment; here is where we were."
            if pend.parts:
                n = len(pend.parts)
                note += (
                    f" I still have what you wrote so far ({n} message{'s' if n != 1 else ''}):"
                    " carry on, or press Done."
                )
            await self._post_ask(route, channel, ask, note=note)
            for message_id in earlier:  # one live Done button: the one on the new post
                await self._remove_buttons(channel, message_id)
            if pend.has_text:
                self._arm(pend, route)
        log.info("interview %s resumed after a restart", route.interview_id)

    async def _answer_so_far(
        self, channel: discord.abc.Messageable, route: Route, turn_id: int
    ) -> tuple[list[int], list[tuple[int, Part]]]:
        """Earlier posts of the open question, and the expert's messages since the first."""
        messages = [m async for m in channel.history(limit=HISTORY_LIMIT)]  # newest first
        posts = [
            i
            for i, m in enumerate(messages)
            if m.author.id == self.bot.user.id and marks_turn(m, turn_id)
        ]
        if not posts:
            return [], []
        parts = []
        for m in reversed(messages[: posts[-1]]):
            if m.author.id == route.user_id and m.type in ANSWER_TYPES:
                part, _ = await read_part(m)
                parts.append((m.id, part))
        return [messages[i].id for i in posts], parts

    # ---- commands ----------------------------------------------------------------------------

    @app_commands.command(name="start", description="Start an interview about your work")
    @app_commands.describe(guide="The interview guide: pick your profession")
    async def start(self, interaction: discord.Interaction, guide: str | None = None) -> None:
        slug = guide or self.settings.interview.default_guide
        try:
            g = self.services.guides.get(slug)
        except GuideError as e:
            raise InterviewError(str(e)) from None
        expert = await self.experts.find("discord", str(interaction.user.id))
        if expert is None or self.experts.needs_consent(expert):
            # Nothing is stored until they agree: not even that they asked.
            await interaction.response.send_message(
                embeds=_render.consent_embeds(
                    self.settings.consent.text, self.settings.consent.version, g
                ),
                view=consent_view(interaction.user.id, g.slug),
                ephemeral=True,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await tell(interaction, await self._begin(interaction, g))

    @start.autocomplete("guide")
    async def _guide_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        cur = current.strip().lower()
        return [
            app_commands.Choice(name=f"{g.title} ({g.slug})"[:100], value=g.slug)
            for g in self.services.guides
            if cur in g.slug or cur in g.title.lower()
        ][:25]

    @app_commands.command(name="next", description="Take what you wrote as your answer now")
    async def next_(self, interaction: discord.Interaction) -> None:
        route = self._target(interaction)
        _require_running(route)
        await interaction.response.defer(ephemeral=True, thinking=True)
        if await self.close_answer(route.interview_id):
            await tell(interaction, "Got it: your answer is saved.")
        else:
            await tell(interaction, _NOTHING_YET)

    @app_commands.command(name="skip", description="Skip the current question")
    async def skip(self, interaction: discord.Interaction) -> None:
        route = self._target(interaction)
        _require_running(route)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._skip(route)
        await tell(interaction, "Skipped.")

    @app_commands.command(name="pause", description="Pause your interview and come back later")
    async def pause(self, interaction: discord.Interaction) -> None:
        route = self._target(interaction)
        _require_running(route)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._lock(route.interview_id):
            channel = await self._channel_or_fail(route)
            saved = await self._save_pending(route, channel, post_next=False)
            if route.channel_id in self.routes:  # saving the last answer may have finished it
                await self.engine.pause(route.interview_id)
                route.status, route.hinted_paused = "paused", False
                await channel.send(
                    "The interview is paused. `/interview resume` picks it up where we left off."
                )
        text = "Paused." + (" Your answer so far is saved." if saved else "")
        await tell(interaction, text)

    @app_commands.command(name="resume", description="Resume your paused interview")
    async def resume(self, interaction: discord.Interaction) -> None:
        route = self._target(interaction, prefer="paused")
        if route.status == "active":
            raise InterviewError(f"your interview is already running in {route.mention}.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._lock(route.interview_id):
            channel = await self._channel_or_fail(route)
            ask = await self.engine.resume(route.interview_id)
            route.status = "active"
            await self._post_ask(route, channel, ask, note="Welcome back.")
        await tell(interaction, f"Resumed in {route.mention}.")

    @app_commands.command(name="end", description="End your interview now")
    async def end(self, interaction: discord.Interaction) -> None:
        route = self._target(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._lock(route.interview_id):
            channel = await self._channel_or_fail(route)
            if route.status == "active":
                await self._save_pending(route, channel, post_next=False)
            if route.channel_id in self.routes:
                await self.engine.end(route.interview_id)
                await self._retire_question(route, channel)
                self._drop(route)
                await channel.send(
                    "The interview has ended. Thank you for your time! "
                    "`/me data` shows everything stored from it."
                )
        await tell(interaction, "Your interview has ended. Thank you!")

    @app_commands.command(name="status", description="Where you are in your interview")
    async def status(self, interaction: discord.Interaction) -> None:
        route = self.routes.get(interaction.channel_id) or self._mine(interaction.user.id)
        if route is not None and not self._may_act(interaction.user, route):
            raise InterviewError("this is someone else's interview.")
        if route is None:
            expert = await self.experts.find("discord", str(interaction.user.id))
            done = await self.engine.list(expert_id=expert.id, limit=1) if expert else []
            if not done:
                raise InterviewError(_NO_INTERVIEW)
            await tell(interaction, _render.status(done[0], where=None, pending=0))
            return
        view = await self.engine.get(route.interview_id)
        pend = self.pending.get(route.interview_id)
        count = len(pend.parts) if pend else 0
        await tell(interaction, _render.status(view, where=route.mention, pending=count))

    # ---- consent -----------------------------------------------------------------------------

    async def consent_agreed(self, interaction: discord.Interaction, guide_slug: str) -> None:
        await interaction.response.defer()  # the notice is edited once the interview is open
        try:
            guide = self.services.guides.get(guide_slug)
            user = interaction.user
            expert = await self.experts.identify("discord", str(user.id), user.display_name)
            await self.experts.give_consent(expert.id)
            text = "Thank you for agreeing. " + await self._begin(interaction, guide)
        except (InterviewError, GuideError) as e:
            text = sentence(str(e))
        await interaction.edit_original_response(content=text, embeds=[], view=None)

    async def consent_declined(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(
            content="No problem: nothing was recorded. "
            "You can start any time later with `/interview start`.",
            embeds=[],
            view=None,
        )

    # ---- opening an interview ----------------------------------------------------------------

    async def _begin(self, interaction: discord.Interaction, guide: Guide) -> str:
        """Open the thread or DM, start the interview there, ask the first question."""
        user = interaction.user
        expert = await self.experts.identify("discord", str(user.id), user.display_name)
        running = [r for r in self.routes.values() if r.user_id == user.id and r.status == "active"]
        if len(running) >= self.settings.interview.max_active_per_expert:
            raise TooManyActive(
                f"you already have an interview going in {running[0].mention}: "
                "finish, pause or end it first."
            )
        channel, kind = await self._open_channel(interaction, guide)
        other = self.routes.get(channel.id)
        if other is not None:  # only a DM can hold a second interview: one at a time there
            raise InterviewError(
                f"you have a {other.status} interview in {other.mention}: "
                "`/interview resume` or `/interview end` it first."
            )
        try:
            await send_long(
                channel,
                _render.welcome(guide, user, self.settings.interview.quiet_period_seconds),
            )
            ask = await self.engine.start(
                expert.id, guide.slug, channel=channel_key(kind, channel.id)
            )
        except discord.Forbidden:
            await self._discard(channel, kind)
            raise InterviewError(_CANNOT_WRITE[kind]) from None
        except BaseException:
            await self._discard(channel, kind)
            raise
        route = Route(ask.interview_id, channel.id, user.id, kind, "active")
        self.routes[channel.id] = route
        self._user_ids[expert.id] = user.id
        await self._post_ask(route, channel, ask)
        log.info("interview %s started in a Discord %s", ask.interview_id, kind)
        return f"Your interview is open in {route.mention}."

    async def _open_channel(
        self, interaction: discord.Interaction, guide: Guide
    ) -> tuple[discord.abc.Messageable, str]:
        user = interaction.user
        if self.settings.interview.where == "dm" or interaction.guild is None:
            try:
                return await user.create_dm(), "dm"
            except discord.HTTPException:
                raise InterviewError(_CANNOT_WRITE["dm"]) from None
        parent = interaction.channel
        if isinstance(parent, discord.Thread):
            parent = parent.parent
        if not isinstance(parent, discord.TextChannel):
            raise InterviewError("use `/interview start` in a text channel, or in our DMs.")
        try:
            thread = await parent.create_thread(
                name=f"{guide.title} · {user.display_name}"[:100],
                type=discord.ChannelType.private_thread,
                invitable=False,
                auto_archive_duration=10080,
            )
            await thread.add_user(user)
        except discord.Forbidden:
            raise InterviewError(_CANNOT_WRITE["thread"]) from None
        return thread, "thread"

    async def _discard(self, channel: discord.abc.Messageable, kind: str) -> None:
        if kind == "thread" and isinstance(channel, discord.Thread):
            try:
                await channel.delete()
            except discord.HTTPException:
                log.warning("could not delete the unused thread %s", channel.id)

    # ---- answers -----------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.type not in ANSWER_TYPES:
            return
        route = self.routes.get(message.channel.id)
        if route is None:
            return
        if message.author.id == route.user_id:
            await self._expert_wrote(route, message)
        elif is_curator(message.author, self.settings.discord):
            await self._curator_wrote(route, message)
        # Anyone else is not part of this interview: their words are neither used nor kept.

    async def _expert_wrote(self, route: Route, message: discord.Message) -> None:
        if route.status != "active":
            if not route.hinted_paused:
                route.hinted_paused = True
                await message.channel.send(
                    "This interview is paused, so I'm not recording. "
                    "`/interview resume` picks it up again."
                )
            return
        part, unread = await read_part(message)
        async with self._lock(route.interview_id):
            if route.turn_id is None:
                return
            pend = self._pending(route, route.turn_id)
            pend.parts[message.id] = part
            if pend.has_text:
                self._arm(pend, route)
        if unread:
            names = ", ".join(a.filename for a in unread[:5]) + (
                " and more" if len(unread) > 5 else ""
            )
            await message.reply(
                f"I can't read {names}, but I've kept a link to it with your answer. If it "
                "holds text you want in your answer, paste it or attach it as .txt or .md.",
                mention_author=False,
            )
        await self.engine.touch(route.interview_id)

    async def _curator_wrote(self, route: Route, message: discord.Message) -> None:
        """A curator's words are kept beside the answer, never mixed into the expert's own."""
        if route.status != "active" or not message.content.strip():
            return
        async with self._lock(route.interview_id):
            if route.turn_id is None:
                return
            self._pending(route, route.turn_id).notes.append(
                {
                    "kind": "curator_note",
                    "author_id": str(message.author.id),
                    "author": message.author.display_name,
                    "text": message.content,
                    "message_id": str(message.id),
                }
            )

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        route = self.routes.get(payload.channel_id)
        content = payload.data.get("content")
        if route is None or content is None:
            return
        async with self._lock(route.interview_id):
            pend = self.pending.get(route.interview_id)
            part = pend.parts.get(payload.message_id) if pend else None
            if part is None:
                return  # not part of an answer still being written
            part.content = content
            if pend.has_text:
                self._arm(pend, route)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        route = self.routes.get(payload.channel_id)
        if route is None:
            return
        async with self._lock(route.interview_id):
            pend = self.pending.get(route.interview_id)
            if pend is not None:
                pend.parts.pop(payload.message_id, None)

    @commands.Cog.listener()
    async def on_tacit_expert_forgotten(self, user_id: int) -> None:
        for route in [r for r in self.routes.values() if r.user_id == user_id]:
            self._drop(route)

    def _arm(self, pend: PendingAnswer, route: Route) -> None:
        """(Re)start the quiet period after which what was written is taken as the answer."""
        pend.cancel()
        pend.timer = asyncio.get_running_loop().call_later(
            self.settings.interview.quiet_period_seconds,
            self._quiet_elapsed,
            route.interview_id,
            pend,
        )

    def _quiet_elapsed(self, interview_id: int, pend: PendingAnswer) -> None:
        if self.pending.get(interview_id) is pend:
            self._spawn(self._close_after_quiet(interview_id, pend.turn_id))

    async def _close_after_quiet(self, interview_id: int, turn_id: int) -> None:
        try:
            await self.close_answer(interview_id, turn_id)
        except InterviewError as e:
            route = self._route_of(interview_id)
            channel = await self._channel(route) if route else None
            if channel is not None:
                await channel.send(sentence(str(e)))

    async def close_answer(self, interview_id: int, turn_id: int | None = None) -> bool:
        """Hand the answer in progress to the engine and ask the next question.

        False when there was nothing to hand over. With `turn_id`, an answer to that question
        that was already taken (by the quiet period, say) counts as done.
        """
        async with self._lock(interview_id):
            route = self._route_of(interview_id)
            if route is None:
                return False
            if turn_id is not None and route.turn_id != turn_id:
                return True
            channel = await self._channel_or_fail(route)
            return await self._save_pending(route, channel, post_next=True)

    async def _save_pending(
        self, route: Route, channel: discord.abc.Messageable, *, post_next: bool
    ) -> bool:
        """With the interview's lock held: store the answer in progress, if it has any text."""
        pend = self.pending.get(route.interview_id)
        if pend is None or not pend.has_text:
            return False
        try:
            async with channel.typing():
                reply = await self.engine.answer(
                    route.interview_id, pend.text(), references=pend.references() or None
                )
        except (NotActive, NotFound) as e:
            log.info("interview %s no longer takes answers: %s", route.interview_id, e)
            self._drop(route)
            return False
        except Exception:
            # The words stay in memory (and in the channel): Done tries again.
            log.exception("interview %s: the answer could not be stored", route.interview_id)
            raise InterviewError(
                "I couldn't save your answer just now. It is not lost: press Done (or "
                "`/interview next`) in a moment to try again."
            ) from None
        del self.pending[route.interview_id]
        pend.cancel()
        await self._retire_question(route, channel)
        await self._after(route, channel, reply, post_next=post_next)
        return True

    async def _skip(self, route: Route) -> None:
        async with self._lock(route.interview_id):
            channel = await self._channel_or_fail(route)
            pend = self.pending.pop(route.interview_id, None)
            if pend is not None:
                pend.cancel()
            reply = await self.engine.skip(route.interview_id)
            await self._retire_question(route, channel)
            note = "Skipped."
            if pend is not None and pend.parts:
                note += " What you had written for it was not saved."
            await self._after(route, channel, reply, note=note)

    async def _after(
        self,
        route: Route,
        channel: discord.abc.Messageable,
        reply: Reply,
        *,
        post_next: bool = True,
        note: str | None = None,
    ) -> None:
        if reply.finished:
            self._drop(route)
            await self._teach_back(route, channel)
            await send_long(channel, _render.closing(reply))
            return
        covered = _render.covered(reply)
        note = " ".join(n for n in (note, covered) if n) or None
        if post_next:
            await self._post_ask(route, channel, reply.next, note=note)
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

    async def correct_clicked(self, interaction: discord.Interaction, interview_id: int) -> None:
        view = await self.engine.get(interview_id)
        expert = await self.experts.find("discord", str(interaction.user.id))
        if expert is None or expert.id != view.expert_id:
            await tell(interaction, "Only the person interviewed can correct this.")
            return
        await interaction.response.send_modal(CorrectionModal(interview_id))

    async def correction_submitted(
        self, interaction: discord.Interaction, interview_id: int, text: str
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if text.strip():
            await self.engine.correct_summary(interview_id, text)
            await tell(interaction, "Thank you: your correction is kept with the interview.")
        else:
            await tell(interaction, "Nothing to correct, then. Thank you!")

    async def _post_ask(
        self,
        route: Route,
        channel: discord.abc.Messageable,
        ask: Ask,
        *,
        note: str | None = None,
    ) -> None:
        message = await send_long(
            channel,
            _render.ask(ask, note=note),
            view=question_view(route.interview_id, ask.turn_id),
        )
        route.turn_id, route.question_message_id = ask.turn_id, message.id

    async def _retire_question(self, route: Route, channel: discord.abc.Messageable) -> None:
        """Take the Done/Skip buttons off the question that was just dealt with."""
        if route.question_message_id is not None:
            await self._remove_buttons(channel, route.question_message_id)
            route.question_message_id = None

    async def _remove_buttons(self, channel: discord.abc.Messageable, message_id: int) -> None:
        try:
            await channel.get_partial_message(message_id).edit(view=None)
        except discord.HTTPException:
            pass  # deleted, or too old to matter: the buttons answer "already dealt with"

    async def answer_button(
        self, interaction: discord.Interaction, action: str, interview_id: int, turn_id: int
    ) -> None:
        route = self._route_of(interview_id)
        if route is None:
            await tell(interaction, "This interview is no longer running.")
            return
        if not self._may_act(interaction.user, route):
            await tell(interaction, "Only the person being interviewed can answer here.")
            return
        if route.status != "active":
            await tell(interaction, "The interview is paused: `/interview resume` first.")
            return
        if route.turn_id != turn_id:
            await tell(interaction, "That question has already been dealt with.")
            return
        await interaction.response.defer()
        try:
            if action == "skip":
                await self._skip(route)
            elif not await self.close_answer(interview_id, turn_id):
                await tell(interaction, _NOTHING_YET)
        except InterviewError as e:
            await tell(interaction, sentence(str(e)))

    # ---- helpers -----------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("interview background work failed", exc_info=task.exception())

    def _lock(self, interview_id: int) -> asyncio.Lock:
        return self._locks.setdefault(interview_id, asyncio.Lock())

    def _pending(self, route: Route, turn_id: int) -> PendingAnswer:
        pend = self.pending.get(route.interview_id)
        if pend is None or pend.turn_id != turn_id:
            if pend is not None:
                pend.cancel()
            pend = self.pending[route.interview_id] = PendingAnswer(turn_id)
        return pend

    def _route_of(self, interview_id: int) -> Route | None:
        return next((r for r in self.routes.values() if r.interview_id == interview_id), None)

    def _mine(self, user_id: int, prefer: str = "active") -> Route | None:
        mine = sorted(
            (r for r in self.routes.values() if r.user_id == user_id),
            key=lambda r: (r.status == prefer, r.interview_id),
        )
        return mine[-1] if mine else None

    def _target(self, interaction: discord.Interaction, prefer: str = "active") -> Route:
        """The interview of this channel, else the user's own."""
        route = self.routes.get(interaction.channel_id)
        if route is not None:
            if not self._may_act(interaction.user, route):
                raise InterviewError("this is someone else's interview.")
            return route
        route = self._mine(interaction.user.id, prefer)
        if route is None:
            raise InterviewError(_NO_INTERVIEW)
        return route

    def _may_act(self, user: discord.abc.User, route: Route) -> bool:
        return user.id == route.user_id or is_curator(user, self.settings.discord)

    def _drop(self, route: Route) -> None:
        self.routes.pop(route.channel_id, None)
        pend = self.pending.pop(route.interview_id, None)
        if pend is not None:
            pend.cancel()

    async def _user_id(self, expert_id: int) -> int:
        if expert_id not in self._user_ids:
            expert = await self.experts.get(expert_id)
            self._user_ids[expert_id] = int(expert.external_id)
        return self._user_ids[expert_id]

    async def _channel(self, route: Route) -> discord.abc.Messageable | None:
        channel = self.bot.get_channel(route.channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(route.channel_id)
            except (discord.NotFound, discord.Forbidden):
                return None
        return channel

    async def _channel_or_fail(self, route: Route) -> discord.abc.Messageable:
        channel = await self._channel(route)
        if channel is None:
            raise InterviewError("I can no longer reach the interview's thread or DM.")
        return channel


def _require_running(route: Route) -> None:
    if route.status != "active":
        raise NotActive("the interview is paused: `/interview resume` first.")


_NOTHING_YET = (
    "There is nothing to send yet: write your answer first, or use `/interview skip` "
    "to move on without answering."
)
_NO_INTERVIEW = "you have no interview running. Start one with `/interview start`."
_CANNOT_WRITE = {
    "dm": "I can't send you direct messages. Allow DMs from server members (Privacy "
    "Settings) or start the interview in a server channel.",
    "thread": "I can't open a private thread here. I need the Create Private Threads and Send "
    "Messages in Threads permissions in this channel.",
}
