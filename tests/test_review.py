"""Curator review through real storage (SQLite and PostgreSQL), real Chroma and the real model."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select, update

from knowledge.review import (
    APPROVE,
    DUPLICATE,
    EDIT,
    REJECT,
    UNDO,
    EntryClaimed,
    EntryWithdrawn,
    NothingToUndo,
    ReviewError,
    UndoConflict,
    render_chart,
)
from knowledge.storage import AuditEvent, Entry
from knowledge.storage.entries import from_bytes
from knowledge.storage.models import utcnow
from tests.conftest import real_pairs

pytestmark = pytest.mark.asyncio

LEGAL = [
    p["answer"] for p in real_pairs("scotus_2019.18-1501-t01") if len(p["answer"].split()) > 60
]
LEGAL += [
    p["answer"] for p in real_pairs("scotus_2019.18-8369-t01") if len(p["answer"].split()) > 60
]
MEDICAL = {p["question"]: p["answer"] for p in real_pairs("medquad_5_NIDDK_QA")}
ACROMEGALY_SYMPTOMS = MEDICAL["What are the symptoms of Acromegaly ?"]
ACROMEGALY_CAUSES = MEDICAL["What causes Acromegaly ?"]
ANA, BEN = "discord:1001", "discord:1002"


async def interview(services, name: str, guide: str, answers: list[str], *, channel=None):
    """Entry ids made by a real interview in which the expert gives these answers."""
    ex = await services.experts.identify("terminal", name, name.title())
    await services.experts.give_consent(ex.id)
    ids: list[int] = []
    ask = None
    for text in answers:
        if ask is None:
            ask = await services.engine.start(ex.id, guide, channel=channel)
        reply = await services.engine.answer(ask.interview_id, text)
        ids += reply.entry_ids
        ask = reply.next
    if ask is not None:
        await services.engine.end(ask.interview_id)
    await services.indexer.sync()
    return ids


async def audit(services, entry_id: int) -> list[AuditEvent]:
    async with services.db.sessions() as s:
        return list(
            await s.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "entry", AuditEvent.entity_id == entry_id)
                .order_by(AuditEvent.id)
            )
        )


async def row(services, entry_id: int) -> Entry:
    async with services.db.sessions() as s:
        return await s.get(Entry, entry_id)


# ---- the card --------------------------------------------------------------------------------


async def test_next_shows_the_oldest_pending_entry_with_what_a_curator_needs(services):
    ids = await interview(services, "rapawy", "litigator", LEGAL[:4], channel="discord:thread:555")
    card = await services.review.next(ANA)
    assert card.entry_id == ids[0]
    e = await row(services, ids[0])
    guide = services.guides.get("litigator")
    assert card.question == e.question and card.question.startswith(
        guide.questions[0][1].standalone or "As "
    )
    assert card.answer == card.original_answer == LEGAL[0].strip()
    assert (card.expert_name, card.profession) == ("Rapawy", guide.profession)
    assert card.expert_pseudonym.startswith("expert-")
    assert (card.guide, card.guide_title, card.step, card.probe) == (
        "litigator",
        guide.title,
        e.step_id,
        e.probe,
    )
    assert card.interview_id == e.interview_id and card.channel == "discord:thread:555"
    assert card.claimed_by == ANA and card.claimed_until > utcnow()
    assert card.pending_total == len(ids)
    assert 1 <= len(card.similar) <= 3
    assert ids[0] not in {s.entry_id for s in card.similar}
    assert all(s.status == "pending" for s in card.similar)
    sims = [s.similarity for s in card.similar]
    assert sims == sorted(sims, reverse=True)
    assert card.duplicate_of_approved is None  # nothing approved yet


async def test_asking_again_without_deciding_shows_the_same_entry(services):
    await interview(services, "rapawy", "litigator", LEGAL[:3])
    first = await services.review.next(ANA)
    again = await services.review.next(ANA)
    assert again.entry_id == first.entry_id


# ---- decisions -------------------------------------------------------------------------------


async def test_approving_is_audited_with_who_when_before_and_after(services):
    [eid, *_] = await interview(services, "rapawy", "litigator", LEGAL[:2])
    await services.review.next(ANA)
    d = await services.review.approve(ANA, eid)
    assert d.changed and d.previous_status == "pending" and d.entry.status == "approved"
    e = await row(services, eid)
    assert (e.status, e.decided_by, e.claimed_by) == ("approved", ANA, None)
    [ev] = await audit(services, eid)
    assert (ev.actor, ev.action, ev.id) == (ANA, APPROVE, d.audit_id)
    assert ev.before["status"] == "pending" and ev.after["status"] == "approved"
    assert ev.after["decided_by"] == ANA and ev.after["answer"] == LEGAL[0].strip()
    assert abs((ev.at - e.decided_at).total_seconds()) < 1


async def test_approving_twice_changes_nothing_the_second_time(services):
    [eid, *_] = await interview(services, "rapawy", "litigator", LEGAL[:2])
    await services.review.approve(ANA, eid)
    again = await services.review.approve(ANA, eid)
    assert not again.changed and again.entry.status == "approved"
    assert len(await audit(services, eid)) == 1


async def test_rejecting_needs_a_reason_and_keeps_it(services):
    [eid, *_] = await interview(services, "rapawy", "litigator", LEGAL[:2])
    with pytest.raises(ReviewError, match="reason"):
        await services.review.reject(ANA, eid, "  ")
    d = await services.review.reject(ANA, eid, "procedural remarks, no expertise")
    assert d.entry.status == "rejected" and d.entry.reason == "procedural remarks, no expertise"
    [ev] = await audit(services, eid)
    assert ev.action == REJECT and ev.before["reason"] is None
    assert ev.after == {**ev.after, "status": "rejected", "reason": d.entry.reason}


async def test_an_edit_keeps_the_original_and_the_final_text_is_the_edit(services):
    ids = await interview(services, "rapawy", "litigator", LEGAL[:3])
    eid = ids[0]
    new_q = "How would you argue that disgorgement is a penalty the SEC may not seek in court?"
    new_a = (
        "Disgorgement paid to the Treasury punishes a violation of public law, so it is a "
        "penalty, and the securities statutes give the SEC no authority to ask a court for it."
    )
    d = await services.review.edit(ANA, eid, question=new_q, answer=new_a)
    assert d.changed and d.entry.edited and d.entry.status == "pending"
    e = await row(services, eid)
    assert e.answer == LEGAL[0].strip() and e.edited_answer == new_a and e.edited_by == ANA
    assert (e.final_question, e.final_answer) == (new_q, new_a)
    # The vector is the edited answer's, so search finds the entry by its new words.
    vector = await services.embedder.embed_one(new_a)
    assert float(np.dot(from_bytes(e.embedding), vector)) > 0.99
    [ev] = await audit(services, eid)
    assert ev.action == EDIT
    assert (ev.before["question"], ev.before["answer"]) == (e.question, e.answer)
    assert (ev.after["question"], ev.after["answer"]) == (new_q, new_a)
    await services.indexer.sync()
    [top, *_] = await services.review.search(new_a)
    assert top.entry_id == eid and top.answer == new_a and top.edited


async def test_entry_history_tells_who_approved_and_what_it_said_before_the_edit(services):
    [eid, *_] = await interview(services, "rapawy", "litigator", LEGAL[:2])
    await services.review.edit(BEN, eid, answer="A shorter, cleaner answer about disgorgement.")
    await services.review.approve(ANA, eid)
    detail = await services.review.entry(eid)
    assert detail.status == "approved" and detail.decided_by == ANA
    assert detail.answer == "A shorter, cleaner answer about disgorgement."
    assert detail.original_answer == LEGAL[0].strip() and detail.edited_by == BEN
    edit, approval = detail.history
    assert (edit.actor, edit.action) == (BEN, EDIT)
    assert edit.changes["answer"] == (LEGAL[0].strip(), detail.answer)
    assert (approval.actor, approval.action) == (ANA, APPROVE)
    assert approval.changes["status"] == ("pending", "approved")
    assert approval.at >= edit.at


async def test_an_edit_back_to_the_original_words_clears_the_edit(services):
    [eid, *_] = await interview(services, "rapawy", "litigator", LEGAL[:2])
    await services.review.edit(ANA, eid, answer="Something else entirely.")
    d = await services.review.edit(ANA, eid, answer=LEGAL[0])
    assert not d.entry.edited and d.entry.answer == LEGAL[0].strip()
    e = await row(services, eid)
    assert e.edited_answer is None and e.edited_by is None


async def test_a_near_duplicate_of_an_approved_entry_is_flagged_and_can_be_marked(services):
    [first] = await interview(services, "rapawy", "litigator", [LEGAL[0]])
    await services.review.approve(ANA, first)
    again = "So, as I said before: " + LEGAL[0]
    [second] = await interview(services, "kneedler", "litigator", [again])
    [other] = await interview(services, "melmed", "physician", [ACROMEGALY_SYMPTOMS])
    card = await services.review.next(BEN)
    assert card.entry_id == second
    dup = card.duplicate_of_approved
    assert dup is not None and dup.entry_id == first and dup.status == "approved"
    assert dup.similarity >= services.settings.review.duplicate_similarity
    d = await services.review.mark_duplicate(BEN, second, first)
    assert (d.entry.status, d.entry.duplicate_of) == ("duplicate", first)
    [ev] = await audit(services, second)
    assert ev.action == DUPLICATE and ev.after["duplicate_of"] == first
    unrelated = await services.review.next(BEN)
    assert unrelated.entry_id == other and unrelated.duplicate_of_approved is None


async def test_a_duplicate_of_a_duplicate_points_at_the_original(services):
    [a] = await interview(services, "rapawy", "litigator", [LEGAL[0]])
    [b] = await interview(services, "kneedler", "litigator", [LEGAL[1]])
    [c] = await interview(services, "liu", "litigator", [LEGAL[2]])
    await services.review.mark_duplicate(ANA, b, a)
    d = await services.review.mark_duplicate(ANA, c, b)
    assert d.entry.duplicate_of == a
    with pytest.raises(ReviewError, match="itself"):
        await services.review.mark_duplicate(ANA, a, a)


async def test_flagging_personal_data_keeps_the_note_in_the_audit_log(services):
    [eid, *_] = await interview(services, "rapawy", "litigator", LEGAL[:2])
    d = await services.review.flag_pii(ANA, eid, "names a client")
    assert d.entry.flagged_pii and d.entry.status == "pending"
    [ev] = await audit(services, eid)
    assert ev.after["flagged_pii"] and ev.after["note"] == "names a client"


async def test_deciding_on_a_withdrawn_entry_says_it_was_withdrawn(services):
    ids = await interview(services, "rapawy", "litigator", LEGAL[:2])
    await interview(services, "kneedler", "litigator", LEGAL[2:3])
    ex = await services.experts.find("terminal", "rapawy")
    await services.experts.forget(ex.id, actor=f"expert:{ex.id}")
    for action in (
        services.review.approve(ANA, ids[0]),
        services.review.reject(ANA, ids[1], "off topic"),
        services.review.edit(ANA, ids[0], answer="x"),
        services.review.entry(ids[0]),
    ):
        with pytest.raises(EntryWithdrawn, match="withdrawn"):
            await action
    with pytest.raises(ReviewError, match="no entry 9999"):
        await services.review.approve(ANA, 9999)


# ---- claims ----------------------------------------------------------------------------------


async def test_two_curators_asking_at_once_never_get_the_same_entry(services):
    ids = await interview(services, "rapawy", "litigator", LEGAL[:40])
    seen: set[int] = set()
    for _ in range(20):
        a, b = await asyncio.gather(services.review.next(ANA), services.review.next(BEN))
        assert a.entry_id != b.entry_id
        assert not {a.entry_id, b.entry_id} & seen
        seen |= {a.entry_id, b.entry_id}
        await asyncio.gather(
            services.review.approve(ANA, a.entry_id), services.review.approve(BEN, b.entry_id)
        )
    assert seen == set(ids[:40])


async def test_curators_racing_for_fewer_entries_each_get_a_different_one_or_none(services):
    ids = await interview(services, "rapawy", "litigator", LEGAL[:3])
    curators = [f"discord:{i}" for i in range(8)]
    cards = await asyncio.gather(*(services.review.next(c) for c in curators))
    got = [c.entry_id for c in cards if c is not None]
    assert sorted(got) == sorted(ids) and cards.count(None) == len(curators) - len(ids)


async def test_a_stale_claim_is_released_to_the_next_curator(services):
    [eid] = await interview(services, "rapawy", "litigator", LEGAL[:1])
    assert (await services.review.next(ANA)).entry_id == eid
    assert await services.review.next(BEN) is None  # Ana has it on screen
    with pytest.raises(EntryClaimed, match=ANA):
        await services.review.approve(BEN, eid)
    async with services.db.sessions() as s, s.begin():  # Ana walked away minutes ago
        await s.execute(update(Entry).values(claimed_until=utcnow() - timedelta(seconds=1)))
    card = await services.review.next(BEN)
    assert card.entry_id == eid and card.claimed_by == BEN
    with pytest.raises(EntryClaimed, match=BEN):
        await services.review.approve(ANA, eid)


async def test_a_skipped_entry_comes_back_only_after_the_others(services):
    ids = await interview(services, "rapawy", "litigator", LEGAL[:3])
    first = await services.review.next(ANA)
    await services.review.skip(ANA, first.entry_id)
    assert (await services.review.next(BEN)).entry_id == first.entry_id  # free for others
    await services.review.skip(BEN, first.entry_id)
    order = []
    for _ in range(3):
        card = await services.review.next(ANA)
        order.append(card.entry_id)
        await services.review.approve(ANA, card.entry_id)
    assert order == [ids[1], ids[2], ids[0]]


async def test_next_can_keep_to_one_guide(services):
    legal = await interview(services, "rapawy", "litigator", LEGAL[:2])
    medical = await interview(services, "melmed", "physician", [ACROMEGALY_SYMPTOMS])
    assert (await services.review.next(ANA, guide="physician")).entry_id == medical[0]
    assert (await services.review.next(BEN, guide="litigator")).entry_id == legal[0]


async def test_a_card_for_a_chosen_entry_is_claimed_unless_someone_else_has_it(services):
    a, b = (await interview(services, "rapawy", "litigator", LEGAL[:2]))[:2]
    card = await services.review.card(ANA, b)  # e.g. picked from search results
    assert card.entry_id == b and card.claimed_by == ANA
    with pytest.raises(EntryClaimed, match="being reviewed by discord:1001"):
        await services.review.card(BEN, b)
    assert (await services.review.next(BEN)).entry_id == a
    await services.review.approve(ANA, b)
    decided = await services.review.card(BEN, b)  # decided entries are shown, not claimed
    assert decided.status == "approved" and decided.claimed_by is None


# ---- undo ------------------------------------------------------------------------------------


async def test_undo_restores_the_previous_status_and_is_audited(services):
    [eid, *_] = await interview(services, "rapawy", "litigator", LEGAL[:2])
    await services.review.reject(ANA, eid, "too vague")
    d = await services.review.undo(ANA)
    assert d.action == UNDO and d.previous_status == "rejected"
    e = await row(services, eid)
    assert (e.status, e.reason, e.decided_by, e.decided_at) == ("pending", None, None, None)
    reject_ev, undo_ev = await audit(services, eid)
    assert (undo_ev.actor, undo_ev.action) == (ANA, UNDO)
    assert undo_ev.before["status"] == "rejected" and undo_ev.after["status"] == "pending"
    assert undo_ev.after["undoes"] == reject_ev.id
    # The entry comes back to the curator who undid it.
    assert (await services.review.next(ANA)).entry_id == eid
    with pytest.raises(NothingToUndo):
        await services.review.undo(ANA)


async def test_undo_restores_the_text_and_steps_further_back(services):
    [eid, *_] = await interview(services, "rapawy", "litigator", LEGAL[:2])
    original = await row(services, eid)
    await services.review.edit(ANA, eid, answer="A much shorter answer.")
    await services.review.approve(ANA, eid)
    await services.review.undo(ANA)  # the approval
    e = await row(services, eid)
    assert e.status == "pending" and e.final_answer == "A much shorter answer."
    await services.review.undo(ANA)  # the edit
    e = await row(services, eid)
    assert e.final_answer == original.answer and e.edited_answer is None
    assert float(np.dot(from_bytes(e.embedding), from_bytes(original.embedding))) > 0.999
    assert [ev.action for ev in await audit(services, eid)] == [EDIT, APPROVE, UNDO, UNDO]


async def test_undo_is_refused_when_another_curator_changed_the_entry_since(services):
    [eid, *_] = await interview(services, "rapawy", "litigator", LEGAL[:2])
    await services.review.approve(ANA, eid)
    await services.review.reject(BEN, eid, "contains a client's name")
    with pytest.raises(UndoConflict, match=BEN):
        await services.review.undo(ANA)
    e = await row(services, eid)
    assert (e.status, e.decided_by) == ("rejected", BEN)


async def test_undo_takes_back_only_the_curators_own_work(services):
    [a, b] = (await interview(services, "rapawy", "litigator", LEGAL[:2]))[:2]
    await services.review.approve(ANA, a)
    await services.review.approve(BEN, b)
    await services.review.undo(ANA)
    assert (await row(services, a)).status == "pending"
    assert (await row(services, b)).status == "approved"


async def test_simultaneous_decisions_leave_an_audit_trail_that_chains(services):
    [eid, *_] = await interview(services, "rapawy", "litigator", LEGAL[:2])
    await asyncio.gather(
        services.review.approve(ANA, eid), services.review.reject(BEN, eid, "off topic")
    )
    first, second = await audit(services, eid)
    assert first.before["status"] == "pending"
    assert second.before["status"] == first.after["status"]
    assert (await row(services, eid)).status == second.after["status"]


# ---- search and lists ------------------------------------------------------------------------


async def test_search_returns_the_semantically_closest_entry_first(services):
    legal = await interview(services, "rapawy", "litigator", LEGAL[:3])
    medical = await interview(
        services, "melmed", "physician", [ACROMEGALY_CAUSES, ACROMEGALY_SYMPTOMS]
    )
    hits = await services.review.search("my hands and feet grew larger and my face changed")
    assert hits[0].entry_id == medical[1]
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
    hits = await services.review.search("may the SEC ask a federal court for disgorgement?")
    assert hits[0].entry_id in legal
    await services.review.approve(ANA, legal[2])
    await services.indexer.sync()
    approved = await services.review.search("disgorgement", status="approved")
    assert [h.entry_id for h in approved] == [legal[2]]
    only_medical = await services.review.search("disgorgement", guide="physician")
    assert {h.entry_id for h in only_medical} == set(medical)
    with pytest.raises(ReviewError, match="no status"):
        await services.review.search("x", status="maybe")


async def test_list_filters_by_status_guide_and_expert(services):
    legal = await interview(services, "rapawy", "litigator", LEGAL[:3])
    medical = await interview(services, "melmed", "physician", [ACROMEGALY_SYMPTOMS])
    await services.review.approve(ANA, legal[1])
    assert [e.entry_id for e in await services.review.list()] == legal + medical
    assert [e.entry_id for e in await services.review.list(status="approved")] == [legal[1]]
    assert [e.entry_id for e in await services.review.list(guide="physician")] == medical
    expert = (await services.review.list(guide="physician"))[0].expert_id
    assert [e.entry_id for e in await services.review.list(expert_id=expert)] == medical


# ---- stats and pay ---------------------------------------------------------------------------


async def test_stats_count_entries_backlog_and_throughput(services):
    legal = await interview(services, "rapawy", "litigator", LEGAL[:3])
    medical = await interview(services, "melmed", "physician", [ACROMEGALY_SYMPTOMS, LEGAL[5]])
    await services.review.approve(ANA, legal[0])
    await services.review.approve(ANA, legal[1])
    await services.review.mark_duplicate(BEN, legal[2], legal[0])
    await services.review.reject(BEN, medical[1], "not medicine")
    await services.review.approve("cli:carol", medical[0])
    await services.review.undo("cli:carol")  # taken back: not counted as work done
    await services.review.flag_pii("cli:carol", medical[0], "patient's age")
    st = await services.review.stats()
    assert (st.by_status.pending, st.by_status.approved) == (1, 2)
    assert (st.by_status.rejected, st.by_status.duplicate, st.by_status.total) == (1, 1, 5)
    assert st.by_guide["litigator"].approved == 2 and st.by_guide["litigator"].duplicate == 1
    assert st.backlog_by_guide == {"physician": 1}
    assert {x.display_name: x.counts.total for x in st.by_expert} == {"Rapawy": 3, "Melmed": 2}
    assert st.flagged_pii == 1 and st.oldest_pending_at is not None
    assert len(st.decisions_per_day) == 14
    assert st.decisions_per_day[-1].day == utcnow().date()
    assert st.decisions_per_day[-1].decisions == 4
    assert sum(d.decisions for d in st.decisions_per_day) == 4
    assert st.decisions_by_curator == {ANA: 2, BEN: 2}
    png = await render_chart(st)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


async def test_a_chart_of_an_empty_store_is_still_a_picture(services):
    png = await render_chart(await services.review.stats())
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_payouts_show_the_same_figures_as_the_experts_own_earnings(services):
    legal = await interview(services, "rapawy", "litigator", LEGAL[:3])
    await interview(services, "melmed", "physician", [ACROMEGALY_SYMPTOMS])
    await services.review.approve(ANA, legal[0])
    await services.review.approve(ANA, legal[2])
    since, until = utcnow() - timedelta(days=1), utcnow() + timedelta(days=1)
    pay = await services.review.payouts(since, until)
    assert pay == await services.experts.earnings(since=since, until=until)
    ex = await services.experts.find("terminal", "rapawy")
    [own] = await services.experts.earnings(expert_id=ex.id, since=since, until=until)
    [mine] = [p for p in pay if p.expert_id == ex.id]
    assert mine == own and mine.entries_accepted == 2 and mine.entries_total == 3
    rows = list(csv.DictReader(io.StringIO(await services.review.payouts_csv(since, until))))
    assert [r["display_name"] for r in rows] == [p.display_name for p in pay]
    assert [r["amount"] for r in rows] == [f"{p.amount:.2f}" for p in pay]
    assert await services.review.payouts(until, until + timedelta(days=1)) == []
    with pytest.raises(ReviewError, match="period"):
        await services.review.payouts(until, since)
