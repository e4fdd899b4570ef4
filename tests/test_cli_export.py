"""`tacit export`, run as a user runs it: a real process over a real database and Chroma."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import real_pairs
from tests.test_cli import tacit


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A folder where an expert was interviewed twice with `tacit chat`; every entry approved."""
    cwd = tmp_path_factory.mktemp("project")
    answers = [
        p["answer"].replace("\n", " ")
        for p in real_pairs("medquad_5_NIDDK_QA")
        if len(p["answer"].split()) > 40
    ]
    for k in range(2):
        script = "\n".join(answers[4 * k : 4 * k + 4]) + "\n/end\n"
        r = tacit(["chat", "--guide", "physician", "--consent", "--name", "Ana"], cwd, script)
        assert r.returncode == 0, r.stderr
    with sqlite3.connect(cwd / "data" / "tacit.db") as conn:
        conn.execute(
            "update entries set status = 'approved', decided_by = 'cli:carla', "
            "decided_at = '2026-11-20 10:00:00.000000'"
        )
    return cwd


def test_export_writes_the_split_files_and_a_summary(project, tmp_path):
    out = tmp_path / "train.jsonl"
    r = tacit(
        ["export", "--format", "openai", "--out", str(out), "--split", "0.5", "--turns", "both"],
        project,
    )
    assert r.returncode == 0, r.stderr
    # MedQuAD answers two of these questions with the same text: 7 single-turn examples kept of
    # 8 answers, and 2 interviews.
    assert "wrote 9 examples" in r.stdout
    assert "duplicates removed: 1" in r.stdout and "8 vectors from Chroma" in r.stdout
    assert "held back for personal data: 0" in r.stdout and "redactions:" in r.stdout
    train, val = tmp_path / "train.train.jsonl", tmp_path / "train.validation.jsonl"
    prov = tmp_path / "train.provenance.jsonl"
    assert train.exists() and val.exists() and prov.exists()
    assert len(prov.read_text().splitlines()) == 9
    check = tacit(["export", "--check", str(train)], project)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ok (openai)" in check.stderr


def test_export_to_an_hf_folder_that_check_accepts(project, tmp_path):
    out = tmp_path / "hf"
    r = tacit(["export", "--format", "hf", "--out", str(out), "--turns", "single"], project)
    assert r.returncode == 0, r.stderr
    data = out / "data" / "single" / "train-00000-of-00001.parquet"
    assert (out / "README.md").exists() and data.exists()
    check = tacit(["export", "--check", str(out)], project)
    assert check.returncode == 0, check.stdout + check.stderr


def test_check_prints_each_broken_line_and_exits_non_zero(project, tmp_path):
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    bad = [
        {"messages": [{"role": "user", "content": "q"}]},
        {"messages": [{"role": "user", "content": " "}, {"role": "assistant", "content": "a"}]},
        {**good, "id": 7},
        {"messages": [{"role": "narrator", "content": "q"}, {"role": "assistant", "content": "a"}]},
    ]
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in [*[good] * 10, *bad]) + "\n")
    r = tacit(["export", "--check", str(path)], project)
    assert r.returncode == 1
    printed = [line for line in r.stdout.splitlines() if "error" in line]
    assert [line.split(":")[1] for line in printed] == [
        "line 11",
        "line 12",
        "line 13",
        "line 14",
    ]
    assert "4 problems on 4 lines" in r.stderr


def test_nothing_to_export_is_one_clear_error(project, tmp_path):
    r = tacit(["export", "--out", str(tmp_path / "x.jsonl"), "--guide", "sommelier"], project)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("tacit: error: nothing to export")
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_export_help_shows_examples(project):
    r = tacit(["export", "--help"], project)
    assert r.returncode == 0 and "tacit export --format openai" in r.stdout
