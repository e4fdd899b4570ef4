"""The refusals of an interview: what the expert asked for cannot be done, and why."""

from __future__ import annotations

import functools
import logging

from knowledge.errors import TacitError
from knowledge.storage import unavailable

log = logging.getLogger(__name__)


class InterviewError(TacitError, ValueError):
    """Something the user asked for cannot be done; the message says what and why."""

    exit_code = 1


class NotFound(InterviewError):
    pass


class NotActive(InterviewError):
    pass


class ConsentRequired(InterviewError):
    pass


class TooManyActive(InterviewError):
    pass


class NotSaved(InterviewError):
    """The database could not be reached: the answer may not be stored; the front-end keeps
    its words and sends them again (with the turn id, so a retry never stores them twice)."""


def guarded(what: str):
    """An engine move whose database is unreachable raises NotSaved, saying what was not saved.

    Every other error passes through unchanged.
    """

    def decorate(move):
        @functools.wraps(move)
        async def wrapper(self, interview_id: int, *args, **kwargs):
            try:
                return await move(self, interview_id, *args, **kwargs)
            except Exception as e:
                if (reason := unavailable(e)) is None:
                    raise
                log.warning("interview %s: database unavailable: %s", interview_id, reason)
                raise NotSaved(
                    f"could not save {what}: the database is unavailable ({reason})"
                ) from None

        return wrapper

    return decorate
