"""/me data, /me forget and /me earnings: what an expert can see and do about their own data."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts.me import _render
from bot.exts.me._views import forget_view
from bot.identity import find_expert
from bot.messages import tell
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
        self.experts = services.experts

    async def _expert_id(self, user: discord.abc.User) -> int | None:
        expert = await find_expert(self.experts, user)
        return expert.id if expert else None

    @app_commands.command(name="data", description="Download everything tacit stores about you")
    async def data(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        expert_id = await self._expert_id(interaction.user)
        if expert_id is None:
            await tell(interaction, NOTHING_STORED)
            return
        data = await self.experts.data(expert_id)
        await interaction.followup.send(
            _render.data_summary(data), file=_render.data_file(data), ephemeral=True
        )

    @app_commands.command(name="forget", description="Delete everything tacit stores about you")
    async def forget(self, interaction: discord.Interaction) -> None:
        if await self._expert_id(interaction.user) is None:
            await tell(interaction, NOTHING_STORED)
            return
        await interaction.response.send_message(
            _render.FORGET_WARNING, view=forget_view(interaction.user.id), ephemeral=True
        )

    async def forget_confirmed(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        expert_id = await self._expert_id(interaction.user)
        if expert_id is None:
            text = NOTHING_STORED
        else:
            entries = await self.experts.forget(expert_id, actor=expert_actor(expert_id))
            # Running interviews of theirs stop listening; nothing more of theirs is kept.
            self.bot.dispatch("tacit_expert_forgotten", interaction.user.id)
            text = (
                f"Done: everything tacit stored about you is deleted ({entries} "
                f"entr{'y' if entries == 1 else 'ies'} included). Thank you for your time."
            )
        await interaction.edit_original_response(content=text, view=None)

    @app_commands.command(name="earnings", description="Your interview time and what it earns")
    async def earnings(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        expert_id = await self._expert_id(interaction.user)
        rows = await self.experts.earnings(expert_id=expert_id) if expert_id else []
        await tell(interaction, _render.earnings(rows))
