"""The interview engine, through real storage, the real model and real Chroma."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from knowledge.guides import Probe
from knowledge.interview import ConsentRequired, InterviewError, NotActive, TooManyActive
from knowledge.services import build
from knowledge.storage import Entry, EntryStatus, Turn, TurnStatus
from tests.conftest import real_pairs

pytestmark = pytest.mark.asyncio

LONG = [p["answer"] for p in real_pairs("scotus_2019.18-1501-t01") if len(p["answer"].split()) > 60]


async def test_an_answer_becomes_a_pending_entry_with_a_standalone_question(
    services, consented_expert
):
    ask = await services.engine.start(consented_expert.id, "litigator")
    assert ask.number == 1 and ask.total == len(services.guides.get("litigator").questions)
    reply = await services.engine.answer(ask.interview_id, LONG[0])
    assert len(reply.entry_ids) == 1
    await services.engine.drain()  # the vector is made in the background
    async with services.db.sessions() as s:
        entry = await s.get(Entry, reply.entry_ids[0])
    guide = services.guides.get("litigator")
    step, question = guide.questions[0]
    assert entry.status == EntryStatus.pending
    assert entry.answer == LONG[0].strip()
    assert entry.question == guide.standalone(question)
    assert entry.probe == question.probe and entry.step_id == step.id
    assert entry.embedding is not None and entry.embedding_model


async def test_a_whole_interview_runs_to_the_end_and_keeps_every_answer(services, consented_expert):
    engine = services.engine
    ask = await engine.start(consented_expert.id, "physician")
    guide = services.guides.get("physician")
    answers = [p["answer"] for p in real_pairs("primock57_day1_consultation01")]
    given = 0
    reply = None
    while ask is not None:
        # Long, concrete answers so the rules do not ask for follow-ups every time.
        text = " ".join(answers[given % len(answers) : given % len(answers) + 6])
        reply = await engine.answer(ask.interview_id, text)
        given += 1
        ask = reply.next
        assert given < 4 * len(guide.questions), "the interview never ended"
    assert reply.finished and reply.closing == guide.outro
    view = await engine.get(reply.interview_id)
    assert view.status == "completed"
    assert view.answered == given
    async with services.db.sessions() as s:
        n_entries = await s.scalar(select(func.count()).select_from(Entry))
    assert n_entries == given
    with pytest.raises(NotActive):
        await engine.answer(reply.interview_id, "one more thing")


async def skip_to(services, ask, method: str):
    """Skip guide questions until the first one of a step with this method."""
    guide = services.guides.get("air-traffic-controller")
    while guide.questions[ask.number - 1][0].method != method or ask.followup:
        ask = (await services.engine.skip(ask.interview_id)).next
    return ask


async def test_a_short_abstract_answer_gets_a_request_for_one_real_instance(
    services, consented_expert
):
    ask = await services.engine.start(consented_expert.id, "air-traffic-controller")
    ask = await skip_to(services, ask, "knowledge_audit")
    reply = await services.engine.answer(
        ask.interview_id, "It usually depends on the holding stack."
    )
    assert reply.next.followup and reply.next.probe == Probe.concrete_instance
    assert "holding stack" in reply.next.text
    assert reply.next.number == ask.number  # still on the same guide question
    async with services.db.sessions() as s:
        turn = await s.get(Turn, reply.next.turn_id)
    assert turn.focus == "holding stack" and turn.source == "rules"


async def test_an_answer_that_says_nothing_new_moves_on_without_a_follow_up(
    services, consented_expert
):
    ask = await services.engine.start(consented_expert.id, "air-traffic-controller")
    ask = await skip_to(services, ask, "knowledge_audit")
    text = (
        "Last winter, on a Friday evening push, I noticed the spacing on final was shrinking "
        "faster than the ground speeds suggested: the wind at three thousand feet had backed "
        "and strengthened. I took the next two arrivals off the localizer early and slowed "
        "the stream before the gaps collapsed, and told the supervisor to expect delays."
    )
    reply = await services.engine.answer(ask.interview_id, text)
    while reply.next.followup:
        reply = await services.engine.skip(ask.interview_id)
    again = await services.engine.answer(ask.interview_id, text)  # the same, to a new question
    assert not again.next.followup and again.next.number > reply.next.number


async def test_an_unexplained_term_gets_a_recognition_probe(services, consented_expert):
    ask = await services.engine.start(consented_expert.id, "air-traffic-controller")
    ask = await skip_to(services, ask, "task_diagram")
    text = (
        "The worst moments are when an MSAW alert goes off right as I am issuing a "
        "turn, because the pilot will climb first and ask later, and I have to rebuild the "
        "sequence around an aircraft I no longer control for a while."
    )
    reply = await services.engine.answer(ask.interview_id, text)
    assert reply.next.probe == Probe.term_recognition
    assert "MSAW" in reply.next.text


async def test_follow_ups_are_bounded_per_question(services, consented_expert):
    services.engine.probes.max_followups = 2
    ask = await services.engine.start(consented_expert.id, "air-traffic-controller")
    ask = await skip_to(services, ask, "knowledge_audit")
    first_number = ask.number
    followups = 0
    # Each answer names something new worth a follow-up.
    answers = ["It depends on the ATIS.", "Mostly the QNH.", "The STCA, sometimes.", "METARs."]
    for text in answers:
        reply = await services.engine.answer(ask.interview_id, text)
        ask = reply.next
        if ask.number != first_number:
            break
        followups += 1
    assert followups == 2 and ask.number > first_number


async def test_a_question_already_covered_is_skipped(services, consented_expert):
    engine = services.engine
    guide = services.guides.get("air-traffic-controller")
    ask = await engine.start(consented_expert.id, "air-traffic-controller")
    ask = await skip_to(services, ask, "knowledge_audit")
    nxt_step, nxt = guide.questions[ask.number]  # the question after this one
    assert nxt.probe not in ("wrapup", "simulation", "incident_select")
    engine.settings.skip_similarity = 0.75
    # An answer that says, in its own words, everything the next question asks about.
    reply = await engine.answer(
        ask.interview_id, f"{nxt.text} {nxt.text} Last Tuesday, for instance."
    )
    while reply.next.followup:
        reply = await engine.skip(ask.interview_id)
    assert nxt.text in reply.covered
    assert reply.next.number == ask.number + 2
    async with services.db.sessions() as s:
        kept = list(await s.scalars(select(Turn.question).where(Turn.source == "covered")))
    assert kept == [nxt.text]


async def test_a_question_on_new_ground_is_asked(services, consented_expert):
    engine = services.engine
    ask = await engine.start(consented_expert.id, "air-traffic-controller")
    ask = await skip_to(services, ask, "knowledge_audit")
    engine.settings.skip_similarity = 0.75
    reply = await engine.answer(ask.interview_id, LONG[0])  # a lawyer on SEC disgorgement
    while reply.next.followup:
        reply = await engine.skip(ask.interview_id)
    assert reply.covered == [] and reply.next.number == ask.number + 1


async def test_skip_moves_on_and_stores_no_entry(services, consented_expert):
    ask = await services.engine.start(consented_expert.id, "generic")
    reply = await services.engine.skip(ask.interview_id)
    assert reply.entry_ids == [] and reply.next.number == 2
    view = await services.engine.get(ask.interview_id)
    assert view.skipped == 1 and view.answered == 0


async def test_pause_blocks_answers_until_resume_returns_the_same_question(
    services, consented_expert
):
    ask = await services.engine.start(consented_expert.id, "screenwriter")
    await services.engine.pause(ask.interview_id)
    with pytest.raises(NotActive):
        await services.engine.answer(ask.interview_id, LONG[1])
    again = await services.engine.resume(ask.interview_id)
    assert again.turn_id == ask.turn_id and again.text == ask.text
    reply = await services.engine.answer(ask.interview_id, LONG[1])
    assert reply.entry_ids


async def test_end_keeps_the_answers_given(services, consented_expert):
    ask = await services.engine.start(consented_expert.id, "generic")
    await services.engine.answer(ask.interview_id, LONG[2])
    view = await services.engine.end(ask.interview_id)
    assert view.status == "ended" and view.answered == 1 and view.ended_at is not None
    assert await services.engine.current(ask.interview_id) is None


async def test_consent_comes_before_the_first_question(services):
    ex = await services.experts.identify("terminal", "bo", "Bo")
    with pytest.raises(ConsentRequired):
        await services.engine.start(ex.id, "generic")


async def test_one_active_interview_per_expert(services, consented_expert):
    await services.engine.start(consented_expert.id, "generic")
    with pytest.raises(TooManyActive):
        await services.engine.start(consented_expert.id, "physician")


async def test_an_empty_answer_is_refused_and_the_question_stays(services, consented_expert):
    ask = await services.engine.start(consented_expert.id, "generic")
    with pytest.raises(InterviewError):
        await services.engine.answer(ask.interview_id, "   \n ")
    assert (await services.engine.current(ask.interview_id)).turn_id == ask.turn_id


async def test_a_new_process_resumes_from_the_database_alone(
    settings, encoder, consented_expert, services
):
    ask = await services.engine.start(consented_expert.id, "litigator")
    reply = await services.engine.answer(ask.interview_id, LONG[3])
    # A second, independent set of services: nothing shared but the database.
    other = await build(settings, encoder=encoder, background=False)
    try:
        current = await other.engine.current(ask.interview_id)
        assert current.turn_id == reply.next.turn_id and current.text == reply.next.text
        again = await other.engine.answer(ask.interview_id, LONG[4])
        assert again.entry_ids
    finally:
        await other.close()


async def test_a_crash_inside_an_answer_writes_nothing_half_done(services, consented_expert):
    """The answer, its entries and the next question commit together: a failure between them
    leaves the question open with nothing stored, and the same answer can be given again."""
    engine = services.engine
    ask = await engine.start(consented_expert.id, "litigator")

    def crash(*_args, **_kwargs):
        raise RuntimeError("process died here")

    real = engine.entries.rows
    engine.entries.rows = crash  # after the answer's UPDATE, inside its transaction
    with pytest.raises(RuntimeError):
        await engine.answer(ask.interview_id, LONG[5])
    engine.entries.rows = real
    async with services.db.sessions() as s:
        turns = list(await s.scalars(select(Turn).where(Turn.interview_id == ask.interview_id)))
        assert [(t.status, t.answer) for t in turns] == [(TurnStatus.asked, None)]
        assert await s.scalar(select(func.count()).select_from(Entry)) == 0
    assert (await engine.current(ask.interview_id)).turn_id == ask.turn_id
    reply = await engine.answer(ask.interview_id, LONG[5])
    async with services.db.sessions() as s:
        entries = list(await s.scalars(select(Entry).where(Entry.turn_id == ask.turn_id)))
    assert [e.answer for e in entries] == [LONG[5].strip()] and reply.next is not None


async def test_an_answer_stored_without_its_entries_is_repaired_on_resume(
    services, consented_expert
):
    """A database left by an older version (answer committed, then a crash): resuming makes the
    entries and the next question from what SQL holds."""
    engine = services.engine
    ask = await engine.start(consented_expert.id, "litigator")
    async with services.db.sessions() as s, s.begin():
        turn = await s.get(Turn, ask.turn_id)
        turn.answer, turn.status = LONG[5].strip(), TurnStatus.answered
    current = await engine.current(ask.interview_id)
    assert current is not None and current.turn_id != ask.turn_id
    async with services.db.sessions() as s:
        entries = list(await s.scalars(select(Entry).where(Entry.turn_id == ask.turn_id)))
    assert [e.answer for e in entries] == [LONG[5].strip()]


async def test_an_embedding_failure_keeps_the_answer_and_the_indexer_catches_up(
    services, consented_expert
):
    engine = services.engine
    ask = await engine.start(consented_expert.id, "litigator")
    real = services.embedder.encoder.encode

    def broken(texts):
        raise RuntimeError("model crashed")

    services.embedder.encoder.encode = broken
    try:
        reply = await engine.answer(ask.interview_id, LONG[6])
        await services.engine.drain()
    finally:
        services.embedder.encoder.encode = real
    async with services.db.sessions() as s:
        entry = await s.get(Entry, reply.entry_ids[0])
    assert entry.embedding is None and entry.answer == LONG[6].strip()
    result = await services.indexer.sync()
    assert result.embedded == 1 and result.pending == 0
    assert await services.index.ids() == set(reply.entry_ids)


async def test_many_interviews_at_once_keep_their_answers_apart(services):
    experts = []
    for i in range(12):
        ex = await services.experts.identify("terminal", f"x{i}", f"Expert {i}")
        experts.append(await services.experts.give_consent(ex.id))
    asks = await asyncio.gather(*(services.engine.start(e.id, "generic") for e in experts))
    replies = await asyncio.gather(
        *(
            services.engine.answer(a.interview_id, f"{LONG[i % len(LONG)]} (expert {i})")
            for i, a in enumerate(asks)
        )
    )
    async with services.db.sessions() as s:
        for i, (a, r) in enumerate(zip(asks, replies, strict=True)):
            e = await s.get(Entry, r.entry_ids[0])
            assert e.interview_id == a.interview_id and e.answer.endswith(f"(expert {i})")


async def test_active_time_counts_answering_but_not_long_gaps(services, consented_expert):
    from datetime import timedelta

    from knowledge.storage import Interview

    ask = await services.engine.start(consented_expert.id, "generic")
    async with services.db.sessions() as s, s.begin():
        iv = await s.get(Interview, ask.interview_id)
        iv.last_activity_at -= timedelta(minutes=3)
    await services.engine.answer(ask.interview_id, LONG[0])
    async with services.db.sessions() as s, s.begin():
        iv = await s.get(Interview, ask.interview_id)
        assert 170 < iv.active_seconds < 200
        iv.last_activity_at -= timedelta(hours=5)  # went to lunch
    await services.engine.answer(ask.interview_id, LONG[1])
    view = await services.engine.get(ask.interview_id)
    cap = services.settings.interview.idle_gap_minutes * 60
    assert view.active_seconds <= 200 + cap + 1
