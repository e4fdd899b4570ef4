"""`tacit worker`: embed answers and index them in Chroma, off the bot (PostgreSQL only)."""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from knowledge.cli.common import UserError, run_async, settings_from
from knowledge.services import open_services

log = logging.getLogger(__name__)


@click.command()
@click.option("--once", is_flag=True, help="Drain what is owed now, then exit.")
@click.pass_context
@run_async
async def worker(ctx: click.Context, once: bool) -> None:
    """Embed and index the outbox; run as many as the encoder needs, they share the work.

    \b
    The bot processes then run with [embeddings] in_process = false and never load the model.
    Needs PostgreSQL (database.url) and a Chroma server (chroma.url).
    Examples:
      tacit worker
      TACIT_EMBEDDINGS__THREADS=1 tacit worker      # two workers on a 2-core machine
      tacit worker --once                           # catch up, then exit
    """
    from knowledge.index.worker import Worker
    from knowledge.ops.health import start_health

    settings = settings_from(ctx)
    # The worker is where the model runs, whatever the shared config says for the bots.
    settings.embeddings.in_process = True
    logging.getLogger("knowledge").setLevel(settings.log_level)
    async with open_services(settings, background=False) as svc:
        if not svc.settings.chroma.url:
            raise UserError("tacit worker writes to a Chroma server: set chroma.url", 2)
        w = Worker(
            svc.db,
            svc.index,
            svc.embedder,
            batch=settings.embeddings.worker_batch,
            poll_seconds=settings.embeddings.worker_poll_seconds,
        )
        await svc.embedder.embed(["load the model"])  # loaded before the first batch waits
        if once:
            await w.prepare(svc.guides)
            n = await w.drain()
            click.echo(f"indexed {len(w.stats.entries)} entries, {w.stats.texts} texts ({n} rows)")
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        health = await start_health(svc, settings.metrics)  # /healthz, /metrics if [metrics] port
        # The bots ask for the guide questions' vectors themselves (text_vectors) when they start.
        click.echo("tacit worker: ready, draining the outbox (Ctrl-C stops)", err=True)
        try:
            await w.run(stop)
        finally:
            if health is not None:
                await health.stop()
