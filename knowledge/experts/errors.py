"""The refusals of an expert's own data: one line each, for the expert."""

from __future__ import annotations

from knowledge.errors import TacitError


class ExpertError(TacitError, ValueError):
    """Something an expert asked about their own data cannot be done; the message says why."""


class NotYourEntry(ExpertError):
    """The entry is not the expert's, or no longer exists: the message does not say which."""
