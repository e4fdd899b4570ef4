"""`tacit entries ...` and `tacit payouts`: curator review from the terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from knowledge.cli.common import (
    COUNT,
    ID,
    UserError,
    guild_option,
    login,
    plain,
    run_async,
    services,
    view,
    write_out,
)
from knowledge.cli.payouts import payouts
from knowledge.cli.review_text import agreement_lines, detail, short
from knowledge.experts import person_actor
from knowledge.review import ReviewError, render_chart
from knowledge.vocab import EntryStatus, values

STATUSES = values(EntryStatus)


def _fail(message: str, code: int = 1) -> click.ClickException:
    return UserError(message, code)


def _actor(name: str | None) -> str:
    return person_actor("cli", name or login())


def _scores(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        name, eq, score = v.partition("=")
        if not eq or not name.strip() or not score.strip():
            raise _fail(f"--score {v!r}: give it as NAME=VALUE, e.g. --score specificity=4")
        out[name.strip()] = score.strip()
    return out


score_option = click.option(
    "--score",
    "scores",
    multiple=True,
    metavar="NAME=VALUE",
    help="A rubric score of the entry's guide (repeatable), e.g. --score specificity=4.",
)


def _outcome(d, done: str) -> str:
    """What a decision did: final at once, recorded blind, or sent to adjudication."""
    eid = d.entry.entry_id
    if d.outcome == "waiting":
        left = d.reviews_left
        return (
            f"recorded your decision on {eid}: it needs {left} more review"
            f"{'s' if left != 1 else ''} by other curators before it is final"
        )
    if d.outcome == "disputed":
        return f"recorded your decision on {eid}: the reviews disagree, so it goes to adjudication"
    return done


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
      tacit entries next
      tacit entries show 12
      tacit entries approve 12 13 14
      tacit entries approve 12 --score specificity=4 --score correctness=5
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
                f"{short(e.question, 90)}"
            )
        )


@entries.command()
@click.argument("entry_id", type=ID)
@as_option
@click.pass_context
@run_async
async def show(ctx: click.Context, entry_id: int, as_name: str | None) -> None:
    """An entry in full, with every decision and edit made to it.

    While the entry waits for blind reviews you have not given, other curators' decisions,
    edits and reasons are not shown.
    """
    async with services(ctx) as svc:
        d = await svc.review.entry(entry_id, _actor(as_name))
    click.echo(plain(detail(d)))


@entries.command("next")
@click.option("--guide", help="Only entries from this guide.")
@click.option("--expert", type=ID, help="Only this expert's entries (expert id).")
@as_option
@click.pass_context
@run_async
async def next_entry(
    ctx: click.Context, guide: str | None, expert: int | None, as_name: str | None
) -> None:
    """Take the next entry to review (adjudications first) and show it; it is yours for
    [review] claim_minutes. Decide with approve, reject or duplicate."""
    async with services(ctx) as svc:
        card = await svc.review.next(_actor(as_name), guide=guide, expert_id=expert)
    if card is None:
        click.echo("nothing left to review", err=True)
        return
    click.echo(plain(detail(card)))


@entries.command()
@click.argument("entry_ids", type=ID, nargs=-1, required=True)
@score_option
@as_option
@click.pass_context
@run_async
async def approve(
    ctx: click.Context, entry_ids: tuple[int, ...], scores: tuple[str, ...], as_name: str | None
) -> None:
    """Approve entries for the datasets (final once the guide's reviews agree)."""

    actor, failed, given = _actor(as_name), 0, _scores(scores)
    async with services(ctx) as svc:
        for eid in entry_ids:
            try:
                d = await svc.review.approve(actor, eid, scores=given or None)
            except ReviewError as e:
                click.echo(f"tacit: error: {e}", err=True)
                failed += 1
                continue
            click.echo(
                _outcome(d, f"approved {eid}") if d.changed else f"{eid} was already approved"
            )
        await _sync(svc)
    if failed:
        raise _fail(f"{failed} of {len(entry_ids)} entries not approved")


@entries.command()
@click.argument("entry_id", type=ID)
@click.option("--reason", required=True, help="Why: shown to other curators and kept.")
@score_option
@as_option
@click.pass_context
@run_async
async def reject(
    ctx: click.Context, entry_id: int, reason: str, scores: tuple[str, ...], as_name: str | None
) -> None:
    """Reject an entry, with a reason."""
    given = _scores(scores)
    async with services(ctx) as svc:
        d = await svc.review.reject(_actor(as_name), entry_id, reason, scores=given or None)
        await _sync(svc)
    click.echo(
        _outcome(d, f"rejected {entry_id}") if d.changed else f"{entry_id} was already rejected so"
    )


@entries.command()
@click.argument("entry_id", type=ID)
@click.argument("scores", nargs=-1, required=True, metavar="NAME=VALUE...")
@as_option
@click.pass_context
@run_async
async def score(ctx: click.Context, entry_id: int, scores: tuple[str, ...], as_name: str | None):
    """Score an entry on its guide's rubric, e.g. `tacit entries score 12 specificity=4`."""
    async with services(ctx) as svc:
        d = await svc.review.score(_actor(as_name), entry_id, _scores(scores))
    click.echo(f"scored {entry_id}" if d.changed else f"{entry_id} already had those scores")


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
    if d.changed and d.outcome in ("waiting", "pending") and d.entry.status == "pending":
        blind = svc.review.reviews_needed(d.entry.guide) > 1
        if blind:
            click.echo(f"edited {entry_id}: your edit is part of your decision, applied when final")
            return
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
    click.echo(_outcome(d, f"{entry_id} is a duplicate of {d.entry.duplicate_of}"))


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
                f"{short(h.question, 70)}\t{short(h.answer, 80)}"
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
    for line in agreement_lines(st.agreement):
        click.echo(line)
    if chart:
        await write_out(Path(chart), await render_chart(st))
        click.echo(f"chart written to {chart}")


COMMANDS: list[click.Command] = [entries, payouts]
