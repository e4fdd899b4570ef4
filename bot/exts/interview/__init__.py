"""Interviews in private threads and DMs: consent, questions, answers, pause and resume."""

from __future__ import annotations

from bot.exts.interview._cog import InterviewCog
from bot.exts.interview._views import AnswerButton, ConsentButton, CorrectButton, ResumeButton


async def setup(bot) -> None:
    bot.add_dynamic_items(ConsentButton, AnswerButton, CorrectButton, ResumeButton)
    await bot.add_cog(InterviewCog(bot, bot.services))
