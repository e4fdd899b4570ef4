"""The elicitation benchmark's simulated expert: it answers what is asked, and nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from bench import simexperts
from bench.simexperts import MAX_FACTS, Embeddings, SimExpert, sentences

FACTS = [
    "Hairy cell leukemia is a cancer in which the bone marrow makes too many lymphocytes.",
    "The leukemia cells look hairy when they are viewed under a microscope.",
    "Signs of hairy cell leukemia include weakness, feeling tired and an enlarged spleen.",
    "Purine analogs such as cladribine are the usual first treatment for hairy cell leukemia.",
    "A bone marrow biopsy removes a small piece of bone with a hollow needle.",
    "Radiation therapy uses high-energy x-rays to kill cancer cells or keep them from growing.",
]


@pytest.fixture(scope="module")
def expert(encoder, tmp_path_factory):
    embeddings = Embeddings(encoder, tmp_path_factory.mktemp("cache"))
    e = SimExpert(
        slug="test",
        profession="physician",
        title="test",
        facts=FACTS,
        sources=["test"] * len(FACTS),
        vectors=embeddings.facts(FACTS),
        topics=["hairy cell leukemia", "bone marrow"],
    )
    return e, embeddings


def test_a_question_about_a_fact_reveals_it_verbatim(expert):
    e, embeddings = expert
    a = e.interview(embeddings).answer(
        "How would I recognise the leukemia cells under a microscope?"
    )
    assert a.kind == "facts"
    assert FACTS.index(FACTS[1]) in a.new
    assert FACTS[1] in a.text


def test_an_irrelevant_question_reveals_nothing(expert):
    e, embeddings = expert
    a = e.interview(embeddings).answer("What does a typical day look like for you?")
    assert a.kind == "unsure" and a.new == () and a.facts == ()
    assert not any(f in a.text for f in FACTS)
    assert "hairy cell leukemia" in a.text  # it says what it knows about, which is not a fact


def test_an_answer_holds_a_few_facts_and_never_the_same_one_twice(expert):
    e, embeddings = expert
    conv = e.interview(embeddings)
    question = "Tell me everything about hairy cell leukemia."
    seen: set[int] = set()
    for _ in range(len(FACTS) + 2):
        a = conv.answer(question)
        assert len(a.facts) <= MAX_FACTS
        assert not seen & set(a.new)
        seen |= set(a.new)
    assert a.kind == "repeat" and a.new == ()  # asked once too often: nothing new


def test_the_same_interview_twice_gives_the_same_answers(expert):
    e, embeddings = expert
    questions = ["What are the signs?", "What treatment do you give first?", "How do you biopsy?"]
    first = [e.interview(embeddings).answer(q) for q in questions]
    again = [e.interview(embeddings).answer(q) for q in questions]
    assert first == again


def test_sentences_drop_what_cannot_be_a_fact():
    text = (
        "Yes, Your Honor. Check the list of NCI-supported cancer clinical trials that are now "
        "accepting patients. There are two types of radiation therapy: - External radiation "
        "therapy uses a machine outside the body to send radiation toward the cancer."
    )
    assert sentences(text) == [
        "External radiation therapy uses a machine outside the body to send radiation toward "
        "the cancer."
    ]


def test_specialties_group_near_subjects_and_fold_in_the_odd_one_out():
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:3]
    points = [c + 0.05 * rng.standard_normal(8) for c in centres for _ in range(3)]
    points.append(0.6 * centres[1] + 0.8 * np.eye(8)[7])  # an odd subject, nearest group 1
    X = np.stack([p / np.linalg.norm(p) for p in points])
    groups = simexperts._specialties(X, 3, 3)
    assert groups == [[0, 1, 2], [3, 4, 5, 9], [6, 7, 8]]


def test_the_simulator_never_reads_tacit():
    """It must see only the question: no guides, no templates, no engine."""
    tree = ast.parse(Path(simexperts.__file__).read_text(encoding="utf-8"))
    imported = {
        (n.module or "") if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    assert not {m for m in imported if m.split(".")[0] in {"knowledge", "bot", "prompts"}}
    assert "prompts" not in Path(simexperts.__file__).read_text(encoding="utf-8")
