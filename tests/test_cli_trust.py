"""The command line of trust: a terminal expert's own entries, exports and their erasure, pay
kept after forgetting, `--guild` views; through click's runner over a real store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from knowledge.cli import cli
from knowledge.services import build
from knowledge.storage import Scope
from tests.test_review import LEGAL, interview

GUILD = 833_333_333_333_333_333


@pytest.fixture
def config(settings, encoder, tmp_path) -> tuple[Path, dict]:
    async def fill():
        svc = await build(settings, encoder=encoder, background=False)
        try:
            mine = await interview(svc, "rapawy", "litigator", LEGAL[:3])
            ex = await svc.experts.identify("discord", "5", "Dee", guild_id=GUILD)
            await svc.experts.give_consent(ex.id)
            ask = await svc.engine.start(ex.id, "litigator", channel="discord:thread:9")
            theirs = (await svc.engine.answer(ask.interview_id, LEGAL[3])).entry_ids
            await svc.indexer.sync()
        finally:
            await svc.close()
        return {"mine": mine, "discord": theirs}

    ids = asyncio.run(fill())
    path = tmp_path / "config.toml"
    path.write_text(
        f'data_dir = "{tmp_path}"\n'
        f'[database]\nurl = "{settings.database.url}"\n'
        f'[chroma]\npath = "{settings.chroma.path}"\ncollection = "{settings.chroma.collection}"\n'
        f'[export]\nout_dir = "{tmp_path / "exports"}"\npii = "off"\n',
        encoding="utf-8",
    )
    return path, ids


def run(config: Path, *args: str, input: str | None = None, code: int = 0):
    result = CliRunner(env={"COLUMNS": "220"}).invoke(
        cli, ["--config", str(config), *args], input=input
    )
    assert "Traceback" not in result.output + result.stderr, result.output + result.stderr
    assert result.exit_code == code, result.output + result.stderr
    return result


def test_a_terminal_expert_corrects_withdraws_and_is_forgotten_and_exports_follow(config):
    path, ids = config
    mine = ids["mine"]
    me = ("--name", "rapawy")
    listed = run(path, "me", "entries", *me).stdout.splitlines()
    assert [int(line.split("\t")[0]) for line in listed] == mine
    out = run(
        path, "me", "correct", str(mine[0]), *me, "--answer", "-", input="My better answer.\n"
    )
    assert out.stdout.strip() == f"corrected {mine[0]}: it waits for review again"
    assert f"{mine[0]}\tpending~" in run(path, "me", "entries", *me).stdout
    assert "~" in run(path, "entries", "list").stdout  # curators see it was corrected
    run(path, "entries", "approve", *map(str, mine + ids["discord"]))

    report = run(path, "export", "--format", "openai", "--out", str(path.parent / "d.jsonl"))
    assert "recorded as export 1" in report.stdout
    data = (path.parent / "d.jsonl").read_text()
    assert "My better answer." in data
    listing = run(path, "exports", "list").stdout
    assert "all" in listing and "openai" in listing and "on_disk" in listing

    out = run(path, "me", "withdraw", str(mine[1]), *me, "--yes").stdout
    assert f"withdrawn: entry {mine[1]}" in out and "taken out of 1 export(s)" in out
    assert "cannot be recalled" in out
    assert " ".join(LEGAL[1].split())[:80] not in " ".join(
        (path.parent / "d.jsonl").read_text().split()
    )

    out = run(path, "forget", *me, "--yes").stdout
    assert "forgotten: rapawy (2 entries removed)" in out and "still owed:" in out
    pseudonym = out.split(" kept as ")[1].split(" ")[0]
    assert "My better answer." not in (path.parent / "d.jsonl").read_text()
    payouts = run(path, "payouts").stdout
    assert pseudonym in payouts and "not paid yet" in payouts
    assert "1 pay record(s) marked paid" in run(path, "payouts", "--mark-paid", pseudonym).stdout
    assert "paid" in run(path, "payouts").stdout.split(pseudonym)[0].splitlines()[-1]


def test_guild_shows_one_servers_data_and_a_bad_value_is_one_line(config):
    path, ids = config
    only = run(path, "entries", "list", "--guild", str(GUILD)).stdout
    assert [int(line.split("\t")[0]) for line in only.splitlines()] == ids["discord"]
    terminal = run(path, "entries", "list", "--guild", "terminal").stdout
    assert [int(line.split("\t")[0]) for line in terminal.splitlines()] == ids["mine"]
    assert "Dee" in run(path, "payouts", "--guild", str(GUILD)).stdout
    bad = run(path, "entries", "list", "--guild", "general", code=2)
    assert "'general' is not a server id, 'terminal' or 'all'" in bad.stderr
    missing = run(path, "me", "entries", "--name", "nobody", code=1)
    assert missing.stderr.strip() == "tacit: error: no terminal expert named 'nobody'"
    assert Scope.parse(str(GUILD)).guild_id == GUILD


def test_assign_guild_gives_discord_data_without_a_server_to_one(settings, encoder, tmp_path):
    async def fill():
        svc = await build(settings, encoder=encoder, background=False)
        try:
            ex = await svc.experts.identify("discord", "77", "Old Timer")  # no server: legacy
            await svc.experts.give_consent(ex.id)
            ask = await svc.engine.start(ex.id, "litigator")
            await svc.engine.answer(ask.interview_id, LEGAL[0])
        finally:
            await svc.close()

    asyncio.run(fill())
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{settings.database.url}"\n', encoding="utf-8")
    path.write_text(
        path.read_text() + f'[chroma]\npath = "{settings.chroma.path}"\n', encoding="utf-8"
    )
    out = run(path, "db", "assign-guild", str(GUILD)).stdout
    assert out.strip() == f"server {GUILD}: 1 experts, 1 interviews, 1 entries"
    assert run(path, "entries", "list", "--guild", str(GUILD)).stdout.strip()
