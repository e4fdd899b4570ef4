"""/interview commands, consent, and the listeners that turn an expert's messages into answers.

An interview runs in a private thread or a DM. Every message the expert writes there is part of
their answer; messages close together (the quiet period) are one answer, and Done or
`/interview next` hands it over at once. The routing table is `_routes`, the flow in the
channel `_conversation`, the pick-up after a restart `_recovery`, opening a thread `_opening`.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import guide_choices
from bot.checks import is_curator
from bot.exts.interview import _render
from bot.exts.interview._answers import read_part
from bot.exts.interview._conversation import Conversation
from bot.exts.interview._opening import CANNOT_WRITE, discard, open_channel
from bot.exts.interview._recovery import ANSWER_TYPES, catch_up, resume_all
from bot.exts.interview._reminders import Reminders
from bot.exts.interview._routes import Route, Routes
from bot.exts.interview._views import CorrectionModal, consent_view
from bot.identity import expert_records, find_expert, identify_expert, interview_channel
from bot.messages import refusals, send_long, sentence, tell
from bot.tenancy import expert_guild
from knowledge.errors import TacitError
from knowledge.guides import Guide
from knowledge.interview import InterviewError, NotActive, TooManyActive
from knowledge.services import Services
from knowledge.vocab import InterviewStatus

log = logging.getLogger(__name__)

NOTHING_YET = (
    "There is nothing to send yet: write your answer first, or use `/interview skip` "
    "to move on without answering."
)
NO_INTERVIEW = "you have no interview running. Start one with `/interview start`."


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
        self.routes = Routes(typing_in=typing_in(bot.intents))
        self.conv = Conversation(bot, services, self.routes)
        self.reminders = Reminders(self.conv, services)
        self._readies = 0

    async def cog_load(self) -> None:
        await self.routes.load(self.engine, self.experts, self.settings.discord)
        self.conv.spawn(resume_all(self.conv))
        self.conv.spawn(self.reminders.run())

    async def cog_unload(self) -> None:
        self.conv.close()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Every READY after the first is a new session: events in between were lost."""
        if self._readies:
            self.conv.spawn(catch_up(self.conv))
        self._readies += 1

    # ---- commands ----------------------------------------------------------------------------

    @app_commands.command(name="start", description="Start an interview about your work")
    @app_commands.describe(guide="The interview guide: pick your profession")
    async def start(self, interaction: discord.Interaction, guide: str | None = None) -> None:
        g = self.services.guides.get(guide or self.settings.interview.default_guide)
        expert = await find_expert(
            self.experts, interaction.user, expert_guild(interaction, self.services)
        )
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
        return guide_choices(self.services.guides, current)

    @app_commands.command(name="next", description="Take what you wrote as your answer now")
    async def next_(self, interaction: discord.Interaction) -> None:
        route = await self._target(interaction)
        _require_running(route)
        await interaction.response.defer(ephemeral=True, thinking=True)
        if await self.conv.close_answer(route.interview_id):
            await tell(interaction, "Got it: your answer is saved.")
        else:
            await tell(interaction, NOTHING_YET)

    @app_commands.command(name="skip", description="Skip the current question")
    async def skip(self, interaction: discord.Interaction) -> None:
        route = await self._target(interaction)
        _require_running(route)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.conv.skip(route)
        await tell(interaction, "Skipped.")

    @app_commands.command(name="pause", description="Pause your interview and come back later")
    async def pause(self, interaction: discord.Interaction) -> None:
        route = await self._target(interaction)
        _require_running(route)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.routes.lock(route.interview_id):
            channel = await self.conv.channel_or_fail(route)
            saved = await self.conv.save_pending(route, channel, post_next=False)
            if route in self.routes:  # saving the last answer may have finished it
                await self.engine.pause(route.interview_id)
                route.status, route.hinted_paused = InterviewStatus.paused, False
                await channel.send(
                    "The interview is paused. `/interview resume` picks it up where we left off."
                )
        text = "Paused." + (" Your answer so far is saved." if saved else "")
        await tell(interaction, text)

    @app_commands.command(name="resume", description="Resume your paused interview")
    async def resume(self, interaction: discord.Interaction) -> None:
        route = await self._target(interaction, prefer=InterviewStatus.paused)
        if route.running:
            raise InterviewError(f"your interview is already running in {route.mention}.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._resume(route)
        await tell(interaction, f"Resumed in {route.mention}.")

    async def _resume(self, route: Route) -> None:
        """Pick a paused interview up (or ask an idle one's question again) in its channel."""
        async with self.routes.lock(route.interview_id):
            channel = await self.conv.channel_or_fail(route)
            ask = await self.engine.resume(route.interview_id)
            route.status = InterviewStatus.active
            await self.conv.retire_question(route, channel)  # one live Done button
            await self.conv.post_ask(route, channel, ask, note="Welcome back.")

    @app_commands.command(name="end", description="End your interview now")
    async def end(self, interaction: discord.Interaction) -> None:
        route = await self._target(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.routes.lock(route.interview_id):
            channel = await self.conv.channel_or_fail(route)
            if route.running:
                await self.conv.save_pending(route, channel, post_next=False)
            if route in self.routes:
                await self.engine.end(route.interview_id)
                await self.conv.retire_question(route, channel)
                self.routes.drop(route)
                await channel.send(
                    "The interview has ended. Thank you for your time! "
                    "`/me data` shows everything stored from it."
                )
        await tell(interaction, "Your interview has ended. Thank you!")

    @app_commands.command(name="status", description="Where you are in your interview")
    async def status(self, interaction: discord.Interaction) -> None:
        route = self.routes.in_channel(interaction.channel_id) or self.routes.of_user(
            interaction.user.id
        )
        if route is not None and not await self._may_act(interaction.user, route):
            raise InterviewError("this is someone else's interview.")
        if route is None:
            done = []
            for expert in await expert_records(self.experts, interaction.user):
                done += await self.engine.list(expert_id=expert.id, limit=1)
            done.sort(key=lambda v: v.last_activity_at, reverse=True)
            if not done:
                raise InterviewError(NO_INTERVIEW)
            await tell(interaction, _render.status(done[0], where=None, pending=0))
            return
        view = await self.engine.get(route.interview_id)
        pend = self.routes.pending.get(route.interview_id)
        count = len(pend.parts) if pend else 0
        await tell(interaction, _render.status(view, where=route.mention, pending=count))

    # ---- consent (called by the buttons in _views) -------------------------------------------

    async def consent_agreed(self, interaction: discord.Interaction, guide_slug: str) -> None:
        await interaction.response.defer()  # the notice is edited once the interview is open
        try:
            guide = self.services.guides.get(guide_slug)
            guild_id = expert_guild(interaction, self.services)
            expert = await identify_expert(self.experts, interaction.user, guild_id)
            await self.experts.give_consent(expert.id)
            text = "Thank you for agreeing. " + await self._begin(interaction, guide)
        except TacitError as e:
            text = sentence(str(e))
        await interaction.edit_original_response(content=text, embeds=[], view=None)

    async def consent_declined(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(
            content="No problem: nothing was recorded. "
            "You can start any time later with `/interview start`.",
            embeds=[],
            view=None,
        )

    async def _begin(self, interaction: discord.Interaction, guide: Guide) -> str:
        """Open the thread or DM, start the interview there, ask the first question."""
        user = interaction.user
        expert = await identify_expert(self.experts, user, expert_guild(interaction, self.services))
        busy = await self.engine.blocking(expert.id)
        if busy is not None:  # asked before a thread is opened for nothing
            route = self.routes.of_interview(busy.id)
            where = f" in {route.mention}" if route else ""
            raise TooManyActive(
                f"you already have an interview going{where}: finish, pause or end it first."
            )
        channel, kind = await open_channel(interaction, guide, self.settings.interview.where)
        other = self.routes.in_channel(channel.id)
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
                expert.id, guide.slug, channel=interview_channel(kind, channel.id)
            )
        except discord.Forbidden:
            await discard(channel, kind)
            raise InterviewError(CANNOT_WRITE[kind]) from None
        except BaseException:
            await discard(channel, kind)
            raise
        route = Route(ask.interview_id, channel.id, user.id, kind, InterviewStatus.active)
        # Held until the question's post returns: the expert can answer as soon as Discord
        # shows it, and their message must wait for the route's turn, not find none.
        async with self.routes.lock(route.interview_id):
            self.routes.add(route)
            self.routes.remember_user(expert.id, user.id)
            await self.conv.post_ask(route, channel, ask)
        log.info("interview %s started in a Discord %s", ask.interview_id, kind)
        return f"Your interview is open in {route.mention}."

    # ---- answers -----------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.type not in ANSWER_TYPES:
            return
        route = self.routes.in_channel(message.channel.id)
        if route is None:
            return
        if message.guild is not None and not self.settings.discord.serves(message.guild.id):
            return  # a server taken off allowed_guilds: nothing more is kept from it
        if message.author.id == route.user_id:
            await self._expert_wrote(route, message)
        elif await is_curator(message.author, self.settings.discord, self.services.curators):
            await self._curator_wrote(route, message)
        # Anyone else is not part of this interview: their words are neither used nor kept.

    async def _expert_wrote(self, route: Route, message: discord.Message) -> None:
        if not route.running:
            if not route.hinted_paused:
                route.hinted_paused = True
                await message.channel.send(
                    "This interview is paused, so I'm not recording. "
                    "`/interview resume` picks it up again."
                )
            return
        # The lock is taken before anything awaits: a Done pressed right after this message
        # waits for it (attachments included) instead of closing the answer without it.
        async with self.routes.lock(route.interview_id):
            if route.turn_id is None:
                return
            part, unread = await read_part(message)
            pend = self.routes.pending_for(route, route.turn_id)
            pend.parts[message.id] = part
            pend.arrival.add(message.created_at, len(part.content.strip()), key=message.id)
            pend.arrival.file_chars[message.id] = sum(len(t) for t in part.file_texts)
            if pend.has_text:
                self.conv.arm(pend, route)
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
        if not route.running or not message.content.strip():
            return
        async with self.routes.lock(route.interview_id):
            if route.turn_id is None:
                return
            self.routes.pending_for(route, route.turn_id).notes.append(
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
        route = self.routes.in_channel(payload.channel_id)
        content = payload.data.get("content")
        if route is None or content is None:
            return
        async with self.routes.lock(route.interview_id):
            pend = self.routes.pending.get(route.interview_id)
            part = pend.parts.get(payload.message_id) if pend else None
            if part is None:
                return  # not part of an answer still being written
            added = len(content.strip()) - len(part.content.strip())
            edited = discord.utils.parse_time(payload.data.get("edited_timestamp"))
            pend.arrival.add(edited or discord.utils.utcnow(), added, "edit", payload.message_id)
            part.content = content
            if pend.has_text:
                self.conv.arm(pend, route)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        route = self.routes.in_channel(payload.channel_id)
        if route is None:
            return
        async with self.routes.lock(route.interview_id):
            pend = self.routes.pending.get(route.interview_id)
            if pend is not None:
                pend.parts.pop(payload.message_id, None)
                pend.arrival.drop(payload.message_id)

    @commands.Cog.listener()
    async def on_raw_typing(self, payload: discord.RawTypingEvent) -> None:
        """The expert is typing: evidence that the answer is being typed, and when it began."""
        route = self.routes.in_channel(payload.channel_id)
        if route is None or payload.user_id != route.user_id or not route.running:
            return
        async with self.routes.lock(route.interview_id):
            if route.turn_id is not None:
                self.routes.pending_for(route, route.turn_id).arrival.typed(payload.timestamp)

    @commands.Cog.listener()
    async def on_tacit_expert_forgotten(self, user_id: int) -> None:
        for route in [r for r in self.routes if r.user_id == user_id]:
            self.routes.drop(route)

    # ---- buttons and forms (called from _views) ----------------------------------------------

    async def answer_button(
        self, interaction: discord.Interaction, action: str, interview_id: int, turn_id: int
    ) -> None:
        route = self.routes.of_interview(interview_id)
        if route is None:
            await tell(interaction, "This interview is no longer running.")
            return
        if not await self._may_act(interaction.user, route):
            await tell(interaction, "Only the person being interviewed can answer here.")
            return
        if not route.running:
            await tell(interaction, "The interview is paused: `/interview resume` first.")
            return
        if route.turn_id != turn_id:
            await tell(interaction, "That question has already been dealt with.")
            return
        await interaction.response.defer()
        async with refusals(interaction):
            if action == "skip":
                await self.conv.skip(route)
            elif not await self.conv.close_answer(interview_id, turn_id):
                await tell(interaction, NOTHING_YET)

    async def resume_clicked(self, interaction: discord.Interaction, interview_id: int) -> None:
        """The Resume button of a reminder."""
        route = self.routes.of_interview(interview_id)
        if route is None:
            await tell(interaction, "This interview is no longer running.")
            return
        if interaction.user.id != route.user_id:
            await tell(interaction, "This reminder is for the person being interviewed.")
            return
        await interaction.response.defer()
        async with refusals(interaction):
            await self._resume(route)
            await self.conv.remove_buttons(interaction.channel, interaction.message.id)

    async def correct_clicked(self, interaction: discord.Interaction, interview_id: int) -> None:
        view = await self.engine.get(interview_id)
        mine = {r.id for r in await expert_records(self.experts, interaction.user)}
        if view.expert_id not in mine:
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

    # ---- helpers -----------------------------------------------------------------------------

    async def _target(self, interaction: discord.Interaction, prefer: str = "active") -> Route:
        """The interview of this channel, else the user's own."""
        route = self.routes.in_channel(interaction.channel_id)
        if route is not None:
            if not await self._may_act(interaction.user, route):
                raise InterviewError("this is someone else's interview.")
            return route
        route = self.routes.of_user(interaction.user.id, prefer)
        if route is None:
            raise InterviewError(NO_INTERVIEW)
        return route

    async def _may_act(self, user: discord.abc.User, route: Route) -> bool:
        return user.id == route.user_id or await is_curator(
            user, self.settings.discord, self.services.curators
        )


def typing_in(intents: discord.Intents) -> frozenset[str]:
    """Where typing events reach the bot, by its intents (on in the default intents)."""
    return frozenset(
        kind for kind, on in (("thread", intents.guild_typing), ("dm", intents.dm_typing)) if on
    )


def _require_running(route: Route) -> None:
    if not route.running:
        raise NotActive("the interview is paused: `/interview resume` first.")
