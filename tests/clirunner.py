"""The real `tacit` command group run in-process (click's runner): faster than a process."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner, Result

from knowledge.cli import cli


def run(where: Path, *args: str, stdin: str = "", env: dict | None = None) -> Result:
    """`tacit ARGS` with `where` as the working directory (its ./data is the store)."""
    old = os.getcwd()
    os.chdir(where)
    try:
        env = {"TACIT_CONFIG": None, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", **(env or {})}
        return CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=True)
    finally:
        os.chdir(old)


def clean(result: Result, codes=(0, 1, 2)) -> str:
    """The run ended as a user expects: a known exit code, no traceback; what the user saw."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{result.output}"
    )
    assert result.exit_code in codes, result.output
    assert "Traceback" not in result.output
    return result.output  # stdout and stderr, as the user sees them


def one_line_error(result: Result, code: int) -> str:
    """The run failed with `code` and said why in exactly one error line."""
    clean(result, (code,))
    errors = [line for line in result.stderr.splitlines() if "rror" in line]
    assert len(errors) == 1, result.stderr
    return errors[0]
