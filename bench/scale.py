"""Scale-out: N interviews over two bot shard processes and `tacit worker`s, on PostgreSQL and a
Chroma server (`chroma run`), against the suite's fake Discord.

`python -m bench scale` (or `python -m bench.scale 10 100`). Each expert opens an interview
with /interview start in one of two servers (one per shard), then answers real answers at a
human pace (20-60 s to write each) and presses Done; the latency is from that press to the
next question posted in the thread. The queue depth is the outbox (entries not yet embedded
and in Chroma), sampled every half second. Needs TACIT_BENCH_POSTGRES_URL (or
TACIT_TEST_POSTGRES_URL): a server where it may create and drop databases.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench.common import ROOT, percentile, real_answers, scratch

SIZES = (1, 10, 100, 1000)
WORKERS = 2
THINK = (20.0, 60.0)  # seconds to read a question and write the answer (human pace)
GUIDE = "generic"


def _pg_base() -> str:
    url = os.environ.get("TACIT_BENCH_POSTGRES_URL") or os.environ.get("TACIT_TEST_POSTGRES_URL")
    if not url:
        raise SystemExit("bench scale: set TACIT_BENCH_POSTGRES_URL (PostgreSQL, may create dbs)")
    return url


async def _database(base: str) -> tuple[str, callable]:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(base)
    name = f"tacit_scale_{uuid.uuid4().hex[:8]}"
    admin = u.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()

    async def drop():
        c = await asyncpg.connect(admin)
        await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await c.close()

    return u.set(database=name).render_as_string(hide_password=False), drop


def _env(db: str, chroma: str, server, *, shard: int | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
        "TACIT_DATABASE__URL": db,
        "TACIT_CHROMA__URL": chroma,
        "TACIT_CHROMA__COLLECTION": "scale",
        "TACIT_EMBEDDINGS__IN_PROCESS": "false",
        "TACIT_INTERVIEW__QUIET_PERIOD_SECONDS": "600",  # Done hands each answer over
        "TACIT_INTERVIEW__REMIND_AFTER_HOURS": "0",
        "TACIT_DISCORD__HOME_GUILD_ID": str(server.guild.id),
        "TACIT_DISCORD__SHARDS": "2",
        "DISCORD_TOKEN": server.token,
        "TACIT_LOG_LEVEL": "WARNING",
    }
    if shard is not None:
        env["TACIT_DISCORD__SHARD_IDS"] = f"[{shard}]"
    else:
        env["TACIT_EMBEDDINGS__THREADS"] = "1"  # two workers on two cores
    return env


def _workers_ready(folder: Path) -> bool:
    return all(b"ready" in (folder / f"worker{i}.log").read_bytes() for i in range(WORKERS))


def _is_question(m) -> bool:
    return any(c.startswith("tacit:done:") for c in m.custom_ids)


async def _first_question(server, user, timeout: float = 120.0):  # noqa: ASYNC109
    """The first question in the thread the bot opened for `user`."""
    async with asyncio.timeout(timeout):
        while True:
            for th in server.threads:
                if user.id in th.member_ids:
                    asked = [m for m in server.messages_in(th) if _is_question(m)]
                    if asked:
                        return asked[-1]
            await asyncio.sleep(0.2)


async def _one_size(n: int, base: str, *, answers_each: int, think: tuple[float, float]) -> dict:
    from fakediscord import FakeDiscord
    from fakediscord.launch import spawn

    folder = scratch()
    db, drop = await _database(base)
    from tests.chaos.chromaproc import ChromaServer
    from tests.conftest import free_port

    try:
        chroma = ChromaServer(folder, free_port()).start()
    except RuntimeError:
        raise SystemExit("bench scale: chroma run did not start") from None
    chroma_url = chroma.url
    texts = [a for a in real_answers() if len(a) <= 1900]  # one Discord message each
    rng = random.Random(n)
    procs = []
    workers = []
    latencies: list[float] = []
    depth: list[int] = []
    stop = asyncio.Event()
    sampler = None
    async with FakeDiscord(shard_count=2, interaction_deadline=None) as server:
        b = server.add_guild("Second", shard=1)
        places = [server.default_world, b]
        users = [(places[i % 2], places[i % 2].add_user(f"expert{i}")) for i in range(n)]
        try:
            # Migrations once, then the bots and workers start on the same schema.
            up = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "knowledge.cli", "db", "upgrade"),
                env=_env(db, chroma_url, server),
                stdout=asyncio.subprocess.DEVNULL,
            )
            if await up.wait() != 0:
                raise SystemExit("bench scale: tacit db upgrade failed")
            for shard in (0, 1):
                procs.append(
                    await spawn(
                        server, "-m", "bot", "--sync", env=_env(db, chroma_url, server, shard=shard)
                    )
                )
            await server.wait_for_sessions(2, timeout=120)
            await asyncio.sleep(3)  # discord.py waits for the GUILD_CREATEs before on_ready
            workers = [
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "knowledge.cli",
                    "worker",
                    env=_env(db, chroma_url, server),
                    stdout=open(folder / f"worker{i}.log", "wb"),  # noqa: ASYNC230
                    stderr=subprocess.STDOUT,
                )
                for i in range(WORKERS)
            ]
            async with asyncio.timeout(300):  # the workers have their model loaded
                while not _workers_ready(folder):  # noqa: ASYNC110 (polling their log files)
                    await asyncio.sleep(0.5)
            limit = asyncio.Semaphore(20)

            async def open_one(world, user):
                async with limit:
                    ix = await server.slash(
                        user, "interview start", {"guide": GUIDE}, channel=world.general
                    )
                    await ix.wait_response(timeout=120)
                    await server.click(user, ix.message, f"tacit:consent:agree:{user.id}:{GUIDE}")
                    return await _first_question(server, user)

            t_open = time.monotonic()
            firsts = await asyncio.gather(*(open_one(w, u) for w, u in users))
            opened = time.monotonic() - t_open

            async def sample():
                from sqlalchemy import func, select

                from knowledge.index.outbox import owed
                from knowledge.storage import Database, Entry

                probe = Database(db)
                try:
                    while not stop.is_set():
                        async with probe.sessions() as s:
                            depth.append(
                                await s.scalar(
                                    select(func.count()).select_from(Entry).where(owed())
                                )
                            )
                        await asyncio.sleep(0.5)  # noqa: ASYNC110 (polling log files)
                finally:
                    await probe.close()

            async def expert(user, question):
                for _ in range(answers_each):
                    await asyncio.sleep(rng.uniform(*think))
                    thread = question.channel_id
                    await server.user_sends(user, thread, rng.choice(texts))
                    since = len(server.calls)
                    done = next(c for c in question.custom_ids if c.startswith("tacit:done:"))
                    t = time.monotonic()
                    await server.click(user, question, done)
                    prev = question.id
                    call = await server.wait_for(
                        lambda c, thread=thread, prev=prev: (
                            c.message is not None
                            and c.ok
                            and c.message.channel_id == thread
                            and c.message.id != prev
                            and _is_question(c.message)
                        ),
                        since=since,
                        timeout=900,  # an overloaded turn is slow, not lost: measure it
                    )
                    latencies.append(call.at - t)
                    question = call.message

            sampler = asyncio.create_task(sample())
            t0 = time.monotonic()
            await asyncio.gather(*(expert(u, q) for (_, u), q in zip(users, firsts, strict=True)))
            wall = time.monotonic() - t0
        finally:
            for w in workers:  # on a failure too: they would poll a dropped database
                if w.returncode is None:
                    w.terminate()
                    await w.wait()
            stop.set()
            if sampler is not None:
                await asyncio.gather(sampler, return_exceptions=True)
            for i, p in enumerate(procs):
                await p.stop()
                (folder / f"bot{i}.log").write_text(p.output)  # warnings and errors, to read
            print(f"bench scale: logs in {folder}", file=sys.stderr)
            chroma.stop()
            await drop()
    return {
        "answers": len(latencies),
        "answers/s": len(latencies) / wall,
        "p50 ms": percentile(latencies, 50) * 1000,
        "p99 ms": percentile(latencies, 99) * 1000,
        "max ms": max(latencies) * 1000,
        "turns over 10 s": sum(t > 10 for t in latencies),
        "seconds to open the interviews": opened,
        "queue depth, max": max(depth or [0]),
        "queue depth, mean": sum(depth) / max(1, len(depth)),
    }


def run(sizes=SIZES) -> dict:
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]
    base = _pg_base()
    out: dict = {}
    for n in sizes:
        # One interview answers back to back (half a second after each question: the bot
        # takes a moment to note which question is open); the others at a human pace, twice.
        kw = (
            dict(answers_each=20, think=(0.5, 0.5)) if n == 1 else dict(answers_each=2, think=THINK)
        )
        figures = asyncio.run(_one_size(n, base, **kw))
        for k, v in figures.items():
            out[f"{n} interviews: {k}"] = v
    return out


if __name__ == "__main__":
    from bench.__main__ import show

    args = [int(a) for a in sys.argv[1:]]
    show("scale", run(tuple(args) or SIZES))
