"""/me: what an expert can see and do about their own data, in every server they were
interviewed in: their data (a file), their entries (correct or withdraw one), forgetting
everything, their earnings, and whether they get reminders."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts.me import _render
from bot.exts.me._views import (
    CorrectionForm,
    confirm_view,
    entry_view,
    fits_a_form,
    forget_view,
    list_view,
)
from bot.identity import expert_records
from bot.messages import refusals, tell
from bot.posts import delete_recalled
from knowledge.experts import expert_actor
from knowledge.services import Services

log = logging.getLogger(__name__)

NOTHING_STORED = "Nothing is stored about you."


class MeCog(
    commands.GroupCog,
    name="Me",
    group_name="me",
    group_description="What tacit keeps about you",
):
    def __init__(self, bot: commands.Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        self.experts = services.experts

    async def _ids(self, user: discord.abc.User) -> list[int]:
        """The user's expert records, one per server they were interviewed in."""
        return [r.id for r in await expert_records(self.experts, user)]

    @app_commands.command(name="data", description="Download everything tacit stores about you")
    async def data(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        ids = await self._ids(interaction.user)
        if not ids:
            await tell(interaction, NOTHING_STORED)
            return
        records = [await self.experts.data(i) for i in ids]
        names = (
            ["tacit-my-data.json"]
            if len(records) == 1
            else [f"tacit-my-data-{d['expert']['server'] or 'terminal'}.json" for d in records]
        )
        await interaction.followup.send(
            _render.data_summary(records),
            files=[_render.data_file(d, n) for d, n in zip(records, names, strict=True)][:10],
            ephemeral=True,
        )

    @app_commands.command(name="forget", description="Delete everything tacit stores about you")
    async def forget(self, interaction: discord.Interaction) -> None:
        if not await self._ids(interaction.user):
            await tell(interaction, NOTHING_STORED)
            return
        await interaction.response.send_message(
            _render.FORGET_WARNING, view=forget_view(interaction.user.id), ephemeral=True
        )

    async def forget_confirmed(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        ids = await self._ids(interaction.user)
        if not ids:
            text = NOTHING_STORED
        else:
            done = await self.experts.forget_all(ids, actor=expert_actor(ids[0]))
            # Running interviews of theirs stop listening; nothing more of theirs is kept.
            self.bot.dispatch("tacit_expert_forgotten", interaction.user.id)
            messages = await delete_recalled(self.bot, self.services.exports)
            text = _render.forgotten(done, messages)
        await interaction.edit_original_response(content=text[:2000], view=None)

    @app_commands.command(name="earnings", description="Your interview time and what it earns")
    async def earnings(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        rows = []
        for expert_id in await self._ids(interaction.user):
            rows += await self.experts.earnings(expert_id=expert_id)
        await tell(interaction, _render.earnings(rows))

    @app_commands.command(name="reminders", description="Reminders of paused interviews: on or off")
    @app_commands.describe(setting="on: one nudge when an interview waits; off: none")
    @app_commands.choices(setting=[app_commands.Choice(name=v, value=v) for v in ("off", "on")])
    async def reminders(self, interaction: discord.Interaction, setting: str) -> None:
        ids = await self._ids(interaction.user)
        if not ids:
            await tell(interaction, NOTHING_STORED)
            return
        await self.experts.set_reminders(ids, setting == "on")
        await tell(
            interaction,
            "Reminders are off: I won't nudge you about paused interviews."
            if setting == "off"
            else "Reminders are on: one friendly nudge when an interview of yours waits.",
        )

    # ---- /me entries -------------------------------------------------------------------------

    @app_commands.command(name="entries", description="Your entries: correct or withdraw one")
    async def entries(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if not await self._ids(interaction.user):
            await tell(interaction, NOTHING_STORED)
            return
        embed, view = await self._page(interaction.user, 0)
        await interaction.edit_original_response(embed=embed, view=view)

    async def _page(self, user, page: int, note: str | None = None):
        mine = await self.experts.own_entries(await self._ids(user))
        pages = max(1, -(-len(mine) // _render.PAGE))
        page = min(max(page, 0), pages - 1)
        view = list_view(user.id, page, pages, _render.options(mine, page))
        return _render.page_embed(mine, page, note), view

    async def entries_page(self, interaction: discord.Interaction, page: int) -> None:
        embed, view = await self._page(interaction.user, page)
        await interaction.response.edit_message(content=None, embed=embed, view=view)

    async def entry_shown(
        self, interaction: discord.Interaction, entry_id: int, note: str | None = None
    ) -> None:
        async with refusals(interaction):
            e = await self.experts.own_entry(await self._ids(interaction.user), entry_id)
            fits = fits_a_form(e.answer)
            await interaction.response.edit_message(
                content=None,
                embed=_render.entry_embed(e, note, fits=fits),
                view=entry_view(interaction.user.id, entry_id, can_correct=fits),
            )

    async def entry_action(
        self, interaction: discord.Interaction, action: str, entry_id: int
    ) -> None:
        async with refusals(interaction):
            ids = await self._ids(interaction.user)
            if action == "show":
                await self.entry_shown(interaction, entry_id)
            elif action == "correct":
                e = await self.experts.own_entry(ids, entry_id)
                await interaction.response.send_modal(CorrectionForm(entry_id, e.answer))
            elif action == "withdraw":
                e = await self.experts.own_entry(ids, entry_id)
                await interaction.response.edit_message(
                    content=_render.confirm_withdraw(e),
                    embed=None,
                    view=confirm_view(interaction.user.id, entry_id),
                )
            elif action == "withdraw-yes":
                await interaction.response.defer()
                done = await self.experts.withdraw(ids, entry_id)
                messages = await delete_recalled(self.bot, self.services.exports)
                note = _render.withdrawn(entry_id, done.copies, messages, done.copies_pending)
                embed, view = await self._page(interaction.user, 0, note)
                await interaction.edit_original_response(content=None, embed=embed, view=view)

    async def correction_submitted(
        self, interaction: discord.Interaction, entry_id: int, text: str
    ) -> None:
        async with refusals(interaction):
            await interaction.response.defer()
            done = await self.experts.correct(await self._ids(interaction.user), entry_id, text)
            note = (
                "Saved: your correction is kept beside your first answer, and curators will "
                "review it."
                if done.changed
                else "That is what it already says: nothing changed."
            )
            e = done.entry
            fits = fits_a_form(e.answer)
            await interaction.edit_original_response(
                content=None,
                embed=_render.entry_embed(e, note, fits=fits),
                view=entry_view(interaction.user.id, entry_id, can_correct=fits),
            )
