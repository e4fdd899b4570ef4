"""Pick-ups: does tacit's phrase extractor choose what real interviewers chose to follow up on?

In the real conversations of ../shared/data/real (the PriMock57 consultations and the SCOTUS
arguments), the interviewer's next turn often picks up a word the expert just used: "and you
mentioned some pain in your tummy", "you said the general rule...". For every expert turn whose
next interviewer turn repeats at least one of the expert's content words (one the interviewer's
previous turn did not already contain), those repeated words are the *pick-up*. An extractor scores
a hit when its best phrase (or one of its best three) contains a picked-up word.

This measures the phrase extractor on human choices, not on the simulated experts: nothing here
reads bench/simexperts.py. `python -m bench pickups`.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

from knowledge.interview import phrases as ph

MIN_WORDS = 8  # shorter expert turns ("Yes.") give the extractor nothing to choose from


def real_dir() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "shared" / "data" / "real").is_dir():
            return parent / "shared" / "data" / "real"
    raise FileNotFoundError("no shared/data/real")


def _words(text: str) -> set[str]:
    return {ph.singular(w.lower()) for w in ph._TOKEN.findall(text) if ph.content(w)}


def cases() -> list[dict]:
    """(source, the conversation before, the answer, the picked-up words)."""
    out = []
    for path in sorted(real_dir().glob("*.turns.jsonl")):
        with open(path, encoding="utf-8") as f:
            turns = [json.loads(line) for line in f if line.strip()]
        for i in range(1, len(turns) - 1):
            prev, ans, nxt = turns[i - 1], turns[i], turns[i + 1]
            if ans["role"] != "expert" or nxt["role"] != "interviewer":
                continue
            if prev["role"] != "interviewer" or len(ans["text"].split()) < MIN_WORDS:
                continue
            gold = (_words(ans["text"]) & _words(nxt["text"])) - _words(prev["text"])
            if gold:
                out.append(
                    {
                        "source": path.name.split("_")[0],
                        "before": [t["text"] for t in turns[:i]],
                        "asked": [t["text"] for t in turns[:i] if t["role"] == "interviewer"],
                        "answer": ans["text"],
                        "gold": gold,
                    }
                )
    return out


# ---- the extractors compared -------------------------------------------------------------------
# Each ranks the answer's phrases, given what the interviewer said before (its own words are not
# the expert's, as in the interview; tacit discounts them).


class _Flat(ph.Rarity):
    """No English rarity: every word equally specific."""

    def __init__(self):
        pass

    def __call__(self, word):
        return 0.0


def _specific(case, rarity=None):
    return ph.extract(case["answer"], heard_before=ph.heard(case["asked"]), rarity=rarity)


def by_rarity(case) -> list[str]:
    """Specificity (WordPiece rarity) among the words the interviewer has not said; no model."""
    return [p.key for p in _specific(case)]


def by_novelty(case) -> list[str]:
    """Novelty only: the phrase whose words the conversation has heard least (the elicitation
    benchmark's phrase interviewer)."""
    found = ph.extract(case["answer"], heard_before=ph.heard(case["before"]), rarity=_Flat())
    return [p.key for p in found]


def by_first(case) -> list[str]:
    """The first multi-word run (position baseline)."""
    seen, out = set(), []
    for text, *_ in ph.candidates(case["answer"]):
        key = ph.normalise(text)
        if key not in seen:
            seen.add(key)
            out.append(key)
    multi = [k for k in out if " " in k]
    return multi + [k for k in out if " " not in k]


def _central(encoder, case, found) -> list[str]:
    import numpy as np

    if not found:
        return []
    vecs = np.asarray(encoder.encode([case["answer"], *(p.text for p in found)]))
    sims = vecs[1:] @ vecs[0]
    return [found[i].key for i in np.argsort(-sims, kind="stable")]


def by_keybert(encoder):
    """KeyBERT's rule over the bundled MiniLM: every candidate, closest to the whole answer."""

    def run(case):
        return _central(
            encoder, case, ph.extract(case["answer"], heard_before=ph.heard(case["asked"]))
        )

    return run


def by_tacit(encoder, k: int = 6):
    """tacit's: the k most specific candidates (by_rarity), then KeyBERT's rule among them."""

    def run(case):
        return _central(encoder, case, _specific(case)[:k])

    return run


def evaluate(encoder=None) -> dict:
    data = cases()
    extractors = {
        "rarity among new words (no model)": by_rarity,
        "novelty only (heard least)": by_novelty,
        "first phrase": by_first,
    }
    if encoder is not None:
        extractors["KeyBERT rule (MiniLM), every candidate"] = by_keybert(encoder)
        extractors["tacit: 6 most specific, then KeyBERT rule"] = by_tacit(encoder)
    out: dict = {"cases": len(data)}
    for source in sorted({c["source"] for c in data}):
        out[f"cases from {source}"] = sum(c["source"] == source for c in data)
    rarity = ph.default_rarity()
    out["candidate phrases per answer (mean): what KeyBERT's rule embeds"] = sum(
        len({ph.normalise(t) for t, *_ in ph.candidates(c["answer"])}) for c in data
    ) / len(data)
    for name, fn in extractors.items():
        hits1 = hits3 = 0
        specificity = 0.0
        by_source: Counter = Counter()
        for c in data:
            ranked = fn(c)
            if ranked:
                specificity += sum(1 + rarity(w) for w in ranked[0].split()) / len(
                    ranked[0].split()
                )
            ok = [bool(set(k.split()) & c["gold"]) for k in ranked[:3]]
            hits1 += bool(ok[:1] and ok[0])
            hits3 += any(ok)
            by_source[c["source"]] += bool(ok[:1] and ok[0])
        out[f"{name}: best phrase picked up"] = hits1 / len(data)
        out[f"{name}: one of best 3 picked up"] = hits3 / len(data)
        out[f"{name}: specificity of the best phrase (WordPiece pieces per word)"] = (
            specificity / len(data)
        )
        for source in sorted(by_source):
            n = sum(c["source"] == source for c in data)
            out[f"{name}: best phrase picked up, {source}"] = by_source[source] / n
    return out


def run() -> dict:
    from knowledge.index import SentenceTransformerEncoder

    return evaluate(SentenceTransformerEncoder())


if __name__ == "__main__":
    from bench.__main__ import show

    show("pickups", run() if "--no-model" not in sys.argv else evaluate())
    if "--examples" in sys.argv:
        for c in cases()[:40]:
            print(re.sub(r"\s+", " ", c["answer"])[:160])
            print("   gold:", sorted(c["gold"]), " rarity:", by_rarity(c)[:3])
