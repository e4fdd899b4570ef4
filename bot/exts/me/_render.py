"""What /me shows: the data file, the forget warning and its result, earnings, and the expert's
own entries (a page, one entry, a withdrawal)."""

from __future__ import annotations

import io
import json

import discord

from bot.exts.interview._render import duration
from knowledge.experts import Earnings, Forgotten, OwnEntry

PAGE = 10  # entries per page of /me entries (and options in its picker)
DESCRIPTION_LIMIT = 4096

FORGET_WARNING = (
    "**Delete everything tacit stores about you?**\n"
    "Your answers, interviews and consent records are deleted, in every server you were "
    "interviewed in; your answers are taken out of the datasets tacit wrote and the dataset "
    "messages it posted are deleted, and none will appear in any later dataset. What you are "
    "owed is kept under your pseudonym only, so you can still be paid. This cannot be undone. "
    "Messages you wrote in Discord stay in Discord: delete them there if you want them gone too."
)
RECALL = "Copies of datasets someone already downloaded cannot be recalled."


def data_file(data: dict, name: str = "tacit-my-data.json") -> discord.File:
    body = json.dumps(data, indent=2, ensure_ascii=False).encode()
    return discord.File(io.BytesIO(body), filename=name)


def data_summary(records: list[dict]) -> str:
    interviews = [iv for d in records for iv in d["interviews"]]
    answers = sum(1 for iv in interviews for t in iv["turns"] if t["answer"])
    entries = sum(len(d["entries"]) for d in records)
    where = f" in {len(records)} servers (a file each)" if len(records) > 1 else ""
    return (
        f"Everything tacit stores about you{where}: {len(interviews)} interview(s), {answers} "
        f"answer(s), {entries} entr{'y' if entries == 1 else 'ies'}. "
        "`/me entries` lets you correct or withdraw one; `/me forget` deletes it all."
    )


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def copies_text(copies, messages: int, pending: bool = False) -> str:
    """What erasure did to datasets already written, in a sentence or two."""
    parts = []
    if pending:
        parts.append(
            "Dataset files on the server could not all be rewritten just now: the operator "
            "has been told, and they will be."
        )
    if copies is not None and copies.exports:
        files = len(copies.files_rewritten) + len(copies.files_deleted)
        parts.append(
            f"Taken out of {_plural(len(copies.exports), 'dataset')} already written "
            f"({_plural(copies.examples_removed, 'example')} removed, "
            f"{_plural(files, 'file')} on the server rewritten or deleted)."
        )
        if copies.files_changed:
            parts.append(
                f"{_plural(len(copies.files_changed), 'file')} changed by someone since tacit "
                "wrote them could not be rewritten: the operator has been told."
            )
    if messages:
        parts.append(f"I deleted {_plural(messages, 'message')} where I had posted such a dataset.")
    parts.append(RECALL)
    return " ".join(parts)


def forgotten(done: Forgotten, messages: int) -> str:
    text = (
        f"Done: everything tacit stored about you is deleted ({_plural(done.entries, 'entry', 'entries')} "
        "included). " + copies_text(done.copies, messages, done.copies_pending)
    )
    if done.interviews:  # pay records are kept, even for a few seconds' worth
        text += (
            f" What you are owed ({done.owed:.2f} {done.currency}) is kept without your name, "
            f"under {', '.join(done.pseudonyms)}, so it can still be paid."
        )
    return text + " Thank you for your time."


def earnings(rows: list[Earnings]) -> str:
    if not rows:
        return "You have no interviews yet, so nothing is owed. `/interview start` begins one."
    blocks = []
    for e in rows:
        pending = e.entries_total - e.entries_accepted
        blocks.append(
            f"Time interviewing: {duration(e.active_seconds)} over {e.interviews} "
            f"interview{'s' if e.interviews != 1 else ''}\n"
            f"Entries accepted: {e.entries_accepted} of {e.entries_total}"
            + (f" ({pending} waiting for review or not kept)" if pending else "")
            + f"\nAmount at {e.rate_note}: {e.amount:.2f} {e.currency}"
        )
    head = "**Your time and pay**" + (" (each server pays its own)" if len(rows) > 1 else "")
    return head + "\n" + "\n\n".join(blocks)


# ---- /me entries -----------------------------------------------------------------------------


def _snippet(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _state(e: OwnEntry) -> str:
    return e.status + (", corrected by you" if e.corrected else "")


def page_embed(entries: list[OwnEntry], page: int, note: str | None = None) -> discord.Embed:
    pages = max(1, -(-len(entries) // PAGE))
    shown = entries[page * PAGE : (page + 1) * PAGE]
    embed = discord.Embed(title=f"Your entries ({len(entries)})", colour=discord.Colour.blurple())
    if not entries:
        embed.description = "You have no entries yet: your answers in an interview become entries."
        return embed
    lines = [
        f"**#{e.entry_id}** · {_state(e)} · {_snippet(e.question, 90)}\n> {_snippet(e.answer, 110)}"
        for e in shown
    ]
    embed.description = ((note + "\n\n") if note else "") + "\n".join(lines)
    embed.description = embed.description[:DESCRIPTION_LIMIT]
    embed.set_footer(
        text=f"Page {page + 1} of {pages}. Choose an entry below to correct or withdraw it."
    )
    return embed


def options(entries: list[OwnEntry], page: int) -> list[discord.SelectOption]:
    return [
        discord.SelectOption(
            label=f"#{e.entry_id} {_snippet(e.question, 80)}"[:100],
            description=_snippet(e.answer, 100),
            value=str(e.entry_id),
        )
        for e in entries[page * PAGE : (page + 1) * PAGE]
    ]


def entry_embed(e: OwnEntry, note: str | None = None, *, fits: bool = True) -> discord.Embed:
    embed = discord.Embed(title=f"Entry #{e.entry_id}: {e.status}", colour=discord.Colour.blurple())
    head = ((note + "\n\n") if note else "") + f"**Question**\n{_snippet(e.question, 600)}\n\n"
    label = "**Your answer, as you corrected it**\n" if e.corrected else "**Your answer**\n"
    room = DESCRIPTION_LIMIT - len(head) - len(label) - 80
    answer = e.answer if len(e.answer) <= room else e.answer[: room - 1] + "…"
    embed.description = head + label + answer
    notes = []
    if e.corrected:
        notes.append(
            f"You corrected it {discord.utils.format_dt(e.corrected_at, 'R')}; your first answer "
            "is kept too, and curators review your correction."
        )
    if e.edited_by_curator:
        notes.append("A curator tidied its wording for the dataset; above are your own words.")
    if not fits:
        notes.append("It is too long for a Discord form: you can withdraw it, not correct it here.")
    if notes:
        embed.add_field(name="Notes", value="\n".join(notes)[:1024], inline=False)
    return embed


def confirm_withdraw(e: OwnEntry) -> str:
    return (
        f"**Withdraw entry #{e.entry_id}?** It is deleted, with your words, from review, from "
        "search and from every dataset tacit wrote; it will not be in any later one. "
        "This cannot be undone."
    )


def withdrawn(entry_id: int, copies, messages: int, pending: bool = False) -> str:
    return f"Entry #{entry_id} is withdrawn and deleted. " + copies_text(copies, messages, pending)
