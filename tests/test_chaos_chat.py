"""kill -9 at random moments: `tacit chat` processes over one database lose and double nothing.

Three experts answer at once through real `tacit chat` processes (forked from a pre-warmed
zygote, tests/chaos/zygote.py), over one SQLite file (and over PostgreSQL), with a real Chroma
server. Each process is SIGKILLed at a random moment or at a kill point (right after the
answer's commit, mid-transaction, after its entries, during the vector write), and restarted
with `--resume`. Afterwards every acknowledged answer is stored exactly once, every answered
turn has its entries, and Chroma holds exactly one vector per entry.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import uuid
from collections import Counter

import pytest

from tests.chaos.driver import Chaos, Expert
from tests.conftest import PG_URL, REAL, _pg_database

GUIDES = ["air-traffic-controller", "physician", "litigator"]
SEED = int(os.environ.get("TACIT_CHAOS_SEED", "20261203"))


def real_answers() -> list[str]:
    """Distinct one-line answers from every real transcript (experts' turns and answers)."""
    seen: set[str] = set()
    out: list[str] = []
    for path in sorted(REAL.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            raw = row.get("answer") or (row.get("text") if row.get("role") == "expert" else None)
            text = " ".join((raw or "").split())
            if 30 <= len(text) <= 500 and text not in seen and not text.startswith("/"):
                seen.add(text)
                out.append(text)
    random.Random(SEED).shuffle(out)
    return out


def _env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TACIT_")}
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return env


async def _chaos(
    zygote, tmp_path, db_url: str, chroma_url: str, *, kills: int, experts: int, answers: int
):
    collection = f"chaos{uuid.uuid4().hex[:10]}"
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "{db_url}"\n[chroma]\nurl = "{chroma_url}"\n'
        f'collection = "{collection}"\n'
    )
    env = _env(tmp_path)
    chaos = Chaos(zygote, tmp_path, env, random.Random(SEED))
    # One migration before the processes start: concurrent first runs would race on it.
    up = await zygote.spawn(["db", "upgrade"], cwd=tmp_path, env=env, stderr=tmp_path / "up.log")
    while await up.line() is not None:
        pass
    assert await up.wait() == 0, (tmp_path / "up.log").read_text()
    pool = real_answers()
    per = len(pool) // experts
    assert per >= answers, f"too few real answers in {REAL}"
    cast = [
        Expert(f"expert{i}", GUIDES[i % len(GUIDES)], pool[i * per : i * per + answers])
        for i in range(experts)
    ]
    quota = -(-kills // experts)

    async def life(ex: Expert) -> None:
        while ex.kills < quota and ex.sent < len(ex.answers):
            await chaos.run(ex)
        await chaos.run(ex, final=True)

    await asyncio.gather(*(life(ex) for ex in cast))
    sync = await zygote.spawn(["index", "sync"], cwd=tmp_path, env=env, stderr=tmp_path / "s.log")
    while await sync.line() is not None:
        pass
    assert await sync.wait() == 0, (tmp_path / "s.log").read_text()
    return cast, collection


def _check(cast, rows, chroma_ids: list[int]) -> dict:
    answers = Counter(a for (a,) in rows("select answer from turns where status = 'answered'"))
    acknowledged = [a for ex in cast for a in ex.acknowledged]
    kept = [a for ex in cast for a in ex.kept_unacknowledged]
    figures = {
        "kills": sum(ex.kills for ex in cast),
        "runs": sum(ex.runs for ex in cast),
        "acknowledged": len(acknowledged),
        "kept_unacknowledged": len(kept),
        "resent": sum(ex.resent for ex in cast),
        "lost": sum(1 for a in acknowledged + kept if answers[a] == 0),
        "duplicated": sum(1 for a, n in answers.items() if n > 1),
        "by_point": dict(sum((Counter(ex.kills_by_point) for ex in cast), Counter())),
    }
    print(f"\nchaos figures: {figures}")
    assert figures["lost"] == 0 and figures["duplicated"] == 0, figures
    sent = {a for ex in cast for a in ex.answers[: ex.sent]}
    assert set(answers) <= sent | {ex.pending[1] for ex in cast if ex.pending}
    assert len(sent) == sum(ex.sent for ex in cast)
    assert rows(
        "select count(*) from turns t where t.status = 'answered' and not exists "
        "(select 1 from entries e where e.turn_id = t.id)"
    ) == [(0,)]
    assert rows("select count(*) from entries where embedding is null") == [(0,)]
    # One interview per expert: a restart never opened a second one.
    per_expert = rows("select expert_id, count(*) from interviews group by expert_id")
    assert sorted(n for _, n in per_expert) == [1] * len(cast)
    entry_ids = sorted(i for (i,) in rows("select id from entries"))
    assert sorted(chroma_ids) == entry_ids  # exactly one vector per entry, no orphans
    return figures


def _chroma_ids(url: str, collection: str) -> list[int]:
    import chromadb
    from chromadb.config import Settings

    port = int(url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False)
    )
    return [int(i) for i in client.get_collection(collection).get(include=[])["ids"]]


def test_kill_9_during_concurrent_chats_over_sqlite_loses_and_doubles_nothing(
    zygote, tmp_path, chroma_server
):
    db = tmp_path / "tacit.db"
    cast, collection = asyncio.run(
        _chaos(
            zygote,
            tmp_path,
            f"sqlite+aiosqlite:///{db}",
            chroma_server,
            kills=51,
            experts=3,
            answers=30,
        )
    )

    def rows(sql):
        with sqlite3.connect(db) as conn:
            return conn.execute(sql).fetchall()

    figures = _check(cast, rows, _chroma_ids(chroma_server, collection))
    assert figures["kills"] >= 50
    assert rows("pragma integrity_check") == [("ok",)]


@pytest.mark.postgres
def test_kill_9_during_concurrent_chats_over_postgres_loses_and_doubles_nothing(
    zygote, tmp_path, chroma_server
):
    if not PG_URL:
        pytest.skip("TACIT_TEST_POSTGRES_URL is not set")
    import asyncpg
    from sqlalchemy.engine import make_url

    url, drop = _pg_database(PG_URL)
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        cast, collection = asyncio.run(
            _chaos(zygote, tmp_path, url, chroma_server, kills=16, experts=2, answers=14)
        )

        def rows(sql):
            async def run():
                conn = await asyncpg.connect(plain)
                try:
                    return [tuple(r) for r in await conn.fetch(sql)]
                finally:
                    await conn.close()

            return asyncio.run(run())

        figures = _check(cast, rows, _chroma_ids(chroma_server, collection))
        assert figures["kills"] >= 16
    finally:
        drop()
