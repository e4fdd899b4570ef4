"""`tacit bot`: the Discord bot's command, registered with the tacit CLI by an entry point."""

from __future__ import annotations

import click

from bot.__main__ import run
from knowledge.cli.common import log_level, settings_from


@click.command()
@click.option("--sync", is_flag=True, help="Publish the slash commands globally, then run.")
@click.pass_context
def bot(ctx: click.Context, sync: bool) -> None:
    """Run the Discord bot (token from DISCORD_TOKEN or [discord] token)."""
    options = ctx.find_root().obj
    settings = settings_from(ctx)
    asked = log_level(options) if options.get("verbose") or options.get("quiet") else None
    code = run(settings, sync=sync, log_level=asked, log_json=options.get("log_json"))
    if code:
        raise SystemExit(code)
