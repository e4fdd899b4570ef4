"""Follow-ups from the expert's own words: phrases, moves, budgets, and whole interviews."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from knowledge.guides import GuideError, GuideLibrary, Probe, load_guide
from knowledge.interview import phrases as ph
from knowledge.interview.moves import MovesError, default_moves, load_moves
from knowledge.interview.probes import ProbeContext, RuleProbes, TranscriptTurn
from knowledge.storage import Turn
from tests.conftest import real_pairs

GUIDES = GuideLibrary.load()


def ctx(
    answer: str,
    guide: str = "physician",
    question_id: str = "not_herself",
    *,
    earlier: list[TranscriptTurn] | None = None,
    asked: tuple[str, ...] = (),
) -> ProbeContext:
    g = GUIDES.get(guide)
    step, question = next((s, q) for s, q in g.questions if q.id == question_id)
    turns = [
        *(earlier or []),
        TranscriptTurn(question.text, question.probe, answer, False, None, step.id),
    ]
    return ProbeContext(g, step, question, answer, turns, len(asked), asked)


async def first(answer: str, *args, **kwargs):
    return await RuleProbes().next_probe(ctx(answer, *args, **kwargs))


# ---- the phrases --------------------------------------------------------------------------------


def test_terms_are_normalised_for_case_hyphens_and_plurals():
    assert ph.normalise("SCA") == ph.normalise("SCAs") == "sca"
    assert ph.normalise("heart-block") == ph.normalise("Heart blocks") == "heart block"
    assert ph.normalise("Addison's disease") == "addison disease"
    assert ph.same_term("arrhythmia treatment", "arrhythmia")
    assert not ph.same_term("heart block", "heart failure")


def test_the_most_specific_multi_word_phrases_come_first_not_only_acronyms():
    answer = (
        "We see ventricular fibrillation and heart block after the arrhythmia treatments, "
        "and the SCAs usually come at night."
    )
    keys = [p.key for p in ph.extract(answer)]
    assert {"arrhythmia", "ventricular fibrillation", "sca"} <= set(keys[:5])
    assert "heart block" in keys and "arrhythmia treatment" in keys


def test_a_phrase_is_a_noun_phrase_never_a_person_or_an_adjective():
    found = {
        p.text for p in ph.extract("As I told Chief Justice Roberts, it was considered frivolous.")
    }
    assert not any("Justice" in t or t.endswith(("considered", "frivolous")) for t in found)


def test_a_phrase_is_told_apart_by_what_it_names():
    kinds = {
        p.key: p.kind
        for p in ph.extract("When the pressure drops we check the ILS and the red flags.")
    }
    assert (
        kinds["pressure"] == "event" and kinds["ils"] == "term" and kinds["red flag"] == "category"
    )


# ---- one test per move --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_cues_on_a_thing_the_expert_named():
    got = await first("What worries me first is a silent chest.", "physician", "not_herself")
    assert got.probe == Probe.cues and got.focus == "silent chest" and "silent chest" in got.text


@pytest.mark.asyncio
async def test_strategy_once_the_cues_were_asked():
    got = await first("What worries me first is a silent chest.", asked=(Probe.cues,))
    assert got.probe == Probe.strategy and "silent chest" in got.text


@pytest.mark.asyncio
async def test_novice_contrast_after_cues_and_strategy():
    # The novice step prefers the newcomer's view.
    answer = "They miss the hypoactive delirium in the frail elderly."
    got = await first(answer, "physician", "mistakes")
    assert got.probe == Probe.novice_contrast and got.focus in got.text
    assert got.focus in answer


@pytest.mark.asyncio
async def test_ladder_down_on_kinds_of_something():
    got = await first("Thunderclap headaches are the ones I never send home.", "physician",
                      "red_flags")  # fmt: skip
    assert got.probe == Probe.ladder_down and "thunderclap headaches" in got.text


@pytest.mark.asyncio
async def test_ladder_up_on_why_it_matters():
    got = await first("I lean on serial lactates more than on any single number.", "physician",
                      "watch_or_act", asked=(Probe.ladder_down,))  # fmt: skip
    assert got.probe == Probe.ladder_up and "lactates" in got.text


@pytest.mark.asyncio
async def test_a_concrete_instance_only_where_a_story_is_what_the_step_needs():
    abstract = "It usually depends on the holding stack."
    got = await first(abstract, "air-traffic-controller", "take_over")
    assert got.probe == Probe.concrete_instance and "holding stack" in got.text
    # The same answer in the task diagram asks something else, never for a story.
    other = await first(abstract, "air-traffic-controller", "stages")
    assert other is None or other.probe != Probe.concrete_instance


@pytest.mark.asyncio
async def test_an_unexplained_acronym_is_asked_what_it_is():
    got = await first("Last week I saw the STCA go off twice on the same pair of arrivals.",
                      "air-traffic-controller", "stages")  # fmt: skip
    assert got.probe == Probe.term_recognition and "STCA" in got.text and got.focus == "STCA"


@pytest.mark.asyncio
async def test_an_explained_acronym_is_not_asked_what_it_is():
    got = await first("STCA, which is the short-term conflict alert, went off twice.",
                      "air-traffic-controller", "stages")  # fmt: skip
    assert got is None or got.probe != Probe.term_recognition


@pytest.mark.asyncio
async def test_a_judgment_is_asked_how_they_would_know():
    got = await first("The approach just felt wrong that night.", "air-traffic-controller",
                      "stages")  # fmt: skip
    assert got.probe == Probe.how_would_you_know and "felt wrong" in got.text


@pytest.mark.asyncio
async def test_actas_pair_is_the_steps_own_probe_when_no_phrase_is_worth_it():
    guide = GUIDES.get("air-traffic-controller")
    step = next(s for s in guide.steps if s.method == "knowledge_audit")
    own = {t for m in step.followups for t in m.plain}
    got = await first("It depends on the traffic, mostly.", "air-traffic-controller", "take_over")
    assert got.probe == Probe.cues and got.text in own and got.focus is None


@pytest.mark.asyncio
async def test_cdm_deepening_at_a_decision_point_the_expert_named():
    answer = (
        "The troponin came back borderline, so I kept her on the monitor overnight and asked "
        "the registrar to look at the ECG again with me before the night team took over."
    )
    got = await first(answer, "physician", "analogies")
    assert got.probe in (Probe.cdm_cues, Probe.cdm_goals, Probe.cdm_options)
    assert got.focus and got.focus in got.text


@pytest.mark.asyncio
async def test_a_term_already_followed_up_is_never_asked_about_again():
    earlier = [TranscriptTurn("You mentioned SCA: what is it?", "term_recognition",
                              "A sudden cardiac arrest.", True, "SCA", "simulation")]  # fmt: skip
    got = await first("Two SCAs in one night is a bad night.", earlier=earlier)
    assert got is None or "SCA" not in got.text


@pytest.mark.asyncio
async def test_the_interviewers_own_words_are_never_picked_up():
    got = await first("She takes several medications including an anticoagulant.")
    assert got is None or "anticoagulant" not in (got.focus or "")


@pytest.mark.asyncio
async def test_budgets_per_question_and_share_of_the_interview():
    answer = "What worries me first is a silent chest in someone wheezy."
    assert await first(answer, asked=(Probe.cues, Probe.strategy)) is None  # 2 per question
    many = [
        TranscriptTurn(f"q{i}", "cues", f"a{i}", True, None, "knowledge_audit") for i in range(6)
    ]
    assert await first(answer, earlier=many) is None  # half the interview were follow-ups


# ---- the data -----------------------------------------------------------------------------------


def test_every_move_has_several_wordings_and_no_sentence_twice():
    book = default_moves()
    seen = set()
    for name, move in book.moves.items():
        assert len(move.texts) >= 3, name
        for t in move.texts:
            assert t not in seen and "{phrase}" in t
            seen.add(t)


def test_every_guide_has_actas_pair_and_cdms_deepening_probes():
    for guide in GUIDES:
        steps = {s.method.value: s for s in guide.steps}
        ka = {m.probe for m in steps["knowledge_audit"].followups}
        assert {Probe.cues, Probe.novice_contrast} <= ka, guide.slug
        inc = {m.probe for m in steps["incident"].followups}
        assert {Probe.cdm_cues, Probe.cdm_goals, Probe.cdm_options, Probe.what_if} <= inc


def test_a_broken_moves_file_names_the_field(tmp_path: Path):
    good = default_moves().model_dump(mode="json")
    text = (Path(__file__).parents[1] / "knowledge/prompts/followups/moves.toml").read_text()
    bad = tmp_path / "moves.toml"
    bad.write_text(text.replace('"What tells you it\'s {phrase}?"', '"What tells you?"'))
    with pytest.raises(MovesError, match="texts"):
        load_moves(bad)
    bad.write_text(text.replace('knowledge_audit = ["cues"', 'knowledge_audit = ["hunch"'))
    with pytest.raises(MovesError, match="unknown move 'hunch'"):
        load_moves(bad)
    assert good["version"] >= 1


def test_a_guide_follow_up_must_be_a_follow_up_probe(tmp_path: Path):
    src = Path(__file__).parents[1] / "knowledge/prompts/guides/generic.toml"
    broken = tmp_path / "generic.toml"
    broken.write_text(src.read_text().replace('probe = "novice_contrast"', 'probe = "simulation"'))
    with pytest.raises(GuideError, match="not a follow-up probe"):
        load_guide(broken)


# ---- whole interviews fed real answers ----------------------------------------------------------

REAL = {
    "physician": [p["answer"] for p in real_pairs("medquad_5_NIDDK_QA")[:80]],
    "litigator": [p["answer"] for p in real_pairs("scotus_2019.18-8369-t01")],
}


async def interview(services, expert_id: int, guide: str, answers: list[str], n: int = 30):
    engine = services.engine
    ask = await engine.start(expert_id, guide)
    i = 0
    while ask is not None and i < n:
        text = " ".join(answers[i % len(answers)].split()[:120])
        ask = (await engine.answer(ask.interview_id, text)).next
        i += 1
    async with services.db.sessions() as s:
        return list(await s.scalars(select(Turn).order_by(Turn.id)))


@pytest.mark.asyncio
@pytest.mark.parametrize("guide", sorted(REAL))
async def test_thirty_questions_with_real_answers_never_repeat_and_always_listen(
    services, consented_expert, guide
):
    turns = await interview(services, consented_expert.id, guide, REAL[guide])
    g = services.guides.get(guide)
    own = {t for s in g.steps for m in s.followups for t in m.plain}
    followups = [t for t in turns if t.followup]
    assert len(followups) >= 5
    texts = [t.question for t in followups]
    assert len(texts) == len(set(texts)), "a follow-up sentence was asked twice"
    for t in followups:
        said = " ".join(u.answer or "" for u in turns if u.seq < t.seq).lower()
        if t.focus:
            assert t.focus in t.question and t.focus.lower() in said, t.question
        else:
            assert t.question in own, t.question  # the step's own probe
    foci = [ph.normalise(t.focus) for t in followups if t.focus]
    assert len(foci) == len(set(foci)), "a term was followed up twice"
    assert sum(t.followup for t in turns) <= 0.5 * len(turns) + 1


def test_no_guide_question_uses_an_engine_probe():
    for guide in GUIDES:
        for _, q in guide.questions:
            assert q.probe not in (Probe.cues, Probe.strategy, Probe.novice_contrast), guide.slug


def test_every_wording_is_one_question():
    for guide in GUIDES:
        for step in guide.steps:
            for m in step.followups:
                for t in (*m.texts, *m.plain):
                    assert t.count("?") == 1 and t.endswith("?")
                    assert not re.search(r"\{(?!phrase\})", t)
