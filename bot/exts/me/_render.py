"""What /me shows: the data file, the forget warning, earnings."""

from __future__ import annotations

import io
import json

import discord

from bot.exts.interview._render import duration
from knowledge.experts import Earnings

FORGET_WARNING = (
    "**Delete everything tacit stores about you?**\n"
    "Your answers, interviews, consent record and pay record are deleted, and none of your "
    "answers will appear in any later dataset. This cannot be undone. Messages you wrote in "
    "Discord stay in Discord: delete them there if you want them gone too."
)


def data_file(data: dict) -> discord.File:
    body = json.dumps(data, indent=2, ensure_ascii=False).encode()
    return discord.File(io.BytesIO(body), filename="tacit-my-data.json")


def data_summary(data: dict) -> str:
    interviews = data["interviews"]
    answers = sum(1 for iv in interviews for t in iv["turns"] if t["answer"])
    return (
        f"Everything tacit stores about you: {len(interviews)} interview(s), {answers} "
        f"answer(s), {len(data['entries'])} entr{'y' if len(data['entries']) == 1 else 'ies'}. "
        "`/me forget` deletes it all."
    )


def earnings(rows: list[Earnings]) -> str:
    if not rows:
        return "You have no interviews yet, so nothing is owed. `/interview start` begins one."
    e = rows[0]
    pending = e.entries_total - e.entries_accepted
    return (
        "**Your time and pay**\n"
        f"Time interviewing: {duration(e.active_seconds)} over {e.interviews} "
        f"interview{'s' if e.interviews != 1 else ''}\n"
        f"Entries accepted: {e.entries_accepted} of {e.entries_total}"
        + (f" ({pending} waiting for review or not kept)" if pending else "")
        + f"\nAmount at {e.rate_note}: {e.amount:.2f} {e.currency}"
    )
