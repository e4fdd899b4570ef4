"""Run a bot in another OS process against a fake Discord: ``python -m fakediscord.launch``.

The child points discord.py at the fake exactly as ``FakeDiscord.patch_discord()`` does
in-process (``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``), then runs the target::

    python -m fakediscord.launch --url http://127.0.0.1:PORT -- pkg.module:main [ARGS...]
    python -m fakediscord.launch --url http://127.0.0.1:PORT -- -m pkg.module [ARGS...]
    python -m fakediscord.launch --url http://127.0.0.1:PORT -- path/to/script.py [ARGS...]

``module:callable`` is called without arguments (``sys.argv`` holds ARGS); if it returns an
awaitable, that is run with ``asyncio.run``; an int result is the exit code. ``--url`` defaults
to ``$FAKEDISCORD_URL``. ``tests/`` must be on ``PYTHONPATH`` (``environ()`` does that).
From a test, ``await spawn(server, target, *args)`` starts it and returns a ``BotProcess``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import inspect
import os
import runpy
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .endpoints import point_discord_at

if TYPE_CHECKING:
    from .server import FakeDiscord

TESTS_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = TESTS_DIR.parent


def command(url: str, target: str, *args: str, python: str = sys.executable) -> list[str]:
    """The argv that runs ``target`` (``mod:fn``, ``-m`` then a module, or a script path)
    with ``args`` against the fake at ``url``."""
    return [python, "-m", "fakediscord.launch", "--url", url, "--", target, *args]


def environ(
    base: Mapping[str, str] | None = None,
    *,
    url: str | None = None,
    token: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """An environment for the child: ``tests/`` and the repo root on ``PYTHONPATH``,
    unbuffered output, and ``FAKEDISCORD_URL``/``FAKEDISCORD_TOKEN`` when given."""
    env = dict(os.environ if base is None else base)
    paths = [str(TESTS_DIR), str(REPO_ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    if url is not None:
        env["FAKEDISCORD_URL"] = url
    if token is not None:
        env["FAKEDISCORD_TOKEN"] = token
    env.update(extra)
    return env


class BotProcess:
    """A bot running in a child process; its stdout and stderr are collected in ``lines``."""

    def __init__(self, proc: asyncio.subprocess.Process, argv: Sequence[str]) -> None:
        self.proc = proc
        self.argv = list(argv)
        self.lines: list[str] = []
        self._new_line = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))
            self._new_line.set()
        self._new_line.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_output(
        self,
        match: str | Callable[[str], bool],
        *,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> str:
        """The first output line containing ``match`` (or satisfying it), waiting if needed."""
        pred = match if callable(match) else (lambda line: match in line)
        seen = 0
        async with asyncio.timeout(timeout):
            while True:
                for line in self.lines[seen:]:
                    if pred(line):
                        return line
                seen = len(self.lines)
                if self._reader.done():
                    raise AssertionError(
                        f"bot process exited ({self.proc.returncode}) before printing "
                        f"{match!r}; output:\n{self.output[-3000:]}"
                    )
                self._new_line.clear()
                await self._new_line.wait()

    async def wait(self, timeout: float = 15.0) -> int:  # noqa: ASYNC109
        """Wait for the process to exit by itself; returns the exit code."""
        await asyncio.wait_for(self.proc.wait(), timeout)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 5)
        assert self.proc.returncode is not None
        return self.proc.returncode

    async def stop(self, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        """Ctrl-C the bot (SIGINT: discord.py closes its sessions with 1000), kill it if it
        hangs; returns the exit code."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 5)
        assert self.proc.returncode is not None
        return self.proc.returncode

    async def __aenter__(self) -> BotProcess:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def spawn(
    server: FakeDiscord,
    target: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> BotProcess:
    """Start ``target`` in a child process against ``server`` (see the module doc).

    The child gets ``FAKEDISCORD_URL`` and ``FAKEDISCORD_TOKEN`` in its environment.
    ``spawn(server, "-m", "bot")`` runs a module. Use ``async with await spawn(...) as bot:``
    to stop it at the end.
    """
    argv = command(server.url, target, *args)
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=environ(env, url=server.url, token=server.token),
        cwd=cwd,
    )
    return BotProcess(proc, argv)


def _resolve(spec: str) -> Callable[[], Any]:
    module_name, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise SystemExit(f"fakediscord.launch: {spec} is not callable")
    return obj


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fakediscord.launch",
        description="Run a bot (module:callable, -m module, or script.py) against a fake Discord.",
    )
    parser.add_argument("--url", default=os.environ.get("FAKEDISCORD_URL"))
    parser.add_argument("target", nargs=argparse.REMAINDER, help="-- TARGET [ARGS...]")
    ns = parser.parse_args(argv)
    rest = ns.target[1:] if ns.target[:1] == ["--"] else ns.target
    if not ns.url:
        parser.error("--url (or FAKEDISCORD_URL) is required")
    if not rest:
        parser.error("a target is required after --")
    point_discord_at(ns.url)
    # Ctrl-C (SIGINT) stops the bot whatever this process inherited: a parent that ignored
    # or blocked SIGINT when it started us passes that on through exec.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ["FAKEDISCORD_URL"] = ns.url
    if rest[0] == "-m":
        if len(rest) < 2:
            parser.error("-m needs a module name")
        sys.argv = [rest[1], *rest[2:]]
        runpy.run_module(rest[1], run_name="__main__", alter_sys=True)
        return 0
    sys.argv = list(rest)
    if rest[0].endswith(".py") or os.sep in rest[0]:
        runpy.run_path(rest[0], run_name="__main__")
        return 0
    result = _resolve(rest[0])()
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    return result if isinstance(result, int) else 0


async def _await(awaitable: Any) -> Any:
    return await awaitable


if __name__ == "__main__":
    raise SystemExit(main())
