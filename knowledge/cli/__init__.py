"""The `tacit` command line: a thin layer over the services, one module per command group.

`common` maps the core's errors to one line and an exit code; `chat` runs interviews (the
terminal front-end is `terminal`), `admin` the operator's commands, `review` the curators',
`export` the datasets and their registry, `me` a terminal expert's own entries, `ops` the
doctor and backups.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import click

from knowledge.cli import admin, chat, export, me, ops, review, worker
from knowledge.cli.common import setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    envvar="TACIT_CONFIG",
    help="config.toml to read (default ./config.toml, else the embedded defaults).",
)
@click.option("-v", "--verbose", count=True, help="More log lines: -v info, -vv debug.")
@click.option("-q", "--quiet", count=True, help="Fewer log lines: -q errors only.")
@click.option(
    "--log-json", is_flag=True, default=None, help="Log JSON lines ([logging] json = true)."
)
@click.version_option(package_name="tacit")
@click.pass_context
def cli(
    ctx: click.Context, config: str | None, verbose: int, quiet: int, log_json: bool | None
) -> None:
    """tacit: interview professionals, keep their tacit knowledge, export training data.

    \b
    Examples:
      tacit chat --guide air-traffic-controller --name "Ana Ruiz"
      printf 'answer one\\n/skip\\n' | tacit chat --guide physician --consent
      tacit chat --resume
      tacit guides
      tacit -v doctor          # with info log lines (-vv: debug)

    Logging: warnings and errors only, unless log_level is set (config.toml or
    TACIT_LOG_LEVEL) or -v/-q are given; secrets never appear in a log line.
    """
    ctx.ensure_object(dict)
    ctx.obj.update(config=config, verbose=verbose, quiet=quiet, log_json=log_json)
    setup_logging(ctx.obj)


for command in (
    chat.chat,
    chat.start,
    admin.guides,
    admin.interviews,
    admin.stats,
    admin.db,
    admin.index,
    admin.forget,
    *review.COMMANDS,
    *export.COMMANDS,
    *me.COMMANDS,
    *ops.COMMANDS,
    worker.worker,
):
    cli.add_command(command)

# Front-ends installed beside the core add their commands here (the bot adds `tacit bot`).
for point in entry_points(group="tacit.commands"):
    cli.add_command(point.load(), point.name)


def main() -> None:
    cli(prog_name="tacit")


if __name__ == "__main__":
    main()
