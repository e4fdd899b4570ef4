"""Optional pytest fixtures. Enable them from a conftest with
``from fakediscord.fixtures import fake_discord, discord_errors  # noqa: F401``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from .harness import ErrorCapture, capture_errors
from .server import FakeDiscord


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord with the default world; closed after the test."""
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def discord_errors() -> Iterator[ErrorCapture]:
    """Fails the test (at teardown) if an ERROR was logged by discord/bot/knowledge loggers."""
    with capture_errors() as capture:
        yield capture
