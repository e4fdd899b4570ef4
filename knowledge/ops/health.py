"""`/healthz` and `/metrics` over HTTP (aiohttp), for the bot and any other long-running job.

`/healthz` answers JSON: the database (a `select 1`), Chroma (a count), the gateway (a callback
the front-end gives: is it connected to Discord) and the event loop's lag; 200 when every check
passes, 503 otherwise. `/metrics` is Prometheus' text format (`ops/metrics.py`). Started with
`start_health` when `[metrics] port` is set; any job calls it with its services.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import text

from knowledge.config import MetricsSettings
from knowledge.errors import SetupError
from knowledge.ops import metrics

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0  # seconds a check may take before it counts as failed
LAG_INTERVAL = 0.5  # how often the loop's lag is sampled
LAG_LIMIT = 1.0  # seconds of lag past which the loop counts as stuck


class LagMonitor:
    """How late the event loop wakes a task that sleeps LAG_INTERVAL: blocking work shows here."""

    def __init__(self) -> None:
        self.lag = 0.0
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tacit-loop-lag")

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(LAG_INTERVAL)
            self.lag = max(0.0, time.monotonic() - before - LAG_INTERVAL)
            self.worst = max(self.worst, self.lag)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


class HealthServer:
    def __init__(
        self,
        services,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        gateway: Callable[[], bool] | None = None,
    ):
        self.services = services
        self.host, self.port = host, port
        self.gateway = gateway
        self.lag = LagMonitor()
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> int:
        """Listen; returns the port (the one chosen when `port` is 0)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.lag.start()
        log.info("health and metrics on http://%s:%d (/healthz, /metrics)", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        await self.lag.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def check(self) -> dict:
        """Every check, as /healthz reports it."""
        checks: dict[str, dict] = {
            "database": await _timed(self._database()),
            "chroma": await _timed(self._chroma()),
        }
        if self.gateway is not None:
            connected = bool(self.gateway())
            checks["gateway"] = {"ok": connected, "connected": connected}
        checks["event_loop"] = {
            "ok": self.lag.lag < LAG_LIMIT,
            "lag_seconds": round(self.lag.lag, 4),
            "worst_lag_seconds": round(self.lag.worst, 4),
        }
        return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}

    async def _database(self) -> dict:
        async with self.services.db.engine.connect() as conn:
            await conn.execute(text("select 1"))
        return {}

    async def _chroma(self) -> dict:
        return {"vectors": await self.services.index.count()}

    async def _healthz(self, request: web.Request) -> web.Response:
        body = await self.check()
        return web.json_response(body, status=200 if body["ok"] else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                metrics.OUTBOX.set(await self.services.indexer.pending())
        except Exception:  # the database is down: /healthz says so; the gauge keeps its value
            log.debug("outbox backlog not refreshed", exc_info=True)
        data, content_type = metrics.render()
        # aiohttp wants the charset apart from the media type.
        media, _, charset = content_type.partition("; charset=")
        return web.Response(body=data, content_type=media, charset=charset or None)


async def _timed(check) -> dict:
    started = time.monotonic()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            found = await check
        return {"ok": True, **found, "seconds": round(time.monotonic() - started, 4)}
    except Exception as e:
        return {
            "ok": False,
            "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
        }


async def start_health(
    services, settings: MetricsSettings, *, gateway: Callable[[], bool] | None = None
) -> HealthServer | None:
    """Serve /healthz and /metrics when `[metrics] port` is set (None otherwise).

    `gateway` says whether the front-end is connected (the bot's Discord gateway); a job with
    no gateway (a worker) leaves it out.
    """
    if not settings.port:
        return None
    server = HealthServer(services, host=settings.host, port=settings.port, gateway=gateway)
    try:
        await server.start()
    except OSError as e:
        raise SetupError(
            f"metrics.port: cannot listen on {settings.host}:{settings.port}: {e.strerror}"
        ) from None
    return server
