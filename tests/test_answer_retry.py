"""An answer sent again (its reply was lost to a crash or an outage) is stored once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from knowledge.storage import Turn, TurnStatus
from tests.conftest import real_pairs


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_an_answer_resent_for_a_question_already_answered_is_not_stored_twice(
    services, consented_expert
):
    a1, a2 = (p["answer"] for p in real_pairs("scotus_2019.18-1501-t01")[1:3])
    first = await services.engine.start(consented_expert.id, "litigator")
    reply = await services.engine.answer(first.interview_id, a1, turn_id=first.turn_id)
    again = await services.engine.answer(first.interview_id, a1, turn_id=first.turn_id)
    assert again.turn_id == first.turn_id and again.entry_ids == reply.entry_ids
    assert again.next.turn_id == reply.next.turn_id  # the question that is open now
    await services.engine.answer(first.interview_id, a2, turn_id=reply.next.turn_id)
    async with services.db.sessions() as s:
        answered = list(
            await s.scalars(
                select(Turn.answer).where(Turn.status == TurnStatus.answered).order_by(Turn.seq)
            )
        )
    assert answered == [a1.strip(), a2.strip()]
