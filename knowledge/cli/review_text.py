"""How `tacit entries` prints an entry, a card with its blind reviews, history and agreement."""

from __future__ import annotations

from datetime import UTC, datetime


def detail(d) -> str:
    """An entry (or a card) in full: text, decisions the viewer may see, rubric, history."""
    lines = [
        f"entry {d.entry_id}: {d.status}" + (f" (reason: {d.reason})" if d.reason else ""),
        f"guide: {d.guide_title} / {d.step_title} ({d.probe}"
        + (f' on "{d.focus}"' if d.focus else "")
        + ")",
        f"expert: {d.expert_name} ({d.expert_pseudonym}, #{d.expert_id})"
        + (f", {d.profession}" if d.profession else ""),
        f"interview: {d.interview_id}" + (f" in {d.channel}" if d.channel else ""),
    ]
    if d.decided_by:
        lines.append(f"decided by {d.decided_by} at {_when(d.decided_at)}")
    if d.duplicate_of:
        lines.append(f"duplicate of entry {d.duplicate_of}")
    if d.flagged_pii:
        lines.append("flagged: holds personal data")
    if d.claimed_by:
        lines.append(f"being reviewed by {d.claimed_by} until {_when(d.claimed_until)}")
    lines += ["", f"Q: {d.question}", "", f"A: {d.answer}"]
    if d.question != d.original_question:
        lines += ["", f"original Q: {d.original_question}"]
    if d.corrected_answer is not None:
        lines += ["", f"corrected by the expert at {_when(d.corrected_at)}; their first answer:"]
        lines += [f"original A: {d.original_answer}"]
    elif d.answer != d.original_answer:
        lines += ["", f"original A: {d.original_answer}"]
    if d.edited_by:
        lines.append(f"edited by {d.edited_by}")
    lines += _reviews(d)
    history = getattr(d, "history", None)
    if history is not None:
        lines += ["", "history:" if history else "history: none"]
        for ev in history:
            lines.append(f"  {_when(ev.at)}  {ev.actor}  {ev.action}  {_changes(ev)}".rstrip())
    return "\n".join(lines)


def _reviews(d) -> list[str]:
    """The blind-review part: how many decisions, the adjudicator's view, the rubric."""
    out: list[str] = []
    if d.reviews_needed > 1 or d.disputed or d.decisions:
        head = f"reviews: {d.reviews_done} of {d.reviews_needed}"
        if d.adjudication:
            head += "; they disagree: your decision settles it (adjudication)"
        elif d.disputed:
            head += "; they disagree: waiting for an adjudicator"
        out += ["", head]
    for v in d.decisions:
        what = v.verdict + (f" (reason: {v.reason})" if v.reason else "")
        if v.duplicate_of:
            what += f" of entry {v.duplicate_of}"
        out.append(f"  {v.curator} [{v.kind}]: {what}" + _score_text(v.scores))
        if v.edited_question:
            out.append(f"    edited Q: {v.edited_question}")
        if v.edited_answer:
            out.append(f"    edited A: {v.edited_answer}")
    if d.mine is not None and (d.mine.verdict or d.mine.scores):
        out.append(f"  you: {d.mine.verdict or 'not decided yet'}" + _score_text(d.mine.scores))
    if d.mean_scores:
        out.append("mean scores: " + ", ".join(f"{k} {v:.2f}" for k, v in d.mean_scores.items()))
    if d.rubric:
        out.append(
            "rubric: " + "; ".join(f"{c.name} {c.min}-{c.max} ({c.description})" for c in d.rubric)
        )
    return out


def _score_text(scores: dict[str, int]) -> str:
    return (" scores " + ", ".join(f"{k}={v}" for k, v in scores.items())) if scores else ""


def _alpha(a) -> str:
    value = "undefined" if a.alpha is None else f"{a.alpha:.3f}"
    return f"{value} over {a.items}"


def agreement_lines(ag) -> list[str]:
    """Agreement as `tacit entries stats` prints it (nothing before any blind review)."""
    if ag is None or not ag.reviewed:
        return []
    o = ag.overall
    lines = [
        f"agreement (Krippendorff's alpha, verdicts): {_alpha(o)} entries reviewed by two or"
        f" more curators ({o.agreed} agreed); {ag.adjudicated} adjudicated"
    ]
    if ag.by_guide:
        lines.append("  by guide: " + ", ".join(f"{g} {_alpha(a)}" for g, a in ag.by_guide.items()))
    if ag.by_pair:
        lines.append(
            "  by pair: "
            + ", ".join(f"{p.curators[0]} & {p.curators[1]} {_alpha(p)}" for p in ag.by_pair[:10])
        )
    for name in sorted({*ag.rubric, *ag.mean_scores}):
        a, mean = ag.rubric.get(name), ag.mean_scores.get(name)
        lines.append(
            f"  rubric {name}: "
            + (f"mean score {mean:.2f}" if mean is not None else "no scores")
            + (f", alpha (interval) {_alpha(a)}" if a is not None else "")
        )
    return lines


def short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "-"


# Keys shown in a history line; the raw edited_* fields repeat question/answer.
_SHOWN = ("status", "reason", "question", "answer", "duplicate_of", "flagged_pii")


def _changes(ev) -> str:
    parts = []
    for key in _SHOWN:
        if key in ev.changes:
            old, new = ev.changes[key]
            if key in ("question", "answer"):
                old, new = (short(v or "", 50) for v in (old, new))
            parts.append(f"{key}: {old!r} -> {new!r}")
    if (ev.after or {}).get("note"):
        parts.append(f"note: {ev.after['note']!r}")
    if (ev.after or {}).get("undoes"):
        parts.append(f"(undoes #{ev.after['undoes']})")
    return "; ".join(parts)
