"""The review card's buttons and forms. Buttons carry the entry id (and the queue's filters) in
their custom_id, so a card still works after the bot restarts; every callback checks again that
the user is a curator, then hands over to the cog, which calls the review service. A guide's
rubric adds one select menu per criterion (a score is part of the curator's decision)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import discord

from bot.checks import is_curator, refuse_unserved
from knowledge.guides import Criterion

CUSTOM_ID_LIMIT = 100
TEXT_INPUT_LIMIT = 4000  # the most a modal's text field can hold
NOT_ALLOWED = (
    "Only curators can review entries. A server admin can give you one of the curator roles."
)


@dataclass(frozen=True)
class Queue:
    """Which pending entries a curator asked for: one guide, one expert, or all."""

    guide: str | None = None
    expert_id: int | None = None

    def suffix(self) -> str:
        return (f":g{self.guide}" if self.guide else "") + (
            f":x{self.expert_id}" if self.expert_id else ""
        )


class ReviewActions(Protocol):
    """What the card's buttons and forms ask of the extension (the Review cog provides it)."""

    async def button(
        self,
        interaction: discord.Interaction,
        action: str,
        entry_id: int,
        queue: Queue,
        of: int | None,
    ) -> None: ...

    async def reject_submitted(
        self, interaction: discord.Interaction, entry_id: int, reason: str, queue: Queue
    ) -> None: ...

    async def edit_submitted(
        self,
        interaction: discord.Interaction,
        entry_id: int,
        queue: Queue,
        *,
        question: str,
        answer: str | None,
    ) -> None: ...

    async def pii_submitted(
        self, interaction: discord.Interaction, entry_id: int, note_text: str, queue: Queue
    ) -> None: ...

    async def score_chosen(
        self, interaction: discord.Interaction, entry_id: int, name: str, value: int, queue: Queue
    ) -> None: ...


def _cog(interaction: discord.Interaction) -> ReviewActions:
    return interaction.client.get_cog("Review")  # type: ignore[return-value]


async def allowed(interaction: discord.Interaction) -> bool:
    services = interaction.client.services
    return await is_curator(interaction.user, services.settings.discord, services.curators)


async def refuse(interaction: discord.Interaction) -> bool:
    """The curator check for buttons and forms: a private "not allowed", and nothing else."""
    if not await refuse_unserved(interaction, interaction.client.services.settings.discord):
        return False
    if await allowed(interaction):
        return True
    await interaction.response.send_message(NOT_ALLOWED, ephemeral=True)
    return False


BUTTONS = {
    "approve": ("Approve", discord.ButtonStyle.success, 0),
    "reject": ("Reject", discord.ButtonStyle.danger, 0),
    "edit": ("Edit", discord.ButtonStyle.primary, 0),
    "skip": ("Skip", discord.ButtonStyle.secondary, 0),
    "pii": ("Flag personal data", discord.ButtonStyle.secondary, 1),
    "dup": ("Mark duplicate", discord.ButtonStyle.secondary, 1),
}


class ReviewButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=(
        r"tacit:review:(?P<action>approve|reject|edit|skip|pii|dup):(?P<entry>\d+)"
        r"(?::of(?P<of>\d+))?(?::g(?P<guide>[a-z0-9-]+))?(?::x(?P<expert>\d+))?"
    ),
):
    """One of the card's buttons, for one entry (and, for Mark duplicate, the entry it repeats)."""

    def __init__(
        self, action: str, entry_id: int, queue: Queue = Queue(), of: int | None = None
    ) -> None:
        self.action, self.entry_id, self.queue, self.of = action, entry_id, queue, of
        label, style, row = BUTTONS[action]
        if action == "dup" and of is not None:
            label = f"Mark duplicate of {of}"
        head = f"tacit:review:{action}:{entry_id}" + (f":of{of}" if of is not None else "")
        custom_id = head + queue.suffix()
        if len(custom_id) > CUSTOM_ID_LIMIT:  # a very long guide name: the filter is dropped
            custom_id = head
        super().__init__(discord.ui.Button(label=label, style=style, row=row, custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str], /
    ) -> ReviewButton:
        queue = Queue(match["guide"], int(match["expert"]) if match["expert"] else None)
        of = int(match["of"]) if match["of"] else None
        return cls(match["action"], int(match["entry"]), queue, of)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await refuse(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).button(interaction, self.action, self.entry_id, self.queue, self.of)


class ScoreSelect(
    discord.ui.DynamicItem[discord.ui.Select],
    template=(
        r"tacit:review:score:(?P<entry>\d+):(?P<name>[a-z][a-z0-9_]*)"
        r"(?::g(?P<guide>[a-z0-9-]+))?(?::x(?P<expert>\d+))?"
    ),
):
    """One rubric criterion of the entry's guide: pick a score (part of your decision)."""

    def __init__(
        self,
        entry_id: int,
        name: str,
        queue: Queue = Queue(),
        criterion: Criterion | None = None,
        chosen: int | None = None,
        row: int = 2,
    ) -> None:
        self.entry_id, self.name, self.queue = entry_id, name, queue
        head = f"tacit:review:score:{entry_id}:{name}"
        custom_id = head + queue.suffix()
        if len(custom_id) > CUSTOM_ID_LIMIT:
            custom_id = head
        if criterion is not None:
            options = [
                discord.SelectOption(label=f"{name}: {n}", value=str(n), default=n == chosen)
                for n in range(criterion.min, criterion.max + 1)
            ]
            placeholder = f"{name} ({criterion.min}-{criterion.max}): {criterion.description}"
        else:  # rebuilt from a click: only the custom_id matters
            options, placeholder = [discord.SelectOption(label="-", value="0")], None
        super().__init__(
            discord.ui.Select(
                custom_id=custom_id,
                placeholder=placeholder[:150] if placeholder else None,
                options=options,
                row=row,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str], /
    ) -> ScoreSelect:
        queue = Queue(match["guide"], int(match["expert"]) if match["expert"] else None)
        return cls(int(match["entry"]), match["name"], queue)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await refuse(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        values = (interaction.data or {}).get("values") or []
        if not values or not values[0].isdigit():
            await interaction.response.defer()
            return
        await _cog(interaction).score_chosen(
            interaction, self.entry_id, self.name, int(values[0]), self.queue
        )


def card_view(
    entry_id: int,
    queue: Queue,
    duplicate_of: int | None,
    rubric: list[Criterion] = (),
    scores: dict[str, int] | None = None,
) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in ("approve", "reject", "edit", "skip", "pii"):
        view.add_item(ReviewButton(action, entry_id, queue))
    if duplicate_of is not None:
        view.add_item(ReviewButton("dup", entry_id, queue, duplicate_of))
    for row, c in enumerate(rubric[:3], start=2):  # rows 0 and 1 hold the buttons
        chosen = (scores or {}).get(c.name)
        view.add_item(ScoreSelect(entry_id, c.name, queue, c, chosen, row))
    return view


# ---- forms -----------------------------------------------------------------------------------


class _Form(discord.ui.Modal):
    def __init__(self, kind: str, title: str, entry_id: int, queue: Queue) -> None:
        super().__init__(title=title, custom_id=f"tacit:review:{kind}-form:{entry_id}")
        self.entry_id, self.queue = entry_id, queue

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await refuse(interaction)


class RejectForm(_Form):
    reason = discord.ui.TextInput(
        label="Why reject it?",
        custom_id="reason",
        style=discord.TextStyle.paragraph,
        placeholder="e.g. no expertise in it, off topic, only small talk",
        max_length=1000,
    )

    def __init__(self, entry_id: int, queue: Queue) -> None:
        super().__init__("reject", f"Reject entry {entry_id}", entry_id, queue)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).reject_submitted(
            interaction, self.entry_id, self.reason.value, self.queue
        )


class EditForm(_Form):
    """Question and answer, prefilled with the current text; an answer too long for a form
    field is left out, and the form says so in its title."""

    def __init__(self, entry_id: int, queue: Queue, question: str, answer: str) -> None:
        fits = len(answer) <= TEXT_INPUT_LIMIT
        title = f"Edit entry {entry_id}" if fits else f"Edit entry {entry_id}'s question"
        super().__init__("edit", title, entry_id, queue)
        self.question = discord.ui.TextInput(
            label="Question",
            custom_id="question",
            style=discord.TextStyle.paragraph,
            default=question[:TEXT_INPUT_LIMIT],
            max_length=TEXT_INPUT_LIMIT,
        )
        self.add_item(self.question)
        self.answer: discord.ui.TextInput | None = None
        if fits:
            self.answer = discord.ui.TextInput(
                label="Answer",
                custom_id="answer",
                style=discord.TextStyle.paragraph,
                default=answer,
                max_length=TEXT_INPUT_LIMIT,
            )
            self.add_item(self.answer)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).edit_submitted(
            interaction,
            self.entry_id,
            self.queue,
            question=self.question.value,
            answer=self.answer.value if self.answer is not None else None,
        )


class PiiForm(_Form):
    note = discord.ui.TextInput(
        label="What personal data is in it? (optional)",
        custom_id="note",
        style=discord.TextStyle.paragraph,
        placeholder="e.g. names a patient, gives a phone number",
        required=False,
        max_length=1000,
    )

    def __init__(self, entry_id: int, queue: Queue) -> None:
        super().__init__("pii", f"Flag entry {entry_id}: personal data", entry_id, queue)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).pii_submitted(
            interaction, self.entry_id, self.note.value, self.queue
        )
