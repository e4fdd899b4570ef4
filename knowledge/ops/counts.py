"""Counts over the whole store (experts, interviews, entries, the index backlog): `tacit stats`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from knowledge.storage import Entry, Expert, Interview


@dataclass
class Stats:
    experts: int = 0
    interviews: int = 0
    entries: int = 0
    interviews_by_status: dict[str, int] = field(default_factory=dict)
    entries_by_status: dict[str, int] = field(default_factory=dict)
    entries_by_guide: dict[str, int] = field(default_factory=dict)
    entries_by_probe: dict[str, int] = field(default_factory=dict)
    indexed: int = 0
    index_pending: int = 0


async def _grouped(s, column, model) -> dict[str, int]:
    rows = await s.execute(select(column, func.count()).select_from(model).group_by(column))
    return {str(k): n for k, n in sorted(rows.all(), key=lambda r: -r[1])}


async def collect(svc) -> Stats:
    st = Stats()
    async with svc.db.sessions() as s:
        st.experts = await s.scalar(select(func.count()).select_from(Expert))
        st.interviews_by_status = await _grouped(s, Interview.status, Interview)
        st.entries_by_status = await _grouped(s, Entry.status, Entry)
        st.entries_by_guide = await _grouped(s, Entry.guide_slug, Entry)
        st.entries_by_probe = await _grouped(s, Entry.probe, Entry)
    st.interviews = sum(st.interviews_by_status.values())
    st.entries = sum(st.entries_by_status.values())
    st.index_pending = await svc.indexer.pending()
    try:
        st.indexed = await svc.index.count()
    except Exception:  # Chroma down: the SQL figures still stand
        st.indexed = -1
    return st
