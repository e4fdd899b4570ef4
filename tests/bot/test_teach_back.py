"""With an LLM configured, the interview ends with a teach-back summary the expert can correct."""

from __future__ import annotations

import pytest
import pytest_asyncio
from botworld import GUIDE

from knowledge.config import LLMSettings
from tests.llm_servers import FakeOpenAI

ANSWERS = [
    "I repair mechanical watches for collectors.",
    "The sound of the balance wheel tells me more than the timing machine.",
    "I keep one tray per customer so parts never wander between watches.",
    "Nothing more, thank you.",
]
SUMMARY = "You repair mechanical watches for collectors and listen to the balance wheel."


@pytest_asyncio.fixture
async def llm():
    server = await FakeOpenAI(content=SUMMARY).start()
    yield server
    await server.stop()


@pytest.mark.asyncio
async def test_teach_back_summary_and_the_experts_correction_are_kept(world, llm):
    world.settings.llm = LLMSettings(model="fake", base_url=llm.url, timeout=5, max_retries=0)
    server = world.server
    async with world.run():
        thread = await world.start_interview()
        for number, text in enumerate(ANSWERS, 1):
            await server.user_sends(server.expert, thread, text)
            if number < 4:
                await world.wait_question(number + 1, thread)
        summary = await server.wait_for_message(thread, lambda m: "what I understood" in m.content)
        assert "> " + SUMMARY in summary.content
        closing = await server.wait_for_message(thread, lambda m: "complete" in m.content)
        assert closing.id > summary.id

        (correct,) = summary.custom_ids
        with pytest.raises(PermissionError):  # strangers cannot even see the private thread
            await server.click(server.stranger, summary, correct)
        click = await server.click(server.expert, summary, correct)
        await click.wait_response()
        form = click.modal
        assert form["custom_id"].startswith("tacit:correction:")
        sub = await server.submit_modal(
            server.expert,
            form["custom_id"],
            {"tacit:correction:text": "I also repair clocks, but rarely."},
        )
        await sub.wait_response()
        done = await server.wait_for_message(predicate=lambda m: m is sub.message)
        assert done.ephemeral and "correction is kept" in done.content
    (iv,) = (await world.services.experts.data(await world.expert_id()))["interviews"]
    assert iv["guide"] == GUIDE and iv["summary"] == SUMMARY
    assert iv["summary_correction"] == "I also repair clocks, but rarely."
