"""The refusals of curator review, each one line for the curator."""

from __future__ import annotations

from knowledge.errors import TacitError


class ReviewError(TacitError, ValueError):
    """A review action that cannot be done; the message says what and why, in one line."""

    exit_code = 1


class EntryNotFound(ReviewError):
    pass


class EntryWithdrawn(EntryNotFound):
    """The entry was deleted because its expert withdrew (asked to be forgotten)."""


class EntryClaimed(ReviewError):
    """Another curator has this entry on screen right now."""


class NothingToUndo(ReviewError):
    pass


class UndoConflict(ReviewError):
    """The entry changed after the decision being undone; undoing would overwrite that."""


class AlreadyReviewed(ReviewError):
    """This curator has decided on this entry; it waits for other curators' reviews."""
