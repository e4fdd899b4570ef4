"""An answer being written: the expert's messages since the question, not yet handed over."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import discord

from knowledge.quality import ArrivalLog
from knowledge.vocab import Platform

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
MAX_TEXT_BYTES = 512 * 1024  # a longer "text" file is kept as a link instead of read


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
    # How the answer is arriving: message times and lengths, typing seen (quality flags).
    arrival: ArrivalLog = field(default_factory=lambda: ArrivalLog(Platform.discord))

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
