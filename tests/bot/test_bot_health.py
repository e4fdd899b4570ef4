"""The bot serves /healthz and /metrics when `[metrics] port` is set: gateway state included."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from knowledge.config import MetricsSettings
from tests.conftest import free_port


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}{path}") as r:
            return r.status, await r.text()


@pytest.mark.asyncio
async def test_the_bot_serves_health_with_its_gateway_and_stops_serving_when_it_stops(world):
    port = free_port()
    world.settings.metrics = MetricsSettings(port=port)
    async with world.run(sync=False) as bot:
        status, body = await get(port, "/healthz")
        assert status == 200, body
        checks = json.loads(body)["checks"]
        assert checks["gateway"]["connected"] is True and checks["database"]["ok"]
        status, metrics = await get(port, "/metrics")
        assert status == 200 and "tacit_answers_stored_total" in metrics
        await bot.close()
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(port, "/healthz")


@pytest.mark.asyncio
async def test_the_bot_logs_one_warning_line_at_start_when_chroma_and_sql_disagree(world, caplog):
    import numpy as np

    from knowledge.index import IndexItem

    services = await world.open()
    vector = np.ones(384, dtype=np.float32) / np.sqrt(384)
    await services.index.upsert([IndexItem(999_999, vector, "gone", {"guild": ""})])
    caplog.set_level(logging.WARNING, logger="knowledge.ops.doctor")
    async with world.run(sync=False):
        pass
    lines = [r.getMessage() for r in caplog.records if r.name == "knowledge.ops.doctor"]
    assert len(lines) == 1 and "tacit doctor" in lines[0] and "1 vectors" in lines[0]
