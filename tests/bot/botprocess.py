"""`tacit bot` as its own OS process against the fake Discord: started, awaited, killed."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from fakediscord import FakeDiscord

QUESTION = re.compile(r"Question (\d) of 4")


class BotLife:
    """Start, wait for and kill `tacit bot` processes, one at a time."""

    def __init__(self, zygote, server: FakeDiscord, workdir: Path, **env: str):
        self.zygote, self.server, self.workdir = zygote, server, workdir
        self.child = None
        self.kills = 0
        self.lives = 0
        self.env = {
            "HF_HUB_OFFLINE": "1",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.environ["PYTHONPATH"],
            "DISCORD_TOKEN": server.token,
            "FAKEDISCORD_URL": server.url,
            **env,
        }

    async def start(self) -> None:
        seen = len(self.server.identifies)
        self.server.mark()
        self.lives += 1
        log = self.workdir / f"bot{self.lives}.log"
        self.child = await self.zygote.spawn(["bot"], cwd=self.workdir, env=self.env, stderr=log)
        async with asyncio.timeout(60):
            while not (
                len(self.server.identifies) > seen
                and any(s.ready and s.connected for s in self.server.sessions.values())
            ):
                if self.child.stdout.at_eof():
                    raise AssertionError(log.read_text()[-3000:])
                await asyncio.sleep(0.05)
        await self.server.idle(quiet=0.2, timeout=10)  # recovery posts, if any

    async def kill(self) -> None:
        self.child.kill()
        assert await self.child.wait() == -9
        self.kills += 1
        async with asyncio.timeout(10):  # the fake notices the socket closed
            while True:
                if not self.server.gateway_connected():
                    break
                await asyncio.sleep(0.02)

    def questions(self, thread) -> list[int]:
        return [
            int(m.group(1))
            for msg in self.server.messages_in(thread)
            if (m := QUESTION.search(msg.content))
        ]
