"""Every export tacit writes is recorded: who, when, what format, where, which entries and
expert pseudonyms it holds, and the messages a front-end posted it in.

Erasure reaches exports through this registry (it is the experts wing's `Eraser`): an entry
an export holds that is no longer in SQL was withdrawn or forgotten, so the files still on
disk are rewritten without it (or deleted, `[export] on_erasure`), and the posts holding it are
marked for recall. A file changed since tacit wrote it is left alone and reported. A failure
half-way leaves the registry rows in place, so the next erasure (or `tacit exports purge`)
finishes the work.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, insert, select, update

from knowledge.export.erase import (
    delete_files,
    file_roles,
    fingerprint,
    rewrite_hf,
    rewrite_jsonl,
    unchanged,
)
from knowledge.export.options import ExportReport
from knowledge.storage import (
    EVERYTHING,
    Database,
    Entry,
    Expert,
    Export,
    ExportEntry,
    ExportExpert,
    ExportPost,
    utcnow,
)
from knowledge.vocab import OnErasure

log = logging.getLogger(__name__)

INSERT_CHUNK = 5000


@dataclass(frozen=True)
class ExportRecord:
    id: int
    created_at: datetime
    actor: str
    scope: str
    guild_id: int | None
    format: str
    out: str
    files: list[str]
    examples: int
    entries: int
    experts: int
    status: str
    posts: int  # messages it was posted in that still exist


@dataclass(frozen=True)
class Post:
    id: int
    export_id: int
    where: str


@dataclass
class Purge:
    """What erasure did to exports: the experts wing's `ErasedCopies`."""

    exports: list[int] = field(default_factory=list)  # ids of the exports that held them
    files_rewritten: list[str] = field(default_factory=list)
    files_deleted: list[str] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)  # not tacit's any more: left alone
    examples_removed: int = 0
    posts: list[Post] = field(default_factory=list)  # to delete (then `post_deleted`)


class ExportRegistry:
    def __init__(self, db: Database, on_erasure: OnErasure = OnErasure.rewrite):
        self.db = db
        self.on_erasure = OnErasure(on_erasure)
        self._lock = asyncio.Lock()

    # ---- recording ---------------------------------------------------------------------

    async def record(self, report: ExportReport, *, actor: str) -> int:
        """Record a written export; its id (also set on the report)."""
        scope = self.db.scope or EVERYTHING
        roles = file_roles(report.format, report.out, report.splits, report.card)
        files = await asyncio.to_thread(
            lambda: [{**fingerprint(p), "role": r} for r, p in roles.items() if p.is_file()]
        )
        ids = np.unique(np.frombuffer(report.entry_ids, dtype=np.int64)).tolist()
        async with self.db.sessions() as s, s.begin():
            row = Export(
                guild_id=None if scope.all else scope.guild_id,
                actor=actor,
                scope=scope.label,
                format=report.format,
                out=str(report.out),
                files=files,
                card=report.card,
                examples=report.written,
                entries=len(ids),
            )
            s.add(row)
            await s.flush()
            for k in range(0, len(ids), INSERT_CHUNK):
                await s.execute(
                    insert(ExportEntry),
                    [{"export_id": row.id, "entry_id": i} for i in ids[k : k + INSERT_CHUNK]],
                )
            if report.pseudonyms:
                await s.execute(
                    insert(ExportExpert),
                    [{"export_id": row.id, "pseudonym": p} for p in sorted(report.pseudonyms)],
                )
            report.export_id = row.id
        log.info("export %s recorded: %d entries in %d files", row.id, len(ids), len(files))
        return row.id

    async def posted(self, export_id: int, where: str) -> None:
        """A front-end posted the export's files (`where`: "discord:<channel>:<message>")."""
        async with self.db.sessions() as s, s.begin():
            s.add(ExportPost(export_id=export_id, where=where))

    async def list(self, *, limit: int = 50) -> list[ExportRecord]:
        """The exports this view may see, newest first."""
        async with self.db.sessions() as s:
            rows = list(await s.scalars(select(Export).order_by(Export.id.desc()).limit(limit)))
            ids = [r.id for r in rows]
            experts = dict(
                (
                    await s.execute(
                        select(ExportExpert.export_id, func.count())
                        .where(ExportExpert.export_id.in_(ids))
                        .group_by(ExportExpert.export_id)
                    )
                ).all()
            )
            posts = dict(
                (
                    await s.execute(
                        select(ExportPost.export_id, func.count())
                        .where(ExportPost.export_id.in_(ids), ExportPost.deleted_at.is_(None))
                        .group_by(ExportPost.export_id)
                    )
                ).all()
            )
        return [
            ExportRecord(
                r.id,
                r.created_at,
                r.actor,
                r.scope,
                r.guild_id,
                r.format,
                r.out,
                [f["path"] for f in r.files],
                r.examples,
                r.entries,
                experts.get(r.id, 0),
                r.status,
                posts.get(r.id, 0),
            )
            for r in rows
        ]

    # ---- erasure -----------------------------------------------------------------------

    async def erase(self, entry_ids: list[int]) -> Purge:
        """Take these entries, gone from SQL, out of every export that holds them."""
        return await self._purge(entry_ids)

    async def purge(self) -> Purge:
        """Take every entry no longer in SQL out of the exports (finishes an erasure that
        failed half-way; `tacit exports purge`)."""
        return await self._purge(None)

    async def recalled_posts(self) -> list[Post]:
        """Posts erasure asked to delete that are not deleted yet (retried after a failure)."""
        async with self.db.sessions() as s:
            rows = await s.scalars(
                select(ExportPost).where(
                    ExportPost.recall_at.is_not(None), ExportPost.deleted_at.is_(None)
                )
            )
            return [Post(p.id, p.export_id, p.where) for p in rows]

    async def post_deleted(self, post_id: int) -> None:
        async with self.db.sessions() as s, s.begin():
            await s.execute(
                update(ExportPost).where(ExportPost.id == post_id).values(deleted_at=utcnow())
            )

    async def _purge(self, entry_ids: list[int] | None) -> Purge:
        out = Purge()
        async with self._lock:
            gone = await self._orphans(entry_ids)
            for export_id, entries in sorted(gone.items()):
                await self._erase_from(export_id, entries, out)
            await self._forget_pseudonyms()
        if out.exports:
            log.info(
                "erasure reached %d export(s): %d examples removed, %d files rewritten, "
                "%d deleted, %d left alone (changed), %d posts to delete",
                len(out.exports),
                out.examples_removed,
                len(out.files_rewritten),
                len(out.files_deleted),
                len(out.files_changed),
                len(out.posts),
            )
        return out

    async def _orphans(self, entry_ids: list[int] | None) -> dict[int, set[int]]:
        """{export id: entries it holds that are gone from SQL}, among `entry_ids` (or all)."""
        live = select(Entry.id).where(Entry.id == ExportEntry.entry_id).exists()
        q = select(ExportEntry.export_id, ExportEntry.entry_id).where(~live)
        found: dict[int, set[int]] = {}
        chunks = (
            [None]
            if entry_ids is None
            else [entry_ids[k : k + 1000] for k in range(0, len(entry_ids), 1000)]
        )
        async with self.db.sessions() as s:
            for chunk in chunks:
                stmt = q if chunk is None else q.where(ExportEntry.entry_id.in_(chunk))
                for export_id, entry_id in await s.execute(stmt):
                    found.setdefault(export_id, set()).add(entry_id)
        return found

    async def _erase_from(self, export_id: int, gone: set[int], out: Purge) -> None:
        async with self.db.sessions() as s, s.begin():
            ex = await s.scalar(select(Export).where(Export.id == export_id).with_for_update())
            if ex is None:
                return
            out.exports.append(ex.id)
            if ex.status not in ("deleted", "gone"):
                await asyncio.to_thread(self._files, ex, gone, out)
            now = utcnow()
            posts = list(
                await s.scalars(
                    select(ExportPost).where(
                        ExportPost.export_id == ex.id, ExportPost.deleted_at.is_(None)
                    )
                )
            )
            for p in posts:
                p.recall_at = p.recall_at or now
                out.posts.append(Post(p.id, p.export_id, p.where))
            await s.execute(
                delete(ExportEntry).where(
                    ExportEntry.export_id == ex.id, ExportEntry.entry_id.in_(sorted(gone))
                )
            )

    def _files(self, ex: Export, gone: set[int], out: Purge) -> None:
        """Rewrite or delete the export's files that are still as tacit wrote them."""
        states = {f["role"]: unchanged(f) for f in ex.files}
        changed = [f["path"] for f in ex.files if states[f["role"]] is False]
        out.files_changed += changed
        present = [f for f in ex.files if states[f["role"]]]
        if not present:
            ex.status = "gone"
            return
        roles = {f["role"]: Path(f["path"]) for f in present}
        can_rewrite = "provenance" in roles and not changed
        if self.on_erasure == OnErasure.delete or not can_rewrite:
            out.files_deleted += delete_files(list(roles.values()), Path(ex.out))
            ex.files = [f for f in ex.files if f["path"] in changed]
            ex.status = "deleted" if not changed else ex.status
            return
        if ex.format == "hf":
            removed = rewrite_hf(roles, gone, ex.card)
        else:
            removed = rewrite_jsonl(roles, gone)
        out.examples_removed += removed
        ex.files = [{**fingerprint(Path(f["path"])), "role": f["role"]} for f in present]
        out.files_rewritten += [f["path"] for f in present]
        ex.examples = max(0, ex.examples - removed)
        ex.entries = max(0, ex.entries - len(gone))
        ex.status = "rewritten"

    async def _forget_pseudonyms(self) -> None:
        """Pseudonyms of experts gone from SQL leave the registry too."""
        live = select(Expert.id).where(Expert.pseudonym == ExportExpert.pseudonym).exists()
        async with self.db.sessions() as s, s.begin():
            await s.execute(delete(ExportExpert).where(~live))
