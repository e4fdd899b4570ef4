"""What /export says while it runs and when it is done, and what /export list shows."""

from __future__ import annotations

from pathlib import Path

import discord

from knowledge.export import ExportRecord, ExportReport

PHASES = {
    "scan": "reading entries",
    "vectors": "reading stored vectors",
    "duplicates": "finding near-duplicates",
    "write": "writing examples",
}
MESSAGE_LIMIT = 2000


def what(fmt: str, status: str, guide: str | None) -> str:
    return f"{status} entries" + (f" of guide `{guide}`" if guide else "") + f" as {fmt}"


def started(label: str) -> str:
    return (
        f"Exporting {label}. This runs in the background: the bot keeps working, and this "
        "message shows how far the export got."
    )


def progress(label: str, phase: str | None, done: int, total: int) -> str:
    step = PHASES.get(phase or "", phase or "starting")
    count = f" ({done:,} of {total:,})" if total and phase not in (None, "duplicates") else ""
    return f"Exporting {label}: {step}{count}…"


def size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def summary(report: ExportReport, label: str) -> str:
    splits = ", ".join(f"{k} {v}" for k, v in sorted(report.examples.items(), reverse=True))
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(report.kinds.items(), reverse=True))
    lines = [
        f"**Exported {label}**: {report.written} examples ({splits or 'none'}"
        + (f"; {kinds}" if kinds else "")
        + f") from {report.entries} entries in {report.seconds:.1f} s.",
        f"Near-duplicates removed: {report.duplicates_removed}. Held back for personal data: "
        f"{report.held_pii}, plus {report.held_flagged} flagged by a curator.",
    ]
    if report.redactions:
        red = ", ".join(f"{k} {v}" for k, v in sorted(report.redactions.items()))
        lines.append(f"Personal data replaced: {red}.")
    lines += [f"Note: {n}" for n in report.notes]
    return "\n".join(lines)


def sent(text: str, name: str, nbytes: int, where: Path) -> str:
    return _fit(
        text,
        f"Sent to your DMs: `{name}` ({size(nbytes)}). Also on the server in `{where}`. "
        "If an expert later withdraws, I delete that message and rewrite the files.",
    )


def no_dm(text: str, where: Path) -> str:
    return _fit(
        text,
        f"I could not send you the file in a DM (are DMs from this server off?): it was "
        f"written on the server in `{where}`.",
    )


def dm_note(label: str, guild: discord.Guild | None) -> str:
    place = f" of **{guild.name}**" if guild is not None else ""
    return (
        f"Your export{place}: {label}. Keep it safe. If an expert withdraws an answer it "
        "holds, I delete this message; copies you downloaded stay yours to delete."
    )


def listing(rows: list[ExportRecord]) -> str:
    if not rows:
        return "No datasets have been exported for this server yet. `/export dataset` makes one."
    lines = ["**Datasets exported for this server** (newest first)"]
    for r in rows:
        who = r.actor.removeprefix("discord:")
        by = f"<@{who}>" if who.isdigit() else f"`{r.actor}`"
        state = {"on_disk": "on the server", "rewritten": "rewritten after erasure"}.get(
            r.status, r.status
        )
        lines.append(
            f"- #{r.id} {discord.utils.format_dt(r.created_at, 'f')} by {by}: {r.format}, "
            f"{r.examples} examples from {r.entries} entries of {r.experts} experts, {state}"
            + (f", in {r.posts} DM" + ("s" if r.posts != 1 else "") if r.posts else "")
        )
    text = ""
    for line in lines:  # whole lines, newest first, as many as one message holds
        if len(text) + len(line) + 1 > MESSAGE_LIMIT:
            break
        text += line + "\n"
    return text.rstrip()


def too_big(text: str, nbytes: int, limit: int, where: Path) -> str:
    return _fit(
        text,
        f"Compressed it is {size(nbytes)}, more than the {size(limit)} Discord accepts here, "
        f"so it is not attached: it was written on the server in `{where}`.",
    )


def nothing(label: str) -> str:
    return (
        f"Nothing to export: no {label.split(' as ')[0]} (experts who never consented or "
        "who withdrew are never exported)."
    )


def _fit(head: str, tail: str) -> str:
    """`head` then `tail` in one message; the head is cut if need be, never the tail."""
    room = MESSAGE_LIMIT - len(tail) - 1
    if len(head) > room:
        head = head[: room - 1] + "…"
    return f"{head}\n{tail}"
