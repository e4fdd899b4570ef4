"""Buttons that survive restarts: consent, Done and Skip, Correct it, a reminder's Resume.
Their custom_id carries the ids; outside the servers the bot serves they answer one line."""

from __future__ import annotations

import re
from typing import Protocol

import discord

from bot.checks import refuse_unserved


class InterviewActions(Protocol):
    """What the buttons and the form ask of the extension (the Interview cog provides it)."""

    async def consent_agreed(self, interaction: discord.Interaction, guide_slug: str) -> None: ...

    async def consent_declined(self, interaction: discord.Interaction) -> None: ...

    async def answer_button(
        self, interaction: discord.Interaction, action: str, interview_id: int, turn_id: int
    ) -> None: ...

    async def correct_clicked(
        self, interaction: discord.Interaction, interview_id: int
    ) -> None: ...

    async def resume_clicked(self, interaction: discord.Interaction, interview_id: int) -> None: ...

    async def correction_submitted(
        self, interaction: discord.Interaction, interview_id: int, text: str
    ) -> None: ...


def _cog(interaction: discord.Interaction) -> InterviewActions:
    return interaction.client.get_cog("Interview")  # type: ignore[return-value]


class ConsentButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"tacit:consent:(?P<choice>agree|decline):(?P<user>\d+):(?P<guide>[a-z0-9-]+)",
):
    """Agree or Decline on the consent notice, for one Discord user and the guide they chose."""

    def __init__(self, choice: str, user_id: int, guide: str) -> None:
        self.choice, self.user_id, self.guide = choice, user_id, guide
        agree = choice == "agree"
        super().__init__(
            discord.ui.Button(
                label="I agree, start" if agree else "No thanks",
                style=discord.ButtonStyle.success if agree else discord.ButtonStyle.secondary,
                custom_id=f"tacit:consent:{choice}:{user_id}:{guide}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str], /
    ) -> ConsentButton:
        return cls(match["choice"], int(match["user"]), match["guide"])

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if not await refuse_unserved(interaction, interaction.client.services.settings.discord):
            return False
        if interaction.user.id != self.user_id:
            await interaction.response.send_message(
                "This consent notice is for someone else.", ephemeral=True
            )
            return False
        return True

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.choice == "agree":
            await _cog(interaction).consent_agreed(interaction, self.guide)
        else:
            await _cog(interaction).consent_declined(interaction)


class AnswerButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"tacit:(?P<action>done|skip):(?P<interview>\d+):(?P<turn>\d+)",
):
    """Done (take what I wrote as my answer now) or Skip, on a question message."""

    def __init__(self, action: str, interview_id: int, turn_id: int) -> None:
        self.action, self.interview_id, self.turn_id = action, interview_id, turn_id
        done = action == "done"
        super().__init__(
            discord.ui.Button(
                label="Done" if done else "Skip",
                style=discord.ButtonStyle.primary if done else discord.ButtonStyle.secondary,
                custom_id=f"tacit:{action}:{interview_id}:{turn_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str], /
    ) -> AnswerButton:
        return cls(match["action"], int(match["interview"]), int(match["turn"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await refuse_unserved(interaction, interaction.client.services.settings.discord)

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).answer_button(
            interaction, self.action, self.interview_id, self.turn_id
        )


class CorrectButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"tacit:correct:(?P<interview>\d+)",
):
    """Under the teach-back summary: opens a form to correct what was understood."""

    def __init__(self, interview_id: int) -> None:
        self.interview_id = interview_id
        super().__init__(
            discord.ui.Button(
                label="Correct it",
                style=discord.ButtonStyle.secondary,
                custom_id=f"tacit:correct:{interview_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str], /
    ) -> CorrectButton:
        return cls(int(match["interview"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).correct_clicked(interaction, self.interview_id)


class ResumeButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"tacit:remind:resume:(?P<interview>\d+)",
):
    """On a reminder: pick the interview up where it was."""

    def __init__(self, interview_id: int) -> None:
        self.interview_id = interview_id
        super().__init__(
            discord.ui.Button(
                label="Resume",
                style=discord.ButtonStyle.primary,
                custom_id=f"tacit:remind:resume:{interview_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str], /
    ) -> ResumeButton:
        return cls(int(match["interview"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await refuse_unserved(interaction, interaction.client.services.settings.discord)

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).resume_clicked(interaction, self.interview_id)


def resume_view(interview_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ResumeButton(interview_id))
    return view


class CorrectionModal(discord.ui.Modal, title="Correct what I understood"):
    correction = discord.ui.TextInput(
        label="What is wrong or missing?",
        style=discord.TextStyle.paragraph,
        max_length=4000,
        custom_id="tacit:correction:text",
    )

    def __init__(self, interview_id: int) -> None:
        super().__init__(custom_id=f"tacit:correction:{interview_id}", timeout=None)
        self.interview_id = interview_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).correction_submitted(
            interaction, self.interview_id, self.correction.value
        )


def correct_view(interview_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CorrectButton(interview_id))
    return view


def consent_view(user_id: int, guide: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConsentButton("agree", user_id, guide))
    view.add_item(ConsentButton("decline", user_id, guide))
    return view


def question_view(interview_id: int, turn_id: int, *, disabled: bool = False) -> discord.ui.View:
    """Done and Skip. Disabled on an earlier post of a question asked again after a restart:
    they still mark the post as the question's (`marks_turn`), so the answer written under it
    is found after another restart."""
    view = discord.ui.View(timeout=None)
    for kind in ("done", "skip"):
        button = AnswerButton(kind, interview_id, turn_id)
        button.item.disabled = disabled
        view.add_item(button)
    return view


def marks_turn(message: discord.Message, turn_id: int) -> bool:
    """Whether a bot message is (a post of) the question for this turn: it has its buttons."""
    suffix = f":{turn_id}"
    for row in message.components:
        for child in getattr(row, "children", []):
            cid = getattr(child, "custom_id", None) or ""
            if cid.startswith("tacit:done:") and cid.endswith(suffix):
                return True
    return False
