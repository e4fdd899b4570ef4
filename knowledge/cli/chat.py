"""`tacit chat` and `tacit start`: an interview in the terminal, or the bot when configured."""

from __future__ import annotations

import click

from knowledge.cli.common import UserError, login, run_async, settings_from
from knowledge.cli.terminal import TerminalInterview


@click.command()
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
    if guide_slug is not None and not guide_slug.strip():
        raise UserError("--guide is empty: give a guide's slug (see `tacit guides`)", 2)
    if name is not None and not name.strip():
        raise UserError("--name is empty: give your name, or leave it out for your login", 2)
    settings = settings_from(ctx)
    name = name or login()
    await TerminalInterview(settings, name=name).run(
        guide_slug=guide_slug, consent=consent, resume=resume
    )


@click.command()
@click.pass_context
def start(ctx: click.Context) -> None:
    """The main job: the Discord bot when a token is configured, else `tacit chat`."""
    settings = settings_from(ctx)
    if settings.discord.token is not None and settings.discord.token.get_secret_value():
        # The bot registers its command through the "tacit.commands" entry point: the core
        # never imports the Discord adapter.
        bot = ctx.find_root().command.get_command(ctx, "bot")
        if bot is None:
            raise UserError("a Discord token is set but the bot is not installed", 2)
        ctx.invoke(bot)
    else:
        click.echo("No Discord token configured: starting an interview in the terminal.", err=True)
        ctx.invoke(chat)
