"""Logging on every front-end: log_level and -v/-q apply, JSON lines, secrets never shown."""

from __future__ import annotations

import json
import logging

import pytest

from knowledge.cli.common import log_level
from knowledge.config import Settings
from knowledge.ops import logs
from tests.clirunner import clean, run

TOKEN = "MTIzNDU2Nzg5.fake-discord-token.abcdef"
KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)


def test_log_level_from_the_environment_applies_on_the_command_line(tmp_path, restore_logging):
    quiet = run(tmp_path, "stats")
    clean(quiet, (0,))
    assert "DEBUG" not in quiet.stderr and "INFO" not in quiet.stderr
    import os

    os.environ["TACIT_LOG_LEVEL"] = "DEBUG"
    try:
        loud = run(tmp_path, "stats")
    finally:
        del os.environ["TACIT_LOG_LEVEL"]
    clean(loud, (0,))
    assert "DEBUG " in loud.stderr


def test_verbose_and_quiet_move_the_level_from_warnings():
    assert log_level({}) == logging.WARNING
    assert log_level({"verbose": 1}) == logging.INFO
    assert log_level({"verbose": 5}) == logging.DEBUG
    assert log_level({"quiet": 1}) == logging.ERROR
    explicit = Settings(log_level="DEBUG")
    assert log_level({}, explicit) == logging.DEBUG
    assert log_level({"quiet": 1}, explicit) == logging.ERROR  # the command line wins
    assert log_level({}, Settings()) == logging.WARNING  # the default INFO is the bot's


def test_json_lines_on_the_command_line(tmp_path, restore_logging):
    r = run(tmp_path, "--log-json", "-v", "doctor", "--repair")
    clean(r, (0,))
    lines = [json.loads(x) for x in r.stderr.splitlines() if x.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)
    assert any(x["logger"] == "knowledge.ops.doctor" and x["level"] == "INFO" for x in lines)


@pytest.mark.parametrize("as_json", [False, True])
def test_secrets_never_reach_a_log_line(capsys, monkeypatch, restore_logging, as_json):
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    settings = Settings(
        llm={"api_key": KEY}, database={"url": "postgresql+asyncpg://tacit:pw-secret-77@db/t"}
    )
    logs.configure(logging.DEBUG, json=as_json, settings=settings)
    log = logging.getLogger("tacit.test")
    log.info("connecting with %s and %s", TOKEN, KEY)
    try:
        raise RuntimeError(f"refused: Authorization: Bot {TOKEN} / pw-secret-77")
    except RuntimeError:
        log.exception("the call failed")
    err = capsys.readouterr().err
    assert "refused" in err and logs.REDACTED in err
    for secret in (TOKEN, KEY, "pw-secret-77"):
        assert secret not in err
