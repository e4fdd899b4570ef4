"""A fake Discord, the real services and the bot between them, for the bot's tests."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from pathlib import Path

from fakediscord import FakeChannel, FakeDiscord, FakeMessage, FakeUser, run_bot

from bot.client import create_bot
from knowledge.guides import load_guide
from knowledge.services import Services, build

GUIDE = "test-trade"

GUIDE_TOML = """
version = 1
title = "Test trade"
profession = "a test practitioner"
persona = "You are a seasoned practitioner of a small trade, answering from experience."
description = "A four-question guide that keeps the bot's tests short."
intro = "Thanks for helping to test tacit."
outro = "That's all the test guide wanted to know."

[[steps]]
id = "background"
title = "Background"
method = "background"

[[steps.questions]]
id = "work"
probe = "background"
text = "What is your work, in your own words?"

[[steps]]
id = "audit"
title = "What you notice"
method = "knowledge_audit"
intro = "{audit_intro}"

[[steps.questions]]
id = "cues"
probe = "noticing"
text = "What do you notice on the job that a newcomer misses?"

[[steps.questions]]
id = "smarts"
probe = "job_smarts"
text = "Which shortcuts save you the most time?"

[[steps]]
id = "wrapup"
title = "Wrap-up"
method = "wrapup"

[[steps.questions]]
id = "anything"
probe = "wrapup"
text = "Is there anything I should have asked but didn't?"
"""


def write_guide(folder: Path, *, audit_intro: str = "Now, what experience lets you see.") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{GUIDE}.toml"
    path.write_text(GUIDE_TOML.replace("{audit_intro}", audit_intro), encoding="utf-8")
    load_guide(path)  # the same validation the services run
    return path


class World:
    """A fake Discord, the real services, and the bot between them; restartable."""

    def __init__(self, settings, encoder, tmp_path: Path):
        self.settings = settings
        self.encoder = encoder
        self.services: Services | None = None
        self.guides_dir = tmp_path / "guides"
        write_guide(self.guides_dir)
        self.configure(
            guides_dir=self.guides_dir,
            default_guide=GUIDE,
            quiet_period_seconds=0.3,
            max_followups=0,  # no follow-ups: the tests walk the guide's own questions
            skip_similarity=1.01,  # and never skip one as already covered
        )
        self.server = FakeDiscord()
        # The default guild is the home server: interviews started in DMs belong to it.
        settings.discord = settings.discord.model_copy(
            update={"curator_roles": {"*": ["curator"]}, "home_guild_id": self.server.guild.id}
        )
        self.bots = []

    def configure(self, **interview) -> None:
        assert self.services is None, "configure before the bot first runs"
        self.settings.interview = self.settings.interview.model_copy(update=interview)

    async def open(self) -> Services:
        if self.services is None:
            self.services = await build(self.settings, encoder=self.encoder, background=False)
        return self.services

    async def restart_services(self) -> Services:
        """What a new process would have: everything rebuilt from the same settings."""
        self.server.mark()  # later waits look at what the new bot does
        if self.services is not None:
            await self.services.close()
            self.services = None
        return await self.open()

    @asynccontextmanager
    async def run(self, *, sync: bool = True, **kwargs):
        services = await self.open()
        bot = create_bot(services, sync=sync)
        self.bots.append(bot)
        async with run_bot(self.server, bot, **kwargs) as running:
            yield running

    async def close(self) -> None:
        if self.services is not None:
            await self.services.close()
        await self.server.close()

    # ---- scripted steps ------------------------------------------------------------------

    async def consent_notice(self, user: FakeUser, *, channel=None, guide: str = GUIDE):
        ix = await self.server.slash(user, "interview start", {"guide": guide}, channel=channel)
        await ix.wait_response()
        return ix

    async def start_interview(self, user: FakeUser | None = None, *, channel=None) -> FakeChannel:
        """/interview start, agree to the consent notice, wait for the first question."""
        user = user or self.server.expert
        ix = await self.consent_notice(user, channel=channel)
        assert ix.message.embeds, ix.message.raw
        await self.server.click(user, ix.message, f"tacit:consent:agree:{user.id}:{GUIDE}")
        first = await self.wait_question(1)
        return self.server.channel(first.channel_id)

    async def wait_question(self, number: int, channel=None) -> FakeMessage:
        return await self.server.wait_for_message(
            channel,
            lambda m: f"Question {number} of 4" in m.content,
        )

    async def expert_id(self, user: FakeUser | None = None, guild=None) -> int | None:
        """The user's expert record in a guild (default: the default guild)."""
        user = user or self.server.expert
        guild_id = (guild or self.server.guild).id
        found = await self.services.experts.find("discord", str(user.id), guild_id=guild_id)
        return found.id if found else None

    async def turns(self, user: FakeUser | None = None) -> list[dict]:
        data = await self.services.experts.data(await self.expert_id(user))
        return [t for iv in data["interviews"] for t in iv["turns"]]

    async def answers(self, user: FakeUser | None = None) -> list[str | None]:
        return [t["answer"] for t in await self.turns(user)]


def done_id(message: FakeMessage) -> str:
    (cid,) = [c for c in message.custom_ids if c.startswith("tacit:done:")]
    return cid


def turn_of(message: FakeMessage) -> int:
    return int(re.search(r":(\d+)$", done_id(message)).group(1))
