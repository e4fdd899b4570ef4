"""Simulated experts: real sentences kept hidden, each revealed only to a question that asks for it.

An expert is a set of hidden sentences (its facts) taken verbatim from the real material in
../shared/data/real: a MedQuAD collection split into specialists by subject, or one SCOTUS
advocate's own words. Asked a question, the expert embeds it with the bundled MiniLM and answers
with at most MAX_FACTS of its not-yet-said facts whose cosine similarity to the question reaches
THRESHOLD, verbatim. When nothing reaches it, the expert says it is not sure what is meant and names
one of its topics (no fact). docs/interviewing.md explains each constant.

This module never reads tacit's guides, templates or engine: it sees only the question text.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

# A question must be at least this similar to a fact to earn it. Set from the data before any
# interviewer was measured (calibration() below, `python -m bench.elicitation --calibrate`): it
# sits in the gap between questions from another profession (the justices' questions put to the
# physicians, medical questions put to the advocates: the best fact reaches 0.35 for 1 in 100)
# and questions on the expert's own subject (MedQuAD's own questions, the justice's question to
# the advocate who answered it: the best fact reaches 0.52 for 9 in 10).
THRESHOLD = 0.45
MAX_FACTS = 3  # facts in one answer: a few sentences, as a person answers in a chat message
# Sentences this similar inside one expert are one fact said twice (MedQuAD repeats its key
# points, and the same sentence with another disease's name in it).
DUPLICATE = 0.9
MIN_WORDS = 6  # shorter sentences ("Yes, Your Honor.") carry no fact
MIN_CONTENT_WORDS = 3
SPECIALISTS = 3  # per MedQuAD collection
MIN_SUBJECTS = 3  # a specialist covers at least this many MedQuAD subjects
MIN_FACTS = 60  # an advocate who said less is left out (too little to find)

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just let me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up upon very was we were what when
    where which while who whom why will with would you your yours yourself yourselves may might must
    shall one ones us yes well okay oh um uh mm hmm like really right think know see say said get
    i'm you're it's don't that's there's we're they're isn't can't won't i've i'd i'll doesn't
    got go going way thing things kind lot whether even much many still yet several based""".split()
)

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"(])|(?<=[.!?]\))\s+(?=[A-Z\"(])|\s+-\s+")
# Sentences about the leaflet, not its subject: where to read more, which trials to look up.
_ABOUT_THE_LEAFLET = re.compile(
    r"\b(this summary|this section|for more information|more information (about|on)|check the "
    r"list|clinical trials search|click|visit|website|fact sheet|resource list)\b|www\.|\.gov\b|"
    r"\.org\b|\bPDQ\b|^\(?see\b",
    re.I,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")
_MEDQUAD_ASKS = re.compile(
    r"^(what is \(are\)|what are the symptoms of|what causes|how to diagnose|what are the "
    r"treatments for|what is the outlook for|who is at risk for|what are the stages of|what "
    r"research \(or clinical trials\) is being done for|what are the genetic changes related to|"
    r"how many people are affected by|what to do for|how to prevent)\s+",
    re.I,
)


class Encoder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


def real_dir() -> Path:
    """../shared/data/real beside the project, found from a worktree too."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "data" / "real"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("no shared/data/real above " + str(here))


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 2]


def sentences(text: str) -> list[str]:
    """Sentences that can be a fact: long enough, with content words, not a list's heading."""
    out = []
    for s in _SENTENCE.split(text):
        s = s.strip(" -\t\n")
        if s.endswith(":") or len(s.split()) < MIN_WORDS or _ABOUT_THE_LEAFLET.search(s):
            continue
        if len(content_words(s)) >= MIN_CONTENT_WORDS:
            out.append(s)
    return out


class Embeddings:
    """The encoder with two caches: facts on disk (keyed by model and texts), questions in memory."""

    def __init__(self, encoder: Encoder, folder: Path | None = None):
        self.encoder = encoder
        self.folder = folder or Path(tempfile.gettempdir()) / "tacit-bench-simexperts"
        self._questions: dict[str, np.ndarray] = {}

    def facts(self, texts: list[str]) -> np.ndarray:
        key = hashlib.sha256(json.dumps([self.encoder.name, texts]).encode()).hexdigest()[:24]
        path = self.folder / f"{key}.npy"
        if path.is_file():
            return np.load(path)
        vectors = np.asarray(self.encoder.encode(texts), dtype=np.float32)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)  # whole or absent, even if two runs race
        return vectors

    def question(self, text: str) -> np.ndarray:
        if text not in self._questions:
            self._questions[text] = np.asarray(self.encoder.encode([text])[0], dtype=np.float32)
        return self._questions[text]


@dataclass(frozen=True)
class Answer:
    text: str
    facts: tuple[int, ...]  # ids of the facts said in this answer
    new: tuple[int, ...]  # of those, the ones never said before in this interview
    kind: str  # "facts", "repeat" (all relevant facts already said) or "unsure"


@dataclass
class SimExpert:
    slug: str
    profession: str  # the guide an interviewer would use: "physician", "litigator"
    title: str
    facts: list[str]
    sources: list[str]  # where each fact came from (MedQuAD subject, or the case)
    vectors: np.ndarray = field(repr=False)
    topics: list[str]  # what the expert says it works on, when it does not follow a question

    def interview(self, embeddings: Embeddings, **policy) -> Conversation:
        return Conversation(self, embeddings, **policy)


class Conversation:
    """One interview's state: what this expert has already said.

    `threshold` and `name_topics` are there for the sensitivity runs; the benchmark's figures use
    the defaults.
    """

    def __init__(
        self,
        expert: SimExpert,
        embeddings: Embeddings,
        *,
        threshold: float = THRESHOLD,
        name_topics: bool = True,
    ):
        self.expert = expert
        self.embeddings = embeddings
        self.threshold = threshold
        self.name_topics = name_topics
        self.revealed: set[int] = set()
        self._unsure = 0

    def answer(self, question: str) -> Answer:
        e = self.expert
        sims = e.vectors @ self.embeddings.question(question)
        # Stable sort: ties go to the fact that comes first in the source, run after run.
        ranked = [int(i) for i in np.argsort(-sims, kind="stable") if sims[i] >= self.threshold]
        fresh = [i for i in ranked if i not in self.revealed][:MAX_FACTS]
        if fresh:
            self.revealed.update(fresh)
            return Answer(" ".join(e.facts[i] for i in fresh), tuple(fresh), tuple(fresh), "facts")
        if ranked:  # the question is about something already told: say it again, nothing new
            return Answer(f"As I said: {e.facts[ranked[0]]}", (ranked[0],), (), "repeat")
        # Not a fact: a person who does not follow says so, and what they do know about. The topic
        # turns over, as a person would not name the same thing every time.
        if not self.name_topics:
            return Answer("I'm not sure what you're asking.", (), (), "unsure")
        topic = e.topics[self._unsure % len(e.topics)]
        self._unsure += 1
        return Answer(
            f"I'm not sure what you're asking. Most of what I know is about {topic}.",
            (),
            (),
            "unsure",
        )


# ---- experts from the real material --------------------------------------------------------------


def _merge_duplicates(texts: list[str], vectors: np.ndarray) -> list[int]:
    """Indices of the texts kept: each one not a near-copy of an earlier kept one."""
    kept: list[int] = []
    for i in range(len(texts)):
        if not kept or float(np.max(vectors[kept] @ vectors[i])) < DUPLICATE:
            kept.append(i)
    return kept


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _specialties(centroids: np.ndarray, k: int, min_size: int) -> list[list[int]]:
    """Groups of subjects: average-linkage clustering of their centroids, deterministic.

    Merges the two most similar groups until k groups of at least min_size subjects remain at the
    coarsest level; smaller groups (an odd subject out) join the big group they are closest to.
    """
    sim = centroids @ centroids.T
    groups = [[i] for i in range(len(centroids))]
    levels = []
    while len(groups) > 1:
        best = None
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                s = float(np.mean(sim[np.ix_(groups[a], groups[b])]))
                if best is None or s > best[0]:
                    best = (s, a, b)
        _, a, b = best
        groups = [g for j, g in enumerate(groups) if j not in (a, b)] + [groups[a] + groups[b]]
        levels.append([list(g) for g in groups])
    level = next(lv for lv in reversed(levels) if sum(len(g) >= min_size for g in lv) >= k)
    big = [g for g in level if len(g) >= min_size]
    big = sorted(big, key=len, reverse=True)[:k]
    for g in level:
        if g not in big:
            for i in g:
                nearest = max(big, key=lambda b: float(np.mean(sim[i, b])))
                nearest.append(i)
    return sorted((sorted(g) for g in big), key=lambda g: g[0])


def _read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def medquad_specialists(name: str, embeddings: Embeddings, *, k: int = SPECIALISTS) -> list:
    """One MedQuAD collection as k specialists, each holding the sentences of its subjects."""
    subjects: OrderedDict[str, list[str]] = OrderedDict()
    for row in _read(real_dir() / f"{name}.qa.jsonl"):
        subject = re.sub(r"[\s?]+$", "", _MEDQUAD_ASKS.sub("", row["question"].strip()))
        subjects.setdefault(subject, []).extend(sentences(row["answer"]))
    names = list(subjects)
    texts = [list(dict.fromkeys(subjects[n])) for n in names]
    flat = [t for ts in texts for t in ts]
    vectors = embeddings.facts(flat)
    spans, at = [], 0
    for ts in texts:
        spans.append(slice(at, at + len(ts)))
        at += len(ts)
    centroids = np.stack([_unit(vectors[s].mean(axis=0)) for s in spans])
    collection = name.split("_")[2].lower()  # medquad_1_CancerGov_QA -> cancergov
    experts = []
    for n, group in enumerate(_specialties(centroids, k, MIN_SUBJECTS), 1):
        idx = [i for g in group for i in range(spans[g].start, spans[g].stop)]
        src = [names[g] for g in group for _ in range(spans[g].start, spans[g].stop)]
        keep = _merge_duplicates([flat[i] for i in idx], vectors[idx])
        centre = _unit(centroids[group].mean(axis=0))
        medoid = names[max(group, key=lambda g: float(centroids[g] @ centre))]
        experts.append(
            SimExpert(
                slug=f"{collection}-{n}",
                profession="physician",
                title=f"{medoid} and {len(group) - 1} related subjects",
                facts=[flat[idx[i]] for i in keep],
                sources=[src[i] for i in keep],
                vectors=vectors[idx][keep],
                topics=[_short(names[g]) for g in group],
            )
        )
    return experts


def _short(subject: str) -> str:
    """A subject as a person names it: "Primary CNS Lymphoma", not the leaflet's full title."""
    return re.split(r"[:?(]", subject)[0].strip()


def _case_name(turns: list[dict], fallback: str) -> str:
    first = next((t["text"] for t in turns if t["role"] == "interviewer"), "")
    m = re.search(r"Case [\d-]+, (.+?)\.", first)
    return m.group(1).replace(" versus ", " v. ") if m else fallback


def _topics(mine: list[str], others: list[str], n: int = 6) -> list[str]:
    """The two-word phrases this expert says most, that the others in the set say least."""

    def pairs(texts):
        c = Counter()
        for t in texts:
            words = [w for w in _WORD.findall(t.lower())]
            for a, b in zip(words, words[1:], strict=False):
                if a not in STOPWORDS and b not in STOPWORDS and len(a) > 2 and len(b) > 2:
                    c[f"{a} {b}"] += 1
        return c

    own, rest = pairs(mine), pairs(others)
    scored = sorted(own, key=lambda p: (-(own[p] - rest[p]), p))
    return [p for p in scored if own[p] >= 2][:n] or ["my cases"]


def scotus_advocates(embeddings: Embeddings) -> list[SimExpert]:
    """Each advocate in the SCOTUS arguments, holding the sentences they said to the justices."""
    said: OrderedDict[str, list[str]] = OrderedDict()
    case_of: dict[str, str] = {}
    for path in sorted(real_dir().glob("scotus_*.turns.jsonl")):
        turns = _read(path)
        case = _case_name(turns, path.stem)
        for t in turns:
            if t["role"] == "expert":
                said.setdefault(t["speaker"], []).extend(sentences(t["text"]))
                case_of[t["speaker"]] = case
    experts = []
    for speaker, texts in said.items():
        texts = list(dict.fromkeys(texts))
        vectors = embeddings.facts(texts)
        keep = _merge_duplicates(texts, vectors)
        if len(keep) < MIN_FACTS:
            continue
        others = [s for other, ts in said.items() if other != speaker for s in ts]
        facts = [texts[i] for i in keep]
        experts.append(
            SimExpert(
                slug="scotus-" + speaker.split()[-1].lower().strip(".,"),
                profession="litigator",
                title=f"{speaker}, arguing {case_of[speaker]}",
                facts=facts,
                sources=[case_of[speaker]] * len(keep),
                vectors=vectors[keep],
                topics=_topics(facts, others),
            )
        )
    return experts


def all_experts(embeddings: Embeddings) -> list[SimExpert]:
    """Every simulated expert, in a fixed order."""
    return (
        medquad_specialists("medquad_1_CancerGov_QA", embeddings)
        + medquad_specialists("medquad_5_NIDDK_QA", embeddings)
        + scotus_advocates(embeddings)
    )


# ---- where THRESHOLD comes from ------------------------------------------------------------------


def calibration(embeddings: Embeddings) -> dict:
    """Best-fact similarity for questions an expert should not answer, and for ones it should.

    Off-domain: the justices' questions put to the physicians; MedQuAD's and PriMock57's medical
    questions put to the advocates. On-topic: each MedQuAD question put to the specialist holding
    its subject; each justice's question put to the advocate who answered it.
    """
    experts = all_experts(embeddings)
    real = real_dir()
    justices, answered_by, medical = [], [], []
    for path in sorted(real.glob("scotus_*.turns.jsonl")):
        turns = _read(path)
        for a, b in zip(turns, turns[1:], strict=False):
            if a["role"] == "interviewer":
                justices.append(a["text"])
                answered_by.append(b["speaker"] if b["role"] == "expert" else None)
    for path in sorted(real.glob("primock57_*.turns.jsonl")):
        medical += [t["text"] for t in _read(path) if t["role"] == "interviewer"]
    medquad = []
    for path in sorted(real.glob("medquad_*.qa.jsonl")):
        for row in _read(path):
            subject = re.sub(r"[\s?]+$", "", _MEDQUAD_ASKS.sub("", row["question"].strip()))
            medquad.append((row["question"], subject))
    medical += [q for q, _ in medquad]

    def best(questions: list[str], e: SimExpert) -> np.ndarray:
        q = np.stack([embeddings.question(t) for t in questions])
        return (q @ e.vectors.T).max(axis=1)

    off, on = [], []
    for e in experts:
        if e.profession == "physician":
            off += list(best(justices, e))
            for question, subject in medquad:
                mine = [i for i, s in enumerate(e.sources) if s == subject]
                if mine:
                    on.append(float((e.vectors[mine] @ embeddings.question(question)).max()))
        else:
            off += list(best(medical, e))
            name = e.title.split(",")[0]
            asked = [q for q, who in zip(justices, answered_by, strict=True) if who == name]
            on += list(best(asked, e)) if asked else []

    def pct(values, p):
        return float(np.percentile(values, p))

    return {
        "off-domain questions": len(off),
        "off-domain best similarity, median": pct(off, 50),
        "off-domain best similarity, 95th percentile": pct(off, 95),
        "off-domain best similarity, 99th percentile": pct(off, 99),
        f"off-domain questions earning a fact at {THRESHOLD}": float(
            np.mean(np.array(off) >= THRESHOLD)
        ),
        "on-topic questions": len(on),
        "on-topic best similarity, 10th percentile": pct(on, 10),
        "on-topic best similarity, median": pct(on, 50),
        f"on-topic questions earning a fact at {THRESHOLD}": float(
            np.mean(np.array(on) >= THRESHOLD)
        ),
    }
