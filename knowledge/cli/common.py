"""What every command shares: one-line user errors, running async commands, settings, services."""

from __future__ import annotations

import asyncio
import functools
import getpass
import logging
import re
from collections.abc import Callable
from pathlib import Path

import click
import sqlalchemy.exc
from rich.text import Text

from knowledge.config import ConfigError, Settings, load_settings
from knowledge.errors import TacitError
from knowledge.ops import logs, metrics
from knowledge.services import open_services
from knowledge.storage import Scope
from knowledge.storage.db import unavailable

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
            metrics.error(e)
            raise UserError(str(e), e.exit_code) from None
        except KeyboardInterrupt:
            raise UserError("interrupted", 130) from None
        except sqlalchemy.exc.DatabaseError as e:
            if not damaged(e):
                raise
            where = _database_file(args[0] if args else None)
            raise UserError(
                f"{where} is damaged ({first_line(e)}): restore a backup with "
                "`tacit db restore PATH` (see `tacit db restore --help`)",
                2,
            ) from None
        except OSError as e:
            if e.filename is None:  # not about a path the user gave
                reason = unavailable(e)
                if reason is None:
                    raise
                raise UserError(f"the database cannot be reached: {reason}", 2) from None
            raise UserError(f"{e.filename}: {e.strerror or e}") from None
        except Exception as e:  # the database went away during the command
            reason = unavailable(e)
            if reason is None:
                raise
            raise UserError(f"the database cannot be reached: {reason}", 2) from None

    return wrapper


def damaged(e: BaseException) -> bool:
    """Whether a database error says the SQLite file is damaged or is no database at all."""
    text = str(getattr(e, "orig", e) or "").lower()
    return "malformed" in text or "not a database" in text or "file is encrypted" in text


def first_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    return (str(orig).splitlines() or [type(orig).__name__])[0]


def _database_file(first) -> str:
    """The database a command used, from its context (or the settings it was given)."""
    try:
        settings = first if isinstance(first, Settings) else settings_from(first)
        url = settings.database.url
    except Exception:  # no context: say less rather than fail while reporting a failure
        return "the database"
    return f"the SQLite file {url.split(':///', 1)[-1]}" if ":///" in url else "the database"


async def write_out(path: Path, data: bytes) -> None:
    """Write a file the user named, or one clear line saying why it cannot be written."""
    try:
        await asyncio.to_thread(path.write_bytes, data)
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror or e}") from None


def settings_from(ctx: click.Context) -> Settings:
    """The settings of this invocation (the root group's --config), or exit 2 naming the key.

    The first time, logging is set up again with what the settings say (level, JSON, secrets).
    """
    obj = ctx.find_root().obj
    try:
        settings = load_settings(obj.get("config"))
    except ConfigError as e:
        raise UserError(str(e), 2) from None
    if not obj.get("logging_from_settings"):
        obj["logging_from_settings"] = True
        setup_logging(obj, settings)
    return settings


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


class IdParam(click.IntRange):
    """An id of a row (entry, expert, interview): a whole number SQL can hold, or one line."""

    name = "id"
    LARGEST = 2**31 - 1  # ids are 32-bit integer columns

    def __init__(self) -> None:
        super().__init__(1, self.LARGEST)

    def convert(self, value, param, ctx) -> int:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(
                f"{value!r} is not an id (a whole number from 1 to {self.LARGEST})", param, ctx
            )


class CountParam(click.IntRange):
    """How many rows to show: 1 to a million."""

    name = "count"

    def __init__(self) -> None:
        super().__init__(1, 1_000_000)


ID = IdParam()
COUNT = CountParam()

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


_LEVELS = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]


def log_level(options: dict, settings: Settings | None = None) -> int:
    """-v/-q first; else log_level when the config or TACIT_LOG_LEVEL sets it; else WARNING."""
    shift = options.get("quiet", 0) - options.get("verbose", 0)
    if shift:
        return _LEVELS[max(0, min(len(_LEVELS) - 1, _LEVELS.index(logging.WARNING) + shift))]
    if settings is not None and "log_level" in settings.model_fields_set:
        return logging.getLevelName(settings.log_level)
    return logging.WARNING


def setup_logging(options: dict, settings: Settings | None = None) -> None:
    """Log to stderr at the level asked for, as text or JSON lines, secrets redacted."""
    json = options.get("log_json")
    if json is None:
        json = settings.logging.json_lines if settings is not None else False
    logs.configure(log_level(options, settings), json=json, settings=settings, short=True)


# C0/C1 control characters but newline and tab, DEL, and the bidirectional overrides: in a
# terminal they recolour, move the cursor, or reorder what the curator reads.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(text: object) -> str:
    """Text from users as it may reach a terminal: control sequences shown, not obeyed."""
    return _UNSAFE.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", str(text)
    )


def cell(text: object) -> Text:
    """Text from users for rich tables and panels: never read as markup, controls shown."""
    return Text(plain(text))


def login() -> str:
    return getpass.getuser()


def duration(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"
