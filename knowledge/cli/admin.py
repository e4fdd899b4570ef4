"""Operator commands: guides, interviews, stats, the database, the vector index, forgetting."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from knowledge.cli.common import (
    COUNT,
    UserError,
    cell,
    duration,
    login,
    plain,
    run_async,
    settings_from,
)
from knowledge.experts import expert_actor
from knowledge.guides import GuideError
from knowledge.ops.counts import collect
from knowledge.ops.doctor import quick_check
from knowledge.ops.tenancy import assign_guild
from knowledge.services import load_guides, open_services
from knowledge.storage import upgrade
from knowledge.vocab import Platform


@click.command()
@click.pass_context
def guides(ctx: click.Context) -> None:
    """List the interview guides with their step and question counts."""

    try:
        lib = load_guides(settings_from(ctx))
    except GuideError as e:
        raise UserError(str(e), 2) from None
    table = Table("slug", "title", "steps", "questions", "version", box=None)
    for g in lib:
        table.add_row(
            cell(g.slug), cell(g.title), str(len(g.steps)), str(len(g.questions)), str(g.version)
        )
    Console().print(table)


@click.command()
@click.option("--status", type=click.Choice(["active", "paused", "completed", "ended"]))
@click.option("--limit", type=COUNT, default=50, show_default=True)
@click.pass_context
@run_async
async def interviews(ctx: click.Context, status: str | None, limit: int) -> None:
    """List interviews, most recent first (id first)."""

    async with open_services(settings_from(ctx), background=False) as svc:
        rows = await svc.engine.list(status=status, limit=limit)
    table = Table(
        "id", "expert", "guide", "status", "progress", "active", "last activity", box=None
    )
    for r in rows:
        table.add_row(
            str(r.id),
            cell(r.expert_name),
            cell(r.guide_slug),
            r.status,
            f"{r.position + 1}/{r.total}",
            duration(r.active_seconds),
            r.last_activity_at.strftime("%Y-%m-%d %H:%M"),
        )
    if rows:
        Console().print(table)
    else:
        click.echo("no interviews yet: start one with `tacit chat`")


@click.command()
@click.pass_context
@run_async
async def stats(ctx: click.Context) -> None:
    """Counts of experts, interviews and entries, and what the vector index still owes."""

    async with open_services(settings_from(ctx), background=False) as svc:
        st = await collect(svc)
        problems = await quick_check(svc)
    c = Console()
    c.print(f"experts: {st.experts}   interviews: {st.interviews}   entries: {st.entries}")
    for title, counts in (
        ("interviews by status", st.interviews_by_status),
        ("entries by status", st.entries_by_status),
        ("entries by guide", st.entries_by_guide),
        ("answers by probe type", st.entries_by_probe),
    ):
        if counts:
            c.print(cell(f"{title}: " + ", ".join(f"{k} {v}" for k, v in counts.items())))
    held = "Chroma unreachable" if st.indexed < 0 else f"{st.indexed} in Chroma"
    c.print(f"vector index: {held}, {st.index_pending} waiting", markup=False)
    _point_to_doctor(problems)


def _point_to_doctor(problems: list[str]) -> None:
    for line in problems:
        click.echo(f"tacit: warning: {line}", err=True)
    if problems:
        click.echo("tacit: warning: run `tacit doctor` (`--repair` mends it)", err=True)


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
@run_async
async def db_upgrade(ctx: click.Context) -> None:
    """Apply every migration (safe to run again)."""

    settings = settings_from(ctx)
    await upgrade(settings.database.url)
    click.echo("database is up to date")


@db.command("assign-guild")
@click.argument("guild_id", type=click.IntRange(min=1, max=2**63 - 1))
@click.pass_context
@run_async
async def db_assign_guild(ctx: click.Context, guild_id: int) -> None:
    """Give Discord experts that belong to no server (stored before servers were told apart,
    and migrated without [discord] home_guild_id) to this server, with their interviews and
    entries. Until then only the command line sees them."""
    async with open_services(settings_from(ctx), background=False) as svc:
        done = await assign_guild(svc.db, guild_id)
        await svc.indexer.sync()
    click.echo(
        f"server {guild_id}: {done.experts} experts, {done.interviews} interviews, "
        f"{done.entries} entries"
    )
    for user in done.skipped:
        click.echo(
            f"tacit: warning: Discord user {user} already has a record in server {guild_id}: "
            "their older one was left without a server",
            err=True,
        )


@click.group()
def index() -> None:
    """The Chroma vector index."""


@index.command("sync")
@click.pass_context
@run_async
async def index_sync(ctx: click.Context) -> None:
    """Index every entry Chroma does not hold yet (after Chroma was down, or a new model)."""

    async with open_services(settings_from(ctx), background=False) as svc:
        r = await svc.indexer.sync()
        problems = [] if r.error else await quick_check(svc)
    click.echo(f"indexed {r.indexed}, removed {r.deleted}, still waiting {r.pending}")
    _point_to_doctor(problems)
    if r.error:
        raise UserError(r.error, 1)


@click.command()
@click.option("--name", help="The expert's name as given to `tacit chat` (default: login).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@run_async
async def forget(ctx: click.Context, name: str | None, yes: bool) -> None:
    """Delete everything stored about a terminal expert: SQL rows, vectors, and their words in
    export files still on disk. What they are owed stays, under their pseudonym
    (`tacit payouts`)."""

    name = name or login()
    async with open_services(settings_from(ctx), background=False) as svc:
        records = await svc.experts.person(Platform.terminal, name)
        if not records:
            raise UserError(f"no terminal expert named {name!r}")
        if not yes and not click.confirm(
            f"Delete every answer and record of {name!r}? This cannot be undone", err=True
        ):
            raise UserError("nothing deleted")
        done = await svc.experts.forget_all(
            [r.id for r in records], actor=expert_actor(records[0].id)
        )
        await svc.indexer.sync()
    click.echo(plain(f"forgotten: {name} ({done.entries} entries removed)"))
    copies = done.copies
    if copies is not None and copies.exports:
        click.echo(
            f"  taken out of {len(copies.exports)} export(s): {copies.examples_removed} examples, "
            f"{len(copies.files_rewritten)} files rewritten, {len(copies.files_deleted)} deleted"
        )
        for path in copies.files_changed:
            click.echo(
                f"tacit: warning: {path} changed since tacit wrote it: not touched", err=True
            )
    if done.interviews:  # pay records are kept, whatever the amount
        click.echo(
            f"  still owed: {done.owed:.2f} {done.currency}, kept as "
            f"{', '.join(done.pseudonyms)} in `tacit payouts`"
        )
