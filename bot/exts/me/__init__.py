"""/me: an expert's own data and entries, their deletion, their earnings and reminders."""

from __future__ import annotations

from bot.exts.me._cog import MeCog
from bot.exts.me._views import EntryButton, EntryPicker, ForgetButton, PageButton


async def setup(bot) -> None:
    bot.add_dynamic_items(ForgetButton, PageButton, EntryPicker, EntryButton)
    await bot.add_cog(MeCog(bot, bot.services))
