"""/me: an expert's own data, its deletion, and their earnings."""

from __future__ import annotations

from bot.exts.me._cog import MeCog
from bot.exts.me._views import ForgetButton


async def setup(bot) -> None:
    bot.add_dynamic_items(ForgetButton)
    await bot.add_cog(MeCog(bot, bot.services))
