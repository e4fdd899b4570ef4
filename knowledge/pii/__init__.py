"""Personal data in exported text: find it and redact it, by rules and word lists, offline."""

from knowledge.pii.kinds import (
    ALL_KINDS,
    EMAIL,
    ID_NUMBER,
    PERSON,
    PHONE,
    PLACEHOLDERS,
    URL,
    Redaction,
    Span,
)
from knowledge.pii.scrubber import PIIScrubber
from knowledge.vocab import PIIPolicy

__all__ = [
    "ALL_KINDS",
    "EMAIL",
    "ID_NUMBER",
    "PERSON",
    "PHONE",
    "PIIPolicy",
    "PIIScrubber",
    "PLACEHOLDERS",
    "Redaction",
    "Span",
    "URL",
]
