"""`tacit entries ...` and `tacit payouts`: curator review from the terminal."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from knowledge.cli.common import (
    COUNT,
    ID,
    UserError,
    cell,
    guild_option,
    login,
    plain,
    run_async,
    services,
    view,
    write_out,
)
from knowledge.experts import person_actor
from knowledge.review import ReviewError, render_chart
from knowledge.vocab import EntryStatus, values

STATUSES = values(EntryStatus)


def _fail(message: str, code: int = 1) -> click.ClickException:
    return UserError(message, code)


def _actor(name: str | None) -> str:
    return person_actor("cli", name or login())


as_option = click.option(
    "--as",
    "as_name",
    metavar="NAME",
    help="Curator name recorded in the audit log (default: your login name).",
)


async def _sync(svc) -> None:
    """Bring Chroma's copy of statuses and texts up to date before the process exits."""
    r = await svc.indexer.sync()
    if r.error:
        click.echo(f"tacit: warning: the search index will catch up later: {r.error}", err=True)


@click.group()
def entries() -> None:
    """Review the entries experts' answers became: list, read, decide, edit, search, undo.

    Decisions are recorded in the audit log as cli:<login name> (or --as NAME).

    \b
    Examples:
      tacit entries list --status pending --guide physician
      tacit entries show 12
      tacit entries approve 12 13 14
      tacit entries reject 15 --reason "small talk, no expertise"
      tacit entries edit 16 --answer "A cleaner answer."
      tacit entries search "how do you triage chest pain" --status approved
      tacit entries undo
    """


@entries.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--guide", help="Only entries from this guide.")
@click.option("--expert", type=ID, help="Only this expert's entries (expert id).")
@click.option("--limit", type=COUNT, default=100, show_default=True)
@guild_option
@click.pass_context
@run_async
async def list_entries(
    ctx: click.Context,
    status: str | None,
    guide: str | None,
    expert: int | None,
    limit: int,
    scope,
) -> None:
    """List entries oldest first, one a line: id, status, guide, expert, question.

    After the status, * marks an entry a curator edited, ~ one its expert corrected, and ! one
    flagged for personal data.
    """
    async with services(ctx) as svc:
        rows = await view(svc, scope).review.list(
            status=status, guide=guide, expert_id=expert, limit=limit
        )
    if not rows:
        click.echo("no entries match", err=True)
    for e in rows:
        marks = "".join(
            m for m, on in (("*", e.edited), ("~", e.corrected), ("!", e.flagged_pii)) if on
        )
        click.echo(
            plain(
                f"{e.entry_id}\t{e.status}{marks}\t{e.guide}\t{e.expert_name} (#{e.expert_id})\t"
                f"{_short(e.question, 90)}"
            )
        )


@entries.command()
@click.argument("entry_id", type=ID)
@click.pass_context
@run_async
async def show(ctx: click.Context, entry_id: int) -> None:
    """An entry in full, with every decision and edit made to it."""
    async with services(ctx) as svc:
        d = await svc.review.entry(entry_id)
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
    lines += ["", "history:" if d.history else "history: none"]
    for ev in d.history:
        lines.append(f"  {_when(ev.at)}  {ev.actor}  {ev.action}  {_changes(ev)}".rstrip())
    click.echo(plain("\n".join(lines)))


@entries.command()
@click.argument("entry_ids", type=ID, nargs=-1, required=True)
@as_option
@click.pass_context
@run_async
async def approve(ctx: click.Context, entry_ids: tuple[int, ...], as_name: str | None) -> None:
    """Approve entries for the datasets."""

    actor, failed = _actor(as_name), 0
    async with services(ctx) as svc:
        for eid in entry_ids:
            try:
                d = await svc.review.approve(actor, eid)
            except ReviewError as e:
                click.echo(f"tacit: error: {e}", err=True)
                failed += 1
                continue
            click.echo(f"approved {eid}" if d.changed else f"{eid} was already approved")
        await _sync(svc)
    if failed:
        raise _fail(f"{failed} of {len(entry_ids)} entries not approved")


@entries.command()
@click.argument("entry_id", type=ID)
@click.option("--reason", required=True, help="Why: shown to other curators and kept.")
@as_option
@click.pass_context
@run_async
async def reject(ctx: click.Context, entry_id: int, reason: str, as_name: str | None) -> None:
    """Reject an entry, with a reason."""
    async with services(ctx) as svc:
        d = await svc.review.reject(_actor(as_name), entry_id, reason)
        await _sync(svc)
    click.echo(f"rejected {entry_id}" if d.changed else f"{entry_id} was already rejected so")


@entries.command()
@click.argument("entry_id", type=ID)
@click.option("--question", help="The corrected question.")
@click.option("--answer", help="The corrected answer; - reads it from standard input.")
@as_option
@click.pass_context
@run_async
async def edit(
    ctx: click.Context,
    entry_id: int,
    question: str | None,
    answer: str | None,
    as_name: str | None,
) -> None:
    """Correct an entry's question or answer; the expert's own words are kept too."""
    if answer == "-":
        answer = sys.stdin.read()
    async with services(ctx) as svc:
        d = await svc.review.edit(_actor(as_name), entry_id, question=question, answer=answer)
        await _sync(svc)
    click.echo(f"edited {entry_id}" if d.changed else f"{entry_id} already read so")


@entries.command()
@click.argument("entry_id", type=ID)
@click.option("--of", "of_id", type=ID, required=True, help="The entry it repeats.")
@as_option
@click.pass_context
@run_async
async def duplicate(ctx: click.Context, entry_id: int, of_id: int, as_name: str | None) -> None:
    """Mark an entry as a duplicate of another one."""
    async with services(ctx) as svc:
        d = await svc.review.mark_duplicate(_actor(as_name), entry_id, of_id)
        await _sync(svc)
    click.echo(f"{entry_id} is a duplicate of {d.entry.duplicate_of}")


@entries.command("flag-pii")
@click.argument("entry_id", type=ID)
@click.option("--note", default="", help="What personal data, and where.")
@as_option
@click.pass_context
@run_async
async def flag_pii(ctx: click.Context, entry_id: int, note: str, as_name: str | None) -> None:
    """Flag an entry as holding personal data."""
    async with services(ctx) as svc:
        await svc.review.flag_pii(_actor(as_name), entry_id, note)
        await _sync(svc)
    click.echo(f"flagged {entry_id}")


@entries.command()
@click.argument("text")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--guide", help="Only entries from this guide.")
@click.option("-n", "limit", type=COUNT, default=10, show_default=True, help="How many results.")
@guild_option
@click.pass_context
@run_async
async def search(
    ctx: click.Context, text: str, status: str | None, guide: str | None, limit: int, scope
) -> None:
    """Find entries by meaning, best first: id, similarity, status, guide, question, answer."""
    async with services(ctx) as svc:
        hits = await view(svc, scope).review.search(text, status=status, guide=guide, n=limit)
    if not hits:
        click.echo("nothing found", err=True)
    for h in hits:
        click.echo(
            plain(
                f"{h.entry_id}\t{h.similarity:.3f}\t{h.status}\t{h.guide}\t"
                f"{_short(h.question, 70)}\t{_short(h.answer, 80)}"
            )
        )


@entries.command()
@as_option
@click.pass_context
@run_async
async def undo(ctx: click.Context, as_name: str | None) -> None:
    """Take back your last decision or edit (again to go further back)."""
    async with services(ctx) as svc:
        d = await svc.review.undo(_actor(as_name))
        await _sync(svc)
    if d.changed:
        click.echo(f"undone on entry {d.entry.entry_id}: now {d.entry.status}")
    else:
        click.echo(f"entry {d.entry.entry_id} was already undone")


@entries.command()
@click.option("--chart", type=click.Path(dir_okay=False), help="Also write a PNG chart here.")
@guild_option
@click.pass_context
@run_async
async def stats(ctx: click.Context, chart: str | None, scope) -> None:
    """Review progress: counts by status and guide, backlog, decisions per day and curator."""

    async with services(ctx) as svc:
        st = await view(svc, scope).review.stats()
    s = st.by_status
    click.echo(
        f"entries: {s.total}  pending {s.pending}, approved {s.approved}, "
        f"rejected {s.rejected}, duplicate {s.duplicate}; flagged for personal data {st.flagged_pii}"
    )
    if st.backlog_by_guide:
        click.echo(
            "pending by guide: " + ", ".join(f"{g} {n}" for g, n in st.backlog_by_guide.items())
        )
    days = st.decisions_per_day
    click.echo(
        f"decisions in the last {len(days)} days: {sum(d.decisions for d in days)}"
        f" (today {days[-1].decisions})"
    )
    if st.decisions_by_curator:
        click.echo(
            plain(
                "by curator: " + ", ".join(f"{c} {n}" for c, n in st.decisions_by_curator.items())
            )
        )
    if chart:
        await write_out(Path(chart), await render_chart(st))
        click.echo(f"chart written to {chart}")


@click.command()
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (UTC).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included.")
@click.option(
    "--csv", "csv_path", type=click.Path(dir_okay=False), help="Write CSV here (- for stdout)."
)
@click.option(
    "--mark-paid",
    "paid",
    metavar="PSEUDONYM",
    help="Record that a forgotten expert's pay (kept under their pseudonym) was paid.",
)
@guild_option
@as_option
@click.pass_context
@run_async
async def payouts(
    ctx: click.Context,
    start: datetime | None,
    end: datetime | None,
    csv_path: str | None,
    paid: str | None,
    scope,
    as_name: str | None,
) -> None:
    """What each expert is owed for interviews started in the period.

    The figures are the ones experts see with /me earnings. Experts who asked to be
    forgotten are listed by pseudonym (their pay records keep hours and amounts, nothing
    else), with whether it was paid.

    \b
    Examples:
      tacit payouts --from 2026-11-01 --to 2026-11-30
      tacit payouts --from 2026-11-01 --to 2026-11-30 --csv november.csv
      tacit payouts --guild 123456789012345678
      tacit payouts --mark-paid expert-3f2a9c1b7d0e
    """
    since = start.replace(tzinfo=UTC) if start else None
    until = end.replace(tzinfo=UTC) + timedelta(days=1) if end else None
    async with services(ctx) as svc:
        if paid:
            n = await view(svc, scope).experts.mark_paid(paid, actor=_actor(as_name))
            click.echo(
                f"{paid}: {n} pay record(s) marked paid" if n else f"{paid} was paid already"
            )
            return
        review = view(svc, scope).review
        if csv_path:
            data = await review.payouts_csv(since, until)
            rows = None
        else:
            rows = await review.payouts(since, until)
    if csv_path == "-":
        click.echo(data, nl=False)
        return
    if csv_path:
        await write_out(Path(csv_path), data.encode("utf-8"))
        click.echo(f"{data.count(chr(10)) - 1} experts written to {csv_path}")
        return
    if not rows:
        click.echo("no interviews in that period", err=True)
        return

    table = Table("expert", "pseudonym", "hours", "interviews", "accepted", "rate", "amount")
    for r in rows:
        who = f"{r.display_name} (#{r.expert_id})"
        if r.forgotten:
            who = f"{r.display_name}, " + ("paid" if r.paid else "not paid yet")
        table.add_row(
            cell(who),
            r.pseudonym,
            f"{r.hours:.2f}",
            str(r.interviews),
            f"{r.entries_accepted}/{r.entries_total}",
            r.rate_note,
            f"{r.amount:.2f} {r.currency}",
        )
    Console().print(table)
    click.echo(f"total: {sum(r.amount for r in rows):.2f} {rows[0].currency}")


def _short(text: str, width: int) -> str:
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
                old, new = (_short(v or "", 50) for v in (old, new))
            parts.append(f"{key}: {old!r} -> {new!r}")
    if (ev.after or {}).get("note"):
        parts.append(f"note: {ev.after['note']!r}")
    if (ev.after or {}).get("undoes"):
        parts.append(f"(undoes #{ev.after['undoes']})")
    return "; ".join(parts)


COMMANDS: list[click.Command] = [entries, payouts]
