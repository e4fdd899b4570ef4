"""Erasure reaches exports: forgetting or withdrawing rewrites the files tacit wrote, marks the
posts holding them for deletion, and keeps what the expert is owed, anonymously."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from knowledge.export import ExportOptions, export
from knowledge.export.formats.check import check_file
from knowledge.storage import ExportEntry, ExportExpert, PayRecord
from tests.conftest import real_pairs

pytestmark = pytest.mark.asyncio

DOCTOR = [
    p["answer"].strip()
    for p in real_pairs("primock57_day2_consultation03")
    if len(p["answer"].split()) > 30
][:3]
LAWYER = [
    p["answer"].strip()
    for p in real_pairs("scotus_2019.18-1501-t01")
    if 60 < len(p["answer"].split()) < 300
][:3]


def words(text: str) -> str:
    return " ".join(text.split())


async def interview(services, name: str, answers: list[str]):
    ex = await services.experts.identify("terminal", name, name.title())
    await services.experts.give_consent(ex.id)
    ask = await services.engine.start(ex.id, "generic")
    ids = []
    for text in answers:
        reply = await services.engine.answer(ask.interview_id, text)
        ids += reply.entry_ids
        ask = reply.next
    await services.engine.end(ask.interview_id)
    return ex, ids


async def approved_corpus(services):
    doc, doc_ids = await interview(services, "dora", DOCTOR)
    law, law_ids = await interview(services, "lars", LAWYER)
    for eid in doc_ids + law_ids:
        await services.review.approve("cli:carla", eid)
    await services.indexer.sync()
    return doc, doc_ids, law, law_ids


def dataset_text(paths: list[Path]) -> str:
    return words("\n".join(p.read_text(encoding="utf-8") for p in paths if p.suffix != ".parquet"))


async def test_forgetting_rewrites_an_export_without_the_expert(services, tmp_path):
    doc, doc_ids, law, law_ids = await approved_corpus(services)
    out = tmp_path / "d.jsonl"
    report = await export(services, ExportOptions(out=out, pii="off", split=0.5, seed=3))
    files = report.files
    assert any(words(DOCTOR[0])[:200] in dataset_text(files) for _ in [0])
    assert doc.pseudonym in dataset_text(files)

    done = await services.experts.forget(doc.id, actor=f"expert:{doc.id}")

    copies = done.copies
    assert copies.exports == [report.export_id] and copies.examples_removed > 0
    assert sorted(copies.files_rewritten) == sorted(str(p) for p in files)
    text = dataset_text(files)
    for answer in DOCTOR:
        assert words(answer)[:120] not in text
    assert doc.pseudonym not in text
    for answer in LAWYER:  # the other expert's examples stay
        assert words(answer)[:120] in text
    for path in files:
        if path.suffix == ".jsonl" and "provenance" not in path.name:
            assert [p for p in check_file(path, "openai") if p.level == "error"] == []
    prov = [json.loads(line) for line in (tmp_path / "d.provenance.jsonl").read_text().splitlines()]
    assert {p["expert"] for p in prov} == {law.pseudonym}
    assert not {i for p in prov for i in p["entry_ids"]} & set(doc_ids)
    (rec,) = await services.exports.list()
    assert rec.status == "rewritten" and rec.experts == 1 and rec.entries == len(law_ids)
    async with services.db.sessions() as s:
        held = set(await s.scalars(select(ExportEntry.entry_id)))
        pseudonyms = set(await s.scalars(select(ExportExpert.pseudonym)))
    assert held == set(law_ids) and pseudonyms == {law.pseudonym}


async def test_withdrawing_one_entry_takes_its_examples_out_and_leaves_the_rest(services, tmp_path):
    doc, doc_ids, _, law_ids = await approved_corpus(services)
    out = tmp_path / "d.jsonl"
    await export(services, ExportOptions(out=out, pii="off", turns="both"))
    done = await services.experts.withdraw([doc.id], doc_ids[1])
    # its single-turn example and its interview's conversation go; the other entries stay
    assert done.copies.examples_removed == 2
    prov = [json.loads(line) for line in (tmp_path / "d.provenance.jsonl").read_text().splitlines()]
    ids = {p["id"] for p in prov}
    assert f"entry-{doc_ids[1]}" not in ids and f"entry-{doc_ids[0]}" in ids
    assert all(doc_ids[1] not in p["entry_ids"] for p in prov)
    assert words(DOCTOR[1])[:120] not in words(out.read_text())
    assert len(out.read_text().splitlines()) == len(prov)


async def test_a_hugging_face_folder_is_rewritten_and_its_card_recounted(services, tmp_path):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    doc, _, law, law_ids = await approved_corpus(services)
    out = tmp_path / "hf"
    await export(services, ExportOptions(out=out, format="hf", pii="off", turns="single"))
    await services.experts.forget(doc.id, actor="cli:op")
    ds = load_dataset(str(out))
    assert ds["train"].num_rows == len(law_ids)
    assert all(m["content"] not in DOCTOR for row in ds["train"] for m in row["messages"])
    card = DatasetCard.load(out / "README.md")
    (split,) = card.data.dataset_info["splits"]
    assert split["num_examples"] == len(law_ids) and split["num_bytes"] > 0
    assert f"| train | {len(law_ids)} |" in card.text and "train: 1 interviews" in card.text
    assert check_file(out, "hf") == []  # datasets reads the new card without a warning


async def test_with_on_erasure_delete_the_files_go(services, tmp_path):
    services.exports.on_erasure = "delete"
    doc, *_ = await approved_corpus(services)
    report = await export(services, ExportOptions(out=tmp_path / "d.jsonl", pii="off"))
    done = await services.experts.forget(doc.id, actor="cli:op")
    assert sorted(done.copies.files_deleted) == sorted(str(p) for p in report.files)
    assert not any(p.exists() for p in report.files)
    assert (await services.exports.list())[0].status == "deleted"


async def test_a_file_changed_since_tacit_wrote_it_is_left_alone_and_reported(services, tmp_path):
    doc, *_ = await approved_corpus(services)
    out = tmp_path / "d.jsonl"
    await export(services, ExportOptions(out=out, pii="off"))
    out.write_text(out.read_text() + "\n", encoding="utf-8")  # someone edited it
    before = out.read_text()
    done = await services.experts.forget(doc.id, actor="cli:op")
    assert done.copies.files_changed == [str(out)]
    assert out.read_text() == before


async def test_forgetting_keeps_what_is_owed_under_the_pseudonym_only(services, tmp_path):
    doc, *_ = await approved_corpus(services)
    (owed,) = await services.experts.earnings(expert_id=doc.id)
    done = await services.experts.forget(doc.id, actor="cli:op")
    assert done.owed == owed.amount and done.pseudonyms == [doc.pseudonym]
    rows = await services.review.payouts()
    (kept,) = [r for r in rows if r.forgotten]
    assert (kept.pseudonym, kept.amount, kept.hours, kept.paid) == (
        doc.pseudonym,
        owed.amount,
        owed.hours,
        False,
    )
    assert kept.display_name == "(forgotten expert)" and "Dora" not in repr(kept)
    async with services.db.sessions() as s:
        (record,) = await s.scalars(select(PayRecord))
    assert record.entries_accepted == owed.entries_accepted
    assert await services.experts.mark_paid(doc.pseudonym, actor="cli:op") == 1
    assert [r.paid for r in await services.review.payouts() if r.forgotten] == [True]
    assert "yes,yes" in await services.review.payouts_csv()


async def test_posts_of_an_export_are_recalled_and_a_sweep_finishes_a_failed_erasure(
    services, tmp_path
):
    doc, *_ = await approved_corpus(services)
    report = await export(services, ExportOptions(out=tmp_path / "d.jsonl", pii="off"))
    await services.exports.posted(report.export_id, "discord:55:66")

    class FullDisk:  # the files cannot be reached now (a full disk, a permission)
        async def erase(self, entry_ids):
            raise OSError(28, "No space left on device")

    services.experts.eraser = FullDisk()
    done = await services.experts.forget(doc.id, actor="cli:op")
    assert done.entries > 0 and done.copies is None and done.copies_pending  # forgotten anyway
    assert doc.pseudonym in (tmp_path / "d.provenance.jsonl").read_text()
    assert await services.exports.recalled_posts() == []

    swept = await services.exports.purge()

    assert swept.exports == [report.export_id] and swept.examples_removed > 0
    assert doc.pseudonym not in (tmp_path / "d.provenance.jsonl").read_text()
    (post,) = await services.exports.recalled_posts()
    assert post.where == "discord:55:66" and [p.id for p in swept.posts] == [post.id]
    await services.exports.post_deleted(post.id)
    assert await services.exports.recalled_posts() == []
    assert (await services.exports.purge()).exports == []  # nothing left to do
