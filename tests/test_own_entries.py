"""An expert corrects and withdraws their own entries: real storage, Chroma, model, exports."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select

from knowledge.experts import CORRECTED, NotYourEntry
from knowledge.export import ExportOptions, export
from knowledge.review import EntryWithdrawn
from knowledge.storage import AuditEvent, Entry, Turn
from knowledge.storage.entries import from_bytes
from knowledge.vocab import TurnStatus
from tests.conftest import real_pairs

pytestmark = pytest.mark.asyncio

ANSWERS = [
    p["answer"].strip()
    for p in real_pairs("primock57_day2_consultation03")
    if len(p["answer"].split()) > 30
][:3]


async def interview(services, name="ana", answers=ANSWERS, *, end=True):
    ex = await services.experts.identify("terminal", name, name.title())
    await services.experts.give_consent(ex.id)
    ask = await services.engine.start(ex.id, "generic")
    ids = []
    for text in answers:
        reply = await services.engine.answer(ask.interview_id, text)
        ids += reply.entry_ids
        ask = reply.next
    if end:
        await services.engine.end(ask.interview_id)
    await services.indexer.sync()
    return ex, ids, ask


async def row(services, entry_id):
    async with services.db.sessions() as s:
        return await s.get(Entry, entry_id)


async def test_a_correction_is_kept_beside_the_answer_and_sent_back_to_review(services):
    ex, ids, _ = await interview(services)
    await services.review.approve("cli:carla", ids[0])
    await services.review.edit("cli:carla", ids[0], answer="A curator's tidier wording.")
    before = await row(services, ids[0])
    fixed = ANSWERS[0] + " I should add: I always ask about allergies before prescribing."

    done = await services.experts.correct([ex.id], ids[0], fixed)

    e = await row(services, ids[0])
    assert done.changed and done.entry.corrected and done.entry.answer == fixed
    assert e.answer == before.answer == ANSWERS[0]  # the expert's words are never overwritten
    assert e.corrected_answer == fixed and e.final_answer == fixed
    assert (e.status, e.decided_by, e.edited_answer) == ("pending", None, None)
    # re-embedded: the stored vector is of the correction
    want = await services.embedder.embed_one(fixed)
    assert np.allclose(from_bytes(e.embedding), want, atol=1e-5)
    async with services.db.sessions() as s:
        ev = await s.scalar(
            select(AuditEvent).where(AuditEvent.action == CORRECTED, AuditEvent.entity_id == e.id)
        )
    assert ev.actor == f"expert:{ex.id}"
    assert ev.before["edited_answer"] == "A curator's tidier wording."
    assert ev.after["corrected_answer"] == fixed and ev.after["status"] == "pending"
    # curators see it as the expert's own correction
    detail = await services.review.entry(ids[0])
    assert detail.corrected and detail.corrected_answer == fixed
    assert detail.original_answer == ANSWERS[0] and detail.answer == fixed
    assert CORRECTED in [h.action for h in detail.history]


async def test_the_export_ships_the_correction(services, tmp_path):
    ex, ids, _ = await interview(services)
    fixed = "Chest pain with sweating is an ambulance, not a GP appointment: I say so plainly."
    await services.experts.correct([ex.id], ids[1], fixed)
    for eid in ids:
        await services.review.approve("cli:carla", eid)
    await export(services, ExportOptions(out=tmp_path / "d.jsonl", pii="off", turns="single"))
    said = [
        json.loads(line)["messages"][2]["content"]
        for line in (tmp_path / "d.jsonl").read_text().splitlines()
    ]
    assert fixed in said and ANSWERS[1] not in said
    prov = [json.loads(line) for line in (tmp_path / "d.provenance.jsonl").read_text().splitlines()]
    flags = {p["entry_ids"][0]: p["entries"][0]["corrected_by_expert"] for p in prov}
    assert flags[ids[1]] is True and flags[ids[0]] is False


async def test_a_correction_back_to_the_original_words_clears_it(services):
    ex, ids, _ = await interview(services)
    await services.experts.correct([ex.id], ids[0], "Something else entirely.")
    done = await services.experts.correct([ex.id], ids[0], "  " + ANSWERS[0].replace(" ", "  "))
    assert done.changed and not done.entry.corrected
    assert (await row(services, ids[0])).corrected_answer is None
    same = await services.experts.correct([ex.id], ids[0], ANSWERS[0])
    assert not same.changed


async def test_withdrawing_deletes_the_entry_its_words_and_its_vector(services, tmp_path):
    ex, ids, _ = await interview(services)
    assert await services.index.count() == len(ids)
    done = await services.experts.withdraw([ex.id], ids[1])
    await services.indexer.sync()
    assert done.entry_id == ids[1]
    assert await row(services, ids[1]) is None
    assert await services.index.count() == len(ids) - 1
    assert sorted((await services.index.get(ids)).keys()) == [ids[0], ids[2]]
    async with services.db.sessions() as s:
        turns = list(await s.scalars(select(Turn).order_by(Turn.seq)))
    assert ANSWERS[1] not in [t.answer for t in turns]  # the words are gone from the turn too
    (gone,) = [t for t in turns if t.status == TurnStatus.withdrawn]
    assert gone.answer is None
    with pytest.raises(EntryWithdrawn, match=f"entry {ids[1]} was withdrawn"):
        await services.review.entry(ids[1])
    assert [e.entry_id for e in await services.experts.own_entries([ex.id])] == [ids[0], ids[2]]


async def test_a_withdrawn_answer_of_a_running_interview_is_not_made_again(services):
    ex, ids, ask = await interview(services, end=False)
    await services.experts.withdraw([ex.id], ids[0])
    await services.engine.current(ask.interview_id)  # repairs answered turns without entries
    async with services.db.sessions() as s:
        assert list(await s.scalars(select(Entry.id).order_by(Entry.id))) == ids[1:]


async def test_nobody_corrects_or_withdraws_anothers_entry(services):
    ana, ids, _ = await interview(services)
    ben, _, _ = await interview(services, "ben", ANSWERS[:1])
    for attempt in (
        services.experts.correct([ben.id], ids[0], "mine now"),
        services.experts.withdraw([ben.id], ids[0]),
        services.experts.own_entry([ben.id], ids[0]),
    ):
        with pytest.raises(NotYourEntry, match=f"you have no entry {ids[0]}"):
            await attempt
    assert (await row(services, ids[0])).answer == ANSWERS[0]
    with pytest.raises(Exception, match="needs some text"):
        await services.experts.correct([ana.id], ids[0], "   ")
