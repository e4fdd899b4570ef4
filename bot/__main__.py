"""Entry point: settings -> services (built once) -> Bot; `tacit bot` or `python -m bot`."""

from __future__ import annotations

import asyncio
import logging
import sys

import aiohttp
import discord
from sqlalchemy.exc import SQLAlchemyError

from bot.client import create_bot
from knowledge.config import ConfigError, Settings, load_settings
from knowledge.guides import GuideError
from knowledge.ops import logs
from knowledge.services import build
from knowledge.storage.db import DatabaseError

log = logging.getLogger(__name__)

PORTAL = "https://discord.com/developers/applications"


class StartupError(Exception):
    """A reason the bot cannot start, phrased as what to do about it."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def run(
    settings: Settings,
    *,
    sync: bool = False,
    log_level: int | str | None = None,
    log_json: bool | None = None,
) -> int:
    """Run the bot until it is stopped; the exit code (0 on a clean stop).

    `sync` publishes the slash commands globally before connecting (Discord takes a while to
    show global changes, so it is a deliberate step, not something every start does).
    """
    token = settings.discord.token.get_secret_value().strip() if settings.discord.token else ""
    if not token:
        return _fail(
            StartupError(
                "no Discord bot token: put it in DISCORD_TOKEN (or [discord] token in "
                f"config.toml); create one under Bot > Reset Token at {PORTAL}",
                2,
            )
        )
    _setup_logging(settings, log_level, log_json)
    try:
        asyncio.run(_main(settings, token, sync=sync))
    except StartupError as e:
        return _fail(e)
    except discord.LoginFailure:
        return _fail(
            StartupError(
                "Discord rejected the bot token: copy a new one (Bot > Reset Token at "
                f"{PORTAL}) into DISCORD_TOKEN"
            )
        )
    except discord.PrivilegedIntentsRequired:
        return _fail(
            StartupError(
                "Discord refused the privileged intents: turn on MESSAGE CONTENT INTENT under "
                f"Bot > Privileged Gateway Intents at {PORTAL}, then start again"
            )
        )
    except (discord.GatewayNotFound, aiohttp.ClientConnectionError) as e:
        return _fail(StartupError(f"cannot reach Discord ({type(e).__name__}): check the network"))
    except KeyboardInterrupt:
        pass
    return 0


async def _main(settings: Settings, token: str, *, sync: bool) -> None:
    try:
        services = await build(settings)
    except (GuideError, ConfigError, DatabaseError) as e:
        raise StartupError(str(e), 2) from None
    except (SQLAlchemyError, OSError) as e:
        raise StartupError(f"cannot open the database (database.url): {_short(e)}") from None
    try:
        async with create_bot(services, sync=sync) as bot:
            await bot.start(token)
    finally:
        await services.close()


def _short(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    return f"{type(orig).__name__}: {str(orig).splitlines()[0] if str(orig) else ''}"


def _fail(e: StartupError) -> int:
    print(f"tacit bot: {e}", file=sys.stderr)
    return e.code


def _setup_logging(settings: Settings, level: int | str | None, json: bool | None) -> None:
    """Text or JSON lines on stderr, every secret of the settings redacted (`ops/logs.py`):
    at log_level unless the command line asked for another (-v/-q, --log-json)."""
    lvl = settings.log_level if level is None else level
    root = logging.getLogger()
    if any(not logs.is_ours(h) for h in root.handlers):  # a test runner's: keep its handlers
        root.setLevel(lvl)
        logging.getLogger("discord.http").setLevel(max(logging.INFO, root.level))
        return
    logs.configure(
        lvl, json=settings.logging.json_lines if json is None else json, settings=settings
    )


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"tacit bot: {e}", file=sys.stderr)
        return 2
    return run(settings, sync="--sync" in sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
