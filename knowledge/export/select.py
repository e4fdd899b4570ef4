"""The SQL of an export: which entries, a scan of their small columns, their texts by interview."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import case, func, or_, select

from knowledge.export.options import ExportOptions, Progress
from knowledge.export.scores import score_conditions
from knowledge.export.scrub import PII_WORKERS, Offload, pii_flags, text_items
from knowledge.storage import Database, Entry, Expert, Interview, Turn
from knowledge.vocab import ExportPhase

log = logging.getLogger(__name__)


SCAN_PAGE = 5000  # rows per keyset page in the scan


def _where(opts: ExportOptions) -> list:
    """The selection. Never-consented experts never pass."""
    # The status is compared as an expression: on the bare column SQLite walks the status index
    # and sorts every keyset page, where the primary key gives the pages in order (6x faster).
    conds = [Expert.consented_at.is_not(None), Entry.status + "" == opts.status]
    if opts.guide:
        conds.append(Entry.guide_slug == opts.guide)
    if opts.expert:
        who = opts.expert.strip()
        # An id SQL can hold (a 32-bit integer column), else it can only be a pseudonym.
        is_id = who.isascii() and who.isdigit() and int(who) < 2**31
        conds.append(Expert.id == int(who) if is_id else Expert.pseudonym == who)
    if opts.since is not None:
        conds.append(func.coalesce(Entry.decided_at, Entry.created_at) >= opts.since)
    conds += score_conditions(opts.min_scores)
    return conds


def _edited():
    """Edited by a curator or corrected by the expert: preferred among near-duplicates."""
    return or_(
        Entry.edited_answer.is_not(None),
        Entry.edited_question.is_not(None),
        Entry.corrected_answer.is_not(None),
    )


@dataclass
class Scan:
    """Small columns of every selected entry, in id order."""

    ids: np.ndarray
    interview: np.ndarray
    length: np.ndarray  # characters in the final answer
    edited: np.ndarray
    flagged: np.ndarray  # a curator flagged personal data
    stale: np.ndarray  # Chroma's copy is not the current one (or there is none yet)
    pii: np.ndarray  # personal data found (pii = "hold" only)


# Personal data is looked for in worker processes on large exports: the rules are pure-Python
# regular expressions, bound by the GIL. These functions run there (or in a thread when small).
_SCRUBBERS: dict[tuple[int, str], Any] = {}


async def count_entries(db: Database, opts: ExportOptions) -> int:
    stmt = (
        select(func.count())
        .select_from(Entry)
        .join(Expert, Entry.expert_id == Expert.id)
        .where(*_where(opts))
    )
    async with db.sessions() as s:
        return int(await s.scalar(stmt) or 0)


async def scan_selection(
    db: Database,
    opts: ExportOptions,
    hold: bool,
    offload: Offload,
    total: int,
    progress: Progress,
) -> Scan:
    stale = or_(Entry.indexed_hash.is_(None), Entry.indexed_hash != Entry.content_hash)
    cols = [
        Entry.id,
        Entry.interview_id,
        func.length(func.coalesce(Entry.edited_answer, Entry.corrected_answer, Entry.answer)),
        case((_edited(), 1), else_=0),
        case((Entry.flagged_pii, 1), else_=0),
        case((stale, 1), else_=0),
    ]
    if hold:
        cols += [
            Entry.question,
            Entry.edited_question,
            Entry.answer,
            Entry.edited_answer,
            Turn.question.label("asked"),
            Expert.id.label("expert_id"),
            Expert.display_name,
            Entry.corrected_answer,
        ]
    stmt = select(*cols).select_from(Entry).join(Expert, Entry.expert_id == Expert.id)
    if hold:
        stmt = stmt.join(Turn, Entry.turn_id == Turn.id)
    stmt = stmt.where(*_where(opts)).order_by(Entry.id).limit(SCAN_PAGE)
    parts: list[np.ndarray] = []
    flags: list[tuple] = []  # PII checks (hold), in page order
    last, done = 0, 0
    while True:  # keyset pages: each a short read, never one long cursor
        async with db.sessions() as s:
            rows = (await s.execute(stmt.where(Entry.id > last))).all()
        if not rows:
            break
        last = rows[-1][0]
        parts.append(np.array([tuple(r[:6]) for r in rows], dtype=np.int64))
        if hold:
            flags.append(offload.submit(pii_flags, text_items(rows)))
            running = [job[2] for job in flags if not job[2].done()]
            if len(running) > PII_WORKERS:  # bounded: texts in flight are held in memory
                await asyncio.wait(running[:1])
        done += len(rows)
        progress(ExportPhase.scan, done, max(total, done))
    pii_parts = [np.asarray(await offload.result(job), dtype=bool) for job in flags]
    cols_ = np.concatenate(parts) if parts else np.zeros((0, 6), dtype=np.int64)
    n = len(cols_)
    return Scan(
        ids=cols_[:, 0].copy(),
        interview=cols_[:, 1].copy(),
        length=cols_[:, 2].copy(),
        edited=cols_[:, 3].astype(bool),
        flagged=cols_[:, 4].astype(bool),
        stale=cols_[:, 5].astype(bool),
        pii=np.concatenate(pii_parts) if pii_parts else np.zeros(n, dtype=bool),
    )


def rows_query(interview_ids: list[int], *, summaries: bool = False):
    """The texts of these interviews' entries, in interview order; with `summaries`, each row
    also carries its interview's teach-back summary and the expert's correction of it."""
    extra = (
        [Interview.summary, Interview.summary_correction, Interview.summary_source]
        if summaries
        else []
    )
    return (
        select(
            Entry.id,
            Entry.interview_id,
            Entry.guild_id,
            Entry.guide_slug,
            Entry.step_id,
            Entry.probe,
            Entry.part,
            Entry.question,
            Entry.answer,
            Entry.edited_question,
            Entry.edited_answer,
            Entry.corrected_answer,
            Entry.status,
            Entry.decided_by,
            Entry.decided_at,
            Entry.edited_by,
            Entry.draft_source,
            Entry.updated_at,
            Turn.seq,
            Turn.question.label("asked"),
            Turn.followup,
            Turn.focus,
            Turn.flags.label("quality_flags"),
            Interview.guide_version,
            Expert.id.label("expert_id"),
            Expert.pseudonym,
            Expert.display_name,
            Expert.consent_version,
            Expert.consented_at,
            *extra,
        )
        .select_from(Entry)
        .join(Expert, Entry.expert_id == Expert.id)
        .join(Turn, Entry.turn_id == Turn.id)
        .join(Interview, Entry.interview_id == Interview.id)
        # The selection was made by the scan (the ids to keep); consent is checked again.
        .where(Expert.consented_at.is_not(None), Entry.interview_id.in_(interview_ids))
        .order_by(Entry.interview_id, Turn.seq, Entry.part, Entry.id)
    )
