"""The refusals of an interview: what the expert asked for cannot be done, and why."""

from __future__ import annotations

from knowledge.errors import TacitError


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
