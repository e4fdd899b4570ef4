"""/review: curators decide on captured entries, search them, undo, count and pay."""

from __future__ import annotations

from bot.exts.review._cog import ReviewCog
from bot.exts.review._views import ReviewButton, ScoreSelect


async def setup(bot) -> None:
    bot.add_dynamic_items(ReviewButton, ScoreSelect)
    await bot.add_cog(ReviewCog(bot, bot.services))
