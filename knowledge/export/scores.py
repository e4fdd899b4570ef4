"""Rubric scores in exports: each entry's average per criterion, and the --min-score filter.

Scores are the curators' decisions' (`review_decisions.scores`); an entry's score on a
criterion is the mean over the decisions that scored it. They reach the provenance sidecar as
`score_<criterion>` (every format has the sidecar, keyed by example id).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict

from sqlalchemy import Float, func, select

from knowledge.storage import Entry, ReviewDecision

log = logging.getLogger(__name__)

NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
PAGE = 500  # entry ids per query


def parse_min_scores(values) -> tuple[tuple[str, float], ...]:
    """("specificity=3", ...) or a mapping as (name, minimum) pairs; ValueError names the bad one."""
    items = values.items() if isinstance(values, dict) else (v.partition("=")[::2] for v in values)
    out = []
    for name, value in items:
        name = str(name).strip()
        try:
            floor = float(value)
        except (TypeError, ValueError):
            floor = None
        if not NAME.match(name) or floor is None:
            raise ValueError(
                f"min-score {name}={value}: give it as CRITERION=NUMBER, e.g. specificity=3"
            )
        out.append((name, floor))
    return tuple(out)


def score_conditions(min_scores: tuple[tuple[str, float], ...]) -> list:
    """Conditions on Entry: its average score on each criterion is at least the minimum (an
    entry nobody scored on it does not pass)."""
    conds = []
    for name, floor in min_scores:
        mean = (
            select(func.avg(ReviewDecision.scores[name].as_float()))
            .where(ReviewDecision.entry_id == Entry.id, ReviewDecision.verdict.is_not(None))
            .scalar_subquery()
        )
        conds.append(func.coalesce(mean, -1.0, type_=Float) >= floor)
    return conds


async def entry_scores(s, entry_ids: list[int]) -> dict[int, dict[str, float]]:
    """{entry id: {"score_<criterion>": mean}} for the entries that were scored."""
    sums: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i in range(0, len(entry_ids), PAGE):
        rows = await s.execute(
            select(ReviewDecision.entry_id, ReviewDecision.scores).where(
                ReviewDecision.entry_id.in_(entry_ids[i : i + PAGE]),
                ReviewDecision.verdict.is_not(None),
                ReviewDecision.scores.is_not(None),
            )
        )
        for entry_id, scores in rows:
            for name, value in (scores or {}).items():
                sums[entry_id][name].append(int(value))
    return {
        e: {f"score_{n}": round(sum(v) / len(v), 3) for n, v in sorted(by.items())}
        for e, by in sums.items()
    }
