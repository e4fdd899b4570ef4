"""Preference pairs (`--format dpo`) from curator edits, expert corrections and teach-back."""

from __future__ import annotations

import pytest
import pytest_asyncio
from sqlalchemy import update

from knowledge.export import export
from knowledge.export.formats.check import check_file
from knowledge.storage import Entry, Interview
from tests.test_dataset import approve, entries, expert, interview, lines, long_answers, opts

EDITED = (
    "The standard of review is abuse of discretion, so argue the record and the trial court's "
    "findings rather than a fresh reading of the statute."
)
CORRECTED = (
    "I would add one thing: we always check the appendix first, because the judges read it "
    "before the briefs and it decides which facts they remember."
)
SUMMARY = (
    "You start from the statute's text and then look at the appellate record. "
    "Have I got that right?"
)
FIX = (
    "Not quite: I start from the record, the findings below, and only then the statute, "
    "because the standard of review decides how much the text matters."
)


@pytest_asyncio.fixture
async def pairs(services):
    """One interview: entry 0 edited by a curator, entry 1 corrected by the expert, entry 2
    both, entry 3 untouched; the teach-back summary corrected by the expert."""
    ana = await expert(services, "ana", "Ana Ruiz")
    answers = long_answers("scotus_2019.18-1501-t01", 4)
    iid = await interview(services, ana.id, "litigator", answers)
    rows = await entries(services, iid)
    await services.experts.correct([ana.id], rows[1].id, CORRECTED)
    await services.experts.correct([ana.id], rows[2].id, CORRECTED + " Also the docket.")
    await approve(services)
    await services.review.edit("discord:81234", rows[0].id, answer=EDITED)
    await services.review.edit("discord:81234", rows[2].id, answer=EDITED + " And the docket.")
    # The summary is what the LLM wrote at the end of the interview (no LLM runs here).
    async with services.db.sessions() as s, s.begin():
        await s.execute(
            update(Interview)
            .where(Interview.id == iid)
            .values(summary=SUMMARY, summary_source="llm:summary@1")
        )
    await services.engine.correct_summary(iid, FIX)
    return {"iid": iid, "rows": rows, "answers": answers}


def by_id(report) -> tuple[dict, dict]:
    recs = {r["id"]: r for r in lines(report.out)}
    prov = {p["id"]: p for p in lines(report.out.with_name("ds-dpo.provenance.jsonl"))}
    return recs, prov


@pytest.mark.asyncio
async def test_edits_corrections_and_teach_back_become_trl_preference_pairs(
    services, pairs, tmp_path
):
    report = await export(services, opts(tmp_path, "dpo", pii="off"))
    recs, prov = by_id(report)
    rows = pairs["rows"]
    assert sorted(recs) == sorted(
        [
            f"curator_edit-{rows[0].id}",
            f"expert_correction-{rows[1].id}",
            f"expert_correction-{rows[2].id}",
            f"curator_edit-{rows[2].id}",
            f"teach_back-{pairs['iid']}",
        ]
    )
    edit = recs[f"curator_edit-{rows[0].id}"]
    assert edit["chosen"] == [{"role": "assistant", "content": EDITED}]
    assert edit["rejected"] == [{"role": "assistant", "content": rows[0].answer}]
    assert [m["role"] for m in edit["prompt"]] == ["system", "user"]
    assert edit["prompt"][1]["content"] == rows[0].question
    # Edited after the expert's correction: the curator's text over the expert's correction.
    both = recs[f"curator_edit-{rows[2].id}"]
    assert both["rejected"][0]["content"] == CORRECTED + " Also the docket."
    fixed = recs[f"expert_correction-{rows[1].id}"]
    assert fixed["chosen"][0]["content"] == CORRECTED
    assert fixed["rejected"][0]["content"] == rows[1].answer
    teach = recs[f"teach_back-{pairs['iid']}"]
    assert teach["chosen"][0]["content"] == FIX and teach["rejected"][0]["content"] == SUMMARY
    assert "teach-back" in teach["prompt"][0]["content"]
    assert pairs["answers"][3][:80] in teach["prompt"][1]["content"]  # the transcript
    assert report.kinds == {"curator_edit": 2, "expert_correction": 2, "teach_back": 1}

    assert prov[f"curator_edit-{rows[0].id}"]["kind"] == "curator_edit"
    assert prov[f"teach_back-{pairs['iid']}"]["summary_source"] == "llm:summary@1"
    editor = prov[f"curator_edit-{rows[0].id}"]["entries"][0]["edited_by"]
    assert editor.startswith("curator-")
    assert "81234" not in report.out.with_name("ds-dpo.provenance.jsonl").read_text()
    assert check_file(report.out, "dpo") == []


@pytest.mark.asyncio
async def test_trl_reads_the_pairs_as_conversational_preference_data(services, pairs, tmp_path):
    du = pytest.importorskip("trl.data_utils")
    import datasets

    report = await export(services, opts(tmp_path, "dpo"))
    assert check_file(report.out, "dpo", trl=True) == []
    ds = datasets.load_dataset("json", data_files=str(report.out), split="train")
    assert len(ds) == 5
    for row in ds:
        assert du.is_conversational(row)
        assert row["chosen"][0]["role"] == "assistant"


@pytest.mark.asyncio
async def test_an_unchanged_entry_gives_no_pair_and_a_broken_pair_is_caught(services, tmp_path):
    ana = await expert(services, "ana", "Ana Ruiz")
    await interview(services, ana.id, "litigator", long_answers("scotus_2019.18-8369-t01", 2))
    await approve(services)
    report = await export(services, opts(tmp_path, "dpo"))
    assert report.written == 0 and lines(report.out) == []
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"prompt": [{"role": "user", "content": "q"}], "chosen": [{"role": "assistant", '
        '"content": "a"}], "rejected": [{"role": "assistant", "content": "a"}]}\n'
        '{"prompt": [{"role": "assistant", "content": "q"}], "chosen": "a", "rejected": []}\n'
    )
    problems = check_file(bad, "dpo", trl=False)
    assert [p.line for p in problems] == [1, 2, 2, 2]
    assert "same text" in problems[0].message


@pytest.mark.asyncio
async def test_personal_data_in_the_rejected_text_is_redacted_too(services, tmp_path):
    ana = await expert(services, "ana", "Ana Ruiz")
    answers = long_answers("scotus_2019.18-8369-t01", 2)
    answers[0] += " Call me on +44 7700 900461 if the clerk objects."
    await interview(services, ana.id, "litigator", answers)
    rows = await entries(services)
    await approve(services)
    await services.review.edit("cli:carla", rows[0].id, answer=EDITED)
    report = await export(services, opts(tmp_path, "dpo", pii="redact"))
    (rec,) = lines(report.out)
    assert (
        "7700" not in rec["rejected"][0]["content"] and "[PHONE]" in rec["rejected"][0]["content"]
    )
    assert report.redactions["phone"] == 1
    held = await export(services, opts(tmp_path / "hold", "dpo", pii="hold"))
    assert held.written == 0 and held.held_pii == 1
    async with services.db.sessions() as s:
        assert (await s.get(Entry, rows[0].id)).answer == answers[0]  # nothing changed in SQL
