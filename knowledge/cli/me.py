"""`tacit me ...`: a terminal expert's own entries: list, correct, withdraw (as /me in Discord)."""

from __future__ import annotations

import sys

import click

from knowledge.cli.common import ID, UserError, login, plain, run_async, services
from knowledge.vocab import Platform

name_option = click.option(
    "--name", help="Your name as the expert, as given to `tacit chat` (default: login name)."
)


async def _mine(svc, name: str) -> list[int]:
    records = await svc.experts.person(Platform.terminal, name)
    if not records:
        raise UserError(f"no terminal expert named {name!r}")
    return [r.id for r in records]


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@click.group()
def me() -> None:
    """Your own entries, as a terminal expert: see them, correct one, withdraw one.

    \\b
    Examples:
      tacit me entries --name "Ana Ruiz"
      tacit me correct 12 --name "Ana Ruiz" --answer "What I meant is ..."
      tacit me correct 12 --name "Ana Ruiz" --answer - < better.txt
      tacit me withdraw 12 --name "Ana Ruiz"
    """


@me.command("entries")
@name_option
@click.pass_context
@run_async
async def entries(ctx: click.Context, name: str | None) -> None:
    """Your entries, one a line: id, status, question, the first words of your answer.

    ~ after the status marks an entry you corrected.
    """
    name = name or login()
    async with services(ctx) as svc:
        rows = await svc.experts.own_entries(await _mine(svc, name))
    if not rows:
        click.echo("you have no entries", err=True)
    for e in rows:
        click.echo(
            plain(
                f"{e.entry_id}\t{e.status}{'~' if e.corrected else ''}\t"
                f"{_short(e.question, 70)}\t{_short(e.answer, 60)}"
            )
        )


@me.command()
@click.argument("entry_id", type=ID)
@click.option("--answer", required=True, help="Your corrected answer; - reads it from stdin.")
@name_option
@click.pass_context
@run_async
async def correct(ctx: click.Context, entry_id: int, answer: str, name: str | None) -> None:
    """Correct your answer: your first answer is kept too, and curators review it again."""
    if answer == "-":
        answer = sys.stdin.read()
    name = name or login()
    async with services(ctx) as svc:
        done = await svc.experts.correct(await _mine(svc, name), entry_id, answer)
        await svc.indexer.sync()
    if done.changed:
        click.echo(f"corrected {entry_id}: it waits for review again")
    else:
        click.echo(f"{entry_id} already reads so: nothing changed")


@me.command()
@click.argument("entry_id", type=ID)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@name_option
@click.pass_context
@run_async
async def withdraw(ctx: click.Context, entry_id: int, yes: bool, name: str | None) -> None:
    """Withdraw one entry: deleted, and taken out of the datasets written with it."""
    name = name or login()
    async with services(ctx) as svc:
        mine = await _mine(svc, name)
        await svc.experts.own_entry(mine, entry_id)  # refuses another's before asking
        if not yes and not click.confirm(
            f"Delete entry {entry_id} and take it out of every dataset?", err=True
        ):
            raise UserError("nothing withdrawn")
        done = await svc.experts.withdraw(mine, entry_id)
        await svc.indexer.sync()
    click.echo(f"withdrawn: entry {entry_id}")
    copies = done.copies
    if copies is not None and copies.exports:
        click.echo(
            f"  taken out of {len(copies.exports)} export(s): {copies.examples_removed} examples "
            f"removed, {len(copies.files_rewritten) + len(copies.files_deleted)} files changed"
        )
        for path in copies.files_changed:
            click.echo(
                f"tacit: warning: {path} changed since tacit wrote it: not touched", err=True
            )
    click.echo("copies of datasets already downloaded elsewhere cannot be recalled")


COMMANDS: list[click.Command] = [me]
