"""Every refusal the core makes derives from TacitError: one line for the user, one exit code.

Front-ends map it in one place each: the command line (`knowledge.cli.common.run_async`), the
terminal interview, and the bot's command-tree error handler (`bot.client.Tree`).
"""

from __future__ import annotations


class TacitError(Exception):
    """Something asked of tacit cannot be done; `str(e)` says what and why, in one line."""

    exit_code = 1

    @property
    def message(self) -> str:
        return str(self)


class SetupError(TacitError):
    """tacit itself cannot run as configured: settings, guides, database, model (exit 2)."""

    exit_code = 2
