"""`tacit export`: write a fine-tuning dataset, or check one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from knowledge.cli.common import (
    COUNT,
    UserError,
    cell,
    guild_option,
    login,
    run_async,
    services,
    settings_from,
    view,
)
from knowledge.export import ExportError, ExportOptions, count_selected, default_out, export
from knowledge.export.formats.check import check_file, check_notes, detect_format
from knowledge.export.hub import push_folder
from knowledge.services import open_services
from knowledge.vocab import EntryStatus, ExportFormat, ExportPhase, PIIPolicy, Turns, values

# The default status first: click shows the choices in this order.
STATUSES = sorted(values(EntryStatus), key=lambda s: s != EntryStatus.approved)


def _fail(message: str, code: int = 1) -> click.ClickException:
    return UserError(message, code)


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(values(ExportFormat)),
    help="openai (chat JSONL), sharegpt, alpaca (single-turn only), hf (a Hugging Face "
    "dataset folder) or dpo (preference pairs from curator edits, expert corrections and "
    "teach-back, TRL's format). Default openai; with --check, guessed from the file.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="File to write (a folder for hf). Default: [export] out_dir/tacit-<format>-<time>.jsonl",
)
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    default="approved",
    show_default=True,
    help="Entries with this review status.",
)
@click.option("--guide", help="Only entries from this guide (slug, see `tacit guides`).")
@click.option("--expert", help="Only this expert's entries: pseudonym or id.")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    help="Only entries decided on (or, undecided, created) from this date, UTC.",
)
@click.option(
    "--split",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.0,
    help="Share of entries for a validation split, by whole interviews (e.g. 0.1).",
)
@click.option("--seed", type=int, help="Seed of the split (default [export] seed).")
@click.option(
    "--turns",
    type=click.Choice(values(Turns)),
    help="Single question-and-answer examples, whole-interview conversations, or both. "
    "Default: single; hf: both, as two configs (single the default, multi).",
)
@click.option(
    "--pii",
    type=click.Choice(values(PIIPolicy)),
    help="Personal data: replace it, leave the example out, or keep it (default [export] pii).",
)
@click.option(
    "--min-score",
    "min_scores",
    multiple=True,
    metavar="CRITERION=N",
    help="Only entries whose average rubric score on CRITERION is at least N (repeatable).",
)
@click.option(
    "--push-to-hub",
    "hub_repo",
    metavar="ORG/NAME",
    help="hf only: then upload the folder to this Hugging Face dataset repo (token from HF_TOKEN).",
)
@click.option("--private", is_flag=True, help="With --push-to-hub: create the repo private.")
@click.option(
    "--check",
    "check_path",
    type=click.Path(exists=True, path_type=Path),
    help="Check a dataset file (or hf folder) instead of writing one: one line per problem.",
)
@guild_option
@click.pass_context
def export_command(
    ctx: click.Context,
    fmt: str | None,
    out: Path | None,
    status: str,
    guide: str | None,
    expert: str | None,
    since: datetime | None,
    split: float,
    seed: int | None,
    turns: str | None,
    pii: str | None,
    min_scores: tuple[str, ...],
    hub_repo: str | None,
    private: bool,
    check_path: Path | None,
    scope,
) -> None:
    """Write a fine-tuning dataset from reviewed entries, or check one.

    Near-duplicate answers are removed with the vectors already stored (nothing is
    re-encoded); personal data is redacted or held back per [export] pii; experts who never
    consented or who withdrew are never exported. Provenance goes to a sidecar file,
    <out>.provenance.jsonl (provenance.jsonl inside an hf folder), keyed by example id.

    \b
    Examples:
      tacit export --format openai --out data/train.jsonl --split 0.1
      tacit export --format hf --out exports/physicians --guide physician
      tacit export --format sharegpt --since 2026-11-01 --turns multi
      tacit export --guide physician --min-score specificity=4 --min-score safety=5
      tacit export --format dpo --out data/pairs.jsonl
      HF_TOKEN=hf_... tacit export --format hf --push-to-hub my-org/physicians --private
      tacit export --format openai --guild 123456789012345678
      tacit export --check data/train.train.jsonl
      tacit export --check exports/physicians

    Every export is recorded (`tacit exports list`): forgetting an expert or withdrawing an
    entry later rewrites its files without them ([export] on_erasure).
    """
    if check_path is not None:
        _check(check_path, fmt)
        return

    settings = settings_from(ctx)
    fmt = fmt or ("hf" if hub_repo else "openai")
    if hub_repo and fmt != "hf":
        raise _fail("--push-to-hub uploads an hf folder: use it with --format hf")
    if private and not hub_repo:
        raise _fail("--private goes with --push-to-hub")
    run_async(_export)(
        settings,
        scope=scope,
        fmt=fmt,
        out=out,
        status=status,
        guide=guide,
        expert=expert,
        since=since.replace(tzinfo=UTC) if since else None,
        split=split,
        seed=seed,
        turns=turns,
        pii=pii,
        min_scores=min_scores,
        hub=(hub_repo, private),
    )


async def _export(settings, *, scope, fmt: str, out: Path | None, hub, **filters) -> None:

    out = out or default_out(settings.export.out_dir, fmt)
    if fmt == "hf" and out.is_file():
        raise _fail(f"--out {out} is a file: an hf dataset is a folder, give a new folder's name")
    if fmt != "hf" and out.is_dir():
        raise _fail(f"--out {out} is a folder: give a file name (e.g. {out / 'train.jsonl'})")
    try:
        opts = ExportOptions(out=out, format=fmt, **filters)
    except ExportError as e:
        raise _fail(str(e)) from None
    async with open_services(settings, background=False) as operator:
        svc = view(operator, scope)
        if filters["guide"] and filters["guide"] not in svc.guides.slugs():
            click.echo(
                f"tacit: warning: {filters['guide']!r} is not a current guide "
                f"(known: {', '.join(svc.guides.slugs())})",
                err=True,
            )
        if await count_selected(svc, opts) == 0:
            raise _fail(f"nothing to export: no {opts.status} entries match {_describe(opts)}")
        console = Console(stderr=True)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            tasks: dict[str, int] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(ExportPhase(phase).label, total=total)
                bar.update(tasks[phase], completed=done, total=total)

            try:
                report = await export(svc, opts, progress=progress, actor=f"cli:{login()}")
            except ExportError as e:
                raise _fail(str(e)) from None
    _summary(report)
    repo, private = hub
    if repo:
        try:
            pushed = await asyncio.to_thread(push_folder, report.out, repo, private=private)
        except ExportError as e:
            raise _fail(str(e)) from None
        click.echo(f"  pushed {pushed.files} files to {pushed.url} ({pushed.commit_url})")
        click.echo(
            "tacit: note: erasure rewrites the local folder, not the Hub's copy: push again "
            "after `tacit forget` or a withdrawal",
            err=True,
        )


def _describe(opts) -> str:
    parts = [
        f"--{k} {v}"
        for k, v in (("guide", opts.guide), ("expert", opts.expert), ("since", opts.since))
        if v
    ]
    return " ".join(parts) if parts else "(no filter; experts who never consented are left out)"


def _summary(report) -> None:
    splits = ", ".join(f"{k} {v}" for k, v in sorted(report.examples.items(), reverse=True))
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(report.kinds.items(), reverse=True))
    click.echo(
        f"wrote {report.written} examples ({splits}; {kinds}) from {report.entries} entries "
        f"in {report.seconds:.1f}s"
    )
    source = f"{report.vectors_from_chroma} vectors from Chroma, {report.vectors_from_sql} from SQL"
    click.echo(
        f"  duplicates removed: {report.duplicates_removed} "
        f"({report.dedupe_method}; {source}, none re-encoded)"
    )
    click.echo(
        f"  held back for personal data: {report.held_pii}"
        f" (plus {report.held_flagged} flagged by a curator)"
    )
    red = ", ".join(f"{k} {v}" for k, v in sorted(report.redactions.items())) or "none"
    click.echo(f"  redactions: {red}")
    for path in report.files:
        click.echo(f"  {path}")
    click.echo(f"  recorded as export {report.export_id} (`tacit exports list`)")
    for note in report.notes:
        click.echo(f"tacit: note: {note}", err=True)


def _check(path: Path, fmt: str | None) -> None:

    try:
        fmt = fmt or detect_format(path)
    except ValueError as e:
        raise _fail(str(e)) from None
    problems = check_file(path, fmt)
    for note in check_notes(fmt):
        click.echo(f"tacit: note: {note}", err=True)
    for p in problems:
        click.echo(f"{path}:{p}")
    errors = [p for p in problems if p.level == "error"]
    lines = len({p.line for p in errors})
    if errors:
        raise _fail(f"{path}: {len(errors)} problems on {lines} lines ({fmt})")
    click.echo(f"{path}: ok ({fmt})", err=True)


@click.group()
def exports() -> None:
    """The exports tacit wrote: what each holds, and erasure reaching them.

    \b
    Examples:
      tacit exports list
      tacit exports list --guild 123456789012345678
      tacit exports purge
    """


@exports.command("list")
@click.option("--limit", type=COUNT, default=50, show_default=True)
@guild_option
@click.pass_context
@run_async
async def list_exports(ctx: click.Context, limit: int, scope) -> None:
    """Exports, newest first: id, time, who, scope, format, examples, entries, experts, status,
    messages still posted, where."""
    async with services(ctx) as svc:
        rows = await view(svc, scope).exports.list(limit=limit)
    if not rows:
        click.echo("no exports yet", err=True)
        return
    table = Table(
        "id",
        "when",
        "by",
        "scope",
        "format",
        "examples",
        "entries",
        "experts",
        "status",
        "posts",
        "out",
        box=None,
    )
    for r in rows:
        table.add_row(
            str(r.id),
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            cell(r.actor),
            r.scope,
            r.format,
            str(r.examples),
            str(r.entries),
            str(r.experts),
            r.status,
            str(r.posts),
            cell(r.out),
        )
    Console(width=200).print(table)


@exports.command("purge")
@click.pass_context
@run_async
async def purge(ctx: click.Context) -> None:
    """Take every entry no longer in the database out of the export files still on disk
    (what forgetting and withdrawing do; this finishes one that failed half-way)."""
    async with services(ctx) as svc:
        done = await svc.exports.purge()
    click.echo(
        f"{len(done.exports)} export(s) held erased entries: {done.examples_removed} examples "
        f"removed, {len(done.files_rewritten)} files rewritten, {len(done.files_deleted)} deleted"
    )
    for path in done.files_changed:
        click.echo(f"tacit: warning: {path} changed since tacit wrote it: not touched", err=True)
    if done.posts:
        click.echo(
            f"{len(done.posts)} Discord message(s) with these exports attached will be deleted "
            "by the bot when it next runs"
        )


COMMANDS: list[click.Command] = [export_command, exports]
