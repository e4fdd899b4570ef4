"""Who may do what, from one table: every command x (expert, other member, curator role, admin,
admin of another server, DM), through the real bot and the fake Discord with two servers.

Cells: `hidden` (Discord does not offer the command: default permission or DMs), `refused`
(the bot's own curator check), `admins` (curator, but only admins may), `A` (shows server A's
data), `none` (works, shows nothing of server A), `mine` / `nothing` (an expert's own data, or
"nothing stored").
"""

from __future__ import annotations

import re

import pytest
from fakediscord.models import MANAGE_MESSAGES
from test_review_support import ACROMEGALY, curators_see_review, entry_on, interview

from bot.exts.export._cog import NOT_ALLOWED as EXPORT_NOT_ALLOWED
from bot.exts.review._curators import ADMINS_ONLY
from bot.exts.review._views import NOT_ALLOWED as REVIEW_NOT_ALLOWED
from knowledge.export import ExportOptions, export
from knowledge.storage import Scope

pytestmark = pytest.mark.asyncio

TABLE = """
command               expert   member   curator  admin    admin-B  dm
review next           hidden   hidden   A        A        none     hidden
review search         hidden   hidden   A        A        none     hidden
review entry          hidden   hidden   A        A        none     hidden
review stats          hidden   hidden   A        A        none     hidden
review payouts        hidden   hidden   A        A        none     hidden
review curators list  hidden   hidden   A        A        none     hidden
review curators add   hidden   hidden   admins   A        none     hidden
export list           hidden   hidden   A        A        none     hidden
export dataset        hidden   hidden   A        A        none     hidden
review undo           hidden   hidden   A        none     none     hidden
me data               mine     nothing  nothing  nothing  nothing  mine
me entries            mine     nothing  nothing  nothing  nothing  mine
me earnings           mine     nothing  nothing  nothing  nothing  mine
interview status      mine     nothing  nothing  nothing  nothing  mine
"""

ROWS = [re.split(r"\s{2,}", line.strip()) for line in TABLE.strip().splitlines()]
ACTORS = ROWS[0][1:]
CASES = [(cells[0], dict(zip(ACTORS, cells[1:], strict=True))) for cells in ROWS[1:]]


class Setting:
    """Server A with an expert's entries, decisions and an export; server B, whose admin is
    A's curator (the same person), so that nothing of theirs in A may show up in B."""

    def __init__(self, world):
        self.world = world
        server = self.server = world.server
        curators_see_review(server)
        self.b = server.add_guild("Second server", admin=server.curator)
        self.b.curator_role.permissions |= MANAGE_MESSAGES
        self.spare = {
            server.guild.id: server.add_role("helpers"),
            self.b.id: self.b.add_role("helpers"),
        }
        self.where = {
            "expert": (server.expert, server.general),
            "member": (server.stranger, server.general),
            "curator": (server.curator, server.general),
            "admin": (server.admin, server.general),
            "admin-B": (self.b.admin, self.b.general),
            "dm": (server.expert, server.dm(server.expert)),
        }

    async def prepare(self, tmp_path) -> None:
        services = await self.world.open()
        self.ids = await interview(services, ACROMEGALY, external_id=str(self.server.expert.id))
        a = services.tenant(Scope.server(self.server.guild.id))
        for eid in self.ids[:2]:  # decided by A's curator, who is B's admin
            await a.review.approve(f"discord:{self.server.curator.id}", eid)
        opts = ExportOptions(out=tmp_path / "a.jsonl", pii="off")
        self.export_id = (await export(a, opts, actor="discord:1")).export_id

    def options(self, command: str, actor: str) -> dict:
        guild = self.b.id if actor == "admin-B" else self.server.guild.id
        return {
            "review search": {"query": "growth hormone and enlarged hands"},
            "review entry": {"id": self.ids[0]},
            "review curators add": {"role": self.spare[guild]},
            "export dataset": {"format": "openai"},
        }.get(command, {})

    def check(self, command: str, cell: str, text: str, reply) -> bool:
        if cell == "refused":
            return text in (REVIEW_NOT_ALLOWED, EXPORT_NOT_ALLOWED)
        if cell == "admins":
            return text == ADMINS_ONLY
        ids, first = self.ids, self.ids[0]
        shows = {
            "review next": lambda: entry_on(reply) in ids,
            "review search": lambda: any(f"Entry {i}:" in text for i in ids),
            "review entry": lambda: text.startswith(f"**Entry {first}**"),
            "review stats": lambda: f"**{len(ids)}** entries" in text,
            "review payouts": lambda: "**Ana**" in text,
            "review curators list": lambda: "Who curates this server" in text,
            "review curators add": lambda: "now curate this server" in text,
            "export list": lambda: f"#{self.export_id} " in text,
            "export dataset": lambda: "**Exported" in text and "from 2 entries" in text,
            "review undo": lambda: f"entry {ids[1]}" in text.lower(),
            "me data": lambda: reply.attachments and "1 interview" in text,
            "me entries": lambda: f"Your entries ({len(ids)})" in text,
            "me earnings": lambda: "Your time and pay" in text,
            "interview status": lambda: "**Test trade**: complete" in text,
        }
        empty = {
            "review next": lambda: "Nothing left to review" in text,
            "review search": lambda: "No entries match" in text,
            "review entry": lambda: text == f"No entry {first}.",
            "review stats": lambda: "**0** entries" in text,
            "review payouts": lambda: "nothing is owed" in text,
            "review curators list": lambda: (
                "Who curates this server" in text
                and str(self.spare[self.server.guild.id].id) not in text
            ),
            "review curators add": lambda: "now curate this server" in text,
            "export list": lambda: "No datasets have been exported for this server" in text,
            "export dataset": lambda: text.startswith("Nothing to export"),
            "review undo": lambda: text.startswith("Nothing to undo"),
        }
        nothing = {
            "me data": lambda: text == "Nothing is stored about you.",
            "me entries": lambda: text == "Nothing is stored about you.",
            "me earnings": lambda: "no interviews yet" in text,
            "interview status": lambda: "no interview running" in text,
        }
        table = {"A": shows, "mine": shows, "none": empty, "nothing": nothing}[cell]
        return bool(table[command]())


async def _reply(server, ix, command: str):
    await ix.wait_response()
    if command == "export dataset":  # the result comes when the background export is done
        return await server.wait_for_message(
            predicate=lambda m: (
                m is ix.message
                and (
                    "**Exported" in m.content
                    or "Nothing to" in m.content
                    or m.content in (REVIEW_NOT_ALLOWED, EXPORT_NOT_ALLOWED)
                )
            ),
            timeout=60,
        )
    return await server.wait_for_message(predicate=lambda m: m is ix.message)


@pytest.mark.postgres
async def test_every_command_for_every_kind_of_user(world, tmp_path):
    setting = Setting(world)
    await setting.prepare(tmp_path)
    server = world.server
    world.settings.export = world.settings.export.model_copy(update={"out_dir": tmp_path / "x"})
    wrong = []
    async with world.run():
        for command, row in CASES:
            for actor, cell in row.items():
                user, channel = setting.where[actor]
                options = setting.options(command, actor)
                if cell == "hidden":
                    try:
                        await server.slash(user, command, options, channel=channel)
                    except PermissionError:
                        continue
                    wrong.append((command, actor, cell, "Discord offered it"))
                    continue
                ix = await server.slash(user, command, options, channel=channel)
                reply = await _reply(server, ix, command)
                text = "\n".join([reply.text, *(m.text for m in ix.followup_messages)]).strip()
                if not reply.ephemeral or not setting.check(command, cell, text, reply):
                    wrong.append((command, actor, cell, text[:300]))
    assert wrong == [], "\n".join(map(str, wrong))
