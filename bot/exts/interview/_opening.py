"""Where a new interview happens: a private thread beside the command, or the expert's DMs."""

from __future__ import annotations

import logging

import discord

from knowledge.guides import Guide
from knowledge.interview import InterviewError

log = logging.getLogger(__name__)

CANNOT_WRITE = {
    "dm": "I can't send you direct messages. Allow DMs from server members (Privacy "
    "Settings) or start the interview in a server channel.",
    "thread": "I can't open a private thread here. I need the Create Private Threads and Send "
    "Messages in Threads permissions in this channel.",
}


async def open_channel(
    interaction: discord.Interaction, guide: Guide, where: str
) -> tuple[discord.abc.Messageable, str]:
    """The channel for the interview and its kind ("thread" or "dm")."""
    user = interaction.user
    if where == "dm" or interaction.guild is None:
        try:
            return await user.create_dm(), "dm"
        except discord.HTTPException:
            raise InterviewError(CANNOT_WRITE["dm"]) from None
    parent = interaction.channel
    if isinstance(parent, discord.Thread):
        parent = parent.parent
    if not isinstance(parent, discord.TextChannel):
        raise InterviewError("use `/interview start` in a text channel, or in our DMs.")
    try:
        thread = await parent.create_thread(
            name=f"{guide.title} · {user.display_name}"[:100],
            type=discord.ChannelType.private_thread,
            invitable=False,
            auto_archive_duration=10080,
        )
        await thread.add_user(user)
    except discord.Forbidden:
        raise InterviewError(CANNOT_WRITE["thread"]) from None
    return thread, "thread"


async def discard(channel: discord.abc.Messageable, kind: str) -> None:
    """Remove a thread opened for an interview that could not start."""
    if kind == "thread" and isinstance(channel, discord.Thread):
        try:
            await channel.delete()
        except discord.HTTPException:
            log.warning("could not delete the unused thread %s", channel.id)
