"""`tacit payouts`: what each expert is owed, from the terminal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from knowledge.cli.common import cell, guild_option, login, run_async, services, view, write_out
from knowledge.experts import person_actor

as_option = click.option(
    "--as",
    "as_name",
    metavar="NAME",
    help="Curator name recorded in the audit log (default: your login name).",
)


def _actor(name: str | None) -> str:
    return person_actor("cli", name or login())


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
