"""/export: curators write a fine-tuning dataset in the background and get it as a file."""

from __future__ import annotations

from bot.exts.export._cog import ExportCog


async def setup(bot) -> None:
    await bot.add_cog(ExportCog(bot, bot.services))
