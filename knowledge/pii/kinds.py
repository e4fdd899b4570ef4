"""The kinds of personal data tacit finds, their placeholders, and what a finding is."""

from __future__ import annotations

from dataclasses import dataclass

EMAIL, PHONE, URL, ID_NUMBER, PERSON = "email", "phone", "url", "id_number", "person"
ALL_KINDS: frozenset[str] = frozenset({EMAIL, PHONE, URL, ID_NUMBER, PERSON})
PLACEHOLDERS: dict[str, str] = {
    EMAIL: "[EMAIL]",
    PHONE: "[PHONE]",
    URL: "[URL]",
    ID_NUMBER: "[ID]",
    PERSON: "[PERSON]",
}
# When spans of different kinds overlap, the more specific one wins.
PRIORITY = {EMAIL: 0, URL: 1, ID_NUMBER: 2, PHONE: 3, PERSON: 4}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    text: str


@dataclass(frozen=True)
class Redaction:
    text: str
    spans: tuple[Span, ...]
