"""Find and redact personal data (emails, phones, URLs, ID numbers, people's names) in exported text.

Everything here is rules and word lists: deterministic, offline (the lists ship inside the
`faker` and `phonenumbers` wheels) and fast enough for the export. docs/pii.md has the policy,
the measured precision/recall and speed, and the known weaknesses.

- email, url: regular expressions; URLs are looked for only around "://" and "." + letter.
- phone: runs of digits written like phone numbers; `phonenumbers` decides (a valid number in a
  common region, or a possible one written the way phone numbers are written: "+", "(area)", or
  a "call / phone / mobile..." word just before).
- id_number: SSNs by shape, credit cards by the Luhn check, NHS numbers by their mod-11 check,
  and any number right after an ID word ("MRN", "case no.", "account number", "passport
  number"...) that has enough digits.
- person: a personal title ("Mr.", "Dr", "Nurse"...) before a capitalised name; a relationship or
  role word before it ("my patient", "our client,", "his wife,", "colleague"...); "I'm", "named",
  "told", "asked" before a listed given name, or "said", "rang"... after it; a listed given name
  followed by a listed surname (Faker's name lists); the names passed as `known_names` (the
  expert's own); and, once a name is found, its other mentions in the same text. Judges and
  justices named by their title, case names ("Liu versus SEC", "Kokesh") and eponyms ("Bell's
  palsy") are left alone: that is the policy.
"""

from __future__ import annotations

from collections.abc import Iterable

from knowledge.pii.contacts import EMAIL_RE, url_spans
from knowledge.pii.kinds import (
    ALL_KINDS,
    EMAIL,
    ID_NUMBER,
    PERSON,
    PHONE,
    PLACEHOLDERS,
    PRIORITY,
    URL,
    Redaction,
    Span,
)
from knowledge.pii.names import known_name_pattern, name_lexicon, person_spans
from knowledge.pii.numbers import number_spans
from knowledge.vocab import PIIPolicy


class PIIScrubber:
    """Finds personal data in text and redacts it. Build once, use for many texts (thread-safe)."""

    def __init__(
        self, *, kinds: frozenset[str] = ALL_KINDS, known_names: Iterable[str] = ()
    ) -> None:
        unknown = set(kinds) - ALL_KINDS
        if unknown:
            raise ValueError(
                f"unknown PII kinds: {sorted(unknown)}; expected some of {sorted(ALL_KINDS)}"
            )
        self.kinds = frozenset(kinds)
        self._known = known_name_pattern(known_names) if PERSON in self.kinds else None
        if PERSON in self.kinds:
            self._lex = name_lexicon()

    # -- public API

    def find(self, text: str) -> list[Span]:
        """Non-overlapping spans of personal data, in text order."""
        if not text:
            return []
        cands: list[tuple[int, int, str]] = []
        kinds = self.kinds
        if EMAIL in kinds and "@" in text:
            cands.extend((*m.span(), EMAIL) for m in EMAIL_RE.finditer(text))
        if URL in kinds and ("://" in text or "." in text):
            cands.extend((s, e, URL) for s, e in url_spans(text))
        want_id, want_phone = ID_NUMBER in kinds, PHONE in kinds
        if want_id or want_phone:
            cands.extend(number_spans(text, want_id, want_phone))
        if PERSON in kinds:
            cands.extend((s, e, PERSON) for s, e in person_spans(text, self._lex, self._known))
        return self._resolve(text, cands)

    def redact(self, text: str) -> Redaction:
        spans = self.find(text)
        if not spans:
            return Redaction(text, ())
        parts = []
        pos = 0
        for s in spans:
            parts.append(text[pos : s.start])
            parts.append(PLACEHOLDERS[s.kind])
            pos = s.end
        parts.append(text[pos:])
        return Redaction("".join(parts), tuple(spans))

    def has_pii(self, text: str) -> bool:
        return bool(self.find(text))

    def apply(self, text: str, policy: PIIPolicy | str) -> str | None:
        """The text as the export should ship it under `policy`; None means hold the example back."""
        policy = PIIPolicy(policy)
        if policy is PIIPolicy.off:
            return text
        if policy is PIIPolicy.hold:
            return None if self.has_pii(text) else text
        return self.redact(text).text

    # -- internals

    @staticmethod
    def _resolve(text: str, cands: list[tuple[int, int, str]]) -> list[Span]:
        if not cands:
            return []
        # Merge overlapping spans of one kind, then let the more specific kind win overlaps.
        merged: list[tuple[int, int, str]] = []
        for s, e, k in sorted(cands, key=lambda c: (c[2], c[0], -c[1])):
            if merged and merged[-1][2] == k and s <= merged[-1][1]:
                ps, pe, _ = merged[-1]
                merged[-1] = (ps, max(pe, e), k)
            else:
                merged.append((s, e, k))
        kept: list[tuple[int, int, str]] = []
        for s, e, k in sorted(merged, key=lambda c: (PRIORITY[c[2]], c[0] - c[1], c[0])):
            if all(e <= ks or s >= ke for ks, ke, _ in kept):
                kept.append((s, e, k))
        kept.sort()
        return [Span(s, e, k, text[s:e]) for s, e, k in kept]
