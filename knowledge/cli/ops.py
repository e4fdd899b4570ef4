"""Operator commands that look after the store: `tacit doctor`, `tacit db backup|restore`."""

from __future__ import annotations

from pathlib import Path

import click

from knowledge.cli.admin import db
from knowledge.cli.common import UserError, run_async, settings_from
from knowledge.ops import backup as backups
from knowledge.ops.doctor import check, repair
from knowledge.services import open_services


@click.command()
@click.option("--repair", "mend", is_flag=True, help="Mend what is found (see below).")
@click.pass_context
@run_async
async def doctor(ctx: click.Context, mend: bool) -> None:
    """Compare SQL with Chroma, find interviews stopped between two steps and migrations not
    applied. Exit 1 when something is off (and, with --repair, still off afterwards).

    --repair applies the migrations, puts back into Chroma the vectors SQL holds (nothing is
    encoded again), encodes only entries SQL has no vector for, deletes vectors whose entries
    are gone, and finishes the interrupted steps of interviews.

    \b
    Examples:
      tacit doctor
      tacit doctor --repair     # after deleting or restoring the Chroma folder
    """
    settings = settings_from(ctx)
    async with open_services(settings, background=False, migrate=False) as svc:
        found = await check(svc)
        _report(found)
        if not mend:
            if not found.ok:
                click.echo("run `tacit doctor --repair` to mend this", err=True)
                ctx.exit(1)
            return
        done = await repair(svc, found, home_guild_id=settings.discord.home_guild_id)
        if done.migrated:
            click.echo(f"applied migrations: {', '.join(done.migrated)}")
        click.echo(
            f"repaired: {done.reindexed} vectors put back from SQL, {done.encoded} encoded, "
            f"{done.orphans_deleted} orphan vectors deleted, {done.interviews} interviews resumed"
        )
        after = await check(svc)
    if not after.ok:
        for line in after.problems():
            click.echo(f"still off: {line}", err=True)
        ctx.exit(1)
    click.echo("all good")


def _report(c) -> None:
    chroma = (
        "unreachable"
        if c.vectors is None
        else f"{c.vectors} vectors (collection model: {c.collection_model or 'not recorded'})"
    )
    if not c.migrations:
        click.echo(
            f"SQL: {c.entries} entries, {c.entries - c.without_vector} with a vector "
            f"({c.model}); Chroma: {chroma}; owed to Chroma: {c.outbox}"
        )
    problems = c.problems()
    for line in problems:
        click.echo(f"  - {line}")
    if not problems:
        click.echo("  nothing is off")


@db.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Replace PATH if it exists.")
@click.pass_context
@run_async
async def db_backup(ctx: click.Context, path: Path, yes: bool) -> None:
    """Write a consistent backup of the database to PATH, safe while the bot runs: SQLite's
    online backup API, or `pg_dump -Fc` for PostgreSQL. Chroma needs none: `tacit doctor
    --repair` rebuilds it from SQL.

    \b
    Examples:
      tacit db backup backups/tacit-2026-12-03.db
      tacit db backup /srv/backups/tacit.dump     # PostgreSQL
    """
    done = await backups.backup(settings_from(ctx).database.url, path, overwrite=yes)
    click.echo(f"backed up the {done.kind} database to {done.path} ({done.size:,} bytes)")


@db.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database (required).")
@click.pass_context
@run_async
async def db_restore(ctx: click.Context, path: Path, yes: bool) -> None:
    """Replace the database with the backup at PATH (made by `tacit db backup`). Stop the bot
    first. Afterwards run `tacit doctor --repair` to bring Chroma in step with it.

    \b
    Examples:
      tacit db restore backups/tacit-2026-12-03.db --yes && tacit doctor --repair
    """
    url = settings_from(ctx).database.url
    kind = backups.identify(path)
    if not yes:
        raise UserError(
            f"this replaces everything in the database with {path} ({kind} backup): "
            "run again with --yes"
        )
    await backups.restore(url, path)
    click.echo(f"restored the {kind} database from {path}")
    click.echo("Chroma is not restored: run `tacit doctor --repair` to rebuild it from SQL")


COMMANDS = [doctor]
