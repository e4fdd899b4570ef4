"""Where an answer's time goes: pyinstrument over 30 interviews answering real answers at once.

`python -m bench.profile [N]` prints the call tree (pruned to what matters) and a summary of
the CPU seconds spent in SQLAlchemy, in the encoder (torch) and in the rest, per answer.
"""

from __future__ import annotations

import asyncio
import sys
import time

from bench.common import real_answers, scratch, settings_in

INTERVIEWS = 30


async def _answers(encoder, answers: list[str]) -> float:
    from knowledge.services import build

    svc = await build(settings_in(scratch()), encoder=encoder, background=True)
    try:
        ids = []
        for i in range(INTERVIEWS):
            ex = await svc.experts.identify("bench", str(i), f"Expert {i}")
            await svc.experts.give_consent(ex.id)
            ids.append((await svc.engine.start(ex.id, "generic")).interview_id)
        await svc.engine.prepare()
        per = [answers[i::INTERVIEWS] for i in range(INTERVIEWS)]

        async def expert(interview_id, mine):
            for a in mine:
                reply = await svc.engine.answer(interview_id, a)
                if reply.finished:
                    view = await svc.engine.get(interview_id)
                    interview_id = (await svc.engine.start(view.expert_id, "generic")).interview_id

        t = time.perf_counter()
        await asyncio.gather(*(expert(i, m) for i, m in zip(ids, per, strict=True)))
        await svc.engine.drain()
        await svc.indexer.sync()
        return time.perf_counter() - t
    finally:
        await svc.close()


def _share(frame, parts: tuple[str, ...]) -> float:
    """Seconds of `frame`'s tree spent under a frame whose file path contains one of `parts`."""
    if frame is None:
        return 0.0
    if any(p in (frame.file_path or "") for p in parts):
        return frame.time
    return sum(_share(c, parts) for c in frame.children)


def run(n: int = 150) -> dict:
    from pyinstrument import Profiler

    from knowledge.index.embeddings import SentenceTransformerEncoder

    answers = real_answers()[:n]
    enc = SentenceTransformerEncoder()
    enc.encode(["warm up"])
    # The event loop's thread: the encoder runs in its own thread (and competes for the cores).
    profiler = Profiler(interval=0.002, async_mode="disabled")
    profiler.start()
    wall = asyncio.run(_answers(enc, answers))
    profiler.stop()
    session = profiler.last_session
    root = session.root_frame()
    sql = _share(root, ("sqlalchemy", "aiosqlite", "asyncpg"))
    if "--tree" in sys.argv:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    return {
        "answers": len(answers),
        "wall seconds": wall,
        "answers/s": len(answers) / wall,
        "main thread: ms in SQLAlchemy + driver per answer": sql * 1000 / len(answers),
        "main thread: ms sampled per answer": root.time * 1000 / len(answers),
    }


if __name__ == "__main__":
    from bench.__main__ import show

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show("profile", run(int(args[0]) if args else 150))
