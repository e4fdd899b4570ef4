"""/me entries through the real bot: an expert corrects one entry and withdraws another; the
curator sees the correction as the expert's own, and the export ships it and leaves the
withdrawn one out. And /me forget after an export rewrites the file and deletes the post."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from test_review_support import ACROMEGALY, curators_see_review, interview, reply_to

pytestmark = pytest.mark.asyncio

CORRECTION = (
    "Acromegaly is a hormonal disorder from too much growth hormone in adults; I always add "
    "that it comes on so slowly that patients often notice it first in old photographs."
)


def words(text: str) -> str:
    return " ".join(text.split())


async def exported(server, ix):
    await ix.wait_response()
    return await server.wait_for_message(
        predicate=lambda m: m is ix.message and "**Exported" in m.content, timeout=60
    )


def assistant_texts(zip_bytes: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
        (data,) = [  # beside it: provenance, LLaMA-Factory and Axolotl files
            n for n in z.namelist() if n.endswith(".jsonl") and not n.endswith(".provenance.jsonl")
        ]
        lines = z.read(data).decode().splitlines()
    return [
        words(m["content"])
        for line in lines
        for m in json.loads(line)["messages"]
        if m["role"] == "assistant"
    ]


async def edited(server, message, since: int):
    return await server.wait_for_message(
        predicate=lambda m: m is message and len(m.history) > since
    )


@pytest.mark.postgres
async def test_an_expert_corrects_one_entry_and_withdraws_another(world, tmp_path):
    server = world.server
    curators_see_review(server)
    world.settings.export = world.settings.export.model_copy(update={"out_dir": tmp_path})
    services = await world.open()
    expert = server.expert
    ids = await interview(services, ACROMEGALY[:3], external_id=str(expert.id))
    async with world.run():
        panel = await reply_to(server, await server.slash(expert, "me entries"))
        assert panel.ephemeral and "Your entries (3)" in panel.text
        assert f"#{ids[0]}" in panel.text and "pending" in panel.text

        # correct the first: the form holds their answer as it stands
        versions = len(panel.history)
        await server.click(expert, panel, f"tacit:me:pick:{expert.id}", values=[str(ids[0])])
        await edited(server, panel, versions)
        assert f"Entry #{ids[0]}" in panel.text
        click = await server.click(expert, panel, f"tacit:me:correct:{expert.id}:{ids[0]}")
        await click.wait_response()
        (field,) = click.modal["components"][0]["components"]
        assert words(field["value"]) == words(ACROMEGALY[0])
        versions = len(panel.history)
        sub = await server.submit_modal(
            expert, f"tacit:me:correct-form:{ids[0]}", {"part0": CORRECTION}
        )
        await sub.wait_response()
        await edited(server, panel, versions)
        assert "your correction is kept beside your first answer" in panel.text
        assert "corrected" in panel.text and CORRECTION[:60] in panel.text

        # withdraw the second, after a confirmation
        for cid, values in (
            (f"tacit:me:page:{expert.id}:0:back", None),
            (f"tacit:me:pick:{expert.id}", [str(ids[1])]),
            (f"tacit:me:withdraw:{expert.id}:{ids[1]}", None),
        ):
            versions = len(panel.history)
            await server.click(expert, panel, cid, values=values)
            await edited(server, panel, versions)
        assert f"Withdraw entry #{ids[1]}?" in panel.content
        versions = len(panel.history)
        await server.click(expert, panel, f"tacit:me:withdraw-yes:{expert.id}:{ids[1]}")
        await edited(server, panel, versions)
        assert f"Entry #{ids[1]} is withdrawn" in panel.text and "Your entries (2)" in panel.text

        # nobody else can press their buttons
        with pytest.raises(PermissionError):  # an ephemeral message is the expert's alone
            await server.click(server.stranger, panel, f"tacit:me:pick:{expert.id}", values=["1"])

        # the curator sees the correction as the expert's own
        ix = await server.slash(server.curator, "review entry", {"id": ids[0]})
        first = await reply_to(server, ix)
        await server.idle()  # a long entry comes in several messages
        detail = "\n".join(m.content for m in [first, *ix.followup_messages])
        assert "The expert corrected this answer" in detail
        assert "**The expert's first answer**" in detail and "corrected their own answer" in detail
        for eid in (ids[0], ids[2]):
            await services.review.approve("cli:test", eid)
        report = await exported(
            server, await server.slash(server.curator, "export dataset", {"format": "openai"})
        )
        (dm,) = server.messages_in(server.dm(server.curator))
    assert "from 2 entries" in report.content
    said = assistant_texts(dm.attachments[0].data)
    assert any(words(CORRECTION) in s for s in said)
    assert not any(words(ACROMEGALY[0])[:100] in s for s in said)
    assert not any(words(ACROMEGALY[1])[:100] in s for s in said)  # withdrawn
    assert any(words(ACROMEGALY[2])[:100] in s for s in said)


@pytest.mark.postgres
async def test_forget_after_an_export_rewrites_the_file_and_deletes_the_posted_zip(world, tmp_path):
    server = world.server
    curators_see_review(server)
    world.settings.export = world.settings.export.model_copy(update={"out_dir": tmp_path})
    services = await world.open()
    expert = server.expert
    ids = await interview(services, ACROMEGALY[:2], external_id=str(expert.id))
    others = await interview(services, ACROMEGALY[2:4], name="bo", external_id="700002")
    for eid in ids + others:
        await services.review.approve("cli:test", eid)
    record = await services.experts.find("discord", str(expert.id), guild_id=server.guild.id)
    async with world.run():
        await exported(
            server, await server.slash(server.curator, "export dataset", {"format": "openai"})
        )
        (posted,) = server.messages_in(server.dm(server.curator))
        (written,) = [
            p
            for p in (tmp_path / f"guild-{server.guild.id}").glob("*.jsonl")
            if not p.name.endswith(".provenance.jsonl")
        ]
        assert words(ACROMEGALY[0])[:100] in words(written.read_text())

        warning = await reply_to(server, await server.slash(expert, "me forget"))
        click = await server.click(expert, warning, f"tacit:forget:yes:{expert.id}")
        await click.wait_response()
        await server.wait_for(lambda c: "is deleted" in warning.content)
    text = warning.content
    assert "Taken out of 1 dataset" in text and "I deleted 1 message" in text
    assert "cannot be recalled" in text and record.pseudonym in text  # what is owed is kept
    assert posted.deleted  # the zip in the curator's DMs is gone
    on_disk = words(written.read_text())
    provenance = written.with_name(written.name.removesuffix(".jsonl") + ".provenance.jsonl")
    for answer in ACROMEGALY[:2]:
        assert words(answer)[:100] not in on_disk
    assert record.pseudonym not in provenance.read_text()
    assert words(ACROMEGALY[2])[:100] in on_disk  # the other expert's examples stay
    (rec,) = await services.exports.list()
    assert rec.status == "rewritten" and rec.posts == 0
