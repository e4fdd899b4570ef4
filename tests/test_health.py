"""`/healthz` and `/metrics`: real HTTP requests to the server the bot and workers start."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from knowledge.config import ChromaSettings, MetricsSettings
from knowledge.ops.health import start_health
from knowledge.services import build
from tests.conftest import free_port, real_pairs

pytestmark = pytest.mark.asyncio

ANSWERS = [p["answer"] for p in real_pairs("scotus_2019.18-8369-t01") if len(p["answer"]) > 300]


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}{path}") as r:
            return r.status, await r.text()


def sample(text: str, name: str, **labels) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def test_healthz_is_200_when_everything_answers_and_503_when_the_gateway_is_down(
    services,
):
    connected = [True]
    server = await start_health(
        services, MetricsSettings(port=free_port()), gateway=lambda: connected[0]
    )
    try:
        status, body = await get(server.port, "/healthz")
        assert status == 200, body
        import json

        checks = json.loads(body)["checks"]
        assert checks["database"]["ok"] and checks["chroma"]["ok"]
        assert checks["gateway"]["connected"] is True
        assert checks["event_loop"]["lag_seconds"] >= 0
        connected[0] = False
        status, body = await get(server.port, "/healthz")
        assert status == 503 and json.loads(body)["checks"]["gateway"]["connected"] is False
    finally:
        await server.stop()


async def test_healthz_says_which_part_is_down(settings, encoder):
    settings.chroma = ChromaSettings(url=f"http://127.0.0.1:{free_port()}", collection="gone")
    svc = await build(settings, encoder=encoder, background=False)
    server = await start_health(svc, MetricsSettings(port=free_port()))
    try:
        status, body = await get(server.port, "/healthz")
        import json

        checks = json.loads(body)["checks"]
        assert status == 503 and checks["database"]["ok"] and not checks["chroma"]["ok"]
        assert "gateway" not in checks  # a job without one (a worker)
    finally:
        await server.stop()
        await svc.close()


async def test_metrics_count_answers_turns_and_the_outbox(services):
    server = await start_health(services, MetricsSettings(port=free_port()))
    try:
        _, before = await get(server.port, "/metrics")
        ex = await services.experts.identify("terminal", "lee", "Lee")
        await services.experts.give_consent(ex.id)
        ask = await services.engine.start(ex.id, "litigator")
        for a in ANSWERS[:3]:
            await services.engine.answer(ask.interview_id, a)
        await services.engine.drain()
        status, after = await get(server.port, "/metrics")
        assert status == 200
        stored = sample(after, "tacit_answers_stored_total") - sample(
            before, "tacit_answers_stored_total"
        )
        turns = sample(after, "tacit_turn_seconds_count") - sample(
            before, "tacit_turn_seconds_count"
        )
        assert stored == 3 and turns == 3
        assert sample(after, "tacit_outbox_backlog") == await services.indexer.pending()
        assert "process_cpu_seconds_total" in after
    finally:
        await server.stop()


async def test_no_port_no_server(services):
    assert await start_health(services, MetricsSettings(port=0)) is None
