"""What /review shows: the card, search hits, one entry with its history, stats and payouts.

Everything here stays inside Discord's limits (embed description 4096, field 1024, 6000 in an
embed, message 2000); long answers are cut on the card with a note, and `/review entry` shows
them whole.
"""

from __future__ import annotations

from datetime import datetime

import discord

from bot.exts.interview._render import duration
from bot.identity import parse_interview_channel
from knowledge.experts import Earnings
from knowledge.review import (
    APPROVE,
    DUPLICATE,
    EDIT,
    FLAG_PII,
    REJECT,
    SCORE,
    SKIP,
    UNDO,
    AuditRecord,
    Card,
    Decision,
    EntryDetail,
    EntryView,
    ReviewStats,
    SearchHit,
    Vote,
)
from knowledge.review.agreement import Agreement
from knowledge.vocab import Platform

DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
EMBED_LIMIT = 6000
MESSAGE_LIMIT = 2000
CHART_NAME = "review-stats.png"

COLOURS = {
    "pending": discord.Colour.gold(),
    "approved": discord.Colour.green(),
    "rejected": discord.Colour.red(),
    "duplicate": discord.Colour.greyple(),
}
VERBS = {
    APPROVE: "approved",
    REJECT: "rejected",
    DUPLICATE: "marked as a duplicate",
    EDIT: "edited",
    FLAG_PII: "flagged for personal data",
    SCORE: "scored",
    UNDO: "undid a change",
    SKIP: "skipped",
    "entry.corrected": "corrected their own answer",
}


# ---- small pieces ----------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word where one is near, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def snippet(text: str, limit: int) -> str:
    """One line: whitespace folded, then clipped."""
    return clip(" ".join(text.split()), limit)


def who(actor: str | None) -> str:
    """A curator id as Discord shows it: a mention for "discord:<id>", the id otherwise."""
    if not actor:
        return "nobody"
    kind, _, rest = actor.partition(":")
    if kind == Platform.discord and rest.isdigit():
        return f"<@{rest}>"
    if kind == "expert":
        return "the expert"
    return f"`{actor}`"


def when(at: datetime | None, style: str = "R") -> str:
    return discord.utils.format_dt(at, style) if at else "never"


def where(channel: str | None, guild_id: int | None) -> str:
    """Where the answer was given: a link to the interview thread when it was one."""
    place = parse_interview_channel(channel)
    if place is not None:
        kind, channel_id = place
        if kind == "thread" and guild_id:
            return f"[interview thread](https://discord.com/channels/{guild_id}/{channel_id})"
        if kind == "dm":
            return "in a DM with the expert"
    if channel == "terminal":
        return "in the terminal"
    return f"in {channel}" if channel else "place unknown"


def expert_line(e: EntryView) -> str:
    name = f"{e.expert_name} ({e.expert_pseudonym})" if e.expert_name else e.expert_pseudonym
    return name + (f", {e.profession}" if e.profession else "")


def interview_line(e: EntryView, guild_id: int | None) -> str:
    return (
        f"{e.guide_title}: {e.step_title}, probe `{e.probe}`"
        + (f" on “{e.focus}”" if e.focus else "")
        + "\n"
        f"Interview {e.interview_id}, {where(e.channel, guild_id)}"
    )


def _alike(hit: SearchHit) -> str:
    return f"{hit.similarity:.2f}"


# ---- the card --------------------------------------------------------------------------------


def card_embed(card: Card, *, guild_id: int | None, duplicate_threshold: float) -> discord.Embed:
    """The entry a curator decides on, with where it came from and what may already cover it."""
    embed = discord.Embed(
        title=f"Entry {card.entry_id}: {card.status}",
        colour=COLOURS.get(card.status, discord.Colour.blurple()),
    )
    embed.add_field(name="Expert", value=clip(expert_line(card), FIELD_LIMIT), inline=True)
    embed.add_field(
        name="Interview", value=clip(interview_line(card, guild_id), FIELD_LIMIT), inline=True
    )
    dup = card.duplicate_of_approved
    if dup is not None:
        embed.add_field(
            name="⚠️ Likely duplicate of an approved entry",
            value=clip(
                f"Entry {dup.entry_id} is {_alike(dup)} alike (threshold "
                f"{duplicate_threshold:.2f}): {snippet(dup.question, 200)}\n"
                f"*{snippet(dup.answer, 300)}*\n"
                "Press **Mark duplicate** if this entry adds nothing new.",
                FIELD_LIMIT,
            ),
            inline=False,
        )
    if card.similar:
        lines = [
            f"`{h.entry_id}` {h.status}, similarity {_alike(h)}: {snippet(h.question, 120)}"
            for h in card.similar
        ]
        embed.add_field(name="Closest entries", value=_lines(lines, FIELD_LIMIT), inline=False)
    notes = _notes(card)
    if notes:
        embed.add_field(name="Notes", value=clip(notes, FIELD_LIMIT), inline=False)
    review = review_field(card)
    if review is not None:
        embed.add_field(name=review[0], value=clip(review[1], FIELD_LIMIT), inline=False)
    footer = f"{card.pending_total} pending in all"
    if card.claimed_until:
        footer += f" · yours until {card.claimed_until:%H:%M} UTC"
    embed.set_footer(text=footer)
    room = EMBED_LIMIT - _size(embed) - 16
    embed.description = card_text(card, min(DESCRIPTION_LIMIT, room))
    return embed


def card_text(e: EntryView, limit: int) -> str:
    """Question and answer in `limit` characters; a cut answer says how to read all of it."""
    question = clip(e.question, min(1000, limit // 3))
    head = f"**Question**\n{question}\n\n**Answer**\n"
    room = limit - len(head)
    answer = e.answer.strip()
    if len(answer) <= room:
        return head + answer
    note = (
        f"\n\n*Cut here: {len(answer):,} characters in all. "
        f"`/review entry id:{e.entry_id}` shows the whole answer.*"
    )
    return head + clip(answer, room - len(note)) + note


def _notes(e: EntryView) -> str:
    notes = []
    if e.corrected:
        notes.append(
            f"✍️ The expert corrected this answer {when(e.corrected_at)}: the answer shown is "
            f"their own correction. Their first answer: *{snippet(e.original_answer, 300)}*"
        )
    if e.edited:
        notes.append(f"Edited by {who(e.edited_by)}; the expert's own words are kept.")
    if e.flagged_pii:
        notes.append("Flagged for personal data: edit it out or reject.")
    if e.status != "pending" and e.decided_by:
        notes.append(f"{e.status.capitalize()} by {who(e.decided_by)} {when(e.decided_at)}.")
    if e.reason:
        notes.append(f"Reason: {e.reason}")
    if e.duplicate_of:
        notes.append(f"Duplicate of entry {e.duplicate_of}.")
    return "\n".join(notes)


def vote_line(v: Vote) -> str:
    what = {"approved": "approved", "rejected": "rejected", "duplicate": "marked a duplicate"}
    line = f"{who(v.curator)} {what.get(v.verdict or '', v.verdict or 'has not decided')}"
    if v.duplicate_of:
        line += f" of entry {v.duplicate_of}"
    if v.reason:
        line += f": “{snippet(v.reason, 200)}”"
    if v.edited_question:
        line += f"\n  edited question: *{snippet(v.edited_question, 150)}*"
    if v.edited_answer:
        line += f"\n  edited answer: *{snippet(v.edited_answer, 250)}*"
    if v.scores:
        line += "\n  scores: " + ", ".join(f"{k} {n}" for k, n in v.scores.items())
    return line


def review_field(e: EntryView) -> tuple[str, str] | None:
    """Blind review on a card: how many decisions, and for an adjudicator both of them."""
    if e.adjudication:
        lines = [vote_line(v) for v in e.decisions]
        lines.append("The reviews disagree: your decision settles it.")
        return "⚖️ Adjudication", "\n".join(lines)
    if e.reviews_needed <= 1 and not e.disputed:
        return None
    text = f"Blind review: {e.reviews_done} of {e.reviews_needed} decisions made."
    if e.status == "pending" and not e.decisions:
        text += " Other curators' decisions stay hidden until you decide."
    if e.mine is not None and e.mine.verdict is None and (e.edited or e.mine.scores):
        text += " Your edits and scores count when you decide."
    if e.decisions:
        text += "\n" + "\n".join(vote_line(v) for v in e.decisions)
    return "Review", text


def decision_note(d: Decision, *, action: str) -> str:
    """What the last button did, shown above the next card."""
    e = d.entry
    if d.changed and d.outcome == "waiting" and action != SCORE and action != EDIT:
        left = d.reviews_left
        return (
            f"Recorded your decision on entry {e.entry_id}: it needs {left} more review"
            f"{'s' if left != 1 else ''} by other curators before it is final."
        )
    if d.changed and d.outcome == "disputed" and action not in (SCORE, EDIT):
        return (
            f"Recorded your decision on entry {e.entry_id}: the reviews disagree, so it goes "
            "to another curator to adjudicate."
        )
    text = {
        APPROVE: f"Approved entry {e.entry_id}.",
        REJECT: f"Rejected entry {e.entry_id}.",
        DUPLICATE: f"Marked entry {e.entry_id} as a duplicate of entry {e.duplicate_of}.",
        EDIT: f"Saved your edit of entry {e.entry_id}.",
        FLAG_PII: f"Flagged entry {e.entry_id} for personal data.",
        SCORE: f"Saved your score on entry {e.entry_id}.",
    }.get(action, f"Entry {e.entry_id}: done.")
    if not d.changed:
        text = f"Entry {e.entry_id} was already so: nothing changed."
    elif d.previous_status not in ("pending", e.status):
        text += f" It was {d.previous_status} before (`/review undo` takes this back)."
    return text


def empty_queue(guide: str | None, expert: str | None) -> str:
    scope = " and ".join(
        x for x in (f"guide `{guide}`" if guide else "", f"expert {expert}" if expert else "") if x
    )
    return "Nothing left to review" + (f" for {scope}" if scope else "") + ". Thank you!"


# ---- search and one entry ------------------------------------------------------------------


def search_embed(query: str, hits: list[SearchHit]) -> discord.Embed:
    embed = discord.Embed(
        title=clip(f"Search: {snippet(query, 200)}", 256), colour=discord.Colour.blurple()
    )
    if not hits:
        embed.description = "No entries match."
        return embed
    for h in hits[:10]:
        embed.add_field(
            name=clip(f"Entry {h.entry_id}: {h.status}, similarity {_alike(h)}", 256),
            value=clip(
                f"**Q** {snippet(h.question, 150)}\n**A** {snippet(h.answer, 300)}\n"
                f"{h.expert_pseudonym}, {h.guide}",
                FIELD_LIMIT,
            ),
            inline=False,
        )
    embed.set_footer(text="`/review entry id:<id>` shows one entry in full, with its history.")
    return embed


def entry_text(d: EntryDetail, *, guild_id: int | None) -> str:
    """One entry in full with its history; may be longer than a message (the cog splits it)."""
    lines = [
        f"**Entry {d.entry_id}**: {d.status}",
        f"Expert: {expert_line(d)}",
        interview_line(d, guild_id),
    ]
    if d.claimed_by:
        lines.append(f"Being reviewed by {who(d.claimed_by)} until {when(d.claimed_until, 't')}.")
    notes = _notes(d)
    if notes:
        lines.append(notes)
    lines += ["", "**Question**", d.question, "", "**Answer**", d.answer]
    if d.corrected and d.corrected_answer != d.answer:
        lines += ["", "**The expert's own correction**", d.corrected_answer]
    if d.edited or d.corrected:
        if d.original_question != d.question:
            lines += ["", "**The expert's question**", d.original_question]
        if d.original_answer != d.answer:
            label = "**The expert's first answer**" if d.corrected else "**The expert's answer**"
            lines += ["", label, d.original_answer]
    review = review_field(d)
    if review is not None:
        lines += ["", f"**{review[0]}**", review[1]]
    lines += ["", "**History**"]
    lines += [history_line(ev) for ev in d.history[-25:]] or ["No decisions or edits yet."]
    if len(d.history) > 25:
        lines.insert(-25, f"({len(d.history) - 25} earlier events not shown)")
    return "\n".join(lines)


def history_line(ev: AuditRecord) -> str:
    verb = VERBS.get(ev.action, ev.action)
    parts = []
    changes = ev.changes
    if "status" in changes:
        old, new = changes["status"]
        parts.append(f"{old} → {new}")
    for key in ("question", "answer"):
        if key in changes:
            parts.append(f"{key} changed")
    after = ev.after or {}
    if "reason" in changes and after.get("reason"):
        parts.append(f"reason: {snippet(after['reason'], 200)}")
    if after.get("note"):
        parts.append(f"note: {snippet(after['note'], 200)}")
    if after.get("duplicate_of") and "duplicate_of" in changes:
        parts.append(f"of entry {after['duplicate_of']}")
    detail = f" ({'; '.join(parts)})" if parts else ""
    return f"- {when(ev.at, 'f')} {who(ev.actor)} {verb}{detail}"


def undo_text(d: Decision) -> str:
    e = d.entry
    text = f"Undone: entry {e.entry_id} is {e.status} again (it was {d.previous_status})."
    if e.status == "pending":
        text += " `/review next` shows it to you first."
    return text


# ---- stats and payouts -----------------------------------------------------------------------


def stats_embed(st: ReviewStats) -> discord.Embed:
    s = st.by_status
    embed = discord.Embed(title="Review stats", colour=discord.Colour.blurple())
    embed.description = (
        f"**{s.total}** entries: {s.pending} pending, {s.approved} approved, {s.rejected} "
        f"rejected, {s.duplicate} duplicate. {st.flagged_pii} flagged for personal data.\n"
        f"Oldest pending entry: {when(st.oldest_pending_at)}."
    )
    backlog = [f"{g}: {n} pending" for g, n in st.backlog_by_guide.items()]
    embed.add_field(
        name="Backlog by guide",
        value=_lines(backlog, FIELD_LIMIT) or "Nothing pending.",
        inline=False,
    )
    guides = [
        f"{g}: {c.pending} pending, {c.approved} approved, {c.rejected} rejected, "
        f"{c.duplicate} duplicate"
        for g, c in st.by_guide.items()
    ]
    embed.add_field(
        name="By guide", value=_lines(guides, FIELD_LIMIT) or "No entries.", inline=False
    )
    experts = [
        f"{x.display_name} ({x.pseudonym}): {x.counts.pending} pending, {x.counts.approved} "
        f"approved, {x.counts.rejected} rejected, {x.counts.duplicate} duplicate"
        for x in st.by_expert
    ]
    embed.add_field(
        name="By expert", value=_lines(experts, FIELD_LIMIT) or "No entries.", inline=False
    )
    days = st.decisions_per_day
    total = sum(d.decisions for d in days)
    throughput = [
        f"{total} decisions in the last {len(days)} days ({total / max(len(days), 1):.1f} a day"
        f"), {days[-1].decisions if days else 0} today."
    ]
    throughput += [f"{who(c)}: {n}" for c, n in st.decisions_by_curator.items()]
    embed.add_field(name="Throughput", value=_lines(throughput, FIELD_LIMIT), inline=False)
    ag = st.agreement
    if ag is not None and ag.reviewed:
        embed.add_field(
            name="Agreement", value=_lines(agreement_lines(ag), FIELD_LIMIT), inline=False
        )
    embed.set_image(url=f"attachment://{CHART_NAME}")
    return embed


def _alpha(a) -> str:
    value = "undefined" if a.alpha is None else f"{a.alpha:.2f}"
    return f"α {value} over {a.items}"


def agreement_lines(ag: Agreement) -> list[str]:
    """Krippendorff's alpha between curators, as /review stats shows it."""
    o = ag.overall
    lines = [
        f"Verdicts: {_alpha(o)} entries reviewed by two or more curators ({o.agreed} agreed), "
        f"{ag.adjudicated} adjudicated."
    ]
    lines += [f"{g}: {_alpha(a)}" for g, a in ag.by_guide.items()]
    lines += [f"{who(p.curators[0])} & {who(p.curators[1])}: {_alpha(p)}" for p in ag.by_pair]
    for name in sorted({*ag.rubric, *ag.mean_scores}):
        mean, a = ag.mean_scores.get(name), ag.rubric.get(name)
        lines.append(
            f"Rubric {name}: mean {mean:.2f}" if mean is not None else f"Rubric {name}: no scores"
        )
        if a is not None:
            lines[-1] += f", {_alpha(a)} (interval)"
    return lines


def payouts_text(rows: list[Earnings], period: str) -> str:
    """Per expert the figures `/me earnings` shows them: time, accepted entries, amount."""
    if not rows:
        return f"**Payouts, {period}**\nNo interviews in that period, so nothing is owed."
    lines = [f"**Payouts, {period}**"]
    for r in rows:
        lines.append(
            f"- **{r.display_name}** ({r.pseudonym}): {duration(r.active_seconds)} over "
            f"{r.interviews} interview{'s' if r.interviews != 1 else ''}, "
            f"{r.entries_accepted} of {r.entries_total} entries accepted, "
            f"{r.amount:.2f} {r.currency} at {r.rate_note}"
            + (("; paid" if r.paid else "; not paid yet") if r.forgotten else "")
        )
    currencies = {r.currency for r in rows}
    if len(currencies) == 1:
        lines.append(f"Total: {sum(r.amount for r in rows):.2f} {rows[0].currency}")
    return "\n".join(lines)


# ---- helpers ---------------------------------------------------------------------------------


def _lines(lines: list[str], limit: int) -> str:
    """As many whole lines as fit, then a count of the rest."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        line = clip(line, limit // 2)
        rest = len(lines) - i
        tail = len(f"\n… and {rest} more")
        if used + len(line) + 1 + (tail if rest > 1 else 0) > limit:
            out.append(f"… and {rest} more")
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def _size(embed: discord.Embed) -> int:
    """Characters Discord counts towards the 6000 of an embed, description excluded."""
    n = len(embed.title or "") + len(embed.footer.text or "") + len(embed.author.name or "")
    return n + sum(len(f.name or "") + len(f.value or "") for f in embed.fields)
