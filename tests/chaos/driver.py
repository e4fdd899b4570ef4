"""Drive `tacit chat` processes like an expert would, killing them with SIGKILL as it goes.

An answer is *acknowledged* when the process printed the next question after it: that is when an
expert knows it went through. After a kill the expert restarts with `--resume`; if the question
shown is the one they had answered, they send the answer again, else it was kept.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.chaos.killpoints import POINTS

ROOT = Path(__file__).resolve().parents[2]
QUESTION = re.compile(r"^\[(Q\d+/\d+|follow-up)\] (.*)$")


class Zygote:
    """The pre-warmed `tacit` (tests/chaos/zygote.py) running beside the test."""

    def __init__(self, workdir: Path):
        self.path = str(workdir / "zygote.sock")
        self.log = workdir / "zygote.log"
        self.proc: subprocess.Popen | None = None
        self.logs: set[Path] = set()  # every child's stderr: searched for secrets at the end

    def start(self) -> Zygote:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.zygote", self.path],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=open(self.log, "wb"),
            text=True,
        )
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"zygote did not start: {self.log.read_text()[-3000:]}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def leaks(self, secrets: list[str]) -> list[str]:
        """Logs of this session's children holding any of `secrets`: `log: secret`."""
        found = []
        for path in sorted(self.logs):
            text = path.read_text(errors="replace") if path.exists() else ""
            found += [f"{path}: {s}" for s in secrets if s in text]
        return found

    async def spawn(self, argv: list[str], *, cwd: Path, env: dict, stderr: Path) -> Child:
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        self.logs.add(Path(stderr))
        err = os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self.path)
        req = {"argv": argv, "env": env, "cwd": str(cwd)}
        socket.send_fds(sock, [json.dumps(req).encode()], [in_r, out_w, err])
        for fd in (in_r, out_w, err):
            os.close(fd)
        reader, _writer = await asyncio.open_unix_connection(sock=sock)
        pid = json.loads(await reader.readline())["pid"]
        loop = asyncio.get_running_loop()
        out = asyncio.StreamReader(limit=1 << 22)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(out), os.fdopen(out_r, "rb", 0)
        )
        return Child(pid, in_w, out, reader, _writer)


@dataclass
class Child:
    pid: int
    stdin: int
    stdout: asyncio.StreamReader
    _control: asyncio.StreamReader
    _control_w: asyncio.StreamWriter
    status: int | None = None

    async def line(self) -> str | None:
        raw = await self.stdout.readline()
        return raw.decode("utf-8", "replace").rstrip("\n") if raw else None

    async def until(self, needle: str) -> list[str]:
        """The lines printed up to (and with) the first one holding `needle`."""
        seen = []
        while (line := await self.line()) is not None:
            seen.append(line)
            if needle in line:
                return seen
        raise AssertionError(f"{needle!r} never came; the process printed {seen}")

    async def rest(self) -> list[str]:
        """Every line left, up to the end of the output."""
        return [line async for line in self._lines()]

    async def _lines(self):
        while (line := await self.line()) is not None:
            yield line

    def send(self, text: str) -> bool:
        try:
            os.write(self.stdin, (text + "\n").encode())
            return True
        except BrokenPipeError:
            return False

    def close_stdin(self) -> None:
        if self.stdin >= 0:
            os.close(self.stdin)
            self.stdin = -1

    def kill(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    async def wait(self) -> int:
        if self.status is None:
            raw = await self._control.readline()
            self.status = json.loads(raw)["status"] if raw else -1
            self._control_w.close()
        self.close_stdin()
        return self.status


@dataclass
class Expert:
    name: str
    guide: str
    answers: list[str]
    sent: int = 0  # answers[:sent] are acknowledged or known kept
    acknowledged: list[str] = field(default_factory=list)
    kept_unacknowledged: list[str] = field(default_factory=list)
    resent: int = 0
    started: bool = False
    pending: tuple[str, str] | None = None  # (question, answer) sent when the process died
    kills: int = 0
    runs: int = 0
    kills_by_point: dict[str, int] = field(default_factory=dict)


@dataclass
class Chaos:
    zygote: Zygote
    workdir: Path
    env: dict
    rng: random.Random
    per_run: int = 3  # answers a run may see acknowledged before it is killed anyway

    async def run(self, expert: Expert, *, final: bool = False) -> bool:
        """One process's life; True when it was killed. A final run is never killed: it sends
        what is left and closes its input (the interview pauses, the outbox is flushed)."""
        plan = None if final else self._plan()
        env = dict(self.env)
        if plan and plan[0] == "point":
            env["TACIT_TEST_KILLPOINT"] = f"{plan[1]}:{plan[2]}"
        if expert.started:
            argv = ["chat", "--resume", "--name", expert.name]
        else:
            argv = ["chat", "--guide", expert.guide, "--consent", "--name", expert.name]
        log = self.workdir / f"{expert.name}.stderr.log"
        child = await self.zygote.spawn(argv, cwd=self.workdir, env=env, stderr=log)
        expert.runs += 1
        loop = asyncio.get_running_loop()
        timer = None
        by = plan[1] if plan and plan[0] == "point" else "random"
        if plan and plan[0] == "timer" and plan[1] == 0:  # while it starts or resumes
            timer = loop.call_later(plan[2], child.kill)
        question = await self._question(child)
        if question is not None:
            expert.started = True
            if expert.pending is not None:
                asked, answer = expert.pending
                expert.pending = None
                if question != asked:  # the answer was kept before the process died
                    expert.kept_unacknowledged.append(answer)
                    expert.sent += 1
                else:
                    expert.resent += 1
            acked_here = 0
            while expert.sent < len(expert.answers):
                answer = expert.answers[expert.sent]
                if plan and plan[0] == "timer" and timer is None and acked_here + 1 >= plan[1]:
                    # Not cancelled by the acknowledgement: it may fire while the process
                    # writes entries and vectors in the background, or on the next answer.
                    timer = loop.call_later(plan[2], child.kill)
                nxt = await self._question(child) if child.send(answer) else None
                if nxt is None:
                    expert.pending = (question, answer)
                    break
                expert.acknowledged.append(answer)
                expert.sent += 1
                acked_here += 1
                question = nxt
                if plan and acked_here >= self.per_run + (plan[1] if plan[0] == "timer" else 0):
                    by = "random"
                    child.kill()  # the kill point was not reached in time
        if timer is not None:
            timer.cancel()
        killed = await self._ended(child, expert, log)
        if killed:
            expert.kills += 1
            expert.kills_by_point[by] = expert.kills_by_point.get(by, 0) + 1
        return killed

    async def _ended(self, child: Child, expert: Expert, log: Path) -> bool:
        child.close_stdin()
        while await child.line() is not None:
            pass
        status = await child.wait()
        if status == -signal.SIGKILL:
            return True
        if status != 0:
            text = (await asyncio.to_thread(log.read_text, errors="replace"))[-4000:]
            if not expert.started and "is still running" in text:
                expert.started = True  # killed after the interview opened: resume it
                return False
            raise AssertionError(f"tacit chat exited {status} for {expert.name}:\n{text}")
        return False

    async def _question(self, child: Child) -> str | None:
        """The next question the process prints; None when it died (or ended) first."""
        while True:
            line = await child.line()
            if line is None:
                return None
            m = QUESTION.match(line)
            if m:
                return m.group(2)

    def _plan(self):
        """How this run dies: at a kill point (its n-th hit), or on a timer after an answer."""
        if self.rng.random() < 0.45:
            return ("point", self.rng.choice(POINTS), self.rng.randint(1, 2))
        return ("timer", self.rng.randint(0, 2), self.rng.uniform(0.0, 0.6))
