"""The `tacit` command line: a thin layer over the services."""

from __future__ import annotations

import asyncio
import functools
import getpass
import logging
import sys
from collections.abc import Callable

import click
from rich.console import Console
from rich.table import Table

from knowledge.config import ConfigError, Settings, load_settings

log = logging.getLogger(__name__)
err = Console(stderr=True)


class UserError(click.ClickException):
    """One clear line on stderr and a non-zero exit, never a traceback."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None) -> None:
        click.echo(f"tacit: error: {self.format_message()}", err=True)


def _known_errors() -> tuple[type[BaseException], ...]:
    from knowledge.embeddings import EmbeddingError
    from knowledge.engine import InterviewError
    from knowledge.guides import GuideError
    from knowledge.storage.db import DatabaseError

    return (ConfigError, GuideError, DatabaseError, EmbeddingError, InterviewError)


def _exit_code(e: BaseException) -> int:
    """2 for configuration and consent problems, 1 for other refusals."""
    return getattr(e, "exit_code", 2)


def run_async(fn: Callable) -> Callable:
    """Run an async command; known errors become one line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return asyncio.run(fn(*args, **kwargs))
        except _known_errors() as e:
            raise UserError(str(e), _exit_code(e)) from None
        except KeyboardInterrupt:
            raise UserError("interrupted", 130) from None

    return wrapper


def settings_from(ctx: click.Context) -> Settings:
    try:
        return load_settings(ctx.obj.get("config"))
    except ConfigError as e:
        raise UserError(str(e), 2) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    envvar="TACIT_CONFIG",
    help="config.toml to read (default ./config.toml, else the embedded defaults).",
)
@click.version_option(package_name="tacit")
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """tacit: interview professionals, keep their tacit knowledge, export training data.

    \b
    Examples:
      tacit chat --guide air-traffic-controller --name "Ana Ruiz"
      printf 'answer one\\n/skip\\n' | tacit chat --guide physician --consent
      tacit chat --resume
      tacit guides
    """
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


# ---- chat ------------------------------------------------------------------------------------


@cli.command()
@click.option("--guide", "guide_slug", help="Guide to follow (see `tacit guides`).")
@click.option("--name", help="Your name as the expert (default: your login name).")
@click.option("--consent", is_flag=True, help="Agree to the consent notice up front.")
@click.option(
    "--resume",
    is_flag=False,
    flag_value="latest",
    default=None,
    metavar="[ID]",
    help="Continue the most recent paused interview, or the one with this id.",
)
@click.pass_context
@run_async
async def chat(
    ctx: click.Context, guide_slug: str | None, name: str | None, consent: bool, resume: str | None
) -> None:
    """Be interviewed in the terminal.

    With a terminal: answers can span several lines; an empty line sends the answer.
    With input piped: each line is one answer. Lines starting with / are commands:
    /skip, /pause, /end (and /status, /help). End of input pauses the interview;
    `tacit chat --resume` continues it.

    \b
    Examples:
      tacit chat --guide sommelier
      tacit chat --resume 12
    """
    from knowledge.terminal import TerminalInterview

    settings = settings_from(ctx)
    name = name or getpass.getuser()
    await TerminalInterview(settings, name=name).run(
        guide_slug=guide_slug, consent=consent, resume=resume
    )


@cli.command()
@click.pass_context
def start(ctx: click.Context) -> None:
    """The main job: the Discord bot when a token is configured, else `tacit chat`."""
    settings = settings_from(ctx)
    if settings.discord.token is not None and settings.discord.token.get_secret_value():
        ctx.invoke(bot)
    else:
        click.echo("No Discord token configured: starting an interview in the terminal.", err=True)
        ctx.invoke(chat)


@cli.command()
@click.option("--sync", is_flag=True, help="Publish the slash commands globally, then run.")
@click.pass_context
def bot(ctx: click.Context, sync: bool) -> None:
    """Run the Discord bot (token from DISCORD_TOKEN or [discord] token)."""
    from bot.__main__ import run

    code = run(settings_from(ctx), sync=sync)
    if code:
        raise SystemExit(code)


# ---- listings --------------------------------------------------------------------------------


@cli.command()
@click.pass_context
def guides(ctx: click.Context) -> None:
    """List the interview guides with their step and question counts."""
    from knowledge.guides import GuideError
    from knowledge.services import load_guides

    try:
        lib = load_guides(settings_from(ctx))
    except GuideError as e:
        raise UserError(str(e), 2) from None
    table = Table("slug", "title", "steps", "questions", "version", box=None)
    for g in lib:
        table.add_row(g.slug, g.title, str(len(g.steps)), str(len(g.questions)), str(g.version))
    Console().print(table)


@cli.command()
@click.option("--status", type=click.Choice(["active", "paused", "completed", "ended"]))
@click.option("--limit", default=50, show_default=True)
@click.pass_context
@run_async
async def interviews(ctx: click.Context, status: str | None, limit: int) -> None:
    """List interviews, most recent first (id first)."""
    from knowledge.services import open_services

    async with open_services(settings_from(ctx), background=False) as svc:
        rows = await svc.engine.list(status=status, limit=limit)
    table = Table(
        "id", "expert", "guide", "status", "progress", "active", "last activity", box=None
    )
    for r in rows:
        table.add_row(
            str(r.id),
            r.expert_name,
            r.guide_slug,
            r.status,
            f"{r.position + 1}/{r.total}",
            _duration(r.active_seconds),
            r.last_activity_at.strftime("%Y-%m-%d %H:%M"),
        )
    if rows:
        Console().print(table)
    else:
        click.echo("no interviews yet: start one with `tacit chat`")


@cli.command()
@click.pass_context
@run_async
async def stats(ctx: click.Context) -> None:
    """Counts of experts, interviews and entries, and what the vector index still owes."""
    from knowledge.services import open_services
    from knowledge.stats import collect

    async with open_services(settings_from(ctx), background=False) as svc:
        st = await collect(svc)
    c = Console()
    c.print(f"experts: {st.experts}   interviews: {st.interviews}   entries: {st.entries}")
    for title, counts in (
        ("interviews by status", st.interviews_by_status),
        ("entries by status", st.entries_by_status),
        ("entries by guide", st.entries_by_guide),
        ("answers by probe type", st.entries_by_probe),
    ):
        if counts:
            c.print(f"{title}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    c.print(f"vector index: {st.indexed} in Chroma, {st.index_pending} waiting")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
@run_async
async def db_upgrade(ctx: click.Context) -> None:
    """Apply every migration (safe to run again)."""
    from knowledge.storage.db import upgrade

    settings = settings_from(ctx.parent)
    await upgrade(settings.database.url)
    click.echo("database is up to date")


@cli.group()
def index() -> None:
    """The Chroma vector index."""


@index.command("sync")
@click.pass_context
@run_async
async def index_sync(ctx: click.Context) -> None:
    """Index every entry Chroma does not hold yet (after Chroma was down, or a new model)."""
    from knowledge.services import open_services

    async with open_services(settings_from(ctx.parent), background=False) as svc:
        r = await svc.indexer.sync()
    click.echo(f"indexed {r.indexed}, removed {r.deleted}, still waiting {r.pending}")
    if r.error:
        raise UserError(r.error, 1)


@cli.command()
@click.option("--name", help="The expert's name as given to `tacit chat` (default: login).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@run_async
async def forget(ctx: click.Context, name: str | None, yes: bool) -> None:
    """Delete everything stored about a terminal expert (SQL rows and vectors)."""
    from knowledge.services import open_services

    name = name or getpass.getuser()
    async with open_services(settings_from(ctx), background=False) as svc:
        ex = await svc.experts.find("terminal", name)
        if ex is None:
            raise UserError(f"no terminal expert named {name!r}")
        if not yes and not click.confirm(
            f"Delete every answer and record of {name!r}? This cannot be undone", err=True
        ):
            raise UserError("nothing deleted")
        n = await svc.experts.forget(ex.id, actor=f"expert:{ex.id}")
        await svc.indexer.sync()
    click.echo(f"forgotten: {name} ({n} entries removed)")


def _duration(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def _register() -> None:
    """Commands kept in their own modules, one per area."""
    from knowledge import cli_export, cli_review

    for module in (cli_review, cli_export):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="tacit")


if __name__ == "__main__":
    main()
