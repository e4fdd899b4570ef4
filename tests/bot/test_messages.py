"""Nothing the bot posts is over 2,000 characters: long text is split at clean boundaries."""

from __future__ import annotations

import re

import pytest
from botworld import write_guide

from bot.messages import split_message

SENTENCE = "The apprentice watches the fire and learns to read its colour before its heat. "


def _words(chunks: list[str]) -> list[str]:
    return " ".join(chunks).split()


def test_short_text_is_one_message():
    assert split_message("  Hello there.  ") == ["Hello there."]


def test_paragraphs_are_kept_whole_when_they_fit():
    paragraphs = [f"p{i} " + SENTENCE * 6 for i in range(8)]  # ~490 characters each
    text = "\n\n".join(p.strip() for p in paragraphs)
    chunks = split_message(text)
    assert all(len(c) <= 2000 for c in chunks) and len(chunks) == 2
    for chunk in chunks:
        assert chunk.startswith("p") and chunk.endswith(".")  # cut between paragraphs
    assert _words(chunks) == text.split()


def test_one_long_paragraph_is_cut_between_sentences():
    text = (SENTENCE * 60).strip()  # ~4,800 characters, no line breaks
    chunks = split_message(text)
    assert len(chunks) == 3 and all(len(c) <= 2000 for c in chunks)
    assert all(c.endswith("heat.") for c in chunks)
    assert _words(chunks) == text.split()


def test_text_without_sentences_is_cut_between_words_and_a_huge_word_anywhere():
    words = " ".join(["chisel"] * 800)
    chunks = split_message(words)
    assert all(len(c) <= 2000 and not c.startswith(" ") for c in chunks)
    assert _words(chunks) == words.split()
    blob = "x" * 4500
    assert [len(c) for c in split_message(blob)] == [2000, 2000, 500]


@pytest.mark.asyncio
async def test_a_long_question_is_posted_in_several_messages(world):
    intro = (SENTENCE * 35).strip()  # ~2,800 characters before the question itself
    write_guide(world.guides_dir, audit_intro=intro)
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        before = len(server.messages_in(thread))
        await server.user_sends(server.expert, thread, "I forge kitchen knives.")
        await world.wait_question(2, thread)
        posted = server.messages_in(thread)[before:]
    assert len(posted) >= 2
    assert all(len(m.content) <= 2000 for m in server.messages_in(thread))
    assert [bool(m.custom_ids) for m in posted] == [False] * (len(posted) - 1) + [True]
    text = " ".join(m.content for m in posted)
    assert " ".join(intro.split()) in " ".join(text.split())
    assert re.search(r"Question 2 of 4\*\*\nWhat do you notice", posted[-1].content)
