"""The buttons, picker and form of /me: forget's confirmation, and the expert's own entries
(a page of them, one entry with Correct and Withdraw, withdraw's confirmation, the correction
form). Every custom_id carries whose data it is; nobody else's click does anything."""

from __future__ import annotations

import re
from typing import Protocol

import discord

from bot.checks import refuse_unserved

TEXT_INPUT_LIMIT = 4000  # the most a form field holds
FORM_FIELDS = 5  # the most fields a form holds: a correction of up to 20,000 characters
NOT_YOURS = "This is not your data."


class MeActions(Protocol):
    """What the buttons ask of the extension (the Me cog provides it)."""

    async def forget_confirmed(self, interaction: discord.Interaction) -> None: ...

    async def entries_page(self, interaction: discord.Interaction, page: int) -> None: ...

    async def entry_shown(self, interaction: discord.Interaction, entry_id: int) -> None: ...

    async def entry_action(
        self, interaction: discord.Interaction, action: str, entry_id: int
    ) -> None: ...

    async def correction_submitted(
        self, interaction: discord.Interaction, entry_id: int, text: str
    ) -> None: ...


def _actions(interaction: discord.Interaction) -> MeActions:
    return interaction.client.get_cog("Me")  # type: ignore[return-value]


async def _theirs(interaction: discord.Interaction, user_id: int) -> bool:
    if not await refuse_unserved(interaction, interaction.client.services.settings.discord):
        return False
    if interaction.user.id != user_id:
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False
    return True


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
        return await _theirs(interaction, self.user_id)

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


# ---- the expert's own entries ---------------------------------------------------------------


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"tacit:me:page:(?P<user>\d+):(?P<page>\d+)(?::(?P<tag>[a-z]+))?",
):
    """Previous / Next / Back to my entries: a page of the list."""

    def __init__(self, user_id: int, page: int, label: str, tag: str = "") -> None:
        self.user_id, self.page = user_id, page
        # The tag keeps custom_ids unique when two buttons lead to the same page.
        suffix = f":{tag}" if tag else ""
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"tacit:me:page:{user_id}:{page}{suffix}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str], /
    ) -> PageButton:
        return cls(int(match["user"]), int(match["page"]), "", match["tag"] or "")

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await _theirs(interaction, self.user_id)

    async def callback(self, interaction: discord.Interaction) -> None:
        await _actions(interaction).entries_page(interaction, self.page)


class EntryPicker(
    discord.ui.DynamicItem[discord.ui.Select],
    template=r"tacit:me:pick:(?P<user>\d+)",
):
    """Choose one of the page's entries to see, correct or withdraw."""

    def __init__(self, user_id: int, options: list[discord.SelectOption] | None = None) -> None:
        self.user_id = user_id
        super().__init__(
            discord.ui.Select(
                custom_id=f"tacit:me:pick:{user_id}",
                placeholder="Choose an entry to correct or withdraw",
                options=options or [discord.SelectOption(label="-", value="0")],
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str], /
    ) -> EntryPicker:
        return cls(int(match["user"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await _theirs(interaction, self.user_id)

    async def callback(self, interaction: discord.Interaction) -> None:
        values = (interaction.data or {}).get("values") or ["0"]
        await _actions(interaction).entry_shown(interaction, int(values[0]))


ENTRY_BUTTONS = {
    "correct": ("Correct my answer", discord.ButtonStyle.primary),
    "withdraw": ("Withdraw it", discord.ButtonStyle.danger),
    "withdraw-yes": ("Yes, withdraw it", discord.ButtonStyle.danger),
    "show": ("Keep it", discord.ButtonStyle.secondary),
}


class EntryButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"tacit:me:(?P<action>correct|withdraw|withdraw-yes|show):(?P<user>\d+):(?P<entry>\d+)",
):
    def __init__(self, action: str, user_id: int, entry_id: int) -> None:
        self.action, self.user_id, self.entry_id = action, user_id, entry_id
        label, style = ENTRY_BUTTONS[action]
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"tacit:me:{action}:{user_id}:{entry_id}"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str], /
    ) -> EntryButton:
        return cls(match["action"], int(match["user"]), int(match["entry"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await _theirs(interaction, self.user_id)

    async def callback(self, interaction: discord.Interaction) -> None:
        await _actions(interaction).entry_action(interaction, self.action, self.entry_id)


def cut(text: str, limit: int = TEXT_INPUT_LIMIT) -> list[str]:
    """Text in pieces of at most `limit` characters, cut at whitespace where there is some."""
    pieces = []
    text = text.strip()
    while len(text) > limit:
        at = text.rfind(" ", limit // 2, limit)
        at = at if at > 0 else limit
        pieces.append(text[:at])
        text = text[at:].lstrip()
    return [*pieces, text] if text else pieces


class CorrectionForm(discord.ui.Modal):
    """The expert's answer, prefilled (in up to five fields when it is long), to correct."""

    def __init__(self, entry_id: int, answer: str) -> None:
        super().__init__(
            title=f"Correct your answer (entry {entry_id})",
            custom_id=f"tacit:me:correct-form:{entry_id}",
            timeout=None,
        )
        self.entry_id = entry_id
        pieces = cut(answer) or [""]
        self.fields: list[discord.ui.TextInput] = []
        for k, piece in enumerate(pieces[:FORM_FIELDS]):
            field = discord.ui.TextInput(
                label="Your answer"
                if len(pieces) == 1
                else f"Your answer ({k + 1} of {len(pieces)})",
                style=discord.TextStyle.paragraph,
                default=piece,
                max_length=TEXT_INPUT_LIMIT,
                required=k == 0,
                custom_id=f"part{k}",
            )
            self.add_item(field)
            self.fields.append(field)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await refuse_unserved(interaction, interaction.client.services.settings.discord)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        text = " ".join(f.value.strip() for f in self.fields if f.value and f.value.strip())
        await _actions(interaction).correction_submitted(interaction, self.entry_id, text)


def fits_a_form(answer: str) -> bool:
    return len(cut(answer)) <= FORM_FIELDS


def list_view(
    user_id: int, page: int, pages: int, options: list[discord.SelectOption]
) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if options:
        view.add_item(EntryPicker(user_id, options))
    if page > 0:
        view.add_item(PageButton(user_id, page - 1, "Previous"))
    if page + 1 < pages:
        view.add_item(PageButton(user_id, page + 1, "Next"))
    return view


def entry_view(user_id: int, entry_id: int, *, can_correct: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if can_correct:
        view.add_item(EntryButton("correct", user_id, entry_id))
    view.add_item(EntryButton("withdraw", user_id, entry_id))
    view.add_item(PageButton(user_id, 0, "Back to my entries", "back"))
    return view


def confirm_view(user_id: int, entry_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(EntryButton("withdraw-yes", user_id, entry_id))
    view.add_item(EntryButton("show", user_id, entry_id))
    return view
