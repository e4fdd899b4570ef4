"""The embedder: real MiniLM, batched across callers, never on the event loop."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from knowledge.index import BatchingEmbedder, EmbeddingError, SentenceTransformerEncoder
from tests.conftest import real_pairs

pytestmark = pytest.mark.asyncio

ANSWERS = [p["answer"] for p in real_pairs("medquad_5_NIDDK_QA")][:40]


async def test_answers_arriving_together_are_encoded_in_one_batch(encoder):
    emb = BatchingEmbedder(encoder, batch_size=64, max_wait_ms=20)
    try:
        vectors = await asyncio.gather(*(emb.embed_one(a) for a in ANSWERS[:30]))
        assert emb.batches == 1
        alone = encoder.encode([ANSWERS[7]])[0]
        assert np.allclose(vectors[7], alone, atol=1e-5)  # batching changes nothing
    finally:
        await emb.close()


async def test_short_texts_gathered_beside_a_long_answer_are_not_padded_to_its_length(encoder):
    """The micro-batcher gathers phrases and questions beside whole answers; the model pads a
    batch to its longest text, so like lengths go together, and every vector is still the one
    its text gets alone, in the caller's order."""
    from knowledge.index.embeddings import padded_batches

    short = ["hairspring", "the pallet stones", "What do you check first, and why?"] * 10
    texts = [ANSWERS[0], *short, ANSWERS[1]]
    batches = padded_batches(texts, 64, 1024)
    assert sorted(i for b in batches for i in b) == list(range(len(texts)))
    (longs,) = [b for b in batches if 0 in b]
    assert set(longs) <= {0, len(texts) - 1}  # no short text padded to an answer's length
    vectors = encoder.encode(texts)
    for i in (0, 1, 3, len(texts) - 1):
        assert np.allclose(vectors[i], encoder.encode([texts[i]])[0], atol=1e-5)


async def test_batches_are_capped_at_the_configured_size(encoder):
    emb = BatchingEmbedder(encoder, batch_size=8, max_wait_ms=20)
    try:
        await asyncio.gather(*(emb.embed_one(a) for a in ANSWERS[:20]))
        assert emb.batches == 3
    finally:
        await emb.close()


async def test_encoding_runs_off_the_event_loop(encoder):
    seen_threads = set()
    real = encoder.encode

    def spy(texts):
        seen_threads.add(threading.current_thread().name)
        return real(texts)

    class Spy:
        name = encoder.name
        encode = staticmethod(spy)

    emb = BatchingEmbedder(Spy(), batch_size=64, max_wait_ms=1)
    ticks = 0

    async def heartbeat():
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    try:
        await emb.embed(ANSWERS * 3)
    finally:
        beat.cancel()
        await emb.close()
    assert threading.main_thread().name not in seen_threads
    assert ticks > 10  # the loop kept running while the model worked


async def test_vectors_are_unit_length_and_close_for_close_meanings(encoder):
    emb = BatchingEmbedder(encoder)
    try:
        a, b, c = await emb.embed(
            [
                "The patient has had watery diarrhoea for three days.",
                "Loose, watery stools since the weekend, several times a day.",
                "Disgorgement under the securities laws is an equitable remedy.",
            ]
        )
    finally:
        await emb.close()
    assert np.allclose([a @ a, b @ b, c @ c], 1.0, atol=1e-4)
    assert a @ b > a @ c + 0.3


async def test_a_model_that_is_not_on_disk_is_a_clear_error(tmp_path):
    enc = SentenceTransformerEncoder(str(tmp_path / "no-such-model"))
    emb = BatchingEmbedder(enc)
    try:
        with pytest.raises(EmbeddingError, match="embeddings.model: cannot load"):
            await emb.embed_one("anything")
    finally:
        await emb.close()
