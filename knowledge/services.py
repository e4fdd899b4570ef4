"""Builds the whole core once from settings: database, guides, embedder, index, services."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.config import Settings
from knowledge.experts import ExpertService
from knowledge.export.registry import ExportRegistry
from knowledge.guides import DEFAULT_GUIDES_DIR, GuideError, GuideLibrary
from knowledge.index import BatchingEmbedder, Encoder, Indexer, VectorIndex
from knowledge.interview import InterviewEngine
from knowledge.interview.probes import RuleProbes, rule_probes
from knowledge.quality import QualityChecker
from knowledge.review import ReviewService
from knowledge.review.curators import CuratorRoles
from knowledge.storage import Database, Scope

if TYPE_CHECKING:
    from knowledge.llm import LLMAssist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TenantServices:
    """One server's view of the core: review, payouts and exports see its rows only, because
    their sessions are scoped (`storage/tenancy.py`). What the bot gives curators."""

    scope: Scope
    settings: Settings
    db: Database  # scoped
    guides: GuideLibrary
    index: VectorIndex
    experts: ExpertService  # earnings and pay records of this server
    review: ReviewService
    exports: ExportRegistry


@dataclass
class Services:
    """The operator's view of everything (the command line, the interview engine, the indexer);
    `tenant(scope)` gives one server's."""

    settings: Settings
    db: Database
    guides: GuideLibrary
    embedder: BatchingEmbedder
    index: VectorIndex
    indexer: Indexer
    engine: InterviewEngine
    experts: ExpertService
    review: ReviewService
    exports: ExportRegistry
    curators: CuratorRoles
    llm: LLMAssist | None = None  # when [llm] is configured; .stats counts calls and fallbacks
    _background: list[asyncio.Task] | None = None
    _tenants: dict[Scope, TenantServices] | None = None

    def tenant(self, scope: Scope) -> TenantServices:
        """The services as one server (or the terminal, or everything) sees them."""
        if self._tenants is None:
            self._tenants = {}
        if scope not in self._tenants:
            db = self.db.scoped(scope)
            experts = _experts(self.settings, db, self.guides, self.embedder, self.indexer)
            self._tenants[scope] = TenantServices(
                scope,
                self.settings,
                db,
                self.guides,
                self.index,
                experts,
                ReviewService(
                    db,
                    self.index,
                    self.embedder,
                    self.indexer,
                    self.guides,
                    self.settings,
                    experts=experts,
                ),
                ExportRegistry(db, self.settings.export.on_erasure),
            )
        return self._tenants[scope]

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
            await db.upgrade(home_guild_id=settings.discord.home_guild_id)
    except Exception:
        await db.close()
        raise
    in_process = settings.embeddings.in_process
    if in_process:
        embedder = BatchingEmbedder.from_settings(settings.embeddings, encoder=encoder)
    else:
        try:
            embedder = _remote(settings, db)
        except Exception:
            await db.close()
            raise
    index = VectorIndex(settings.chroma, model=settings.embeddings.model)
    indexer = Indexer(db, index, embedder, retry_seconds=settings.chroma.retry_seconds)
    # Without the model here, follow-ups are chosen without vectors (no phrase ranking).
    rules = rule_probes(settings.interview, embedder if in_process else None)
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
    engine.quality = QualityChecker(
        db, index, settings.quality, idle_gap_minutes=settings.interview.idle_gap_minutes
    )
    exports = ExportRegistry(db, settings.export.on_erasure)
    experts = _experts(settings, db, guides, embedder, indexer, eraser=exports)
    review = ReviewService(db, index, embedder, indexer, guides, settings, experts=experts)
    svc = Services(
        settings,
        db,
        guides,
        embedder,
        index,
        indexer,
        engine,
        experts,
        review,
        exports,
        CuratorRoles(db),
        llm,
    )
    if background:
        svc._background = [asyncio.create_task(_prepare(engine), name="tacit-prepare")]
        if in_process:  # else `tacit worker` indexes
            svc._background.append(asyncio.create_task(indexer.run(), name="tacit-indexer"))
            indexer.notify()  # index what an earlier run left owed
    return svc


def _remote(settings: Settings, db: Database):
    """The embedder of a process without the model: `tacit worker` makes its vectors."""
    from knowledge.config import ConfigError
    from knowledge.index.remote import RemoteEmbedder

    if db.is_sqlite or not settings.chroma.url:
        raise ConfigError(
            "embeddings.in_process = false needs PostgreSQL (database.url) and a Chroma server "
            "(chroma.url), shared with `tacit worker`"
        )
    return RemoteEmbedder(db, settings.embeddings)


def _experts(settings, db, guides, embedder, indexer, *, eraser=None) -> ExpertService:
    return ExpertService(
        db,
        guides,
        settings.consent,
        settings.pay,
        embedder=embedder,
        indexer=indexer,
        eraser=eraser,
    )


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
