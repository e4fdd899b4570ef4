"""`--push-to-hub`: an hf export uploaded with huggingface_hub's HfApi to a stand-in Hub."""

from __future__ import annotations

import asyncio
import logging

import pytest
import pytest_asyncio
from aiohttp import web

from knowledge.export import ExportError, export
from knowledge.export.hub import push_folder
from tests.conftest import free_port
from tests.hubstandin import HubStandIn
from tests.test_dataset import approve, expert, interview, long_answers, opts

TOKEN = "hf_standin_9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest_asyncio.fixture
async def hub(monkeypatch):
    """The stand-in on a loopback port; HF_ENDPOINT and HF_TOKEN pointing at it."""
    import huggingface_hub.constants

    stand_in = HubStandIn(token=TOKEN)
    runner = web.AppRunner(stand_in.app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # the suite sets it
    yield stand_in
    await runner.cleanup()


@pytest_asyncio.fixture
async def folder(services, tmp_path):
    ana = await expert(services, "ana", "Ana Ruiz")
    await interview(services, ana.id, "litigator", long_answers("scotus_2019.18-1501-t01", 3))
    await approve(services)
    report = await export(services, opts(tmp_path, "hf"))
    return report.out


@pytest.mark.asyncio
async def test_an_hf_export_arrives_on_the_hub_whole_and_private(hub, folder, caplog):
    caplog.set_level(logging.DEBUG)
    pushed = await asyncio.to_thread(push_folder, folder, "tacit-lab/litigators", private=True)
    repo = hub.repos["tacit-lab/litigators"]
    assert repo.type == "dataset" and repo.private
    local = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    assert repo.files == local and pushed.files == len(local)  # every file, byte for byte
    assert "data/single/train-00000-of-00001.parquet" in repo.files and "README.md" in repo.files
    assert pushed.url.endswith("/datasets/tacit-lab/litigators")
    assert "/datasets/tacit-lab/litigators/commit/" in pushed.commit_url
    # create, card validated, upload modes, the commit: what huggingface_hub really calls
    assert hub.calls == [
        "POST /api/repos/create",
        "POST /api/validate-yaml",
        "POST /api/datasets/tacit-lab/litigators/preupload/main",
        "POST /api/datasets/tacit-lab/litigators/commit/main",
    ]
    assert set(hub.auth) == {f"Bearer {TOKEN}"}
    assert TOKEN not in caplog.text
    # Pushed again (after an erasure rewrote the folder): the repo exists, a second commit.
    await asyncio.to_thread(push_folder, folder, "tacit-lab/litigators")
    assert len(repo.commits) == 2 and hub.calls[4] == "POST /api/repos/create"


@pytest.mark.asyncio
async def test_a_refused_token_is_one_line_that_never_shows_it(hub, folder, monkeypatch, caplog):
    monkeypatch.setenv("HF_TOKEN", "hf_wrong_0123456789abcdef")
    with pytest.raises(ExportError) as err:
        await asyncio.to_thread(push_folder, folder, "tacit-lab/litigators")
    message = str(err.value)
    assert "401" in message and "\n" not in message
    assert "hf_wrong" not in message and "hf_wrong" not in caplog.text
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(ExportError, match="set HF_TOKEN"):
        await asyncio.to_thread(push_folder, folder, "tacit-lab/litigators")
    with pytest.raises(ExportError, match="is not ORG/NAME"):
        await asyncio.to_thread(push_folder, folder, "no-slash")
    assert hub.repos == {}
