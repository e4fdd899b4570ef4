"""Turn latency: from an answer to the next question, with 1 and with 200 interviews (no LLM).

Two loads for 200 interviews: experts at a human pace (reading the question and writing an answer
takes each of them 20 to 60 seconds, about 5 answers a second in all), and a burst where every
expert answers again the moment the question arrives (saturation: latency is then queueing).
"""

from __future__ import annotations

import asyncio
import random
import time

from bench.common import percentile, real_answers, scratch, settings_in


async def _run(encoder, *, interviews: int, answers_each: int, think: tuple[float, float]):
    from knowledge.services import build

    svc = await build(settings_in(scratch()), encoder=encoder, background=True)
    texts = real_answers()
    rng = random.Random(7)
    latencies: list[float] = []
    try:
        ids = []
        for i in range(interviews):
            ex = await svc.experts.identify("bench", str(i), f"Expert {i}")
            await svc.experts.give_consent(ex.id)
            ids.append((await svc.engine.start(ex.id, "generic")).interview_id)
        await svc.engine.prepare()

        async def expert(interview_id):
            await asyncio.sleep(rng.uniform(*think))
            for _ in range(answers_each):
                text = rng.choice(texts)
                t = time.perf_counter()
                reply = await svc.engine.answer(interview_id, text)
                latencies.append(time.perf_counter() - t)
                if reply.finished:
                    view = await svc.engine.get(interview_id)
                    interview_id = (await svc.engine.start(view.expert_id, "generic")).interview_id
                await asyncio.sleep(rng.uniform(*think))

        t = time.perf_counter()
        await asyncio.gather(*(expert(i) for i in ids))
        wall = time.perf_counter() - t
        return latencies, len(latencies) / wall
    finally:
        await svc.close()


def run() -> dict:
    from knowledge.index.embeddings import SentenceTransformerEncoder

    enc = SentenceTransformerEncoder()
    enc.encode(["warm up"])
    out = {}
    for label, kwargs in (
        ("1 interview", dict(interviews=1, answers_each=40, think=(0.0, 0.0))),
        (
            "200 interviews, human pace (20-60 s an answer)",
            dict(interviews=200, answers_each=2, think=(20.0, 60.0)),
        ),
        (
            "200 interviews, burst (no think time)",
            dict(interviews=200, answers_each=2, think=(0.0, 0.0)),
        ),
    ):
        lat, rate = asyncio.run(_run(enc, **kwargs))
        out[f"{label}: p50 ms"] = percentile(lat, 50) * 1000
        out[f"{label}: p99 ms"] = percentile(lat, 99) * 1000
        out[f"{label}: answers/s"] = rate
    return out


if __name__ == "__main__":
    from bench.__main__ import show

    show("turn latency", run())
