"""`tacit entries ...` and `tacit payouts` through click's runner, over a real store."""

from __future__ import annotations

import asyncio
import csv
import getpass
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from knowledge.cli import cli
from knowledge.services import build
from knowledge.storage import AuditEvent, Database, Entry
from tests.test_review import ACROMEGALY_SYMPTOMS, LEGAL, interview


@dataclass
class Store:
    config: Path
    url: str
    legal: list[int]
    medical: list[int]

    def run(self, *args: str, input: str | None = None):
        result = CliRunner().invoke(cli, ["--config", str(self.config), *args], input=input)
        assert "Traceback" not in result.stderr
        return result

    def entry(self, entry_id: int) -> Entry:
        return asyncio.run(self._read(select(Entry).where(Entry.id == entry_id)))[0]

    def audit(self, entry_id: int) -> list[AuditEvent]:
        return asyncio.run(
            self._read(
                select(AuditEvent)
                .where(AuditEvent.entity == "entry", AuditEvent.entity_id == entry_id)
                .order_by(AuditEvent.id)
            )
        )

    async def _read(self, query):
        db = Database(self.url)
        try:
            async with db.sessions() as s:
                return list(await s.scalars(query))
        finally:
            await db.close()


@pytest.fixture
def store(settings, encoder, tmp_path) -> Store:
    """A config file, and a store holding three legal and one medical entry from interviews."""

    async def fill():
        svc = await build(settings, encoder=encoder, background=False)
        try:
            legal = await interview(svc, "rapawy", "litigator", LEGAL[:3])
            medical = await interview(svc, "melmed", "physician", [ACROMEGALY_SYMPTOMS])
        finally:
            await svc.close()
        return legal, medical

    legal, medical = asyncio.run(fill())
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n'
        f'[database]\nurl = "{settings.database.url}"\n'
        f'[chroma]\npath = "{settings.chroma.path}"\ncollection = "{settings.chroma.collection}"\n',
        encoding="utf-8",
    )
    return Store(config, settings.database.url, legal, medical)


def ids_of(output: str) -> list[int]:
    return [int(line.split("\t")[0]) for line in output.splitlines() if line.strip()]


def test_list_shows_one_entry_a_line_with_its_id_first(store):
    r = store.run("entries", "list")
    assert r.exit_code == 0, r.output
    assert ids_of(r.stdout) == store.legal + store.medical
    first = r.stdout.splitlines()[0].split("\t")
    assert first[1:3] == ["pending", "litigator"] and first[3].startswith("Rapawy")
    assert ids_of(store.run("entries", "list", "--guide", "physician").stdout) == store.medical
    expert = store.entry(store.medical[0]).expert_id
    assert ids_of(store.run("entries", "list", "--expert", str(expert)).stdout) == store.medical
    r = store.run("entries", "list", "--status", "approved")
    assert r.exit_code == 0 and r.stdout == "" and "no entries match" in r.stderr


def test_approve_several_and_they_are_recorded_as_the_login_user(store):
    r = store.run("entries", "approve", str(store.legal[0]), str(store.legal[1]))
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [f"approved {store.legal[0]}", f"approved {store.legal[1]}"]
    e = store.entry(store.legal[0])
    assert (e.status, e.decided_by) == ("approved", f"cli:{getpass.getuser()}")
    approved = store.run("entries", "list", "--status", "approved").stdout
    assert ids_of(approved) == store.legal[:2]


def test_approving_an_unknown_entry_is_one_clear_line_and_the_rest_still_counts(store):
    r = store.run("entries", "approve", str(store.legal[0]), "9999")
    assert r.exit_code == 1
    assert "tacit: error: no entry 9999" in r.stderr
    assert r.stderr.strip().splitlines()[-1] == "tacit: error: 1 of 2 entries not approved"
    assert store.entry(store.legal[0]).status == "approved"


def test_reject_needs_a_reason_and_show_tells_the_story(store):
    eid = store.legal[2]
    r = store.run("entries", "reject", str(eid))
    assert r.exit_code == 2 and "--reason" in r.stderr
    r = store.run("entries", "reject", str(eid), "--reason", "   ")
    assert r.exit_code == 1 and r.stderr.strip() == "tacit: error: a rejection needs a reason"
    r = store.run("entries", "reject", str(eid), "--reason", "procedural", "--as", "bo")
    assert r.exit_code == 0 and r.stdout.strip() == f"rejected {eid}"
    shown = store.run("entries", "show", str(eid)).stdout
    assert f"entry {eid}: rejected (reason: procedural)" in shown
    assert "decided by cli:bo" in shown
    assert "cli:bo  entry.reject  status: 'pending' -> 'rejected'" in shown


def test_edit_keeps_the_original_and_undo_brings_it_back(store):
    eid = store.legal[0]
    new = "Disgorgement is a penalty, and no statute lets the SEC seek it in court."
    r = store.run("entries", "edit", str(eid), "--answer", new, "--as", "alice")
    assert r.exit_code == 0, r.output
    e = store.entry(eid)
    assert e.final_answer == new and e.answer == LEGAL[0].strip() and e.edited_by == "cli:alice"
    shown = store.run("entries", "show", str(eid)).stdout
    assert f"A: {new}" in shown and f"original A: {LEGAL[0].strip()[:40]}" in shown
    assert "cli:alice  entry.edit  answer:" in shown
    r = store.run("entries", "undo", "--as", "alice")
    assert r.exit_code == 0 and r.stdout.strip() == f"undone on entry {eid}: now pending"
    assert store.entry(eid).final_answer == LEGAL[0].strip()
    assert [ev.action for ev in store.audit(eid)] == ["entry.edit", "entry.undo"]
    r = store.run("entries", "undo", "--as", "alice")
    assert r.exit_code == 1 and r.stderr.startswith("tacit: error: nothing to undo")


def test_an_answer_can_be_edited_from_standard_input(store):
    eid = store.legal[1]
    r = store.run("entries", "edit", str(eid), "--answer", "-", input="Typed in a pipe.\n")
    assert r.exit_code == 0, r.output
    assert store.entry(eid).final_answer == "Typed in a pipe."


def test_search_lists_the_closest_entry_first_and_filters(store):
    r = store.run("entries", "search", "my hands and feet grew larger and my face changed")
    assert r.exit_code == 0, r.output
    assert ids_of(r.stdout)[0] == store.medical[0]
    similarity = float(r.stdout.splitlines()[0].split("\t")[1])
    assert 0 < similarity <= 1
    assert store.run("entries", "approve", str(store.legal[1])).exit_code == 0
    r = store.run("entries", "search", "disgorgement", "--status", "approved")
    assert ids_of(r.stdout) == [store.legal[1]]


def test_duplicate_and_personal_data_flags(store):
    a, b = store.legal[:2]
    r = store.run("entries", "duplicate", str(b), "--of", str(a))
    assert r.exit_code == 0 and r.stdout.strip() == f"{b} is a duplicate of {a}"
    r = store.run("entries", "flag-pii", str(a), "--note", "a client's name")
    assert r.exit_code == 0
    assert store.entry(a).flagged_pii and store.entry(b).duplicate_of == a
    assert "\tpending!\t" in store.run("entries", "list").stdout


def test_stats_summarise_and_draw_a_chart(store, tmp_path):
    store.run("entries", "approve", str(store.legal[0]))
    png = tmp_path / "review.png"
    r = store.run("entries", "stats", "--chart", str(png))
    assert r.exit_code == 0, r.output
    assert "entries: 4  pending 3, approved 1" in r.stdout
    assert "pending by guide: litigator 2, physician 1" in r.stdout
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_payouts_as_a_table_and_as_csv(store, settings, encoder, tmp_path):
    store.run("entries", "approve", str(store.legal[0]))
    r = store.run("payouts", "--from", "2000-01-01", "--to", "2999-12-31")
    assert r.exit_code == 0, r.output
    assert "Rapawy" in r.stdout and "Melmed" in r.stdout and "1/3" in r.stdout
    out = tmp_path / "pay.csv"
    r = store.run("payouts", "--from", "2000-01-01", "--to", "2999-12-31", "--csv", str(out))
    assert r.exit_code == 0 and "2 experts written" in r.stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))

    async def earnings():
        svc = await build(settings, encoder=encoder, background=False)
        try:
            return await svc.experts.earnings()
        finally:
            await svc.close()

    expected = asyncio.run(earnings())
    assert [(r["display_name"], r["amount"], int(r["entries_accepted"])) for r in rows] == [
        (e.display_name, f"{e.amount:.2f}", e.entries_accepted) for e in expected
    ]
    assert store.run("payouts", "--csv", "-").stdout == out.read_text(encoding="utf-8")
    r = store.run("payouts", "--from", "2000-01-01", "--to", "2000-01-31")
    assert r.exit_code == 0 and "no interviews in that period" in r.stderr
    r = store.run("payouts", "--from", "2001-01-01", "--to", "2000-01-31")
    assert r.exit_code == 1 and "period is empty" in r.stderr
