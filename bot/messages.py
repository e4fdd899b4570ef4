"""Sending text within Discord's limits: split long text cleanly, answer any interaction."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import discord

from knowledge.errors import TacitError
from knowledge.ops import metrics

MESSAGE_LIMIT = 2000

_SENTENCE_END = re.compile(r"[.!?…][\"')\]*_]*\s")


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut text into pieces of at most `limit` characters, at the cleanest boundary available.

    Paragraphs first, then lines, then sentences, then words; only a single word longer than
    the limit is ever cut in the middle.
    """
    text = text.strip()
    chunks: list[str] = []
    while len(text) > limit:
        cut = _cut_point(text, limit)
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        chunks.append(text)
    return chunks


def _cut_point(text: str, limit: int) -> int:
    window = text[: limit + 1]
    floor = limit // 3  # a boundary much earlier than the limit would leave a stub of a message
    for sep in ("\n\n", "\n"):
        at = window.rfind(sep)
        if at >= floor:
            return at + len(sep)
    ends = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() <= limit]
    if ends and ends[-1] >= floor:
        return ends[-1]
    at = window.rfind(" ")
    if at >= floor:
        return at + 1
    return limit


async def send_long(
    channel: discord.abc.Messageable, text: str, *, view: discord.ui.View | None = None
) -> discord.Message:
    """Post `text` in as many messages as it takes; the view goes on the last one."""
    chunks = split_message(text)
    for chunk in chunks[:-1]:
        await channel.send(chunk)
    if view is None:
        return await channel.send(chunks[-1])
    return await channel.send(chunks[-1], view=view)


async def tell(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer with `text`: the response if there was none yet, else follow-ups."""
    chunks = split_message(text) or ["…"]
    if not interaction.response.is_done():
        await interaction.response.send_message(chunks.pop(0), ephemeral=ephemeral)
    for chunk in chunks:
        await interaction.followup.send(chunk, ephemeral=ephemeral)


def sentence(text: str) -> str:
    """A core error message ("no guide 'x'") as a sentence to show a user."""
    text = text.strip()
    if not text:
        return "That did not work."
    text = text[:1].upper() + text[1:]
    return text if text[-1] in ".!?)`" else text + "."


async def refuse(interaction: discord.Interaction, error: TacitError) -> None:
    """The one way a refusal of the core reaches a Discord user: a private sentence."""
    metrics.error(error)
    await tell(interaction, sentence(str(error)))


@asynccontextmanager
async def refusals(interaction: discord.Interaction) -> AsyncIterator[None]:
    """Inside a button or form callback (which the command tree's handler never sees): a
    refusal becomes the private reply; anything else is left to propagate (a bug)."""
    try:
        yield
    except TacitError as error:
        await refuse(interaction, error)
