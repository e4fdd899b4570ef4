"""Builds the whole core once from settings: database, guides, embedder, index, services."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass

from knowledge.config import Settings
from knowledge.embeddings import BatchingEmbedder, Encoder
from knowledge.engine import InterviewEngine
from knowledge.experts import ExpertService
from knowledge.guides import GuideLibrary
from knowledge.indexing import Indexer
from knowledge.review import ReviewService
from knowledge.storage import Database
from knowledge.vectors import VectorIndex

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    guides: GuideLibrary
    embedder: BatchingEmbedder
    index: VectorIndex
    indexer: Indexer
    engine: InterviewEngine
    experts: ExpertService
    review: ReviewService
    _background: list[asyncio.Task] | None = None

    async def close(self) -> None:
        for t in self._background or []:
            t.cancel()
        for t in self._background or []:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        await self.embedder.close()
        self.index.close()
        await self.db.close()


def load_guides(settings: Settings) -> GuideLibrary:
    from knowledge.guides import DEFAULT_GUIDES_DIR, GuideError

    lib = GuideLibrary.load(settings.interview.guides_dir or DEFAULT_GUIDES_DIR)
    if settings.interview.default_guide not in lib.slugs():
        raise GuideError(
            f"interview.default_guide: no guide {settings.interview.default_guide!r}; "
            f"known guides: {', '.join(lib.slugs())}"
        )
    return lib


async def build(
    settings: Settings,
    *,
    background: bool = True,
    migrate: bool = True,
    encoder: Encoder | None = None,
) -> Services:
    """Open everything; `background` starts the indexer loop that retries Chroma.

    `encoder` shares an already loaded model (tests, benchmarks); by default it is built from
    settings and loaded on first use.
    """
    guides = load_guides(settings)
    db = Database(settings.database.url, echo=settings.database.echo)
    try:
        if migrate:
            await db.upgrade()
    except Exception:
        await db.close()
        raise
    embedder = BatchingEmbedder.from_settings(settings.embeddings, encoder=encoder)
    index = VectorIndex(settings.chroma)
    indexer = Indexer(db, index, embedder, retry_seconds=settings.chroma.retry_seconds)
    probes, drafter = _assistants(settings)
    engine = InterviewEngine(
        db, guides, embedder, indexer, settings.interview, probes=probes, drafter=drafter
    )
    experts = ExpertService(db, guides, settings.consent, settings.pay)
    review = ReviewService(db, index, embedder, indexer, guides, settings, experts=experts)
    svc = Services(settings, db, guides, embedder, index, indexer, engine, experts, review)
    if background:
        svc._background = [asyncio.create_task(indexer.run(), name="tacit-indexer")]
        indexer.notify()  # index what an earlier run left owed
    return svc


def _assistants(settings: Settings):
    """The LLM's probe and drafting strategies when [llm] is configured, else the defaults."""
    if not settings.llm.enabled:
        return None, None
    from knowledge.llm import build_assistants

    return build_assistants(settings)


@asynccontextmanager
async def open_services(settings: Settings, **kwargs):
    svc = await build(settings, **kwargs)
    try:
        yield svc
    finally:
        await svc.close()
