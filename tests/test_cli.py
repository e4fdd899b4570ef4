"""The `tacit` command line, run as a user runs it: a real process, stdin piped."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import real_pairs

TACIT = [sys.executable, "-m", "knowledge.cli"]


def tacit(args: list[str], cwd: Path, stdin: str = "", env: dict | None = None):
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    full_env.pop("TACIT_CONFIG", None)
    return subprocess.run(
        [*TACIT, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=180,
    )


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_a_piped_interview_is_stored_paused_at_end_of_input_and_resumed(tmp_path):
    answers = [p["answer"].replace("\n", " ") for p in real_pairs("primock57_day2_consultation03")]
    script = "\n".join([answers[0], "/skip", answers[1], answers[2]]) + "\n"
    first = tacit(
        ["chat", "--guide", "air-traffic-controller", "--consent", "--name", "Ana"],
        tmp_path,
        script,
    )
    assert first.returncode == 0, first.stderr
    assert "[Q1/32]" in first.stdout and "Paused interview 1" in first.stdout
    db = tmp_path / "data" / "tacit.db"
    assert rows(db, "select status from interviews") == [("paused",)]
    answered = rows(db, "select answer from turns where status = 'answered' order by seq")
    assert [a for (a,) in answered] == [answers[0].strip(), answers[1].strip(), answers[2].strip()]
    assert rows(db, "select count(*) from entries where status = 'pending'") == [(3,)]
    assert rows(db, "select consent_version from experts") == [("2026-11-v1",)]

    second = tacit(["chat", "--resume", "--name", "Ana"], tmp_path, answers[3] + "\n/end\n")
    assert second.returncode == 0, second.stderr
    assert "Resuming interview 1" in second.stdout and "ended: 4 answers kept" in second.stdout
    assert rows(db, "select status from interviews") == [("ended",)]

    # Every entry's vector is in the Chroma folder under the entry's id.
    from knowledge.config import ChromaSettings
    from knowledge.index import VectorIndex

    index = VectorIndex(ChromaSettings(path=tmp_path / "data" / "chroma"))
    ids = asyncio.run(index.ids())
    assert ids == {i for (i,) in rows(db, "select id from entries")}
    index.close()


def test_piped_input_without_consent_is_refused_and_records_nothing(tmp_path):
    r = tacit(["chat", "--guide", "physician", "--name", "Bo"], tmp_path, "yes\nmy answer\n")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("tacit: error: consent is needed")
    assert "Traceback" not in r.stderr
    assert rows(tmp_path / "data" / "tacit.db", "select count(*) from experts") == [(0,)]


def test_an_unknown_guide_is_one_clear_line(tmp_path):
    r = tacit(["chat", "--guide", "astronaut", "--consent", "--name", "Cy"], tmp_path, "x\n")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "no guide 'astronaut'" in r.stderr and "air-traffic-controller" in r.stderr


def test_a_bad_config_value_names_the_key_and_exits_2(tmp_path):
    (tmp_path / "config.toml").write_text('[interview]\nmax_followups = "many"\n')
    r = tacit(["guides"], tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("tacit: error: interview.max_followups:")
    (tmp_path / "config.toml").write_text("[interview]\nmax_folowups = 1\n")
    r = tacit(["guides"], tmp_path)
    assert r.returncode == 2 and "interview.max_folowups: unknown key" in r.stderr


def test_an_unreachable_database_is_reported_without_credentials(tmp_path):
    url = "postgresql+asyncpg://tacit:s3cret@127.0.0.1:1/tacit"
    r = tacit(["stats"], tmp_path, env={"TACIT_DATABASE__URL": url})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "database.url: cannot connect" in r.stderr and "s3cret" not in r.stderr


def test_guides_lists_every_guide_with_its_counts(tmp_path):
    r = tacit(["guides"], tmp_path)
    assert r.returncode == 0
    for slug in ("air-traffic-controller", "physician", "litigator", "sommelier", "generic"):
        assert slug in r.stdout
    assert "32" in r.stdout  # the air traffic controller guide's question count


def test_interviews_stats_and_db_upgrade_on_a_fresh_folder(tmp_path):
    assert tacit(["db", "upgrade"], tmp_path).stdout.strip() == "database is up to date"
    r = tacit(["interviews"], tmp_path)
    assert r.returncode == 0 and "no interviews yet" in r.stdout
    r = tacit(["stats"], tmp_path)
    assert r.returncode == 0 and "experts: 0" in r.stdout
