"""The interview: a state machine over SQL, follow-up probes, coverage, entries, teach-back."""

from knowledge.interview.engine import InterviewEngine
from knowledge.interview.errors import (
    ConsentRequired,
    InterviewError,
    NotActive,
    NotFound,
    NotSaved,
    TooManyActive,
)
from knowledge.interview.views import Ask, InterviewView, Reply

__all__ = [
    "Ask",
    "ConsentRequired",
    "InterviewEngine",
    "InterviewError",
    "InterviewView",
    "NotActive",
    "NotFound",
    "NotSaved",
    "Reply",
    "TooManyActive",
]
