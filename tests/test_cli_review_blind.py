"""Blind double review from the terminal: `tacit entries next/approve/reject/show/stats --as`."""

from __future__ import annotations

import json
import re

import krippendorff
import numpy as np
import pytest

from tests.test_cli_review import Store, store  # noqa: F401  (the store fixture)


@pytest.fixture
def db_url(tmp_path):
    """SQLite only: the commands are thin, and tests/test_review_blind.py runs the same storage
    on PostgreSQL too."""
    return f"sqlite+aiosqlite:///{tmp_path / 'tacit.db'}"


@pytest.fixture
def settings(settings):
    settings.review.reviews_per_entry = 2
    return settings


@pytest.fixture
def blind(store: Store) -> Store:  # noqa: F811
    with open(store.config, "a", encoding="utf-8") as f:
        f.write("[review]\nreviews_per_entry = 2\n")
    return store


def test_two_curators_review_blind_and_a_third_adjudicates_their_disagreement(blind: Store):
    e0, e1, e2 = blind.legal
    first = blind.run("entries", "next", "--as", "ana")
    assert first.exit_code == 0 and first.output.startswith(f"entry {e0}: pending")
    assert "reviews: 0 of 2" in first.output
    r = blind.run("entries", "approve", str(e0), "--as", "ana")
    assert r.exit_code == 0, r.output
    assert f"recorded your decision on {e0}: it needs 1 more review" in r.output
    again = blind.run("entries", "reject", str(e0), "--reason", "second thoughts", "--as", "ana")
    assert again.exit_code == 1
    assert f"you already reviewed entry {e0} (approved)" in again.stderr
    assert blind.entry(e0).status == "pending"
    # Ben sees nothing of Ana's decision before his own
    shown = blind.run("entries", "show", str(e0), "--as", "ben").output
    assert "cli:ana" not in shown and "history: none" in shown and "reviews: 1 of 2" in shown
    r = blind.run("entries", "reject", str(e0), "--reason", "argues the case only", "--as", "ben")
    assert "the reviews disagree, so it goes to adjudication" in r.output
    # Cat gets the disputed entry first, with both decisions and the reason
    card = blind.run("entries", "next", "--as", "cat").output
    assert card.startswith(f"entry {e0}: pending")
    assert "your decision settles it (adjudication)" in card
    assert "cli:ana [review]: approved" in card
    assert "cli:ben [review]: rejected (reason: argues the case only)" in card
    assert blind.run("entries", "approve", str(e0), "--as", "cat").output.strip() == (
        f"approved {e0}"
    )
    assert blind.entry(e0).status == "approved"
    # two that agree are final at once
    for who in ("ana", "ben"):
        out = blind.run("entries", "approve", str(e1), str(e2), "--as", who).output
    assert out.splitlines() == [f"approved {e1}", f"approved {e2}"]
    stats = blind.run("entries", "stats").output
    want = krippendorff.alpha(
        reliability_data=np.array([[1, 1, 1], [0, 1, 1]], dtype=float),
        level_of_measurement="nominal",
    )
    line = next(x for x in stats.splitlines() if x.startswith("agreement"))
    assert re.search(
        rf"verdicts\): {want:.3f} over 3 entries reviewed by two or more curators \(2 agreed\);"
        r" 1 adjudicated",
        line,
    ), line
    assert f"cli:ana & cli:ben {want:.3f} over 3" in stats
    # and on the dataset card of an hf export
    folder = blind.config.parent / "hf"
    r = blind.run("export", "--format", "hf", "--out", str(folder), "--guide", "litigator")
    assert r.exit_code == 0, r.output + r.stderr
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert f"| all guides | 3 | {want:.3f} | Krippendorff's alpha, nominal (verdicts) |" in card
    assert "| criterion | mean score | entries scored |" not in card  # nobody scored here


def test_rubric_scores_are_given_with_a_decision_checked_and_averaged(store: Store):  # noqa: F811
    e0, e1, _ = store.legal
    r = store.run(
        "entries", "approve", str(e0), "--score", "specificity=4", "--score", "correctness=5"
    )
    assert r.output.strip() == f"approved {e0}"
    r = store.run("entries", "approve", str(e1), "--score", "specificity=9")
    assert r.exit_code == 1 and "specificity: '9' is not a score from 1 to 5" in r.stderr
    assert store.entry(e1).status == "pending"  # nothing decided on a bad score
    r = store.run("entries", "score", str(e1), "clarity=3")
    assert r.exit_code == 1
    assert "guide 'litigator' has no rubric criterion 'clarity'" in r.stderr
    assert "(it has: specificity, correctness)" in r.stderr
    r = store.run("entries", "score", str(e1), "specificity=2", "--as", "ben")
    assert r.output.strip() == f"scored {e1}"
    assert store.run("entries", "approve", str(e1), "--as", "ben").exit_code == 0
    shown = store.run("entries", "show", str(e0)).output
    assert "mean scores: correctness 5.00, specificity 4.00" in shown
    assert "rubric: specificity 1-5 (Concrete moves" in shown
    stats = store.run("entries", "stats").output
    assert "rubric specificity: mean score 3.00" in stats  # 4 and 2
    assert "rubric correctness: mean score 5.00" in stats


def test_export_keeps_entries_scoring_at_least_the_minimum_with_their_scores(store, tmp_path):  # noqa: F811
    e0, e1, e2 = store.legal
    store.run("entries", "approve", str(e0), "--score", "specificity=4", "--score", "correctness=3")
    store.run("entries", "approve", str(e0), "--score", "specificity=5", "--as", "ben")
    store.run("entries", "approve", str(e1), "--score", "specificity=2")
    store.run("entries", "approve", str(e2))  # never scored
    out = tmp_path / "scored.jsonl"
    r = store.run("export", "--out", str(out), "--turns", "single", "--min-score", "specificity=3")
    assert r.exit_code == 0, r.output + r.stderr
    sidecar = [
        json.loads(x) for x in (tmp_path / "scored.provenance.jsonl").read_text().splitlines()
    ]
    assert [p["entry_ids"] for p in sidecar] == [[e0]]
    assert (sidecar[0]["score_specificity"], sidecar[0]["score_correctness"]) == (4.5, 3.0)
    everything = tmp_path / "all.jsonl"
    assert store.run("export", "--out", str(everything), "--turns", "single").exit_code == 0
    rows = [json.loads(x) for x in (tmp_path / "all.provenance.jsonl").read_text().splitlines()]
    by_entry = {p["entry_ids"][0]: p for p in rows}
    assert by_entry[e1]["score_specificity"] == 2.0 and "score_specificity" not in by_entry[e2]
    bad = store.run("export", "--out", str(tmp_path / "x.jsonl"), "--min-score", "specificity")
    assert bad.exit_code == 1 and "give it as CRITERION=NUMBER" in bad.stderr
