"""Splits by whole interviews, and the groups an export reads and writes at a time."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


WRITE_GROUP = 2000  # entries per read-and-write group (whole interviews)


def choose_validation(
    interviews: np.ndarray, sizes: np.ndarray, share: float, seed: int
) -> set[int]:
    """Whole interviews for the validation split, about `share` of the entries.

    Interviews are taken in a seeded random order until validation holds its share; at least
    one goes there (when share > 0) and at least one stays in train.
    """
    if share <= 0 or len(interviews) < 2:
        return set()
    order = np.random.default_rng(seed).permutation(len(interviews))
    target = share * float(sizes.sum())
    chosen: set[int] = set()
    held = 0
    for k in order.tolist():
        if held >= target or len(chosen) >= len(interviews) - 1:
            break
        chosen.add(int(interviews[k]))
        held += int(sizes[k])
    return chosen


def interview_groups(interviews: np.ndarray, sizes: np.ndarray) -> list[tuple[list[int], int]]:
    """Whole interviews in groups of about WRITE_GROUP entries: (interview ids, entries)."""
    out: list[tuple[list[int], int]] = []
    group: list[int] = []
    count = 0
    for iv, size in zip(interviews.tolist(), sizes.tolist(), strict=True):
        group.append(iv)
        count += size
        if count >= WRITE_GROUP:
            out.append((group, count))
            group, count = [], 0
    if group:
        out.append((group, count))
    return out
