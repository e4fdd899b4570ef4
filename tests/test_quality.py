"""Answer-quality flags at capture: pasted, boilerplate and repeat, stored with the turn.

Through the real engine and storage (SQLite and PostgreSQL), Chroma and the MiniLM model; the
answers are real transcripts' and their timings come from bench/typist.py on a simulated clock.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from bench.typist import Send, arrival_of, human_discord, human_terminal, pasted_terminal
from knowledge.config import QualitySettings
from knowledge.quality import BoilerplateError, QualityChecker, load_boilerplate
from knowledge.storage import Interview, Turn
from tests.conftest import real_pairs

LEGAL = [
    p["answer"].strip()
    for p in real_pairs("scotus_2019.18-1501-t01")
    if 80 < len(p["answer"].split()) < 300
]
T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


async def expert(services, name: str):
    ex = await services.experts.identify("terminal", name, name.title())
    return await services.experts.give_consent(ex.id)


async def answer(services, interview_id: int, text: str, arrival=None):
    reply = await services.engine.answer(interview_id, text, arrival=arrival)
    await services.engine.drain()
    async with services.db.sessions() as s:
        return reply, await s.get(Turn, reply.turn_id)


def kinds(turn: Turn) -> list[str]:
    return [f["kind"] for f in turn.flags or ()]


@pytest.mark.asyncio
async def test_an_answer_typed_at_human_pace_keeps_how_it_arrived_and_is_not_flagged(services):
    ex = await expert(services, "ana")
    ask = await services.engine.start(ex.id, "litigator")
    sends = human_terminal(LEGAL[0], random.Random(1))
    arrival = arrival_of(sends, "terminal", question_at=T0)
    _, turn = await answer(services, ask.interview_id, LEGAL[0], arrival)
    assert turn.flags == []
    assert turn.arrival["platform"] == "terminal"
    assert len(turn.arrival["chunks"]) == len(sends) > 1
    assert turn.arrival["question_at"] == T0.isoformat()
    assert f"{len(sends)} lines over" in turn.arrival["summary"]
    assert turn.arrival["active_seconds"] > 0


@pytest.mark.asyncio
async def test_a_paste_in_the_terminal_is_flagged_with_how_fast_it_came(services):
    ex = await expert(services, "ana")
    ask = await services.engine.start(ex.id, "litigator")
    arrival = arrival_of(pasted_terminal(LEGAL[1], random.Random(2)), "terminal", question_at=T0)
    _, turn = await answer(services, ask.interview_id, LEGAL[1], arrival)
    assert kinds(turn) == ["pasted"]
    reason = turn.flags[0]["reason"]
    assert reason.startswith("could not have been typed:") and "lines" in reason
    assert "the limit is 900" in reason


@pytest.mark.asyncio
async def test_without_arrival_facts_an_answer_is_not_judged_by_speed(services):
    ex = await expert(services, "ana")
    ask = await services.engine.start(ex.id, "litigator")
    _, turn = await answer(services, ask.interview_id, LEGAL[1])
    assert turn.flags == [] and turn.arrival is None


@pytest.mark.asyncio
async def test_chatbot_boilerplate_is_flagged_with_the_phrase_found(services):
    ex = await expert(services, "ana")
    ask = await services.engine.start(ex.id, "litigator")
    text = "Certainly! Here’s   a summary. " + LEGAL[2] + " I hope this helps!"
    _, turn = await answer(services, ask.interview_id, text)
    assert kinds(turn) == ["boilerplate"]
    assert turn.flags[0]["reason"] == "chatbot phrases: “Certainly! Here's”, “I hope this helps”"


@pytest.mark.asyncio
async def test_a_repeat_of_another_experts_answer_is_flagged_but_not_ones_own(services):
    first = await expert(services, "ana")
    iv1 = await services.engine.start(first.id, "litigator")
    _, original = await answer(services, iv1.interview_id, LEGAL[3])
    await services.engine.end(iv1.interview_id)
    await services.indexer.sync()  # the first answer's vector is in Chroma
    assert original.flags == []

    second = await expert(services, "ben")
    iv2 = await services.engine.start(second.id, "litigator")
    _, copied = await answer(services, iv2.interview_id, LEGAL[3])
    assert kinds(copied) == ["repeat"]
    assert first.pseudonym in copied.flags[0]["reason"]
    _, own = await answer(services, iv2.interview_id, LEGAL[4])
    assert own.flags == []  # a different answer of the same trade is no repeat
    await services.engine.end(iv2.interview_id)

    again = await services.engine.start(first.id, "litigator")
    _, repeated = await answer(services, again.interview_id, LEGAL[3])
    assert repeated.flags == []  # the same expert saying it again repeats nobody else


@pytest.mark.asyncio
async def test_payouts_show_the_time_on_flagged_answers_apart(services):
    ex = await expert(services, "ana")
    ask = await services.engine.start(ex.id, "litigator")
    rng = random.Random(3)
    typed = arrival_of(human_terminal(LEGAL[0], rng), "terminal", question_at=T0)
    reply, _ = await answer(services, ask.interview_id, LEGAL[0], typed)
    pasted = arrival_of(pasted_terminal(LEGAL[1], rng), "terminal", question_at=T0)
    _, flagged = await answer(services, reply.next.interview_id, LEGAL[1], pasted)
    await services.engine.end(ask.interview_id)
    async with services.db.sessions() as s, s.begin():  # an hour's work, as the clock saw it
        await s.execute(update(Interview).values(active_seconds=3600.0))
    (row,) = await services.review.payouts()
    secs = flagged.arrival["active_seconds"]
    assert row.flagged_answers == 1 and secs > 0
    assert row.flagged_seconds == pytest.approx(secs)
    rate = services.experts.rate_for(None, "litigator")  # the guide's hourly rate
    assert row.amount == pytest.approx(rate)  # counted, only shown apart
    assert row.flagged_amount == pytest.approx(round(secs / 3600 * rate, 2))
    csv_text = await services.review.payouts_csv()
    header, line = csv_text.splitlines()
    assert header.endswith("flagged_hours,flagged_answers,flagged_amount")
    assert line.endswith(f",{secs / 3600:.2f},1,{row.flagged_amount:.2f}")


def checker(**settings) -> QualityChecker:
    return QualityChecker(None, None, QualitySettings(**settings))


def test_one_long_discord_message_with_no_typing_seen_is_evidence_not_proof():
    text = LEGAL[0][:700]
    rng = random.Random(4)
    human = human_discord(text, rng)
    one_block = [Send(95.0, " ".join(s.text for s in human))]
    quiet = arrival_of(one_block, "discord", question_at=T0, typing_watched=True)
    _, flags = checker().at_save(text, quiet)
    assert [f["kind"] for f in flags] == ["pasted"]
    assert flags[0]["reason"].startswith("may be pasted (evidence, not proof)")
    # The same message where typing cannot be seen, or typed with typing events, is not flagged.
    blind = arrival_of(one_block, "discord", question_at=T0, typing_watched=False)
    typed = arrival_of(human, "discord", question_at=T0, typing_watched=True)
    assert checker().at_save(text, blind)[1] == []
    assert checker().at_save(text, typed)[1] == []
    assert checker(untyped_message_chars=0).at_save(text, quiet)[1] == []


def test_the_speed_limit_and_the_minimum_length_are_settings():
    text = LEGAL[1]
    fast = arrival_of(pasted_terminal(text, random.Random(5)), "terminal", question_at=T0)
    assert checker().at_save(text, fast)[1]
    assert checker(max_chars_per_minute=10_000_000).at_save(text, fast)[1] == []
    assert checker(min_chars=len(text) + 1).at_save(text, fast)[1] == []


def test_the_shipped_phrases_load_and_a_bad_phrases_file_is_one_clear_line(tmp_path):
    assert "as an AI language model" in load_boilerplate().phrases
    bad = tmp_path / "phrases.toml"
    bad.write_text('version = 1\nphrases = ["ok", ""]\nextra = 1\n', encoding="utf-8")
    with pytest.raises(BoilerplateError) as e:
        checker(boilerplate_file=bad)
    assert str(bad) in str(e.value) and "\n" not in str(e.value)


@pytest.mark.asyncio
async def test_an_export_carries_each_entrys_flags_in_its_provenance(services, tmp_path):
    from knowledge.export import ExportOptions, export
    from knowledge.export.formats import provenance_path
    from knowledge.storage import Entry, EntryStatus

    ex = await expert(services, "ana")
    ask = await services.engine.start(ex.id, "litigator")
    pasted = arrival_of(pasted_terminal(LEGAL[1], random.Random(6)), "terminal", question_at=T0)
    reply, turn = await answer(services, ask.interview_id, LEGAL[1], pasted)
    await services.engine.end(ask.interview_id)
    async with services.db.sessions() as s, s.begin():
        await s.execute(update(Entry).values(status=EntryStatus.approved, decided_by="curator"))
    await services.indexer.sync()
    report = await export(services, ExportOptions(out=tmp_path / "ds.jsonl", format="openai"))
    lines = provenance_path("openai", report.out).read_text(encoding="utf-8").splitlines()
    (single,) = [json.loads(x) for x in lines if json.loads(x)["kind"] == "single"]
    assert single["entries"][0]["quality_flags"] == turn.flags
    assert turn.flags[0]["kind"] == "pasted"


@pytest.mark.asyncio
async def test_an_hf_export_has_a_flags_column(services, tmp_path):
    import datasets

    from knowledge.export import ExportOptions, export
    from knowledge.storage import Entry, EntryStatus

    ex = await expert(services, "ana")
    ask = await services.engine.start(ex.id, "litigator")
    pasted = arrival_of(pasted_terminal(LEGAL[1], random.Random(7)), "terminal", question_at=T0)
    reply, _ = await answer(services, ask.interview_id, LEGAL[1], pasted)
    await answer(services, reply.next.interview_id, LEGAL[2])
    await services.engine.end(ask.interview_id)
    async with services.db.sessions() as s, s.begin():
        await s.execute(update(Entry).values(status=EntryStatus.approved, decided_by="curator"))
    await services.indexer.sync()
    report = await export(services, ExportOptions(out=tmp_path / "ds", format="hf"))
    ds = datasets.load_dataset(str(report.out), "single", cache_dir=str(tmp_path / "cache"))
    flags = sorted(tuple(r["flags"]) for r in ds["train"])
    assert flags == [(), ("pasted",)]
