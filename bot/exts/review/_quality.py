"""How answer-quality flags look to curators: on the card, in one entry, beside payouts."""

from __future__ import annotations

from bot.exts.interview._render import duration
from knowledge.experts import Earnings
from knowledge.review import EntryView


def quality_text(e: EntryView) -> str:
    """The answer's quality flags with their reasons, and how it arrived: evidence to weigh."""
    lines = [f"**{f['kind']}**: {f['reason']}" for f in e.flags]
    if e.arrival:
        lines.append(f"Arrived as {e.arrival}.")
    return "\n".join(lines)


def flagged_pay(r: Earnings) -> str:
    """The time and amount on flagged answers, shown apart (still counted in the amount)."""
    if not r.flagged_answers:
        return ""
    n = r.flagged_answers
    return (
        f"; 🚩 {duration(r.flagged_seconds)} on {n} flagged answer{'s' if n != 1 else ''} "
        f"({r.flagged_amount:.2f} {r.currency} of it)"
    )
