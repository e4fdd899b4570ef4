"""Emails and URLs: regular expressions, with URLs looked for only around cheap hints."""

from __future__ import annotations

import re

EMAIL_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)

_TLDS = (
    "com|org|net|gov|edu|mil|int|info|biz|io|co|ai|app|dev|me|ly|tv|eu|health|law|legal|"
    "uk|us|ca|au|nz|ie|in|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|pt|br|mx|ar|cl|za|ng|ke|gh|"
    "jp|cn|kr|sg|hk|tw|ru|ua|tr|il|ae|sa|pk|bd|lk|ph|my|id|th|vn|gr|cz|sk|hu|ro|bg|hr|si|is"
)
_URL_TAIL = r"[^\s<>\"'\[\]{}|\\^`]*"
# Matched where a URL may start; found from the cheap hints "://" and ".x" (a dot before a letter).
_URL_AT = re.compile(
    rf"(?:(?:https?|ftp)://|www\.){_URL_TAIL}"
    # a bare domain: lower-case labels and a known top-level domain, an optional path
    rf"|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})(?![\w-])(?:/{_URL_TAIL})?"
)
_URL_HINT = re.compile(r"://|\.[a-z]")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TRAILING = ".,;:!?'\""


def url_spans(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    done = 0
    for hint in _URL_HINT.finditer(text):
        i = hint.start()
        if i < done:
            continue
        allowed = _SCHEME_CHARS if hint.group() == "://" else _HOST_CHARS
        while i > 0 and text[i - 1] in allowed:
            i -= 1
        if i > 0 and (text[i - 1] in "@/_" or text[i - 1].isalnum()):
            continue  # the domain of an email address, or the middle of a path
        m = _URL_AT.match(text, i)
        if not m:
            continue
        end = _trim_url(text, i, m.end())
        if end - i > 4:
            out.append((i, end))
            done = end
    return out


def _trim_url(text: str, start: int, end: int) -> int:
    """Drop trailing punctuation and an unbalanced closing bracket from a URL match."""
    while end > start:
        c = text[end - 1]
        if c in _TRAILING:
            end -= 1
        elif c == ")" and text.count("(", start, end) < text.count(")", start, end):
            end -= 1
        else:
            break
    return end
