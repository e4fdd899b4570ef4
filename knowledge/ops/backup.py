"""Backups of the SQL store: SQLite's online backup API, PostgreSQL's pg_dump / pg_restore.

SQL is all there is to back up: Chroma is an index rebuilt from it (`tacit doctor --repair`
puts every vector back from the ones SQL holds). A SQLite backup is taken through SQLite's own
backup API, so it is one consistent snapshot even while the bot writes; PostgreSQL's through
`pg_dump -Fc` (a consistent snapshot too). Restoring checks the file is a backup of the kind
the configured database needs before anything is overwritten.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from knowledge.errors import TacitError

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"  # pg_dump's custom format
_TABLES = {"alembic_version", "entries", "interviews", "experts"}


class BackupError(TacitError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupDone:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    size: int


def _url(url: str) -> URL:
    return make_url(url)


def kind_of(url: str) -> str:
    backend = _url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups of {backend} databases are not supported")
    return backend


def _sqlite_file(url: str) -> Path:
    name = _url(url).database
    if not name or name == ":memory:":
        raise BackupError("database.url is an in-memory SQLite database: nothing to back up")
    return Path(name)


def _ready(path: Path, overwrite: bool) -> None:
    if path.is_dir():
        raise BackupError(f"{path} is a folder: give a file name for the backup")
    if path.exists() and not overwrite:
        raise BackupError(f"{path} already exists: choose another name, or --yes to replace it")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} does not exist")


async def backup(url: str, path: Path, *, overwrite: bool = False) -> BackupDone:
    """Write a backup of the database at `url` to `path`."""
    kind = kind_of(url)
    path = Path(path)
    _ready(path, overwrite)
    if kind == "sqlite":
        await asyncio.to_thread(_sqlite_backup, _sqlite_file(url), path)
    else:
        await asyncio.to_thread(_pg_dump, url, path)
    size = path.stat().st_size
    log.info("backup of the %s database written to %s (%d bytes)", kind, path, size)
    return BackupDone(path, kind, size)


def _sqlite_backup(db: Path, path: Path) -> None:
    if not db.is_file():
        raise BackupError(f"{db} does not exist: nothing to back up")
    tmp = path.with_name(path.name + ".part")
    tmp.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(tmp)
            try:
                # All pages in one step: one consistent snapshot, whatever writers do meanwhile.
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        os.replace(tmp, path)
    except sqlite3.DatabaseError as e:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"{db}: cannot back it up ({e}): is it a damaged file?") from None
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"{path}: cannot write the backup ({e.strerror})") from None


def identify(path: Path) -> str:
    """The kind of backup a file is ("sqlite" or "postgresql"), or BackupError."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a tacit backup (neither SQLite nor pg_dump -Fc)")


async def restore(url: str, path: Path) -> str:
    """Replace the database at `url` with the backup at `path`; returns the backup's kind."""
    kind = kind_of(url)
    path = Path(path)
    found = identify(path)
    if found != kind:
        raise BackupError(
            f"{path} is a {found} backup but database.url is a {kind} database: "
            "restore it into a database of its kind"
        )
    if kind == "sqlite":
        await asyncio.to_thread(_sqlite_restore, path, _sqlite_file(url))
    else:
        await asyncio.to_thread(_pg_restore, url, path)
    log.info("%s database restored from %s", kind, path)
    return kind


def _sqlite_restore(path: Path, db: Path) -> None:
    try:
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = src.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in src.execute("select name from sqlite_master")}
            if ok != "ok" or not _TABLES <= tables:
                raise BackupError(f"{path} is damaged or not a tacit database: nothing restored")
            db.parent.mkdir(parents=True, exist_ok=True)
            dst = sqlite3.connect(db, timeout=30)
            try:
                src.backup(dst)  # through SQLite, so its WAL and other connections stay right
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path}: cannot restore it ({e})") from None


def _pg_tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools "
            "(e.g. `apt-get install postgresql-client`) of the server's version"
        )
    return exe


def _pg_args(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (passed in the environment, never on the command line)."""
    u = _url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        lines = [x for x in r.stderr.strip().splitlines() if x.strip()]
        raise BackupError(f"{what} failed: {lines[0] if lines else f'exit {r.returncode}'}")
    return r


def _pg_dump(url: str, path: Path) -> None:
    dsn, env = _pg_args(url)
    tmp = path.with_name(path.name + ".part")
    try:
        _run([_pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(tmp), dsn], env, "pg_dump")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _pg_restore(url: str, path: Path) -> None:
    dsn, env = _pg_args(url)
    exe = _pg_tool("pg_restore")
    listing = _run([exe, "--list", str(path)], env, "pg_restore --list").stdout
    if not all(f" TABLE public {t} " in listing for t in _TABLES):
        raise BackupError(f"{path} is a pg_dump file but not of a tacit database: nothing restored")
    _run(
        [exe, "--clean", "--if-exists", "--no-owner", "--single-transaction", "-d", dsn, str(path)],
        env,
        "pg_restore",
    )
