"""Chroma goes down mid-interview: answers still save, the backlog shows, and it drains when
Chroma comes back, to exactly one vector per entry."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3

from tests.chaos.chromaproc import ChromaServer
from tests.conftest import free_port, real_pairs


async def _tacit(zygote, args, cwd, env) -> tuple[int, str, str]:
    err = cwd / f"{args[0]}.stderr"
    err.unlink(missing_ok=True)
    child = await zygote.spawn(args, cwd=cwd, env=env, stderr=err)
    out = await child.rest()
    return await child.wait(), "\n".join(out), err.read_text()


def test_chroma_server_down_mid_interview_answers_save_backlog_shows_and_drains(zygote, tmp_path):
    chroma = ChromaServer(tmp_path, free_port()).start()
    db = tmp_path / "tacit.db"
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{db}"\n'
        f'[chroma]\nurl = "{chroma.url}"\ncollection = "down"\nretry_seconds = 1.0\n'
    )
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ["PYTHONPATH"]}
    answers = [p["answer"].replace("\n", " ") for p in real_pairs("primock57_day3_consultation05")]
    answers = [a for a in answers if len(a) > 40][:4]

    async def scenario():
        chat = await zygote.spawn(
            ["chat", "--guide", "sommelier", "--consent", "--name", "Ana"],
            cwd=tmp_path,
            env=env,
            stderr=tmp_path / "chat.stderr",
        )
        await chat.until("[Q1/")
        chat.send(answers[0])
        await chat.until("[")
        await asyncio.to_thread(chroma.stop)  # Chroma goes away mid-interview
        for a in answers[1:]:
            chat.send(a)
            acknowledged = await chat.until("[")
            assert re.match(r"\[(Q\d+/\d+|follow-up)\]", acknowledged[-1]), acknowledged
        code, out, err = await _tacit(zygote, ["stats"], tmp_path, env)
        assert code == 0, err
        waiting = re.search(r"vector index: Chroma unreachable, (\d+) waiting", out)
        assert waiting and int(waiting.group(1)) >= len(answers) - 1, out
        chat.close_stdin()
        await chat.rest()
        assert await chat.wait() == 0
        said = (tmp_path / "chat.stderr").read_text()
        assert "waiting to be indexed (they are safe in SQL)" in said and "Traceback" not in said

        await asyncio.to_thread(chroma.start)  # back, same port, same folder
        code, out, err = await _tacit(zygote, ["index", "sync"], tmp_path, env)
        assert code == 0 and "still waiting 0" in out, (out, err)
        code, out, err = await _tacit(zygote, ["stats"], tmp_path, env)
        assert re.search(r"vector index: (\d+) in Chroma, 0 waiting", out), out
        return out

    try:
        asyncio.run(scenario())
        with sqlite3.connect(db) as conn:
            stored = [
                a
                for (a,) in conn.execute(
                    "select answer from turns where answer is not null order by seq"
                )
            ]
            entry_ids = sorted(i for (i,) in conn.execute("select id from entries"))
        assert stored == [a.strip() for a in answers]
        import chromadb
        from chromadb.config import Settings

        client = chromadb.HttpClient(
            host="127.0.0.1", port=chroma.port, settings=Settings(anonymized_telemetry=False)
        )
        ids = client.get_collection("down").get(include=[])["ids"]
        assert sorted(int(i) for i in ids) == entry_ids
    finally:
        chroma.stop()
