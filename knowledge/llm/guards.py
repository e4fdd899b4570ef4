"""Checks on what a model wrote: leaks, injection echoes, refusals, the expert's words kept."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from knowledge.interview.probes import TranscriptTurn
from knowledge.llm.client import Rejected
from knowledge.llm.templates import PromptTemplate

log = logging.getLogger(__name__)


MAX_QUESTION_CHARS = 300
_LEAK_CHARS = 40  # this many characters in common with the prompt is a leak
ECHO_WORDS = 12  # this many consecutive words of the expert's text is an echo, not a question

_REFUSAL = re.compile(
    r"^\W*(i'?m sorry|i am sorry|sorry,|i cannot|i can'?t|i'?m unable|i am unable|i won'?t|"
    r"as an ai)\b|\bas an ai (language )?model\b",
    re.I,
)
_INJECTION = re.compile(r"\b(ignore|disregard)\b|system prompt|previous instructions", re.I)
# The prompt's own furniture: delimiters and headings a model copies when it echoes the prompt.
_PROMPT_MARKERS = re.compile(
    r"</?\s*(answer|transcript)\b|the expert's latest answer|the interview so far", re.I
)
# A question for the expert speaks to them, not about them.
_OFF_ROLE = re.compile(r"\bthe (expert|interviewer|transcript)\b", re.I)
# Sentences in the expert's text that read as instructions to a model.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|prompt|above|previous|rules)\b|"
    r"\byou are now\b|system prompt|"
    r"\b(reply|respond|answer|say|write|output|print|repeat)\b[^.?!]{0,30}"
    r"\b(with|exactly|only|after me|following|instead)\b",
    re.I,
)
QUOTED = re.compile(r"[\"“”'‘’]([^\"“”'‘’]{3,80})[\"“”'‘’]")
LABEL = re.compile(r"^\s*(question|follow-?up( question)?|interviewer|answer)\s*:\s*", re.I)
SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+|\s*\n\s*")
_DELIMITER = re.compile(r"</?\s*(answer|transcript)\s*>", re.I)


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower case, letters and digits only, single spaces: what 'the same words' means here.

    Also returns, for each character of the result, where it came from in `text`.
    """
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        low = ch.lower()
        if low.isalnum():
            chars.extend(low)
            where.extend([i] * len(low))
        elif chars and chars[-1] != " ":
            chars.append(" ")
            where.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        where.pop()
    return "".join(chars), where


def normalised(text: str) -> str:
    return _normalise(text)[0]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_BREAK.split(text.strip()) if s and s.strip()]


def _common_chars(a: str, b: str) -> int:
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass(frozen=True)
class Guard:
    """What an output must not contain: the prompt, and the expert's text obeyed or echoed."""

    prompt_parts: tuple[str, ...]
    expert_words: tuple[str, ...]
    orders: tuple[str, ...]  # instruction-like sentences found in the expert's text
    quoted: tuple[str, ...]  # quoted strings inside those sentences

    @classmethod
    def build(cls, template: PromptTemplate, system: str, expert: Iterable[str]) -> Guard:
        texts = list(expert)
        orders = [s for t in texts for s in sentences(t) if _INSTRUCTION.search(s)]
        if orders:
            log.info("expert text reads like instructions to a model (%d sentences)", len(orders))
        quoted = [normalised(q) for s in orders for q in QUOTED.findall(s) if normalised(q)]
        parts = [
            normalised(p)
            for p in (system, *template.static_text())
            if len(normalised(p)) >= _LEAK_CHARS
        ]
        return cls(
            tuple(parts),
            tuple(normalised(" ".join(texts)).split()),
            tuple(normalised(o) for o in orders),
            tuple(quoted),
        )

    def check(self, text: str, *, echo_words: int = ECHO_WORDS) -> None:
        if _REFUSAL.search(text):
            raise Rejected("refusal")
        if _INJECTION.search(text):
            raise Rejected("injection")
        if _PROMPT_MARKERS.search(text):
            raise Rejected("prompt_leak")
        norm = normalised(text)
        if any(_common_chars(norm, part) >= _LEAK_CHARS for part in self.prompt_parts):
            raise Rejected("prompt_leak")
        words = norm.split()
        for order in self.orders:
            if _ngrams(words, 4) & _ngrams(order.split(), 4):
                raise Rejected("injection", "repeats an instruction from the expert's text")
        if any(f" {q} " in f" {norm} " for q in self.quoted):
            raise Rejected("injection", "says what the expert's text told it to say")
        if _ngrams(words, echo_words) & _ngrams(list(self.expert_words), echo_words):
            raise Rejected("echo")


def check_question(
    text: str,
    guard: Guard,
    *,
    max_chars: int = MAX_QUESTION_CHARS,
    max_sentences: int = 1,
    echo_words: int = ECHO_WORDS,
) -> str:
    """One question, cleaned; Rejected naming what is wrong otherwise."""
    text = LABEL.sub("", text.strip()).strip().strip("\"'“”‘’`").strip()
    if not text:
        raise Rejected("empty")
    guard.check(text, echo_words=echo_words)
    if len(text) > max_chars:
        raise Rejected("too_long")
    if _OFF_ROLE.search(text):
        raise Rejected("off_role")
    if not text.endswith("?"):
        raise Rejected("not_a_question")
    if text.count("?") > 1:
        raise Rejected("several_questions")
    if len(sentences(text)) > max_sentences:
        raise Rejected("several_sentences")
    return " ".join(text.split())


def check_verbatim(answer: str, original: str) -> list[tuple[int, int]]:
    """Where each sentence of `answer` is in `original`, as (start, end) character offsets.

    Sentences are compared with case, spacing and punctuation normalised, on word boundaries;
    one the expert did not write raises Rejected("added_words").
    """
    source, where = _normalise(original)
    padded = f" {source} "
    spans = []
    for sentence in sentences(answer):
        norm = normalised(sentence)
        if not norm:
            continue
        at = padded.find(f" {norm} ")  # the leading space makes `at` an offset into `source`
        if at < 0:
            raise Rejected("added_words")
        start, end = where[at], where[at + len(norm) - 1] + 1
        # Take the expert's punctuation around the words too ("too." rather than "too").
        while start > 0 and not original[start - 1].isspace() and not original[start - 1].isalnum():
            start -= 1
        while end < len(original) and not original[end].isspace() and not original[end].isalnum():
            end += 1
        spans.append((start, end))
    if not spans:
        raise Rejected("empty")
    return spans


def coverage(spans: list[tuple[int, int]], original: str) -> float:
    """The share of the original's letters and digits that the spans keep."""
    covered = bytearray(len(original))
    for a, b in spans:
        covered[a:b] = b"\x01" * (b - a)
    letters = [i for i, ch in enumerate(original) if ch.isalnum()]
    return sum(covered[i] for i in letters) / len(letters) if letters else 1.0


def wrap(tag: str, text: str) -> str:
    # The expert cannot close the block early: our delimiters are removed from their text.
    return f"<{tag}>\n{_DELIMITER.sub(' ', text).strip()}\n</{tag}>"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_transcript(turns: list[TranscriptTurn], budget: int, *, per_answer: int = 600) -> str:
    """The most recent answered turns that fit in `budget` characters, oldest first."""
    lines: list[str] = []
    used = 0
    for turn in reversed(turns):
        if turn.answer is None:
            continue
        entry = f"Interviewer: {clip(turn.question, 300)}\nExpert: {clip(turn.answer, per_answer)}"
        if used + len(entry) > budget and lines:
            break
        lines.append(entry)
        used += len(entry)
    return wrap("transcript", "\n\n".join(reversed(lines)) or "(nothing yet)")
