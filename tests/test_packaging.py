"""A normal install (a wheel, not the checkout) carries the guides, templates and migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=out,
    )
    (found,) = out.glob("tacit-*.whl")
    return found


def test_the_wheel_holds_the_guides_templates_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_guides = {p.name for p in (ROOT / "knowledge/prompts/guides").glob("*.toml")}
    assert len(shipped_guides) >= 7
    for guide in shipped_guides:
        assert f"knowledge/prompts/guides/{guide}" in names
    for template in ("probe", "draft", "summary"):
        assert f"knowledge/prompts/templates/{template}.toml" in names
    assert "knowledge/storage/migrations/env.py" in names
    assert "knowledge/storage/migrations/script.py.mako" in names
    migrations = [n for n in names if n.startswith("knowledge/storage/migrations/versions/")]
    shipped = list((ROOT / "knowledge/storage/migrations/versions").glob("*.py"))
    assert len(migrations) == len(shipped) >= 1
    assert not any(n.startswith("tests/") for n in names)


def test_an_installed_copy_lists_every_guide_and_runs_an_interview(wheel, tmp_path):
    """Installed into a folder of its own and run from elsewhere: nothing read from the checkout."""
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", site, wheel],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TACIT_") and k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(site), HF_HUB_OFFLINE="1")

    def tacit(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        code = "import sys, knowledge; print(knowledge.__file__, file=sys.stderr); "
        code += "from knowledge.cli import cli; cli(prog_name='tacit')"
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=elsewhere,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )

    guides = tacit("guides")
    assert guides.returncode == 0, guides.stderr
    assert str(site) in guides.stderr.splitlines()[0]  # the installed copy, not the checkout
    for slug in ("air-traffic-controller", "physician", "generic", "sommelier"):
        assert slug in guides.stdout
    assert len([line for line in guides.stdout.splitlines()[1:] if line.strip()]) >= 7

    chat = tacit(
        "chat",
        "--guide",
        "physician",
        "--consent",
        "--name",
        "Installed",
        stdin="I look at the patient before the monitor.\n/end\n",
    )
    assert chat.returncode == 0, chat.stderr
    assert "Q1/" in chat.stdout and "ended" in chat.stdout
    assert (elsewhere / "data" / "tacit.db").exists()
