"""Quality flags from the command line: a piped (pasted) answer in `tacit chat`, then
`tacit entries list|show` and `tacit payouts`, as a user runs them (real processes)."""

from __future__ import annotations

import csv
import io

from tests.conftest import real_pairs
from tests.test_cli import tacit

LEGAL = [
    p["answer"].replace("\n", " ").strip()
    for p in real_pairs("scotus_2019.18-8369-t01")
    if 80 < len(p["answer"].split()) < 300
]


def test_a_pasted_answer_is_flagged_in_entries_and_payouts(tmp_path):
    # Piped input arrives all at once: hundreds of characters within milliseconds of the
    # question, which nobody types. A short answer is not judged by its speed.
    script = "\n".join([LEGAL[0], "Yes, that is right.", "/end"]) + "\n"
    chat = tacit(["chat", "--guide", "litigator", "--consent", "--name", "Ana"], tmp_path, script)
    assert chat.returncode == 0, chat.stderr

    listed = tacit(["entries", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    first, second = listed.stdout.splitlines()
    assert first.split("\t")[1] == "pending?" and second.split("\t")[1] == "pending"

    entry_id = first.split("\t")[0]
    shown = tacit(["entries", "show", entry_id], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "quality: pasted: could not have been typed: a line of" in shown.stdout
    assert "arrived: 1 line over" in shown.stdout

    table = tacit(["payouts"], tmp_path)
    assert table.returncode == 0, table.stderr
    assert "of which on 1 flagged answer:" in table.stdout
    as_csv = tacit(["payouts", "--csv", "-"], tmp_path)
    (row,) = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert row["display_name"] == "Ana" and row["flagged_answers"] == "1"
