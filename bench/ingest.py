"""Ingest: real answers embedded and stored, tacit's path against LangChain's, same model.

Baselines in the same run: the raw sentence-transformers encoder (one batch), and LangChain's
`Chroma.add_texts` with `HuggingFaceEmbeddings`, one at a time and batched.
"""

from __future__ import annotations

import asyncio
import time

from bench.common import real_answers, scratch, settings_in

N = 300
INTERVIEWS = 30


def _langchain(answers: list[str], path: str) -> tuple[float, float]:
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    from knowledge.config import BUNDLED_MODEL
    from knowledge.index.embeddings import resolve_model

    emb = HuggingFaceEmbeddings(
        model_name=resolve_model(BUNDLED_MODEL),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )
    emb.embed_query("warm up")
    one = Chroma("one", embedding_function=emb, persist_directory=path + "/one")
    t = time.perf_counter()
    for a in answers:
        one.add_texts([a])
    one_rate = len(answers) / (time.perf_counter() - t)
    batched = Chroma("batched", embedding_function=emb, persist_directory=path + "/batched")
    t = time.perf_counter()
    batched.add_texts(answers)
    return one_rate, len(answers) / (time.perf_counter() - t)


async def _tacit(answers: list[str], encoder, *, interviews: int) -> float:
    """Answers arriving one by one from `interviews` concurrent interviews, until indexed."""
    from knowledge.services import build

    svc = await build(settings_in(scratch()), encoder=encoder, background=True)
    try:
        ids = []
        for i in range(interviews):
            ex = await svc.experts.identify("bench", str(i), f"Expert {i}")
            await svc.experts.give_consent(ex.id)
            ids.append((await svc.engine.start(ex.id, "generic")).interview_id)
        # What a bot does once at start (every guide question's vector), not per answer.
        await svc.engine.prepare()
        per = [answers[i::interviews] for i in range(interviews)]

        async def expert(interview_id, mine):
            for a in mine:
                reply = await svc.engine.answer(interview_id, a)
                if reply.finished:  # the guide is done: the same expert starts another
                    view = await svc.engine.get(interview_id)
                    interview_id = (await svc.engine.start(view.expert_id, "generic")).interview_id

        t = time.perf_counter()
        await asyncio.gather(*(expert(i, m) for i, m in zip(ids, per, strict=True)))
        await svc.engine.drain()
        result = await svc.indexer.sync()
        elapsed = time.perf_counter() - t
        assert result.pending == 0, result
        assert await svc.index.count() == len(answers)
        return len(answers) / elapsed
    finally:
        await svc.close()


def run() -> dict:
    from knowledge.index.embeddings import SentenceTransformerEncoder

    answers = real_answers()[:N]
    enc = SentenceTransformerEncoder()
    enc.encode(["warm up"])
    model = enc._load()  # sentence-transformers itself, as a user of it would call it
    t = time.perf_counter()
    model.encode(answers, normalize_embeddings=True, show_progress_bar=False)  # its defaults
    raw = len(answers) / (time.perf_counter() - t)
    lc_one, lc_batched = _langchain(answers, str(scratch()))
    live = asyncio.run(_tacit(answers, enc, interviews=INTERVIEWS))
    single = asyncio.run(_tacit(answers[:60], enc, interviews=1))
    return {
        "answers": len(answers),
        "raw encoder, one batch (answers/s)": raw,
        "langchain add_texts, one at a time (answers/s)": lc_one,
        "langchain add_texts, batched (answers/s)": lc_batched,
        f"tacit live path, {INTERVIEWS} interviews at once (answers/s)": live,
        "tacit live path, one interview (answers/s)": single,
        "tacit live / langchain batched": live / lc_batched,
        "tacit live / raw encoder": live / raw,
        "tacit one interview / langchain one at a time": single / lc_one,
    }


if __name__ == "__main__":
    from bench.__main__ import show

    show("ingest", run())
