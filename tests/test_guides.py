"""The shipped interview guides, and the loader's errors for broken guide files."""

from __future__ import annotations

import difflib
import itertools
import re
from pathlib import Path

import pytest

from knowledge.guides import (
    DEFAULT_GUIDES_DIR,
    Guide,
    GuideError,
    GuideLibrary,
    Method,
    Probe,
    load_guide,
)

SHIPPED = {
    "air-traffic-controller",
    "chess-player",
    "generic",
    "litigator",
    "physician",
    "screenwriter",
    "sommelier",
}
SPECIFIC = sorted(SHIPPED - {"generic"})

METHOD_ORDER = [
    Method.background,
    Method.task_diagram,
    Method.knowledge_audit,
    Method.simulation,
    Method.incident,
    Method.laddering,
    Method.novice,
    Method.wrapup,
]
CORE_ACTA = {
    Probe.past_future,
    Probe.big_picture,
    Probe.noticing,
    Probe.job_smarts,
    Probe.improvising,
    Probe.self_monitoring,
}
CDM_DEEPENING = {
    Probe.cdm_goals,
    Probe.cdm_cues,
    Probe.cdm_expectations,
    Probe.cdm_options,
    Probe.cdm_basis,
    Probe.cdm_uncertainty,
    Probe.cdm_analogies,
    Probe.cdm_pressure,
}
# Which probe types a step of each method may carry: coverage is measured by probe, so a probe
# filed under the wrong method would skew it.
ALLOWED_PROBES = {
    Method.background: {Probe.background},
    Method.task_diagram: {Probe.task_diagram},
    Method.knowledge_audit: CORE_ACTA | {Probe.anomalies, Probe.equipment},
    Method.simulation: {Probe.simulation},
    Method.incident: {Probe.incident_select, Probe.incident_account, Probe.timeline, Probe.what_if}
    | CDM_DEEPENING,
    Method.laddering: {Probe.ladder_down, Probe.ladder_up},
    Method.novice: {Probe.novice_errors, Probe.teach_back},
    Method.wrapup: {Probe.wrapup, Probe.teach_back},
}

# References that only make sense inside the interview: a dataset reader never saw "that incident".
UNRESOLVED = re.compile(
    r"\b(that|this|those|these|the same) (incident|episode|case|story|scenario|situation|step|"
    r"steps|stage|stages|moment|moments|point|decision|game|table|patient|trial|project|"
    r"shift|night|draft|sector|evening|call)\b"
    r"|\byou (described|mentioned|told me|said)\b|\b(staying|still) (with|in)\b"
    r"|\b(same|above|previous) (game|table|project|trial|patient|sector|scenario|question)\b",
    re.I,
)
# Words that would tie a question to one trade; the generic guide must work for any of them.
TRADE_WORDS = re.compile(
    r"\b(patients?|sectors?|aircraft|pilots?|radar|judges?|jury|witness\w*|scenes?|scripts?|"
    r"producers?|wines?|bottles?|guests?|chess|moves?|opponents?|clients?)\b",
    re.I,
)


@pytest.fixture(scope="module")
def library() -> GuideLibrary:
    return GuideLibrary.load()


def noun(guide: Guide) -> str:
    """The profession without its article: 'an air traffic controller' -> 'air traffic controller'."""
    return re.sub(r"^(a|an|the)\s+", "", guide.profession, flags=re.I)


def probes_of(guide: Guide, method: Method) -> list[Probe]:
    return [q.probe for s in guide.steps if s.method == method for q in s.questions]


def test_library_loads_every_shipped_guide(library):
    assert set(library.slugs()) == SHIPPED
    assert len(library) == len(list(DEFAULT_GUIDES_DIR.glob("*.toml")))


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_guide_header_is_filled_in_for_the_profession(library, slug):
    g = library.get(slug)
    assert g.version == 1
    assert re.match(r"^(a|an) [a-z]", g.profession), g.profession
    assert g.persona.startswith("You are ")
    assert noun(g).lower() in g.persona.lower()
    assert "from experience" in g.persona
    assert re.search(r"\b30\b.{0,10}\b45 minutes\b", g.intro), "intro should give the length"
    assert "skip" in g.intro and "pause" in g.intro
    if slug == "generic":
        assert g.rate_per_hour is None


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_steps_follow_the_interview_method_order(library, slug):
    g = library.get(slug)
    assert [s.method for s in g.steps] == METHOD_ORDER
    assert 25 <= len(g.questions) <= 32


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_every_probe_belongs_to_its_steps_method(library, slug):
    g = library.get(slug)
    wrong = [
        f"{s.id}/{q.id}: {q.probe} in a {s.method} step"
        for s, q in g.questions
        if q.probe not in ALLOWED_PROBES[s.method]
    ]
    assert not wrong


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_knowledge_audit_asks_each_core_acta_probe(library, slug):
    audit = probes_of(library.get(slug), Method.knowledge_audit)
    assert CORE_ACTA <= set(audit), CORE_ACTA - set(audit)
    assert len(audit) == len(set(audit)), "one question per knowledge audit probe"


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_incident_sweeps_then_deepens(library, slug):
    g = library.get(slug)
    incident = probes_of(g, Method.incident)
    assert incident[:3] == [Probe.incident_select, Probe.incident_account, Probe.timeline]
    assert len(set(incident) & CDM_DEEPENING) >= 4
    assert incident[-1] == Probe.what_if
    assert 8 <= len(incident) <= 11
    # The expert tells the incident uninterrupted: no follow-ups on the account.
    account = next(q for _, q in g.questions if q.probe == Probe.incident_account)
    assert account.max_followups == 0


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_simulation_laddering_novice_and_wrapup_are_covered(library, slug):
    g = library.get(slug)
    assert 2 <= len(probes_of(g, Method.simulation)) <= 3
    assert set(probes_of(g, Method.laddering)) == {Probe.ladder_down, Probe.ladder_up}
    assert probes_of(g, Method.novice).count(Probe.novice_errors) == 2
    assert Probe.wrapup in probes_of(g, Method.wrapup)
    background = [q for s, q in g.questions if s.method == Method.background]
    assert any(q.max_followups == 0 for q in background), "a plain fact needs no follow-up"


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_every_standalone_question_names_the_profession_and_needs_no_context(library, slug):
    g = library.get(slug)
    profession = noun(g).lower()
    for s, q in g.questions:
        ref = f"{slug}: {s.id}/{q.id}"
        assert q.standalone, f"{ref} has no standalone form"
        assert q.standalone != q.text, ref
        assert g.standalone(q) == q.standalone, ref
        assert profession in q.standalone.lower(), f"{ref} does not name {profession!r}"
        hit = UNRESOLVED.search(q.standalone)
        assert hit is None, f"{ref} refers to {hit.group(0)!r}, unknown outside the interview"


def test_unresolved_reference_check_catches_interview_only_wording():
    assert UNRESOLVED.search("At that point in the incident, what did the physician do?")
    assert UNRESOLVED.search("What did you do after the scene you described?")
    assert UNRESOLVED.search("Staying with that table, what would a sommelier pour?")
    assert not UNRESOLVED.search("When a physician meets a patient, what do they notice first?")


def normalised_texts(guide: Guide) -> list[str]:
    """Question texts with the profession's words blanked, to compare guides for templating."""
    words = {noun(guide).lower(), noun(guide).lower().split()[-1]}
    pattern = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    out = []
    for _, q in guide.questions:
        t = re.sub(rf"\b({pattern})s?\b", "X", q.text.lower())
        out.append(" ".join(re.findall(r"[a-z0-9x']+", t)))
    return out


def templated_share(a: list[str], b: list[str]) -> float:
    """Share of a's questions that b repeats word for word or nearly so."""

    def close(x: str, y: str) -> bool:
        m = difflib.SequenceMatcher(None, x, y)
        return m.real_quick_ratio() >= 0.9 and m.quick_ratio() >= 0.9 and m.ratio() >= 0.9

    return sum(1 for x in a if any(close(x, y) for y in b)) / len(a)


def test_templated_share_detects_a_job_title_swap():
    a = ["How do you know an X is falling behind?", "What do newer X get wrong?"]
    b = ["How do you know an X is falling behind?", "Which wine faults can you recognise?"]
    assert templated_share(a, b) == 0.5


def test_templated_share_catches_a_guide_copied_with_the_job_title_swapped(library):
    atc = library.get("air-traffic-controller")
    data = atc.model_dump()
    data.update(slug="copied", profession="a physician")
    for step in data["steps"]:
        for q in step["questions"]:
            q["text"] = re.sub(r"\b(air traffic )?controller", "physician", q["text"])
    copied = Guide.model_validate(data)
    assert templated_share(normalised_texts(copied), normalised_texts(atc)) > 0.9


@pytest.mark.parametrize("pair", list(itertools.combinations(SPECIFIC, 2)), ids="-vs-".join)
def test_specific_guides_are_not_templated_copies(library, pair):
    a, b = (normalised_texts(library.get(slug)) for slug in pair)
    assert templated_share(a, b) < 0.2
    assert templated_share(b, a) < 0.2


def test_generic_guide_uses_no_trade_specific_words(library):
    g = library.get("generic")
    for s, q in g.questions:
        for text in (q.text, q.standalone or ""):
            hit = TRADE_WORDS.search(text)
            assert hit is None, f"generic {s.id}/{q.id} says {hit.group(0)!r}"


# --- broken guide files -----------------------------------------------------------------------

VALID = """\
version = 1
title = "Test guide"
profession = "a tester"
persona = "You are an experienced tester. Answer from experience."
description = "A guide used by the tests."
intro = "An interview about testing software."
outro = "Thanks for your time."

[[steps]]
id = "background"
title = "Background"
method = "background"

[[steps.questions]]
id = "years"
probe = "background"
text = "How long have you been testing software?"
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_minimal_guide_loads(tmp_path):
    g = load_guide(write(tmp_path, "tester.toml", VALID))
    assert g.slug == "tester"
    assert g.standalone(g.steps[0].questions[0]).startswith("As a tester: ")


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        pytest.param(
            VALID.replace('probe = "background"', 'probe = "background"\ncolour = "blue"'),
            "steps.0.questions.0.colour",
            id="unknown-key",
        ),
        pytest.param(
            VALID.replace('probe = "background"', 'probe = "vibes"'),
            "steps.0.questions.0.probe",
            id="wrong-probe",
        ),
        pytest.param(
            VALID.replace('method = "background"', 'method = "chat"'),
            "steps.0.method",
            id="wrong-method",
        ),
        pytest.param(
            VALID.replace('persona = "You are', 'personna = "You are'),
            "persona: Field required",
            id="typo-key",
        ),
        pytest.param(
            VALID.replace('title = "Test guide"', 'title = "Test guide'), "line 2", id="bad-toml"
        ),
        pytest.param('slug = "other"\n' + VALID, "slug: 'other' must match", id="slug-mismatch"),
        pytest.param(
            VALID
            + '\n[[steps.questions]]\nid = "years"\nprobe = "background"\ntext = "And again?"\n',
            "'background/years' appears twice",
            id="duplicate-question-id",
        ),
    ],
)
def test_broken_guide_error_names_file_and_field(tmp_path, broken, field):
    path = write(tmp_path, "broken.toml", broken)
    with pytest.raises(GuideError) as err:
        load_guide(path)
    message = str(err.value)
    assert message.startswith("broken.toml: ")
    assert field in message


def test_non_utf8_guide_error_names_the_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(VALID.replace("Test guide", "Caf\u00e9 guide").encode("latin-1"))
    with pytest.raises(GuideError, match=r"^latin1\.toml: not UTF-8"):
        load_guide(path)


def test_library_refuses_a_folder_with_one_broken_guide(tmp_path):
    write(tmp_path, "tester.toml", VALID)
    write(tmp_path, "zz-broken.toml", VALID.replace('probe = "background"', 'probe = "vibes"'))
    with pytest.raises(GuideError, match=r"^zz-broken\.toml: steps\.0\.questions\.0\.probe"):
        GuideLibrary.load(tmp_path)
