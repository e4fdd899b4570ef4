"""Logging for every front-end: one stderr handler, text or JSON lines, secrets redacted.

The command line and the bot configure logging here. Every secret the settings know (the
Discord token, the LLM's API key, the database password, and the provider keys in the
environment) is replaced by `[redacted]` in every line, whatever logged it, tracebacks included.
"""

from __future__ import annotations

import logging
import os
import sys

from pythonjsonlogger.json import JsonFormatter

from knowledge.config import Settings

REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SHORT_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Environment variables whose values are credentials wherever they appear.
SECRET_VARIABLES = ("DISCORD_TOKEN", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY")
_MIN_SECRET = 6  # shorter values would redact ordinary words


class _Redacting:
    """Mixin for a formatter: the formatted line with every known secret replaced."""

    secrets: tuple[str, ...] = ()

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)  # type: ignore[misc]
        for secret in self.secrets:
            line = line.replace(secret, REDACTED)
        return line


class RedactingFormatter(_Redacting, logging.Formatter):
    pass


class RedactingJsonFormatter(_Redacting, JsonFormatter):
    pass


def secrets_of(settings: Settings | None) -> tuple[str, ...]:
    """Every credential the settings and the environment hold, longest first."""
    found: set[str] = set()
    if settings is not None:
        for secret in (settings.discord.token, settings.llm.api_key):
            if secret is not None:
                found.add(secret.get_secret_value())
        try:
            from sqlalchemy.engine import make_url

            password = make_url(settings.database.url).password
            if password:
                found.add(str(password))
        except Exception:  # an unparseable URL is reported elsewhere
            pass
    for var in SECRET_VARIABLES:
        if os.environ.get(var):
            found.add(os.environ[var])
    return tuple(sorted((s.strip() for s in found if len(s.strip()) >= _MIN_SECRET), key=len)[::-1])


def is_ours(handler: logging.Handler) -> bool:
    """Whether `configure` installed this handler (others belong to a test runner, say)."""
    return getattr(handler, "_tacit", False)


def formatter(*, json: bool, settings: Settings | None = None, short: bool = False):
    if json:
        fmt: logging.Formatter = RedactingJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "asctime": "time"},
        )
    else:
        fmt = RedactingFormatter(SHORT_FORMAT if short else TEXT_FORMAT)
    fmt.secrets = secrets_of(settings)
    return fmt


def configure(
    level: int | str,
    *,
    json: bool = False,
    settings: Settings | None = None,
    short: bool = False,
) -> logging.Handler:
    """Send every log line to stderr at `level`, through one redacting handler.

    Called again (settings known at last, -v given), it replaces its own handler and keeps
    any other (a test runner's).
    """
    lvl = logging.getLevelName(level) if isinstance(level, str) else level
    root = logging.getLogger()
    for h in list(root.handlers):
        if is_ours(h):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._tacit = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(json=json, settings=settings, short=short))
    root.addHandler(handler)
    root.setLevel(lvl)
    # At DEBUG discord.py's HTTP logger prints request bodies, which hold experts' answers;
    # chatty libraries stay at WARNING unless asked for DEBUG.
    logging.getLogger("discord.http").setLevel(max(logging.INFO, lvl))
    for name in ("httpx", "httpcore", "chromadb", "urllib3", "asyncio", "aiosqlite"):
        logging.getLogger(name).setLevel(logging.DEBUG if lvl <= logging.DEBUG else logging.WARNING)
    return handler
