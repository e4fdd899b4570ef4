"""ID numbers and phone numbers: shapes, check digits, cue words, and `phonenumbers`."""

from __future__ import annotations

import re

import phonenumbers

from knowledge.pii.kinds import ID_NUMBER, PHONE


class _DigitClass(dict):
    """str.translate table: every digit to "0", everything else to " " (filled in as met)."""

    def __missing__(self, code: int) -> str:
        value = "0" if chr(code).isdigit() else " "
        self[code] = value
        return value


_DIGIT_CLASS = _DigitClass()
_DROP_DIGITS = str.maketrans("", "", "0123456789")
_CHUNK = re.compile(r"\d+(?:[-/:.() \t]+\d+)*")
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:.-")
_SSN = re.compile(r"(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}")
_CARD = re.compile(r"[3-6]\d{3}(?:[ -]?\d{2,6}){2,4}")
_NHS = re.compile(r"(\d{3})([ -]?)(\d{3})\2(\d{4})")
_NHS_CUE = re.compile(r"\b(?:nhs|chi)\b[^.\n]{0,30}$")  # on lower-cased text
_ID_CUE = re.compile(  # on lower-cased text, ending where the number starts
    r"(?x)\b(?:"
    r"ssn|social\s+security(?:\s+(?:number|no\.?|\#))?"
    r"|(?:nhs|chi|nino|ni|national\s+insurance)\s+(?:number|no\.?|\#)"
    r"|mrn|medical\s+record(?:\s+(?:number|no\.?|\#))?|hospital\s+(?:number|no\.?|\#)"
    r"|(?:patient|record|member(?:ship)?|employee|staff|student|customer|client|file|matter"
    r"|invoice|tax|insurance|policy|passport|licen[cs]e|reference|ref\.?|claim|card|case|docket"
    r"|account|acct\.?|a/c|routing)\s+(?:id|number|no\.?|num\.?|\#)"
    r"|claim\s+reference|case\s+reference|patient\s+id|member\s+id"
    r"|case|docket|claim|account|acct\.?|a/c|passport|card|id|iban|ref\.?|reference"
    r")"
    r"(?:\s*(?:[:#=,]|is|was)\s*|\s+)(?:number\s+)?\#?$"
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
# A cue word alone ("case", "account", "ID") is weak: the number must look like an identifier.
_STRONG_CUE = re.compile(
    r"ssn|social|nhs|chi|nino|national|mrn|medical|hospital|number|no\b|no\.|num|#|iban|routing"
)
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_PHONE_CUE = re.compile(
    r"\b(?:call|calls|called|calling|phone|phoned|tel|telephone|mobile|cell|cellphone|fax|ring|"
    r"rang|text|texted|whatsapp|number|line|landline|reach|reached|contact|on|dial|dialled|dialed|voicemail)"
    r"\b[^.\n\d]{0,20}$"
)  # on lower-cased text
_NOT_PHONE = re.compile(
    r".*[/:].*|\d{1,4}[-.]\d{1,2}[-.]\d{2,4}"
)  # "12/03/2021", "9:30", "19.03.2021"
_PHONE_REGIONS = ("US", "GB", "AU", "IN", "CA", "IE", "NZ")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _nhs_ok(digits: str) -> bool:
    total = sum((ord(c) - 48) * (10 - i) for i, c in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == ord(digits[9]) - 48


def _phone_ok(cand: str, before: str) -> bool:
    """`before` is the lower-cased text just before the candidate."""
    digits = sum(c.isdigit() for c in cand)
    if not 7 <= digits <= 15:
        return False
    cued = bool(_PHONE_CUE.search(before))
    shaped = cand.startswith("+") or "(" in cand
    regions = (None,) if cand.startswith("+") else _PHONE_REGIONS
    for region in regions:
        try:
            num = phonenumbers.parse(cand, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            # A bare run of digits or a date-like "1963-1985" needs a hint that it is a phone.
            if cued or shaped or digits >= 10:
                return True
        elif (cued or shaped) and phonenumbers.is_possible_number(num) and digits >= 9:
            return True
    return False


def _iban_ok(value: str) -> bool:
    """The ISO 13616 mod-97 check."""
    compact = value.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) != len(text):  # a rare character changed length when lower-cased: keep offsets
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return low


def number_spans(text: str, want_id: bool, want_phone: bool) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    # Finding digits through str.translate and str.find is several times faster than a regex scan.
    classes = text.translate(_DIGIT_CLASS)
    if classes.count("0") < 4:
        return out
    if want_id and classes.count("0") >= 12:
        out.extend((*m.span(), ID_NUMBER) for m in _IBAN.finditer(text) if _iban_ok(m.group()))
    low: str | None = None
    n = len(text)
    pos = classes.find("0")
    while pos != -1:
        m = _CHUNK.match(text, pos)
        s, e = m.span() if m else (pos, pos + 1)
        pos = classes.find("0", e)
        raw = text[s:e]
        digits = len(raw) - len(raw.translate(_DROP_DIGITS))
        if digits < 4:
            continue
        if s and text[s - 1] == "(":
            s -= 1
        if s and text[s - 1] == "+":
            s -= 1
        elif s > 1 and text[s - 2 : s] == "+ ":
            s -= 2
        # drop separators the chunk pattern let in at its end ("(415) 867-2309)" has none)
        while e > s and not text[e - 1].isdigit():
            e -= 1
        raw = text[s:e]
        # the token the digits belong to: "A2291-0075", "1:21-cr-00399-RDM", "NCT00004992"
        ts, te = s, e
        if " " not in raw and "\t" not in raw:
            while ts > 0 and text[ts - 1] in _TOKEN_CHARS:
                ts -= 1
            while te < n and text[te] in _TOKEN_CHARS:
                te += 1
            while te > e and not text[te - 1].isalnum():
                te -= 1
            while ts < s and not text[ts].isalnum() and text[ts] not in "+(":
                ts += 1
        glued = ts < s or te > e  # letters or more digits around: an identifier, not a bare number
        if low is None:
            low = _lower_same_length(text)
        before = low[max(0, ts - 45) : ts]
        if want_id:
            kind_span = _id_kind(text, raw, s, e, ts, te, glued, before)
            if kind_span:
                out.append((*kind_span, ID_NUMBER))
                continue
        if want_phone and digits >= 7 and not glued and not _NOT_PHONE.fullmatch(raw):
            prev = text[s - 1] if s else " "
            nxt = text[e] if e < n else " "
            if (
                prev in "$£€#"
                or nxt in "%"
                or (nxt in ".," and e + 1 < n and text[e + 1].isdigit())
            ):
                continue
            if _phone_ok(raw, before[-30:]):
                out.append((s, e, PHONE))
    return out


def _id_kind(
    text: str, raw: str, s: int, e: int, ts: int, te: int, glued: bool, before: str
) -> tuple[int, int] | None:
    """The span of an ID number around the digits text[s:e], if they are one."""
    if not glued:
        if _SSN.fullmatch(raw):
            return s, e
        digits = raw.translate(str.maketrans("", "", " -"))
        if digits.isdigit() and 13 <= len(digits) <= 19 and _CARD.fullmatch(raw) and _luhn(digits):
            return s, e
        nhs = _NHS.fullmatch(raw)
        if nhs and _nhs_ok(nhs.group(1) + nhs.group(3) + nhs.group(4)):
            if _NHS_CUE.search(before) or (
                nhs.group(2) == " " and not _PHONE_CUE.search(before[-30:])
            ):
                return s, e
    cue = _ID_CUE.search(before)
    if not cue:
        return None
    value = text[ts:te]
    digits = sum(c.isdigit() for c in value)
    if digits < 4 or _YEAR.fullmatch(value):
        return None
    strong = bool(_STRONG_CUE.search(cue.group()))
    shaped = digits >= 5 or any(c in value for c in "-/:") or any(c.isalpha() for c in value)
    return (ts, te) if (strong or shaped) else None
