"""How far curators agree: Krippendorff's alpha (the `krippendorff` package) over blind reviews.

Verdicts (approved, rejected, duplicate) are nominal; rubric scores are interval. Figures come
per guide, per pair of curators and overall, each with the number of entries reviewed by more
than one curator, as plain dataclasses (`as_dict()` for a dataset card). Only `review` rows
count: an adjudication or a later revision is not an independent judgement.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

import krippendorff
import numpy as np
from sqlalchemy import select

from knowledge.review.panel import ADJUDICATION, REVIEW
from knowledge.storage import Database, Entry, ReviewDecision

log = logging.getLogger(__name__)

VERDICT_CODES = {"rejected": 0.0, "approved": 1.0, "duplicate": 2.0}


@dataclass(frozen=True)
class Alpha:
    """Krippendorff's alpha over `items` entries that at least two curators reviewed.

    `alpha` is None when it is undefined: fewer than two such entries, or a single value
    throughout (nothing to disagree on). `agreed` is how many of the items had no difference
    at all.
    """

    alpha: float | None
    items: int
    agreed: int = 0


@dataclass(frozen=True)
class PairAlpha(Alpha):
    curators: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class Agreement:
    overall: Alpha  # verdicts, every guide
    by_guide: dict[str, Alpha]
    by_pair: list[PairAlpha]  # pairs that share at least one entry, most shared first
    rubric: dict[str, Alpha]  # per criterion, interval
    reviewed: int  # entries with at least one blind review
    adjudicated: int  # entries an adjudicator decided
    # Per criterion: the mean of each entry's average score, and how many entries were scored.
    mean_scores: dict[str, float] = field(default_factory=dict)
    scored: dict[str, int] = field(default_factory=dict)

    @property
    def multiply_reviewed(self) -> int:
        return self.overall.items

    def as_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): what a dataset card quotes."""
        out = asdict(self)
        out["by_pair"] = [{**asdict(p), "curators": list(p.curators)} for p in self.by_pair]
        out["multiply_reviewed"] = self.multiply_reviewed
        return out


def alpha(units: list[list[float]], level: str) -> Alpha:
    """Alpha over units (each the values its reviewers gave); units with one value are unpaired."""
    paired = [u for u in units if len(u) >= 2]
    agreed = sum(1 for u in paired if len(set(u)) == 1)
    if len(paired) < 2 or len({v for u in paired for v in u}) < 2:
        return Alpha(None, len(paired), agreed)
    width = max(len(u) for u in paired)
    data = np.full((width, len(paired)), np.nan)
    for j, u in enumerate(paired):
        data[: len(u), j] = u
    value = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    return Alpha(None if math.isnan(value) else round(float(value), 4), len(paired), agreed)


async def agreement(db: Database, *, guide: str | None = None) -> Agreement:
    """Agreement over every blind review this view of the store holds (of one guide)."""
    q = (
        select(
            ReviewDecision.entry_id,
            ReviewDecision.curator,
            ReviewDecision.kind,
            ReviewDecision.verdict,
            ReviewDecision.scores,
            Entry.guide_slug,
        )
        .join(Entry, Entry.id == ReviewDecision.entry_id)
        .where(ReviewDecision.verdict.is_not(None))
        .order_by(ReviewDecision.entry_id, ReviewDecision.id)
    )
    if guide is not None:
        q = q.where(Entry.guide_slug == guide)
    async with db.sessions() as s:
        rows = (await s.execute(q)).all()
    return _figures(rows)


def _figures(rows) -> Agreement:
    """Agreement from (entry, curator, kind, verdict, scores, guide) rows."""
    verdicts: dict[int, dict[str, float]] = defaultdict(dict)
    scores: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    guide_of: dict[int, str] = {}
    adjudicated = set()
    per_entry: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for entry_id, curator, kind, verdict, given, guide in rows:
        for name, value in (given or {}).items():
            per_entry[name][entry_id].append(int(value))
        if kind == ADJUDICATION:
            adjudicated.add(entry_id)
        if kind != REVIEW or verdict not in VERDICT_CODES:
            continue
        guide_of[entry_id] = guide
        verdicts[entry_id][curator] = VERDICT_CODES[verdict]
        for name, value in (given or {}).items():
            scores[name][entry_id].append(float(value))

    def units(ids) -> list[list[float]]:
        return [list(verdicts[i].values()) for i in ids]

    per_guide: dict[str, list[int]] = defaultdict(list)
    for i, g in guide_of.items():
        per_guide[g].append(i)
    shared: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, by in verdicts.items():
        for a, b in combinations(sorted(by), 2):
            shared[(a, b)].append(i)
    pairs = [
        PairAlpha(
            **asdict(alpha([[verdicts[i][a], verdicts[i][b]] for i in ids], "nominal")),
            curators=(a, b),
        )
        for (a, b), ids in shared.items()
    ]
    pairs.sort(key=lambda p: (-p.items, p.curators))
    return Agreement(
        overall=alpha(units(verdicts), "nominal"),
        by_guide={g: alpha(units(ids), "nominal") for g, ids in sorted(per_guide.items())},
        by_pair=pairs,
        rubric={n: alpha(list(u.values()), "interval") for n, u in sorted(scores.items())},
        reviewed=len(verdicts),
        adjudicated=len(adjudicated),
        mean_scores={
            n: round(_mean([_mean(v) for v in e.values()]), 3) for n, e in per_entry.items()
        },
        scored={n: len(e) for n, e in sorted(per_entry.items())},
    )


def _mean(values) -> float:
    return sum(values) / len(values)


async def card_figures(db: Database, *, guide: str | None = None) -> dict[str, Any]:
    """What a dataset card says of review, as plain data (knowledge/export/card_text.py):
    {"sentences": [...], "agreement": [{"scope", "items", "value", "measure"}],
    "rubric": [{"criterion", "mean", "n"}]}."""
    ag = await agreement(db, guide=guide)
    o = ag.overall
    sentences = []
    if ag.reviewed:
        sentences.append(
            f"{o.items} of the {ag.reviewed} reviewed entries were reviewed blind by two or "
            f"more curators; {o.agreed} of those had identical decisions, and {ag.adjudicated} "
            "disagreements were settled by another curator who had not reviewed the entry."
        )
    nominal = "Krippendorff's alpha, nominal (verdicts)"
    rows = [{"scope": "all guides", "items": o.items, "value": o.alpha, "measure": nominal}]
    rows += [
        {"scope": f"guide {g}", "items": a.items, "value": a.alpha, "measure": nominal}
        for g, a in ag.by_guide.items()
    ]
    rows += [
        {
            "scope": f"criterion {n}",
            "items": a.items,
            "value": a.alpha,
            "measure": "Krippendorff's alpha, interval (rubric scores)",
        }
        for n, a in ag.rubric.items()
    ]
    rubric = [
        {"criterion": n, "mean": ag.mean_scores[n], "n": ag.scored[n]} for n in sorted(ag.scored)
    ]
    return {"sentences": sentences, "agreement": rows if ag.reviewed else [], "rubric": rubric}
