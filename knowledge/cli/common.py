"""What every command shares: one-line user errors, running async commands, settings, services."""

from __future__ import annotations

import asyncio
import functools
import getpass
import logging
import sys
from collections.abc import Callable

import click

from knowledge.config import ConfigError, Settings, load_settings
from knowledge.errors import TacitError
from knowledge.services import open_services

log = logging.getLogger(__name__)


class UserError(click.ClickException):
    """One clear line on stderr and a non-zero exit, never a traceback."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None) -> None:
        click.echo(f"tacit: error: {self.format_message()}", err=True)


def run_async(fn: Callable) -> Callable:
    """Run an async command; every TacitError becomes one line and its exit code.

    The one place the command line maps the core's refusals.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return asyncio.run(fn(*args, **kwargs))
        except TacitError as e:
            raise UserError(str(e), e.exit_code) from None
        except KeyboardInterrupt:
            raise UserError("interrupted", 130) from None

    return wrapper


def settings_from(ctx: click.Context) -> Settings:
    """The settings of this invocation (the root group's --config), or exit 2 naming the key."""
    try:
        return load_settings(ctx.find_root().obj.get("config"))
    except ConfigError as e:
        raise UserError(str(e), 2) from None


def services(ctx: click.Context):
    """The core for one command, without the background indexer: `async with services(ctx)`."""
    return open_services(settings_from(ctx), background=False)


def setup_logging() -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def login() -> str:
    return getpass.getuser()


def duration(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"
