"""The export, phase by phase: count, scan, vectors, near-duplicates, split, build and write."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from knowledge.export.build import Builder
from knowledge.export.card import CONFIGS, CardInfo, how_it_was_made
from knowledge.export.curators import CuratorNames
from knowledge.export.dedupe import near_duplicates
from knowledge.export.formats.writers import open_writer
from knowledge.export.options import (
    TRAIN,
    VALIDATION,
    ExportError,
    ExportOptions,
    ExportReport,
    Progress,
    no_progress,
)
from knowledge.export.scores import entry_scores
from knowledge.export.scrub import PII_WORKERS, Offload, pii_workers, redact_items, text_items
from knowledge.export.select import count_entries, rows_query, scan_selection
from knowledge.export.split import choose_validation, interview_groups
from knowledge.export.vectors import stored_vectors
from knowledge.guides import GuideLibrary
from knowledge.index import VectorIndex
from knowledge.storage import Database
from knowledge.vocab import ExportPhase, PIIPolicy

log = logging.getLogger(__name__)


async def count_selected(services, opts: ExportOptions) -> int:
    """How many entries the export would read (before duplicates and personal data)."""
    return await count_entries(services.db, opts)


def default_out(out_dir: Path, fmt: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    name = f"tacit-{fmt}-{stamp}"
    return out_dir / (name if fmt == "hf" else name + ".jsonl")


@dataclass(frozen=True)
class Plan:
    """An export's options with every default resolved from the [export] settings."""

    opts: ExportOptions
    licence: str
    pii: PIIPolicy
    similarity: float  # cosine from which answers are near-duplicates; above 1: keep all
    seed: int
    model: str  # the embedding model whose stored vectors are compared
    review: dict | None = None  # agreement and rubric figures for the card (card_text._review)

    @classmethod
    def of(cls, settings, opts: ExportOptions, review: dict | None = None) -> Plan:
        ex = settings.export
        return cls(
            opts,
            licence=ex.licence,
            pii=PIIPolicy(opts.pii or ex.pii),
            similarity=(
                opts.dedupe_similarity
                if opts.dedupe_similarity is not None
                else ex.dedupe_similarity
            ),
            seed=opts.seed if opts.seed is not None else ex.seed,
            model=settings.embeddings.model.removeprefix("bundled:"),
            review=review,
        )


@dataclass
class Selection:
    """What survives the scan, personal data and near-duplicates, and where it goes."""

    keep: set[int]  # entry ids
    interviews: np.ndarray  # ids of the interviews with kept entries, ascending
    sizes: np.ndarray  # kept entries per interview
    validation: set[int]  # interviews in the validation split
    removed_by: dict[int, list[int]]  # kept entry id -> the near-duplicates it replaced


async def export(
    services,
    opts: ExportOptions,
    *,
    progress: Progress | None = None,
    actor: str = "operator",
) -> ExportReport:
    """Write a dataset as `opts` asks, record it in the registry; return what was written and
    what was left out.

    `services` is a knowledge.services.Services, or one server's view of it (`tenant`): its db,
    guides, index, settings and export registry are used, so a server's export holds that
    server's entries only. Nothing is encoded: near-duplicates are found with the vectors
    already stored. The Discord bot can call this as is: SQL and Chroma reads are awaited and
    the CPU work runs in worker threads.
    """
    review = await review_figures(services, opts) if opts.format == "hf" else None
    plan = Plan.of(services.settings, opts, review)
    report = await export_from(
        services.db, services.index, services.guides, plan, progress=progress
    )
    t = time.perf_counter()
    await services.exports.record(report, actor=actor)
    report.timings["record"] = time.perf_counter() - t
    return report


async def review_figures(services, opts: ExportOptions) -> dict | None:
    """Agreement between curators and rubric scores for the card, from the review wing
    (`knowledge.review.agreement`: Krippendorff's alpha over blind reviews), with curators
    named by their pseudonyms. None when there were no blind reviews."""
    try:
        from knowledge.review.agreement import agreement
    except ImportError:  # pragma: no cover (a core without the review wing)
        return None
    try:
        ag = await agreement(services.db)
    except Exception:
        log.exception("agreement figures for the card failed; the card goes without them")
        return None
    if not ag.reviewed:
        return None
    scope = services.db.scope
    guild = None if scope is None or scope.all else scope.guild_id
    names = CuratorNames(services.db)
    await names.learn({(guild, c) for p in ag.by_pair for c in p.curators})

    def row(scope_name: str, a, measure: str) -> dict:
        return {"scope": scope_name, "items": a.items, "value": a.alpha, "measure": measure}

    nominal = "Krippendorff's alpha, nominal (verdicts)"
    rows = [row("all guides", ag.overall, nominal)]
    rows += [row(f"guide `{g}`", a, nominal) for g, a in ag.by_guide.items()]
    rows += [
        row(" and ".join(names.get(guild, c) for c in p.curators), p, nominal) for p in ag.by_pair
    ]
    return {
        "sentences": [
            f"{ag.reviewed} entries had blind reviews (a curator does not see another's "
            f"decision before making their own); {ag.multiply_reviewed} were reviewed by two "
            f"or more curators, and {ag.adjudicated} disagreements were settled by an "
            "adjudicator who had not reviewed them.",
            "Agreement is Krippendorff's alpha (the `krippendorff` package) over the blind "
            "reviews of this store, not only the exported entries; n/a where it is undefined "
            "(fewer than two entries reviewed twice, or one value throughout). Curators are "
            "named by pseudonym.",
        ],
        "agreement": rows,
        "rubric": [
            {
                "criterion": c,
                "mean": mean,
                "alpha": ag.rubric[c].alpha if c in ag.rubric else None,
                "n": ag.rubric[c].items if c in ag.rubric else 0,
            }
            for c, mean in sorted(ag.mean_scores.items())
        ],
    }


async def export_from(
    db: Database,
    index: VectorIndex,
    guides: GuideLibrary,
    plan: Plan,
    *,
    progress: Progress | None = None,
) -> ExportReport:
    progress = progress or no_progress
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    report = ExportReport(format=plan.opts.format, out=plan.opts.out)
    total = await count_entries(db, plan.opts)
    with pii_workers(plan.pii, total) as pool:
        offload = Offload(pool)
        chosen = await _select(db, index, plan, offload, total, report, progress)
        t = time.perf_counter()
        await _write(db, guides, plan, chosen, offload, report, progress, started)
        report.timings["write"] = time.perf_counter() - t
    report.seconds = time.perf_counter() - t0
    _notes(plan, report)
    log.info(
        "export %s: %d examples from %d entries, %d near-duplicates removed, %.1fs",
        plan.opts.format,
        report.written,
        report.entries,
        report.duplicates_removed,
        report.seconds,
    )
    return report


async def _select(db, index, plan: Plan, offload, total, report, progress) -> Selection:
    """Scan the selection, leave out personal data, find near-duplicates, split."""
    t = time.perf_counter()
    scan = await scan_selection(db, plan.opts, plan.pii == "hold", offload, total, progress)
    report.entries = len(scan.ids)
    report.timings["scan"] = time.perf_counter() - t

    t = time.perf_counter()
    none = np.zeros(len(scan.ids), dtype=bool)
    held = scan.flagged | scan.pii if plan.pii != "off" else none
    report.held_flagged = int((scan.flagged & held).sum())
    report.held_pii = int((scan.pii & ~scan.flagged).sum())
    vectors, filled = await stored_vectors(db, index, scan, report, progress)
    report.timings["vectors"] = time.perf_counter() - t

    t = time.perf_counter()
    report.unchecked = int((~filled & ~held).sum())
    removed, removed_by = none, {}
    if vectors is not None and plan.similarity <= 1:
        progress(ExportPhase.duplicates, 0, 1)
        # Best first: edited by a curator, then the longest answer, then the oldest entry.
        preference = np.lexsort((scan.ids, -scan.length, ~scan.edited))
        dup = await asyncio.to_thread(
            near_duplicates,
            vectors,
            plan.similarity,
            preference,
            valid=filled & ~held,
            seed=plan.seed,
        )
        removed = dup.of >= 0
        report.duplicates_removed = dup.removed
        report.dedupe_method = dup.method
        for r in np.flatnonzero(removed).tolist():
            removed_by.setdefault(int(scan.ids[dup.of[r]]), []).append(int(scan.ids[r]))
        progress(ExportPhase.duplicates, 1, 1)
    del vectors
    report.timings["duplicates"] = time.perf_counter() - t

    keep_mask = ~removed & ~held
    interviews, sizes = np.unique(scan.interview[keep_mask], return_counts=True)
    return Selection(
        keep=set(scan.ids[keep_mask].tolist()),
        interviews=interviews,
        sizes=sizes,
        validation=choose_validation(interviews, sizes, plan.opts.split, plan.seed),
        removed_by=removed_by,
    )


async def _write(db, guides, plan: Plan, chosen: Selection, offload, report, progress, started):
    """Read the kept entries a group of interviews at a time, build examples, write them.

    Reading, looking for personal data and writing overlap: while the workers scrub the next
    groups, this process builds and writes the one before.
    """
    opts = plan.opts
    splits = [TRAIN, VALIDATION] if opts.split > 0 else [TRAIN]
    card = CardInfo(
        title="tacit expert interviews",
        licence=plan.licence,
        languages=[],  # filled in once the examples are written
        splits=splits,
        how=how_it_was_made(opts, plan.pii, plan.similarity, plan.seed, plan.model),
        configs=[c for c in CONFIGS if opts.turns in (c, "both")],
        model=plan.model,
        review=plan.review,
    )
    try:
        writer = open_writer(opts.format, opts.out, splits, card)
    except (FileExistsError, OSError) as e:
        raise ExportError(f"out: {e}") from None
    curators = CuratorNames(db)
    builder = Builder(
        opts,
        licence=plan.licence,
        pii=plan.pii,
        guides=guides,
        validation=chosen.validation,
        removed_by=chosen.removed_by,
        writer=writer,
        report=report,
        started=started,
        curators=curators,
    )
    dpo = opts.format == "dpo"  # pairs redact their own texts (several per entry)
    depth = PII_WORKERS + 1 if offload.pool is not None else 1
    inflight: deque = deque()
    done = 0

    async def finish_one() -> None:
        nonlocal done
        rows, job, count = inflight.popleft()
        redacted = await offload.result(job) if job else None
        await asyncio.to_thread(builder.add, rows, redacted)
        done += count
        progress(ExportPhase.write, done, len(chosen.keep))

    try:
        for group, count in interview_groups(chosen.interviews, chosen.sizes):
            async with db.sessions() as s:
                rows = [
                    r
                    for r in (await s.execute(rows_query(group, summaries=dpo))).all()
                    if r.id in chosen.keep
                ]
                builder.scores.update(await entry_scores(s, [r.id for r in rows]))
            await curators.learn(
                {(r.guild_id, a) for r in rows for a in (r.decided_by, r.edited_by) if a}
            )
            redact = plan.pii == "redact" and not dpo
            job = offload.submit(redact_items, text_items(rows)) if redact else None
            inflight.append((rows, job, count))
            if len(inflight) >= depth:
                await finish_one()
        while inflight:
            await finish_one()
        card.languages = sorted(builder.languages)
        report.splits = splits
        if opts.format == "hf":
            report.card = asdict(card)
        report.files = await asyncio.to_thread(writer.commit, report)
    except BaseException:
        for _, job, _ in inflight:
            if job:
                job[2].cancel()
        writer.abort()
        raise


def _notes(plan: Plan, report: ExportReport) -> None:
    if report.not_in_format:
        report.notes.append(
            f"{plan.opts.format} holds single-turn examples only: "
            f"{report.not_in_format} multi-turn examples were not written"
        )
    if report.unchecked:
        report.notes.append(
            f"{report.unchecked} entries have no stored vector and were not checked for "
            "near-duplicates (`tacit index sync` embeds them)"
        )
