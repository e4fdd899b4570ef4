"""Builds the whole core once from settings: database, guides, embedder, index, services."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.config import Settings
from knowledge.experts import ExpertService
from knowledge.guides import DEFAULT_GUIDES_DIR, GuideError, GuideLibrary
from knowledge.index import BatchingEmbedder, Encoder, Indexer, VectorIndex
from knowledge.interview import InterviewEngine
from knowledge.interview.probes import RuleProbes, rule_probes
from knowledge.review import ReviewService
from knowledge.storage import Database

if TYPE_CHECKING:
    from knowledge.llm import LLMAssist

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
    llm: LLMAssist | None = None  # when [llm] is configured; .stats counts calls and fallbacks
    _background: list[asyncio.Task] | None = None

    async def close(self) -> None:
        await self.engine.drain()
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
    """The guides of `[interview] guides_dir`, else the shipped ones; the default must exist."""
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
    rules = rule_probes(settings.interview, embedder)
    llm = _assistant(settings, rules)
    engine = InterviewEngine(
        db,
        guides,
        embedder,
        indexer,
        settings.interview,
        probes=llm.probes if llm else rules,
        drafter=llm.drafter if llm else None,
        summarizer=llm.summary if llm else None,
    )
    experts = ExpertService(db, guides, settings.consent, settings.pay)
    review = ReviewService(db, index, embedder, indexer, guides, settings, experts=experts)
    svc = Services(settings, db, guides, embedder, index, indexer, engine, experts, review, llm)
    if background:
        svc._background = [
            asyncio.create_task(indexer.run(), name="tacit-indexer"),
            asyncio.create_task(_prepare(engine), name="tacit-prepare"),
        ]
        indexer.notify()  # index what an earlier run left owed
    return svc


async def _prepare(engine: InterviewEngine) -> None:
    """Load the model before the first answer needs it; a failure shows up there too."""
    try:
        await engine.prepare()
    except Exception as e:
        log.warning("embedding model not ready: %s", e)


def _assistant(settings: Settings, rules: RuleProbes):
    """The LLM's probes, drafts and summaries when [llm] is configured, else None."""
    if not settings.llm.enabled:
        return None
    from knowledge.llm import LLMAssist  # LangChain is imported only when an LLM is configured

    return LLMAssist.from_settings(settings.llm, rules=rules)


@asynccontextmanager
async def open_services(settings: Settings, **kwargs):
    svc = await build(settings, **kwargs)
    try:
        yield svc
    finally:
        await svc.close()
