"""An answer being written: the expert's messages since the question, not yet handed over."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import discord

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
MAX_TEXT_BYTES = 512 * 1024  # a longer "text" file is kept as a link instead of read


@dataclass
class Route:
    """An interview running in a Discord thread or DM, as the bot knows it."""

    interview_id: int
    channel_id: int
    user_id: int  # the expert
    kind: str  # "thread" | "dm"
    status: str  # "active" | "paused"
    turn_id: int | None = None  # the question waiting for an answer
    question_message_id: int | None = None
    hinted_paused: bool = False

    @property
    def key(self) -> str:
        return channel_key(self.kind, self.channel_id)

    @property
    def mention(self) -> str:
        return f"<#{self.channel_id}>" if self.kind == "thread" else "our DMs"


def channel_key(kind: str, channel_id: int) -> str:
    """What the interview stores as its channel."""
    return f"discord:{kind}:{channel_id}"


def parse_channel_key(key: str | None) -> tuple[str, int] | None:
    if not key:
        return None
    parts = key.split(":")
    if len(parts) != 3 or parts[0] != "discord" or parts[1] not in ("thread", "dm"):
        return None
    try:
        return parts[1], int(parts[2])
    except ValueError:
        return None


@dataclass
class Part:
    """One message of an answer: its words, words read from text files, files kept as links."""

    content: str
    file_texts: list[str] = field(default_factory=list)
    references: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(t.strip() for t in [self.content, *self.file_texts] if t.strip())


@dataclass
class PendingAnswer:
    turn_id: int
    parts: dict[int, Part] = field(default_factory=dict)  # by message id
    notes: list[dict] = field(default_factory=list)  # what curators wrote meanwhile
    timer: asyncio.TimerHandle | None = None  # the quiet period running out

    def text(self) -> str:
        return "\n\n".join(p.text for _, p in sorted(self.parts.items()) if p.text)

    def references(self) -> list[dict]:
        refs = [r for _, p in sorted(self.parts.items()) for r in p.references]
        return refs + self.notes

    @property
    def has_text(self) -> bool:
        return any(p.text for p in self.parts.values())

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def is_text_file(att: discord.Attachment) -> bool:
    suffix = PurePosixPath(att.filename.lower()).suffix
    ctype = (att.content_type or "").split(";")[0].strip()
    return suffix in TEXT_SUFFIXES or ctype in ("text/plain", "text/markdown")


def reference(att: discord.Attachment, message: discord.Message) -> dict:
    return {
        "kind": "attachment",
        "name": att.filename,
        "url": att.url,
        "size": att.size,
        "content_type": att.content_type,
        "message_id": str(message.id),
    }


async def read_part(message: discord.Message) -> tuple[Part, list[discord.Attachment]]:
    """The message as part of an answer, and the attachments that could not be read as text."""
    part = Part(message.content or "")
    unread = []
    for att in message.attachments:
        if is_text_file(att) and att.size <= MAX_TEXT_BYTES:
            try:
                data = await att.read()
            except discord.HTTPException:
                data = None
            if data is not None:
                part.file_texts.append(data.decode("utf-8-sig", errors="replace"))
                continue
        part.references.append(reference(att, message))
        unread.append(att)
    return part, unread
