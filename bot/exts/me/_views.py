"""The confirmation buttons of /me forget; the custom_id carries whose data it is."""

from __future__ import annotations

import re
from typing import Protocol

import discord


class MeActions(Protocol):
    """What the buttons ask of the extension (the Me cog provides it)."""

    async def forget_confirmed(self, interaction: discord.Interaction) -> None: ...


def _actions(interaction: discord.Interaction) -> MeActions:
    return interaction.client.get_cog("Me")  # type: ignore[return-value]


class ForgetButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"tacit:forget:(?P<choice>yes|no):(?P<user>\d+)",
):
    def __init__(self, choice: str, user_id: int) -> None:
        self.choice, self.user_id = choice, user_id
        yes = choice == "yes"
        super().__init__(
            discord.ui.Button(
                label="Delete everything" if yes else "Keep my data",
                style=discord.ButtonStyle.danger if yes else discord.ButtonStyle.secondary,
                custom_id=f"tacit:forget:{choice}:{user_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str], /
    ) -> ForgetButton:
        return cls(match["choice"], int(match["user"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.user_id:
            await interaction.response.send_message("This is not your data.", ephemeral=True)
            return False
        return True

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.choice == "yes":
            await _actions(interaction).forget_confirmed(interaction)
        else:
            await interaction.response.edit_message(content="Nothing was deleted.", view=None)


def forget_view(user_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ForgetButton("yes", user_id))
    view.add_item(ForgetButton("no", user_id))
    return view
