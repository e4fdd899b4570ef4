"""/export through the real bot, the real services and the real dataset writer."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from test_review_support import ACROMEGALY, curators_see_review, interview, moderator

from bot.exts.export._cog import NOT_ALLOWED

pytestmark = pytest.mark.asyncio


def _words(text: str) -> str:
    return " ".join(text.split())


async def _exported(server, ix):
    """The /export reply once it holds the result (the export runs in the background)."""
    await ix.wait_response()
    return await server.wait_for_message(
        predicate=lambda m: m is ix.message and "**Exported" in m.content, timeout=60
    )


@pytest.fixture
def out_dir(world, tmp_path):
    folder = tmp_path / "exports"
    world.settings.export = world.settings.export.model_copy(update={"out_dir": folder})
    return folder


@pytest.mark.postgres
async def test_a_curator_gets_the_approved_entries_zipped_in_their_dms(world, out_dir):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:3])
    for eid in (ids[0], ids[2]):
        await services.review.approve("cli:test", eid)
    async with world.run():
        ix = await server.slash(server.curator, "export dataset", {"format": "openai"})
        reply = await _exported(server, ix)
        (dm,) = server.messages_in(server.dm(server.curator))
    assert reply.ephemeral and reply.attachments == []
    assert any("Exporting approved entries as openai" in v["content"] for v in reply.history)
    assert "from 2 entries" in reply.content and "Sent to your DMs: `tacit-openai-" in reply.content
    # a DM, not an ephemeral reply: it stays readable, and the bot can delete it later
    assert not dm.ephemeral and "Your export of **" in dm.content
    (file,) = dm.attachments
    assert file.filename.startswith("tacit-openai-") and file.filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(file.data)) as z:
        names = z.namelist()
        (data,) = [n for n in names if n.endswith(".jsonl") and not n.endswith(".provenance.jsonl")]
        examples = [json.loads(line) for line in z.read(data).decode().splitlines()]
    assert any(n.endswith(".provenance.jsonl") for n in names)
    # beside the data, what LLaMA-Factory and Axolotl need to load it
    assert any(n.endswith(".axolotl.yaml") for n in names)
    assert any(n.endswith(".llamafactory/dataset_info.json") for n in names)
    # the same files stay on the server, in the server's own folder
    assert (out_dir / f"guild-{server.guild.id}" / data).is_file()
    said = [
        _words(m["content"]) for ex in examples for m in ex["messages"] if m["role"] == "assistant"
    ]
    for approved in (ACROMEGALY[0], ACROMEGALY[2]):
        opening = _words(approved)[:120]
        assert any(opening in s for s in said), opening
    assert not any(_words(ACROMEGALY[1])[:120] in s for s in said)  # still pending
    # recorded: who, where, and the message it was posted in
    (rec,) = await services.exports.list()
    assert (rec.actor, rec.guild_id, rec.entries, rec.posts) == (
        f"discord:{server.curator.id}",
        server.guild.id,
        2,
        1,
    )


async def test_a_dataset_too_big_to_upload_is_left_on_the_server(world, out_dir):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:2])
    await services.review.approve("cli:test", ids[0])
    async with world.run():
        world.bots[-1].get_cog("Export").upload_limit = 100  # bytes: no dataset fits
        ix = await server.slash(server.curator, "export dataset", {"format": "sharegpt"})
        reply = await _exported(server, ix)
    assert reply.attachments == []
    assert "more than the 100 bytes Discord accepts here" in reply.content
    assert f"written on the server in `{out_dir}" in reply.content
    folder = out_dir / f"guild-{server.guild.id}"
    (written,) = [p for p in folder.glob("*.jsonl") if not p.name.endswith(".provenance.jsonl")]
    assert written.name.startswith("tacit-sharegpt-") and written.stat().st_size > 0
    assert server.messages_in(server.dm(server.curator)) == []


async def test_nothing_to_export_says_so_and_writes_nothing(world, out_dir):
    server = world.server
    curators_see_review(server)
    services = await world.open()
    await interview(services, ACROMEGALY[:1])  # pending only
    async with world.run():
        ix = await server.slash(server.curator, "export dataset", {"format": "alpaca"})
        await ix.wait_response()
        reply = await server.wait_for_message(predicate=lambda m: m is ix.message)
    assert reply.content.startswith("Nothing to export: no approved entries")
    assert not out_dir.exists() or not any(out_dir.iterdir())


async def test_a_non_curator_cannot_export(world, out_dir):
    server = world.server
    services = await world.open()
    ids = await interview(services, ACROMEGALY[:1])
    await services.review.approve("cli:test", ids[0])
    async with world.run():
        with pytest.raises(PermissionError, match="default_member_permissions"):
            await server.slash(server.stranger, "export dataset", {"format": "openai"})
        ix = await server.slash(moderator(server), "export dataset", {"format": "openai"})
        await ix.wait_response()
        assert ix.message.ephemeral and ix.message.content == NOT_ALLOWED
        assert ix.message.attachments == [] and ix.followup_messages == []
    assert not out_dir.exists()
