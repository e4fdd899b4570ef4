"""What the interview looks like in Discord: questions, notes, status, the consent notice."""

from __future__ import annotations

import discord

from bot.messages import split_message
from knowledge.guides import Guide
from knowledge.interview import Ask, InterviewView, Reply

EMBED_DESCRIPTION_LIMIT = 4096


def duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes:02d} min"


def ask(a: Ask, *, note: str | None = None) -> str:
    parts = []
    if note:
        parts.append(f"*{note}*")
    if a.step_intro:
        parts.append(f"**{a.step_title}** (part {a.step_number} of {a.step_count})\n{a.step_intro}")
    label = "Follow-up" if a.followup else f"Question {a.number} of {a.total}"
    parts.append(f"**{label}**\n{a.text}")
    return "\n\n".join(parts)


def welcome(guide: Guide, user: discord.abc.User, quiet_seconds: float) -> str:
    quiet = _seconds(quiet_seconds)
    return (
        f"{user.mention} welcome to your **{guide.title}** interview.\n\n"
        f"{guide.intro}\n\n"
        "**How this works**\n"
        "- Answer in your own words, in as many messages as you like. Editing a message "
        "before the answer is taken updates it.\n"
        f"- When you stop writing for {quiet}, or press **Done**, I take what you wrote as "
        "your answer and ask the next question.\n"
        "- `.txt` and `.md` files count as part of your answer; other files are kept as links.\n"
        "- `/interview skip`, `/interview pause`, `/interview resume`, `/interview end`, "
        "`/interview status`. `/me entries` lets you correct or withdraw any answer, `/me data` "
        "shows what is stored about you, `/me forget` deletes it."
    )


def _seconds(s: float) -> str:
    if s >= 60 and s % 60 == 0:
        n = int(s // 60)
        return f"{n} minute{'s' if n != 1 else ''}"
    return f"{s:g} seconds"


def covered(reply: Reply) -> str | None:
    if not reply.covered:
        return None
    n = len(reply.covered)
    what = "a question" if n == 1 else f"{n} questions"
    return f"You've already covered {what} I had next, so I'll skip ahead."


def teach_back(summary: str) -> str:
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in summary.splitlines())
    return (
        f"Before we finish, here is what I understood:\n{quoted}\n\n"
        "If anything is wrong or missing, press **Correct it**: your correction is kept "
        "with the interview."
    )


def closing(reply: Reply) -> str:
    end = reply.closing or "That's the end of the interview."
    return (
        f"{end}\n\n**The interview is complete.** Thank you! `/me entries` lets you review, "
        "correct or withdraw your answers, `/me earnings` shows your time, and `/me data` "
        "everything stored from it."
    )


def status(view: InterviewView, *, where: str | None, pending: int) -> str:
    state = {
        "active": "running",
        "paused": "paused",
        "completed": "complete",
        "ended": "ended",
    }.get(view.status, view.status)
    lines = [
        f"**{view.guide_title}**: {state}" + (f" in {where}" if where else ""),
        f"Question {min(view.position + 1, view.total)} of {view.total} "
        f"({view.answered} answered, {view.skipped} skipped)",
        f"Time spent: {duration(view.active_seconds)}",
        f"Started {discord.utils.format_dt(view.started_at, 'R')}",
    ]
    if pending:
        lines.append(
            f"Your answer in progress: {pending} message{'s' if pending != 1 else ''}, not yet "
            "saved (press Done or `/interview next` to send it now)."
        )
    return "\n".join(lines)


def consent_embeds(text: str, version: str, guide: Guide) -> list[discord.Embed]:
    pieces = split_message(text, EMBED_DESCRIPTION_LIMIT)
    embeds = []
    for i, piece in enumerate(pieces[:10]):
        e = discord.Embed(description=piece, colour=discord.Colour.blurple())
        if i == 0:
            e.title = f"Before we start: {guide.title} interview"
        embeds.append(e)
    embeds[-1].set_footer(text=f"Consent notice {version}. Nothing is recorded unless you agree.")
    return embeds
