"""The bot against the fake Discord, with the real services (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio
from botworld import World

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Bot tests run on SQLite; those marked `postgres` run on PostgreSQL too.

    The adapter does not touch SQL itself, so repeating every test there mostly repeats the
    core's own PostgreSQL tests; the marked ones cover each path through the services.
    """
    skip = pytest.mark.skip(reason="bot test repeated on PostgreSQL only when marked postgres")
    for item in items:
        if (
            HERE in Path(str(item.fspath)).resolve().parents
            and "[postgres" in item.nodeid
            and item.get_closest_marker("postgres") is None
        ):
            item.add_marker(skip)


@pytest_asyncio.fixture
async def world(settings, encoder, tmp_path):
    w = World(settings, encoder, tmp_path)
    await w.server.start()
    yield w
    await w.close()
