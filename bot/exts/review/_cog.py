"""/review: curators take pending entries one card at a time, decide, search, undo, count, pay;
admins choose which roles curate (/review curators).

Every command and every button or form checks on the bot's side that the user is a curator
(bot.checks.is_curator); the group's default permission (Manage Messages) only hides it from
most members in Discord's menu. Everything runs on the server's own view of the core
(bot.tenancy.curator_view), so nothing of another server is ever shown, counted or paid. Each
card is a private message that is edited into the next card after every decision. All the work
is done by knowledge.review.ReviewService.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import guide_choices
from bot.exts.review import _curators, _render
from bot.exts.review._views import (
    NOT_ALLOWED,
    EditForm,
    PiiForm,
    Queue,
    RejectForm,
    allowed,
    card_view,
)
from bot.identity import curator_id
from bot.messages import refusals, sentence, split_message, tell
from bot.tenancy import curator_view
from knowledge.errors import TacitError
from knowledge.review import (
    APPROVE,
    DUPLICATE,
    EDIT,
    FLAG_PII,
    REJECT,
    SCORE,
    Card,
    ReviewError,
    ReviewService,
    render_chart,
)
from knowledge.services import Services
from knowledge.vocab import EntryStatus, values

log = logging.getLogger(__name__)

ENTRY_MESSAGES = 4  # /review entry longer than this many messages comes as a file instead
STATUS_CHOICES = [app_commands.Choice(name=s, value=s) for s in values(EntryStatus)]


@app_commands.guild_only()
@app_commands.default_permissions(manage_messages=True)
class ReviewCog(
    commands.GroupCog,
    name="Review",
    group_name="review",
    group_description="Review captured knowledge (curators)",
):
    curators = app_commands.Group(
        name="curators", description="Which roles curate this server (admins)"
    )

    def __init__(self, bot: commands.Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        self.settings = services.settings

    def _review(self, interaction: discord.Interaction) -> ReviewService:
        """This server's review: its entries, its experts, its curators' decisions only."""
        return curator_view(interaction, self.services).review

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # Discord's default permission can be changed by any server admin: check here too.
        if not await allowed(interaction):
            raise app_commands.CheckFailure(NOT_ALLOWED)
        return True

    # ---- commands ----------------------------------------------------------------------------

    @app_commands.command(name="next", description="Show the next entry waiting for review")
    @app_commands.describe(
        guide="Only entries from this interview guide",
        expert="Only entries from this expert (pseudonym or id)",
    )
    async def next_(
        self, interaction: discord.Interaction, guide: str | None = None, expert: str | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with refusals(interaction):
            queue = Queue(
                self._guide(guide), await self._expert_id(interaction, expert) if expert else None
            )
            await self._show_next(interaction, queue, note=None, label=expert)

    @app_commands.command(name="search", description="Find entries by meaning")
    @app_commands.describe(
        query="What the answer is about",
        status="Only entries with this status",
        guide="Only entries from this interview guide",
    )
    @app_commands.choices(status=STATUS_CHOICES)
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 500],
        status: str | None = None,
        guide: str | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with refusals(interaction):
            hits = await self._review(interaction).search(
                query, status=status, guide=self._guide(guide), n=10
            )
            await interaction.followup.send(embed=_render.search_embed(query, hits), ephemeral=True)

    @app_commands.command(name="entry", description="One entry in full, with its history")
    @app_commands.describe(id="The entry's number")
    async def entry(
        self,
        interaction: discord.Interaction,
        id: app_commands.Range[int, 1],  # noqa: A002
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with refusals(interaction):
            detail = await self._review(interaction).entry(id, curator_id(interaction.user))
            text = _render.entry_text(detail, guild_id=interaction.guild_id)
            if len(split_message(text)) <= ENTRY_MESSAGES:
                await tell(interaction, text)
                return
            await interaction.followup.send(
                f"Entry {id} is long: here it is as a file.",
                file=discord.File(io.BytesIO(text.encode()), filename=f"entry-{id}.md"),
                ephemeral=True,
            )

    @app_commands.command(name="undo", description="Take back your last decision or edit")
    async def undo(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with refusals(interaction):
            d = await self._review(interaction).undo(curator_id(interaction.user))
            await tell(interaction, _render.undo_text(d))

    @app_commands.command(name="stats", description="Counts, throughput and backlog, with a chart")
    async def stats(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with refusals(interaction):
            st = await self._review(interaction).stats()
            png = await render_chart(st)
            await interaction.followup.send(
                embed=_render.stats_embed(st),
                file=discord.File(io.BytesIO(png), filename=_render.CHART_NAME),
                ephemeral=True,
            )

    @app_commands.command(name="payouts", description="What each expert is owed for a period")
    @app_commands.rename(start="from", end="to")
    @app_commands.describe(
        start="First day, YYYY-MM-DD (UTC); default: from the beginning",
        end="Last day, included, YYYY-MM-DD; default: up to now",
    )
    async def payouts(
        self, interaction: discord.Interaction, start: str | None = None, end: str | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with refusals(interaction):
            since = _day(start, "from")
            until = _day(end, "to") + timedelta(days=1) if end else None
            rows = await self._review(interaction).payouts(since, until)
            period = _period(start, end)
            text = _render.payouts_text(rows, period)
            if len(text) <= _render.MESSAGE_LIMIT:
                await tell(interaction, text)
                return
            csv = await self._review(interaction).payouts_csv(since, until)
            head = split_message(text)[0]
            await interaction.followup.send(
                _render.clip(head, 1800) + "\n*All experts are in the attached CSV.*",
                file=discord.File(io.BytesIO(csv.encode()), filename="tacit-payouts.csv"),
                ephemeral=True,
            )

    # ---- who curates (admins) ----------------------------------------------------------------

    @curators.command(name="add", description="Make a role's members curators of this server")
    @app_commands.describe(role="The role whose members may review and export")
    async def curators_add(self, interaction: discord.Interaction, role: discord.Role) -> None:
        await _curators.add(self.services, interaction, role)

    @curators.command(name="remove", description="Stop a role curating this server")
    @app_commands.describe(role="The role to take curating away from")
    async def curators_remove(self, interaction: discord.Interaction, role: discord.Role) -> None:
        await _curators.remove(self.services, interaction, role)

    @curators.command(name="list", description="Who curates this server")
    async def curators_list(self, interaction: discord.Interaction) -> None:
        await _curators.show(self.services, interaction)

    # ---- autocomplete ------------------------------------------------------------------------

    @next_.autocomplete("guide")
    @search.autocomplete("guide")
    async def _guide_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not await allowed(interaction):
            return []
        return guide_choices(self.services.guides, current)

    @next_.autocomplete("expert")
    async def _expert_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not await allowed(interaction):
            return []
        cur = current.strip().lower()
        st = await self._review(interaction).stats()
        return [
            app_commands.Choice(
                name=f"{x.display_name} ({x.pseudonym}), {x.counts.pending} pending"[:100],
                value=str(x.expert_id),
            )
            for x in st.by_expert
            if cur in x.display_name.lower()
            or cur in x.pseudonym.lower()
            or cur == str(x.expert_id)
        ][:25]

    # ---- what the buttons and forms do (called from _views) ----------------------------------

    async def button(
        self,
        interaction: discord.Interaction,
        action: str,
        entry_id: int,
        queue: Queue,
        of: int | None,
    ) -> None:
        if action == "reject":
            await interaction.response.send_modal(RejectForm(entry_id, queue))
            return
        if action == "pii":
            await interaction.response.send_modal(PiiForm(entry_id, queue))
            return
        if action == "edit":
            try:
                e = await self._review(interaction).entry(entry_id, curator_id(interaction.user))
            except TacitError as err:
                await tell(interaction, sentence(str(err)))
                return
            await interaction.response.send_modal(EditForm(entry_id, queue, e.question, e.answer))
            return
        await interaction.response.defer()
        who = curator_id(interaction.user)
        review = self._review(interaction)
        note = None
        try:
            if action == "approve":
                d = await review.approve(who, entry_id)
                note = _render.decision_note(d, action=APPROVE)
            elif action == "dup" and of is not None:
                d = await review.mark_duplicate(who, entry_id, of)
                note = _render.decision_note(d, action=DUPLICATE)
            elif action == "skip":
                await review.skip(who, entry_id)
                note = f"Skipped entry {entry_id}: you will see it again after the others."
        except TacitError as err:
            note = sentence(str(err))
        await self._show_next(interaction, queue, note=note)

    async def reject_submitted(
        self, interaction: discord.Interaction, entry_id: int, reason: str, queue: Queue
    ) -> None:
        await interaction.response.defer()
        try:
            d = await self._review(interaction).reject(
                curator_id(interaction.user), entry_id, reason
            )
            note = _render.decision_note(d, action=REJECT)
        except TacitError as err:
            note = sentence(str(err))
        await self._show_next(interaction, queue, note=note)

    async def edit_submitted(
        self,
        interaction: discord.Interaction,
        entry_id: int,
        queue: Queue,
        *,
        question: str,
        answer: str | None,
    ) -> None:
        await interaction.response.defer()
        try:
            d = await self._review(interaction).edit(
                curator_id(interaction.user), entry_id, question=question, answer=answer
            )
            note = _render.decision_note(d, action=EDIT)
        except TacitError as err:
            note = sentence(str(err))
        await self._show_again(interaction, entry_id, queue, note=note)

    async def pii_submitted(
        self, interaction: discord.Interaction, entry_id: int, note_text: str, queue: Queue
    ) -> None:
        await interaction.response.defer()
        try:
            d = await self._review(interaction).flag_pii(
                curator_id(interaction.user), entry_id, note_text
            )
            note = _render.decision_note(d, action=FLAG_PII)
        except TacitError as err:
            note = sentence(str(err))
        await self._show_again(interaction, entry_id, queue, note=note)

    async def score_chosen(
        self, interaction: discord.Interaction, entry_id: int, name: str, value: int, queue: Queue
    ) -> None:
        await interaction.response.defer()
        try:
            d = await self._review(interaction).score(
                curator_id(interaction.user), entry_id, {name: value}
            )
            note = _render.decision_note(d, action=SCORE)
        except TacitError as err:
            note = sentence(str(err))
        await self._show_again(interaction, entry_id, queue, note=note)

    # ---- cards -------------------------------------------------------------------------------

    async def _show_next(
        self,
        interaction: discord.Interaction,
        queue: Queue,
        *,
        note: str | None,
        label: str | None = None,
    ) -> None:
        """Put the curator's next card on the message (the deferred reply or the old card)."""
        card = await self._review(interaction).next(
            curator_id(interaction.user), guide=queue.guide, expert_id=queue.expert_id
        )
        if card is None:
            done = _render.empty_queue(queue.guide, label or _expert_label(queue))
            content = f"{note}\n{done}" if note else done
            await interaction.edit_original_response(content=content, embed=None, view=None)
            return
        await self._show(interaction, card, queue, note=note)

    async def _show_again(
        self, interaction: discord.Interaction, entry_id: int, queue: Queue, *, note: str
    ) -> None:
        """The same entry after an edit or a flag: the curator still has to decide on it."""
        try:
            card = await self._review(interaction).card(curator_id(interaction.user), entry_id)
        except TacitError as err:
            await self._show_next(interaction, queue, note=f"{note} {sentence(str(err))}")
            return
        await self._show(interaction, card, queue, note=note)

    async def _show(
        self, interaction: discord.Interaction, card: Card, queue: Queue, *, note: str | None
    ) -> None:
        threshold = self.settings.review.duplicate_similarity
        embed = _render.card_embed(
            card, guild_id=interaction.guild_id, duplicate_threshold=threshold
        )
        view = card_view(
            card.entry_id,
            queue,
            _duplicate_target(card, threshold),
            card.rubric,
            card.mine.scores if card.mine else None,
        )
        await interaction.edit_original_response(
            content=_render.clip(note, _render.MESSAGE_LIMIT) if note else None,
            embed=embed,
            view=view,
        )

    async def _expert_id(self, interaction: discord.Interaction, value: str) -> int:
        value = value.strip()
        if value.isdigit():
            return int(value)
        st = await self._review(interaction).stats()
        low = value.lower()
        for x in st.by_expert:
            if low in (x.pseudonym.lower(), x.display_name.lower()):
                return x.expert_id
        raise ReviewError(f"no expert {value!r} has entries; give a pseudonym or an expert id")

    def _guide(self, slug: str | None) -> str | None:
        if slug is not None and slug not in self.services.guides.slugs():
            known = ", ".join(self.services.guides.slugs())
            raise ReviewError(f"no guide {slug!r}; known guides: {known}")
        return slug


def _duplicate_target(card: Card, threshold: float) -> int | None:
    """The entry a Mark duplicate button points at: the approved look-alike, else the closest
    entry at least as alike as the duplicate threshold (unless that one was rejected)."""
    if card.duplicate_of_approved is not None:
        return card.duplicate_of_approved.entry_id
    for hit in card.similar[:1]:
        if hit.similarity >= threshold and hit.status != "rejected":
            return hit.entry_id
    return None


def _expert_label(queue: Queue) -> str | None:
    return str(queue.expert_id) if queue.expert_id else None


def _day(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ReviewError(f"{name}: {value!r} is not a date like 2026-11-30") from None


def _period(start: str | None, end: str | None) -> str:
    if start and end:
        return f"{start} to {end}"
    if start:
        return f"from {start}"
    if end:
        return f"up to {end}"
    return "all time"
