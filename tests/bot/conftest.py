"""The bot against the fake Discord, with the real services (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import pytest_asyncio
from botworld import World


@pytest_asyncio.fixture
async def world(settings, encoder, tmp_path):
    w = World(settings, encoder, tmp_path)
    await w.server.start()
    yield w
    await w.close()
