"""Running a real discord.py bot against the fake, and failing tests on logged errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TypeVar

import discord

from .server import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)

# discord.py logs (and swallows) exceptions from commands, views, modals and listeners
# on the "discord" loggers; the app logs its own under "bot" and "knowledge".
DEFAULT_ERROR_LOGGERS = ("discord", "bot", "knowledge")


class ErrorCapture(logging.Handler):
    """Collects ERROR (and worse) records from the given loggers."""

    def __init__(
        self, loggers: Sequence[str] = DEFAULT_ERROR_LOGGERS, level: int = logging.ERROR
    ) -> None:
        super().__init__(level)
        self.logger_names = tuple(loggers)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def install(self) -> ErrorCapture:
        for name in self.logger_names:
            logging.getLogger(name).addHandler(self)
        return self

    def uninstall(self) -> None:
        for name in self.logger_names:
            logging.getLogger(name).removeHandler(self)

    def take(self) -> list[logging.LogRecord]:
        """Return and forget the captured records (for tests that expect an error)."""
        records, self.records = self.records, []
        return records

    def report(self) -> str:
        return "\n\n".join(self.format(r) for r in self.records)

    def check(self) -> None:
        """Raise AssertionError (with tracebacks) if anything was captured."""
        if self.records:
            text = self.report()
            self.records = []
            raise AssertionError(f"errors were logged while the bot ran:\n{text}")

    def __enter__(self) -> ErrorCapture:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()


@contextlib.contextmanager
def capture_errors(loggers: Sequence[str] = DEFAULT_ERROR_LOGGERS) -> Iterator[ErrorCapture]:
    """``with capture_errors() as errors:`` ... fails on exit if an ERROR was logged."""
    capture = ErrorCapture(loggers).install()
    try:
        yield capture
    except BaseException as exc:
        if capture.records:
            exc.add_note(f"errors logged meanwhile:\n{capture.report()}")
        raise
    else:
        capture.check()
    finally:
        capture.uninstall()


async def start_bot(
    server: FakeDiscord,
    bot: discord.Client,
    *,
    ready_timeout: float = 10.0,
    guild_ready_timeout: float | None = 0.05,
) -> asyncio.Task[None]:
    """Start ``bot`` (``bot.start(token)`` as a task) and wait until it is ready.

    The caller must have patched discord.py (``server.patch_discord()``).
    ``guild_ready_timeout`` overrides the client's 2 s wait for GUILD_CREATEs.
    """
    if guild_ready_timeout is not None:
        bot._connection.guild_ready_timeout = guild_ready_timeout
    task = asyncio.create_task(bot.start(server.token), name=f"fakediscord-bot-{id(bot)}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ready_timeout
    while not bot.is_ready():
        if task.done():
            task.result()  # raises the startup error
            raise RuntimeError("bot.start() returned before the bot became ready")
        if loop.time() > deadline:
            await stop_bot(bot, task)
            raise TimeoutError(f"bot not ready after {ready_timeout}s; calls: {server.calls[-10:]}")
        await asyncio.sleep(0.01)
    return task


async def stop_bot(bot: discord.Client, task: asyncio.Task[None], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Close ``bot`` and wait for its ``start()`` task to finish."""
    await bot.close()
    try:
        await asyncio.wait_for(task, timeout)
    except asyncio.CancelledError:
        pass
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@contextlib.asynccontextmanager
async def run_bot(
    server: FakeDiscord,
    bot: ClientT,
    *,
    ready_timeout: float = 10.0,
    guild_ready_timeout: float | None = 0.05,
    check_errors: bool = True,
    error_loggers: Sequence[str] = DEFAULT_ERROR_LOGGERS,
    allow_unknown_routes: bool = False,
    settle: bool = True,
) -> AsyncIterator[ClientT]:
    """Run ``bot`` against ``server`` for the body of the ``async with``.

    Patches discord.py's endpoints, starts the bot, waits for READY (``on_ready``), and on
    exit lets in-flight REST traffic settle (``settle``; pass False to cut the bot off
    abruptly, like a crash), closes the bot and restores the patched globals. If the body
    succeeded, it then
    fails (AssertionError) on ERROR log records (``check_errors``), on calls to routes the
    fake does not know (unless ``allow_unknown_routes``) and on internal fake errors.
    Run it again with a new bot object on the same server to simulate a restart.
    """
    first_call = len(server.calls)
    first_internal = len(server.internal_errors)
    capture = ErrorCapture(error_loggers) if check_errors else None
    with server.patch_discord():
        if capture is not None:
            capture.install()
        try:
            task = await start_bot(
                server, bot, ready_timeout=ready_timeout, guild_ready_timeout=guild_ready_timeout
            )
            try:
                yield bot
            except BaseException as exc:
                if capture is not None and capture.records:
                    exc.add_note(f"errors logged while the bot ran:\n{capture.report()}")
                raise
            finally:
                if settle:
                    await server.idle()
                await stop_bot(bot, task)
        finally:
            if capture is not None:
                capture.uninstall()
    problems = []
    internal = server.internal_errors[first_internal:]
    if internal:
        problems.append("fakediscord internal errors:\n" + "\n".join(internal))
    unknown = [c for c in server.calls[first_call:] if not c.known]
    if unknown and not allow_unknown_routes:
        problems.append(
            "the bot called routes the fake does not implement:\n"
            + "\n".join(f"  {c.method} {c.path} body={c.json!r:.200}" for c in unknown)
        )
    if capture is not None and capture.records:
        problems.append("errors were logged while the bot ran:\n" + capture.report())
    if problems:
        raise AssertionError("\n\n".join(problems))
