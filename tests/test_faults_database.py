"""The database goes away mid-interview: the expert is told their answer was not saved, keeps
it, and sends it again once the database is back; nothing acknowledged is lost or doubled.

PostgreSQL is reached through a loopback proxy that the test cuts (connections reset, new ones
refused) and restores, as when the database server stops and starts again.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import make_url

from tests.chaos.proxy import Proxy
from tests.conftest import PG_URL, _pg_database, real_pairs

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_via_proxy():
    """(url through the proxy, the proxy not started yet, a direct url for checks)."""
    if not PG_URL:
        pytest.skip("TACIT_TEST_POSTGRES_URL is not set")
    url, drop = _pg_database(PG_URL)
    parsed = make_url(url)
    proxy = Proxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    yield url, proxy
    drop()


async def _fetch(url: str, sql: str) -> list[tuple]:
    import asyncpg

    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


def test_database_gone_mid_interview_keeps_the_answer_for_a_resend(zygote, tmp_path, pg_via_proxy):
    url, proxy = pg_via_proxy
    answers = [p["answer"].replace("\n", " ") for p in real_pairs("primock57_day1_consultation01")]
    a1, a2 = answers[1], answers[2]

    async def scenario():
        await proxy.up()
        via = make_url(url).set(port=proxy.port).render_as_string(hide_password=False)
        (tmp_path / "config.toml").write_text(
            f'[database]\nurl = "{via}"\n[chroma]\npath = "{tmp_path / "chroma"}"\n'
        )
        env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": _pythonpath()}
        err = tmp_path / "chat.stderr"
        child = await zygote.spawn(
            ["chat", "--guide", "physician", "--consent", "--name", "Ana"],
            cwd=tmp_path,
            env=env,
            stderr=err,
        )
        await child.until("[Q1/")
        child.send(a1)
        await child.until("[Q2/")
        await proxy.down()  # the database goes away
        child.send(a2)
        said = await child.until("could not save your answer")
        assert "the database is unavailable" in said[-1] and "/retry" in said[-1]
        child.send("/retry")  # still down: told again, nothing stored
        await child.until("could not save your answer")
        await proxy.up()  # back
        child.send("/retry")
        after = await child.until("[")
        assert after[-1].startswith(("[Q3/", "[follow-up]")), after
        child.close_stdin()
        rest = await child.rest()
        assert await child.wait() == 0, err.read_text()
        assert any("Paused interview" in line for line in rest)
        stderr = err.read_text()
        assert "Traceback" not in stderr and a2[:40] not in stderr, stderr
        return await _fetch(url, "select answer from turns where status = 'answered' order by seq")

    stored = asyncio.run(scenario())
    assert [a for (a,) in stored] == [a1.strip(), a2.strip()]


def _pythonpath() -> str:
    import os

    return os.environ["PYTHONPATH"]
