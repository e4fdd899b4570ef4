"""Database engine, session factory and migrations (Alembic, run programmatically)."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from knowledge.errors import SetupError
from knowledge.storage.tenancy import SCOPE_KEY, Scope

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x7AC17  # the advisory lock key tacit's migrations hold on PostgreSQL


class DatabaseError(SetupError, RuntimeError):
    """The database cannot be used; the message says why, without credentials."""


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable url>"


class Database:
    """One engine and one session factory for the process.

    Its sessions see every server's rows (the operator's view); `scoped(scope)` gives a view of
    the same engine whose sessions see one server's rows only (`storage/tenancy.py`).
    """

    scope: Scope | None = None  # None: unscoped

    def __init__(self, url: str, *, echo: bool = False):
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise DatabaseError(f"database.url: not a database URL: {url!r}") from None
        self.url = url
        kwargs: dict = {"echo": echo}
        if parsed.get_backend_name() == "sqlite":
            db = parsed.database
            if db and db != ":memory:":
                Path(db).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        try:
            self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        except Exception as e:  # missing driver, bad dialect
            raise DatabaseError(f"database.url: {e}") from None
        if parsed.get_backend_name() == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def scoped(self, scope: Scope) -> Database:
        """The same engine, with sessions that see `scope`'s rows only. Never closed itself."""
        view = copy.copy(self)
        view.scope = scope
        view.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info={SCOPE_KEY: scope}
        )
        return view

    async def upgrade(self, *, home_guild_id: int | None = None) -> None:
        """Bring the schema to the newest migration.

        `home_guild_id` ([discord] home_guild_id) is where Discord rows written before tenancy
        existed are put by migration 0002; without it they belong to no server until
        `tacit db assign-guild` gives them one.
        """
        try:
            async with self.engine.begin() as conn:
                if not self.is_sqlite:
                    # Processes starting together (bot shards, workers) migrate one at a time;
                    # the others then find the schema at head. Released at commit.
                    await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                if self.is_sqlite:
                    # A migration that rebuilds a table (SQLite's ALTER) drops the old one: with
                    # foreign keys on, that would cascade into every row referring to it.
                    await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                await conn.run_sync(_upgrade_sync, home_guild_id)
            if self.is_sqlite:  # fresh connections, with foreign keys on again (_sqlite_pragmas)
                await self.engine.dispose()
        except (OSError, ConnectionError) as e:
            raise DatabaseError(f"database.url: cannot connect to {_safe(self.url)}: {e}") from None
        except Exception as e:
            if type(e).__name__ in {
                "OperationalError",
                "InterfaceError",
                "InvalidCatalogNameError",
            }:
                raise DatabaseError(
                    f"database.url: cannot use {_safe(self.url)}: {str(e).splitlines()[0]}"
                ) from None
            raise

    async def pending_migrations(self) -> list[str]:
        """The migrations not yet applied to this database, oldest first (empty: up to date)."""
        script = ScriptDirectory.from_config(alembic_config())

        def applied(conn) -> tuple[str, ...]:
            return tuple(MigrationContext.configure(conn).get_current_heads())

        try:
            async with self.engine.connect() as conn:
                current = await conn.run_sync(applied)
        except Exception as e:
            reason = unavailable(e)
            if reason is None:
                raise
            raise DatabaseError(f"database.url: cannot use {_safe(self.url)}: {reason}") from None
        revisions = script.iterate_revisions("heads", current or "base")
        return [r.revision for r in reversed(list(revisions))]

    async def close(self) -> None:
        await self.engine.dispose()


def unavailable(exc: BaseException) -> str | None:
    """Why the database cannot be reached, when `exc` says it cannot; None for other errors.

    The reason is the driver's first line, never the statement or its parameters (an expert's
    words) and never the URL (credentials).
    """
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.DBAPIError):
        if not (
            isinstance(exc, sa.OperationalError | sa.InterfaceError) or exc.connection_invalidated
        ):
            return None
        reason = str(exc.orig) if exc.orig is not None else type(exc).__name__
    elif isinstance(exc, sa.DisconnectionError | sa.TimeoutError | OSError):
        reason = str(exc) or type(exc).__name__
    elif type(exc).__module__.startswith("asyncpg") and "Connection" in type(exc).__name__:
        reason = str(exc) or type(exc).__name__
    else:
        return None
    reason = (reason.strip().splitlines() or [type(exc).__name__])[0]
    return reason[:160]


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade_sync(connection, home_guild_id: int | None = None) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    cfg.attributes["home_guild_id"] = home_guild_id
    command.upgrade(cfg, "head")


async def upgrade(url: str, *, home_guild_id: int | None = None) -> None:
    db = Database(url)
    try:
        await db.upgrade(home_guild_id=home_guild_id)
    finally:
        await db.close()
