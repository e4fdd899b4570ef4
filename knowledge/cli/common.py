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
from knowledge.storage import Scope

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


class ScopeParam(click.ParamType):
    """`--guild`: a server id, `terminal` (interviews from the terminal) or `all`."""

    name = "guild"

    def convert(self, value, param, ctx) -> Scope:
        if isinstance(value, Scope):
            return value
        try:
            return Scope.parse(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


guild_option = click.option(
    "--guild",
    "scope",
    type=ScopeParam(),
    metavar="ID",
    help="Only this Discord server's data (its id), or `terminal`. Default: everything.",
)


def view(svc, scope: Scope | None):
    """The operator's view of everything, or one server's (`--guild`)."""
    return svc if scope is None or scope.all else svc.tenant(scope)


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
