"""Elicitation: how many hidden facts each interviewer draws out of simulated experts in 30 questions.

The experts (bench/simexperts.py) hold real sentences and reveal only those a question asks for.
Four interviewers put up to 30 questions to each (guide questions and follow-ups all count):

- tacit: the real engine with default settings (its guide, its follow-ups);
- guide only: the same engine with `interview.max_followups = 0`;
- fixed list: about 30 untailored questions for the profession, as a naive interviewer asks;
- phrase follow-ups: the guide's questions (from the engine, no follow-ups of its own), each
  followed up to twice on the rarest multi-word phrase of the expert's last answer.

    python -m bench elicitation                  # the figures
    python -m bench.elicitation --markdown       # the tables in docs/interviewing.md
    python -m bench.elicitation --transcripts D  # also write every interview to D/*.json
    python -m bench.elicitation --sensitivity    # also with the threshold 0.05 lower and higher
    python -m bench.elicitation --calibrate      # where the simulator's threshold comes from
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.common import scratch
from bench.simexperts import (
    STOPWORDS,
    THRESHOLD,
    Conversation,
    Embeddings,
    SimExpert,
    all_experts,
    calibration,
)

QUESTIONS = 30
CHECKPOINTS = (10, 20, 30)
PHRASE_FOLLOWUPS = 2  # per guide question: tacit's default max_followups
INTERVIEWERS = ["tacit", "guide only", "phrase follow-ups", "fixed list"]

# What a naive interviewer asks anyone in the profession: not tailored to the expert, no
# follow-ups. Written for this benchmark without looking at the guides' wording.
_NAIVE = [
    "Can you tell me a bit about yourself and your work?",
    "What does a typical day look like for you?",
    "What is the hardest part of your job?",
    "What do you enjoy most about your work?",
    "How did you get into {field}?",
    "What training did you need to do this job?",
    "What skills matter most in your job?",
    "What mistakes do beginners make?",
    "What advice would you give someone starting out?",
    "How has your field changed over the years?",
    "What tools do you use most?",
    "How do you keep up with new developments?",
    "What do people misunderstand about your job?",
    "How do you handle stress at work?",
    "What does a good day look like?",
    "What does a bad day look like?",
    "How do you make difficult decisions?",
    "How do you work with your colleagues?",
    "How do you talk to your {people}?",
    "What was the most memorable {case} of your career?",
    "What do you wish you had known when you started?",
    "How do you know when you have done a good job?",
    "Which part of your work is hardest to teach?",
    "What would you change about your profession?",
    "What are the biggest challenges in your field today?",
    "How do you decide what to do first?",
    "What rules of thumb do you use?",
    "How do you deal with uncertainty?",
    "What makes someone an expert in your field?",
    "Is there anything else you would like to add?",
]
_WORDS = {
    "physician": {"field": "medicine", "people": "patients", "case": "case"},
    "litigator": {"field": "law", "people": "clients", "case": "case"},
}


def fixed_questions(profession: str) -> list[str]:
    words = _WORDS.get(profession, {"field": "your field", "people": "clients", "case": "moment"})
    return [q.format(**words) for q in _NAIVE]


# ---- tacit, through its public API only (one place to re-point after a reorganisation) ----


@asynccontextmanager
async def tacit(encoder, folder: Path, **interview):
    """tacit's services on a scratch SQLite database and embedded Chroma (`interview` overrides
    its interview settings); Session below is the only other code that touches them."""
    from knowledge.config import load_settings
    from knowledge.services import open_services

    overrides = {"interview": interview} if interview else {}
    settings = load_settings(
        data_dir=folder,
        database={"url": f"sqlite+aiosqlite:///{folder / 'tacit.db'}"},
        chroma={"path": str(folder / "chroma"), "collection": "bench"},
        **overrides,
    )
    async with open_services(settings, background=False, encoder=encoder) as svc:
        yield svc


class Session:
    """One interview with tacit's engine: the question now, the next after an answer."""

    def __init__(self, svc, key: str, guide: str):
        self.svc, self.key, self.guide = svc, key, guide
        self.interview_id: int | None = None
        self.probe = ""

    async def start(self) -> tuple[str, bool]:
        ex = await self.svc.experts.identify("bench", self.key, self.key)
        await self.svc.experts.give_consent(ex.id)
        ask = await self.svc.engine.start(ex.id, self.guide, channel="terminal")
        self.interview_id = ask.interview_id
        self.probe = ask.probe
        return ask.text, ask.followup

    async def answer(self, text: str) -> tuple[str, bool] | None:
        reply = await self.svc.engine.answer(self.interview_id, text)
        if reply.next is None:
            return None
        self.probe = reply.next.probe  # the move behind a follow-up (read by by_engine)
        return reply.next.text, reply.next.followup

    async def end(self) -> None:
        await self.svc.engine.end(self.interview_id)

    @staticmethod
    def describe(svc) -> str:
        llm = svc.settings.llm
        return f"llm {llm.model}" if llm.enabled else "rules (no LLM)"


# ---- interviewers --------------------------------------------------------------------------------


@dataclass
class Turn:
    question: str
    followup: bool
    answer: str
    kind: str  # the simulator's: "facts", "repeat", "unsure"
    new: list[int]
    probe: str = ""  # tacit's probe type (its move, for a follow-up)


@dataclass
class Interview:
    expert: str
    interviewer: str
    variant: str = "main"
    turns: list[Turn] = field(default_factory=list)

    def ask(self, conv: Conversation, question: str, followup: bool, probe: str = "") -> str:
        a = conv.answer(question)
        self.turns.append(Turn(question, followup, a.text, a.kind, list(a.new), probe))
        return a.text

    @property
    def full(self) -> bool:
        return len(self.turns) >= QUESTIONS


async def by_engine(session: Session, conv: Conversation, iv: Interview) -> Interview:
    """tacit decides every question, guide and follow-up alike."""
    nxt = await session.start()
    while nxt is not None and not iv.full:
        text, followup = nxt
        nxt = await session.answer(iv.ask(conv, text, followup, session.probe))
    await session.end()
    return iv


def by_list(questions: list[str], conv: Conversation, iv: Interview) -> Interview:
    for q in questions[:QUESTIONS]:
        iv.ask(conv, q, False)
    return iv


_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")


def _content(word: str) -> bool:
    return word.lower() not in STOPWORDS and len(word) > 2


def rarest_phrase(answer: str, heard: Counter, exclude: set[str]) -> str | None:
    """The multi-word phrase of `answer` whose words the interview has heard least.

    Phrases are runs of 2-4 content words; ties go to the longer, then the earlier phrase.
    """
    best = None
    for chunk in re.split(r"[.,;:!?()\"]", answer):
        words = _TOKEN.findall(chunk)
        runs, run = [], []
        for w in words + [""]:
            if w and _content(w):
                run.append(w)
            else:
                if len(run) >= 2:
                    runs.append(run)
                run = []
        for run in runs:
            for n in range(min(4, len(run)), 1, -1):
                for i in range(len(run) - n + 1):
                    phrase = " ".join(run[i : i + n])
                    if phrase.lower() in exclude:
                        continue
                    score = (sum(heard[w.lower()] for w in run[i : i + n]) / n, -n)
                    if best is None or score < best[0]:
                        best = (score, phrase)
    return best[1] if best else None


async def by_phrases(session: Session, conv: Conversation, iv: Interview) -> Interview:
    """The guide's questions from the engine; follow-ups on the expert's own rarest phrase."""
    heard: Counter = Counter()
    used: set[str] = set()
    nxt = await session.start()
    while nxt is not None and not iv.full:
        question, _ = nxt
        answers = [iv.ask(conv, question, False)]
        heard.update(w.lower() for w in _TOKEN.findall(answers[-1]))
        for _ in range(PHRASE_FOLLOWUPS):
            if iv.full:
                break
            phrase = rarest_phrase(answers[-1], heard, used | _phrases_in(question))
            if phrase is None:
                break
            used.add(phrase.lower())
            answers.append(
                iv.ask(conv, f"You mentioned {phrase}. Can you tell me more about {phrase}?", True)
            )
            heard.update(w.lower() for w in _TOKEN.findall(answers[-1]))
        # The engine hears everything said on its question, so its coverage check is fair.
        nxt = await session.answer(" ".join(answers))
    await session.end()
    return iv


def _phrases_in(text: str) -> set[str]:
    """Every 2-4 word span of the interviewer's own question (not the expert's words)."""
    words = [w.lower() for w in _TOKEN.findall(text)]
    return {" ".join(words[i : i + n]) for n in (2, 3, 4) for i in range(len(words) - n + 1)}


# ---- figures -------------------------------------------------------------------------------------


def quotes_expert(question: str, earlier_answers: list[str], asked_before: list[str]) -> bool:
    """Whether a follow-up names something the expert said: an acronym, or a phrase of two or more
    content words, found in the expert's earlier answers and not in the interviewer's earlier
    questions (so the interviewer's own template words never count)."""
    said = " ".join(earlier_answers)
    own = " ".join(asked_before)
    for acronym in set(re.findall(r"\b[A-Z]{2,6}s?\b", question)):
        if re.search(rf"\b{acronym}\b", said) and not re.search(rf"\b{acronym}\b", own):
            return True
    words = [w.lower() for w in _TOKEN.findall(question)]
    said_l, own_l = " ".join(_TOKEN.findall(said)).lower(), " ".join(_TOKEN.findall(own)).lower()
    for n in range(2, 6):
        for i in range(len(words) - n + 1):
            span = words[i : i + n]
            if sum(_content(w) for w in span) < 2:
                continue
            phrase = " ".join(span)
            if re.search(rf"\b{re.escape(phrase)}\b", said_l) and not re.search(
                rf"\b{re.escape(phrase)}\b", own_l
            ):
                return True
    return False


def measure(iv: Interview) -> dict:
    cumulative, total = [], 0
    for t in iv.turns:
        total += len(t.new)
        cumulative.append(total)
    at = {n: (cumulative[min(n, len(cumulative)) - 1] if cumulative else 0) for n in CHECKPOINTS}
    followups = [t for t in iv.turns if t.followup]
    texts = [t.question for t in followups]
    quoting = 0
    for i, t in enumerate(iv.turns):
        if t.followup:
            before = iv.turns[:i]
            if quotes_expert(t.question, [b.answer for b in before], [b.question for b in before]):
                quoting += 1
    # Facts drawn by a follow-up to an answer that revealed nothing: what listening to an "I'm not
    # sure" is worth (it names a topic, see simexperts.Conversation).
    after_unsure = sum(
        len(t.new)
        for prev, t in zip(iv.turns, iv.turns[1:], strict=False)
        if t.followup and prev.kind == "unsure"
    )
    return {
        "after_unsure": after_unsure,
        "at": at,
        "questions": len(iv.turns),
        "followups": len(followups),
        "duplicates": len(texts) - len(set(texts)),
        "quoting": quoting,
        "from_followups": sum(len(t.new) for t in followups),
        "unsure": sum(t.kind == "unsure" for t in iv.turns),
    }


# ---- the run -------------------------------------------------------------------------------------

MAIN = "main"
PLAIN = "unsure names no topic"  # sensitivity: the expert who does not follow says only that
# The variants each run: (variant, interviewers, the simulator's policy).
PLAN = [(MAIN, INTERVIEWERS, {}), (PLAIN, ["tacit", "phrase follow-ups"], {"name_topics": False})]
SENSITIVITY = [
    (f"threshold {t:.2f}", INTERVIEWERS, {"threshold": t})
    for t in (THRESHOLD - 0.05, THRESHOLD + 0.05)
]


async def _run(encoder, experts: list[SimExpert], embeddings: Embeddings, plan) -> tuple[list, str]:
    folder = scratch()
    interviews = []
    async with (
        tacit(encoder, folder / "default") as default,
        tacit(encoder, folder / "nofollow", max_followups=0) as nofollow,
    ):
        for variant, names, policy in plan:
            for e in experts:
                key = f"{variant}/{e.slug}"
                for name in names:
                    conv = e.interview(embeddings, **policy)
                    iv = Interview(e.slug, name, variant)
                    if name == "tacit":
                        await by_engine(Session(default, key, e.profession), conv, iv)
                    elif name == "guide only":
                        await by_engine(Session(nofollow, key, e.profession), conv, iv)
                    elif name == "phrase follow-ups":
                        await by_phrases(Session(nofollow, key + "/p", e.profession), conv, iv)
                    else:
                        by_list(fixed_questions(e.profession), conv, iv)
                    interviews.append(iv)
        kind = Session.describe(default)
    return interviews, kind


def evaluate(encoder=None, *, sensitivity: bool = False) -> dict:
    """Every interview and its measures; the raw material of run() and the markdown tables."""
    from knowledge.index import SentenceTransformerEncoder

    enc = encoder or SentenceTransformerEncoder()
    t = time.perf_counter()
    embeddings = Embeddings(enc)
    experts = all_experts(embeddings)
    built = time.perf_counter() - t
    t = time.perf_counter()
    plan = PLAN + (SENSITIVITY if sensitivity else [])
    interviews, kind = asyncio.run(_run(enc, experts, embeddings, plan))
    return {
        "experts": experts,
        "interviews": interviews,
        "measures": {(iv.variant, iv.expert, iv.interviewer): measure(iv) for iv in interviews},
        "variants": [(v, names) for v, names, _ in plan],
        "interviewer": kind,
        "seconds": {"experts": built, "interviews": time.perf_counter() - t},
    }


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def _at(result: dict, variant: str, name: str, n: int) -> float:
    return _mean(result["measures"][variant, e.slug, name]["at"][n] for e in result["experts"])


def summary(result: dict) -> dict:
    m, experts = result["measures"], result["experts"]
    out: dict = {
        "tacit's interviewer": result["interviewer"],
        "simulated experts": len(experts),
        "hidden facts, all experts": sum(len(e.facts) for e in experts),
    }
    for name in INTERVIEWERS:
        out[f"{name}: facts after 10/20/30 questions (mean per expert)"] = "/".join(
            f"{_at(result, MAIN, name, n):.1f}" for n in CHECKPOINTS
        )
    at30 = {name: _at(result, MAIN, name, 30) for name in INTERVIEWERS}
    for other in INTERVIEWERS[1:]:
        out[f"tacit / {other}, facts after 30"] = at30["tacit"] / at30[other] if at30[other] else 0
    for name in ("tacit", "phrase follow-ups"):
        rows = [m[MAIN, e.slug, name] for e in experts]
        f = sum(r["followups"] for r in rows)
        facts = max(1, sum(r["at"][30] for r in rows))
        out[f"{name}: follow-ups asked"] = f
        out[f"{name}: repeated follow-up wording (duplicates / follow-ups)"] = (
            sum(r["duplicates"] for r in rows) / f if f else 0.0
        )
        out[f"{name}: follow-ups naming what the expert said"] = (
            sum(r["quoting"] for r in rows) / f if f else 0.0
        )
        out[f"{name}: share of facts revealed by follow-ups"] = (
            sum(r["from_followups"] for r in rows) / facts
        )
        out[f"{name}: share of facts revealed right after an 'unsure' answer"] = (
            sum(r["after_unsure"] for r in rows) / facts
        )
    moves = Counter(
        t.probe
        for iv in result["interviews"]
        if iv.variant == MAIN and iv.interviewer == "tacit"
        for t in iv.turns
        if t.followup
    )
    out["tacit: follow-ups by move (probe type)"] = ", ".join(
        f"{p} {n}" for p, n in moves.most_common()
    )
    for variant, names in result["variants"][1:]:
        for name in names:
            out[f"({variant}) {name}: facts after 10/20/30"] = "/".join(
                f"{_at(result, variant, name, n):.1f}" for n in CHECKPOINTS
            )
    for e in experts:
        out[f"{e.slug} ({len(e.facts)} facts): facts after 10/20/30"] = "   ".join(
            f"{name} " + "/".join(str(m[MAIN, e.slug, name]["at"][n]) for n in CHECKPOINTS)
            for name in INTERVIEWERS
        )
    out["seconds: building experts"] = result["seconds"]["experts"]
    out["seconds: interviews"] = result["seconds"]["interviews"]
    return out


def run() -> dict:
    return summary(evaluate())


def markdown(result: dict) -> str:
    """The tables of docs/interviewing.md."""
    m, experts = result["measures"], result["experts"]
    lines = ["| expert | facts | " + " | ".join(INTERVIEWERS) + " |"]
    lines.append("|---|---:|" + "---:|" * len(INTERVIEWERS))
    for e in experts:
        cells = [
            "/".join(str(m[MAIN, e.slug, n]["at"][c]) for c in CHECKPOINTS) for n in INTERVIEWERS
        ]
        lines.append(f"| {e.slug}: {e.title} | {len(e.facts)} | " + " | ".join(cells) + " |")
    means = ["/".join(f"{_at(result, MAIN, n, c):.1f}" for c in CHECKPOINTS) for n in INTERVIEWERS]
    lines.append("| **mean** | | " + " | ".join(f"**{x}**" for x in means) + " |")
    lines += [
        "",
        "| expert | interviewer | questions | follow-ups | repeated wording | naming the expert's"
        " words | facts from follow-ups | 'unsure' answers |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for e in experts:
        for n in ("tacit", "phrase follow-ups"):
            r = m[MAIN, e.slug, n]
            f = r["followups"] or 1
            lines.append(
                f"| {e.slug} | {n} | {r['questions']} | {r['followups']} | "
                f"{r['duplicates'] / f:.0%} | {r['quoting'] / f:.0%} | "
                f"{r['from_followups']} of {r['at'][30]} | {r['unsure']} |"
            )
    lines += ["", "| simulator | " + " | ".join(INTERVIEWERS) + " |"]
    lines.append("|---|" + "---:|" * len(INTERVIEWERS))
    for variant, names in result["variants"]:
        cells = [
            "/".join(f"{_at(result, variant, n, c):.1f}" for c in CHECKPOINTS)
            if n in names
            else "(not run)"
            for n in INTERVIEWERS
        ]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    from bench.__main__ import show

    if "--calibrate" in argv:
        from knowledge.index import SentenceTransformerEncoder

        show("simulator threshold", calibration(Embeddings(SentenceTransformerEncoder())))
        return
    result = evaluate(sensitivity="--sensitivity" in argv)
    if "--transcripts" in argv:
        folder = Path(argv[argv.index("--transcripts") + 1])
        folder.mkdir(parents=True, exist_ok=True)
        for iv in result["interviews"]:
            name = f"{iv.variant}--{iv.expert}--{iv.interviewer}.json".replace(" ", "-")
            (folder / name).write_text(json.dumps(asdict(iv), indent=1), encoding="utf-8")
    if "--markdown" in argv:
        print(markdown(result))
    show("elicitation", summary(result))


if __name__ == "__main__":
    main(sys.argv[1:])
