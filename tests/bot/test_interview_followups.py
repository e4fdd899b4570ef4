"""The listening follow-ups reach Discord like any question: posted, answered, then the guide."""

from __future__ import annotations

import pytest
from botworld import done_id
from sqlalchemy import select

from knowledge.storage import Turn
from tests.conftest import real_pairs


def _answer_with_terms() -> str:
    """A real clinician's answer long enough to hold specific phrases (SCOTUS, PriMock57)."""
    for pair in real_pairs("primock57_day1_consultation01"):
        text = " ".join(pair["answer"].split())
        if len(text.split()) >= 30:
            return text
    raise AssertionError("no long answer in the sample")


@pytest.mark.asyncio
async def test_a_follow_up_names_the_experts_words_and_the_guide_resumes_after_it(world):
    world.configure(max_followups=2)  # the interviewer's own follow-ups, as in production
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        answer = _answer_with_terms()
        await server.user_sends(server.expert, thread, answer)
        follow = await server.wait_for_message(thread, lambda m: "Follow-up" in m.content)
        assert done_id(follow)  # Done and Skip, as on a guide question
        asked = follow.content.split("\n", 1)[1].strip()
        async with world.services.db.sessions() as session:
            turn = await session.scalar(select(Turn).where(Turn.question == asked))
        assert turn is not None and turn.followup and turn.status == "asked"
        # about something the expert said, in their words, and recorded as such
        assert turn.focus and turn.focus in asked
        assert turn.focus.lower() in answer.lower()
        # Follow-ups on this question are bounded; answering them leads back to the guide.
        seen = {follow.id}
        for reply in ("Mostly by how it started.", "The timing, more than anything else."):
            await server.user_sends(server.expert, thread, reply)
            nxt = await server.wait_for_message(
                thread,
                lambda m, seen=frozenset(seen): (
                    m.id not in seen
                    and ("Question 2 of 4" in m.content or "Follow-up" in m.content)
                ),
            )
            if "Question 2 of 4" in nxt.content:
                break
            assert nxt.content != follow.content  # never the same sentence twice
            follow = nxt
            seen.add(nxt.id)
        else:
            nxt = await world.wait_question(2, thread)
        assert "Question 2 of 4" in nxt.content
