"""Optional LLM assistance (any LangChain chat model) that falls back to the rules on any failure.

Three helpers plug into the seams the interview already has: LLMProbes is a ProbeStrategy,
LLMDrafts an EntryDrafter, LLMSummary writes the end-of-interview teach-back. Each one treats
the expert's words as data (delimited in the prompt, never obeyed), bounds every call by
`timeout` and a semaphore of `max_concurrency`, checks what the model wrote, and on a timeout,
an error or an output that fails a check returns what the rules would have returned, counting
the reason in LLMStats. The guide's structure, not the model, decides when to move on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from knowledge.config import ConfigError, LLMSettings
from knowledge.drafting import DraftContext, EntryDraft, GuideDrafts
from knowledge.guides import Guide, Probe
from knowledge.probes import ProbeContext, ProbeSuggestion, RuleProbes, TranscriptTurn
from knowledge.templates import PromptTemplate, load_templates

log = logging.getLogger(__name__)

# OpenAI's client insists on a key; local servers (llama.cpp, vLLM, Ollama) ignore it.
LOCAL_API_KEY = "not-needed"


# --- building the model ----------------------------------------------------------------------


def build_chat_model(settings: LLMSettings) -> BaseChatModel | None:
    """The configured chat model, or None when no model is configured.

    `model` is LangChain's "provider:model". With `base_url` (any OpenAI-compatible server) a
    bare model name means provider "openai". The key comes from `api_key`, else the provider's
    own variable (OPENAI_API_KEY...); with `base_url` and no `api_key` a dummy key is sent, so
    a real OPENAI_API_KEY never goes to some other server. Raises ConfigError naming the key.
    """
    if not settings.enabled:
        return None
    from langchain.chat_models import init_chat_model

    provider, name = _split_provider(settings.model.strip())
    kwargs: dict[str, Any] = {
        "temperature": settings.temperature,
        "timeout": settings.timeout,
        "max_retries": settings.max_retries,
    }
    if settings.base_url:
        provider = provider or "openai"
        kwargs["base_url"] = settings.base_url
    if settings.api_key is not None:
        kwargs["api_key"] = settings.api_key.get_secret_value()
    elif settings.base_url and provider == "openai":
        kwargs["api_key"] = LOCAL_API_KEY
    try:
        return init_chat_model(name, model_provider=provider, **kwargs)
    except ImportError as e:
        raise ConfigError(f"llm.model: {e}") from None
    except Exception as e:  # unknown provider, missing key: the provider's own message
        key = "llm.api_key" if "api_key" in str(e).lower() else "llm.model"
        raise ConfigError(f"{key}: {type(e).__name__}: {e}") from None


def _split_provider(model: str) -> tuple[str | None, str]:
    prefix, sep, rest = model.partition(":")
    if sep and prefix in _providers():
        return prefix, rest
    return None, model  # "llama3.1:8b" is a name with a tag, not a provider


@cache
def _providers() -> frozenset[str]:
    try:
        from langchain.chat_models.base import _BUILTIN_PROVIDERS

        return frozenset(_BUILTIN_PROVIDERS)
    except ImportError:  # a private name; the common ones are enough
        return frozenset(
            {
                "openai",
                "azure_openai",
                "anthropic",
                "ollama",
                "google_genai",
                "google_vertexai",
                "bedrock",
                "bedrock_converse",
                "mistralai",
                "groq",
                "together",
                "fireworks",
                "deepseek",
                "xai",
                "huggingface",
                "perplexity",
            }
        )


@cache
def default_templates() -> dict[str, PromptTemplate]:
    """The templates shipped in prompts/templates, loaded and validated once."""
    return load_templates()


# --- calls, counters, failures ---------------------------------------------------------------


@dataclass
class LLMStats:
    """What the LLM helpers did; shared by helpers built on one client, readable by anyone."""

    calls: int = 0  # requests sent to the model
    accepted: int = 0  # outputs that passed every check and were used
    declined: int = 0  # the model said nothing was worth asking (the rules' answer was used)
    fallbacks: Counter[str] = field(default_factory=Counter)  # reason -> count
    seconds: float = 0.0  # total time spent waiting on the model

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "accepted": self.accepted,
            "declined": self.declined,
            "fallbacks": dict(self.fallbacks),
            "seconds": round(self.seconds, 3),
        }


class Rejected(Exception):
    """The model's output cannot be used; `reason` is the LLMStats.fallbacks key."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class LLMClient:
    """The one place that calls the model: timeout, concurrency limit, counters."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        timeout: float = 20.0,
        max_concurrency: int = 8,
        stats: LLMStats | None = None,
    ):
        self.model = model
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.stats = stats if stats is not None else LLMStats()
        self._slots = asyncio.Semaphore(max_concurrency)

    @classmethod
    def from_settings(cls, settings: LLMSettings) -> LLMClient | None:
        model = build_chat_model(settings)
        if model is None:
            return None
        return cls(model, timeout=settings.timeout, max_concurrency=settings.max_concurrency)

    async def complete(self, template: PromptTemplate, values: dict[str, str]) -> str:
        """The model's text for this template; Rejected on timeout, error or refusal."""
        system, user = template.render(**values)
        messages = [SystemMessage(system.strip()), HumanMessage(user.strip())]
        kwargs = _output_bound(self.model, template.max_tokens)
        self.stats.calls += 1
        started = time.monotonic()
        running = False
        try:
            async with asyncio.timeout(self.timeout):
                async with self._slots:
                    running = True
                    message = await self.model.ainvoke(messages, **kwargs)
        except TimeoutError:
            # Waiting for a free slot counts against the same budget: the interview never waits
            # longer than `timeout` for help it can do without.
            raise Rejected("timeout" if running else "busy") from None
        except Exception as e:
            reason = "timeout" if "timeout" in type(e).__name__.lower() else "error"
            raise Rejected(reason, _describe_error(e)) from None
        finally:
            self.stats.seconds += time.monotonic() - started
        return _text_of(message)

    def fell_back(self, source: str, err: Rejected) -> None:
        self.stats.fallbacks[err.reason] += 1
        detail = f" ({err.detail})" if err.detail else ""
        log.warning("%s output not used, falling back: %s%s", source, err.reason, detail)


def _output_bound(model: BaseChatModel, max_tokens: int) -> dict[str, Any]:
    """How to cap the length of the model's answer, for the providers that take a cap."""
    fields = getattr(type(model), "model_fields", {})
    base = str(getattr(model, "openai_api_base", None) or "")
    if "openai_api_base" in fields and base and "api.openai.com" not in base:
        # langchain-openai sends max_completion_tokens, which OpenAI-compatible servers such as
        # llama_cpp.server ignore; the classic max_tokens is understood by all of them.
        return {"extra_body": {"max_tokens": max_tokens}}
    return {"max_tokens": max_tokens} if "max_tokens" in fields else {}


def _describe_error(e: Exception) -> str:
    # The class and the HTTP status say enough; messages may quote the request back.
    status = getattr(e, "status_code", None)
    return f"{type(e).__name__}" + (f" {status}" if status else "")


def _text_of(message: BaseMessage) -> str:
    meta = getattr(message, "response_metadata", {}) or {}
    if message.additional_kwargs.get("refusal") or meta.get("finish_reason") == "content_filter":
        raise Rejected("refusal")
    text = str(message.text)  # the text blocks of the content, whatever the provider's shape
    if meta.get("finish_reason") == "length":
        raise Rejected("too_long", "cut off at max_tokens")
    return text


def _client(model: BaseChatModel | LLMClient, timeout: float, max_concurrency: int) -> LLMClient:
    if isinstance(model, LLMClient):
        return model
    return LLMClient(model, timeout=timeout, max_concurrency=max_concurrency)


# --- checks on what the model wrote ----------------------------------------------------------

MAX_QUESTION_CHARS = 300
_LEAK_CHARS = 40  # this many characters in common with the prompt is a leak
_ECHO_WORDS = 12  # this many consecutive words of the expert's text is an echo, not a question

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
_QUOTED = re.compile(r"[\"“”'‘’]([^\"“”'‘’]{3,80})[\"“”'‘’]")
_LABEL = re.compile(r"^\s*(question|follow-?up( question)?|interviewer|answer)\s*:\s*", re.I)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+|\s*\n\s*")
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


def _norm(text: str) -> str:
    return _normalise(text)[0]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_BREAK.split(text.strip()) if s and s.strip()]


def _common_chars(a: str, b: str) -> int:
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass(frozen=True)
class _Guard:
    """What an output must not contain: the prompt, and the expert's text obeyed or echoed."""

    prompt_parts: tuple[str, ...]
    expert_words: tuple[str, ...]
    orders: tuple[str, ...]  # instruction-like sentences found in the expert's text
    quoted: tuple[str, ...]  # quoted strings inside those sentences

    @classmethod
    def build(cls, template: PromptTemplate, system: str, expert: Iterable[str]) -> _Guard:
        texts = list(expert)
        orders = [s for t in texts for s in sentences(t) if _INSTRUCTION.search(s)]
        if orders:
            log.info("expert text reads like instructions to a model (%d sentences)", len(orders))
        quoted = [_norm(q) for s in orders for q in _QUOTED.findall(s) if _norm(q)]
        parts = [
            _norm(p) for p in (system, *template.static_text()) if len(_norm(p)) >= _LEAK_CHARS
        ]
        return cls(
            tuple(parts),
            tuple(_norm(" ".join(texts)).split()),
            tuple(_norm(o) for o in orders),
            tuple(quoted),
        )

    def check(self, text: str, *, echo_words: int = _ECHO_WORDS) -> None:
        if _REFUSAL.search(text):
            raise Rejected("refusal")
        if _INJECTION.search(text):
            raise Rejected("injection")
        if _PROMPT_MARKERS.search(text):
            raise Rejected("prompt_leak")
        norm = _norm(text)
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
    guard: _Guard,
    *,
    max_chars: int = MAX_QUESTION_CHARS,
    max_sentences: int = 1,
    echo_words: int = _ECHO_WORDS,
) -> str:
    """One question, cleaned; Rejected naming what is wrong otherwise."""
    text = _LABEL.sub("", text.strip()).strip().strip("\"'“”‘’`").strip()
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
        norm = _norm(sentence)
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


def _coverage(spans: list[tuple[int, int]], original: str) -> float:
    """The share of the original's letters and digits that the spans keep."""
    covered = bytearray(len(original))
    for a, b in spans:
        covered[a:b] = b"\x01" * (b - a)
    letters = [i for i, ch in enumerate(original) if ch.isalnum()]
    return sum(covered[i] for i in letters) / len(letters) if letters else 1.0


def _wrap(tag: str, text: str) -> str:
    # The expert cannot close the block early: our delimiters are removed from their text.
    return f"<{tag}>\n{_DELIMITER.sub(' ', text).strip()}\n</{tag}>"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_transcript(turns: list[TranscriptTurn], budget: int, *, per_answer: int = 600) -> str:
    """The most recent answered turns that fit in `budget` characters, oldest first."""
    lines: list[str] = []
    used = 0
    for turn in reversed(turns):
        if turn.answer is None:
            continue
        entry = (
            f"Interviewer: {_clip(turn.question, 300)}\nExpert: {_clip(turn.answer, per_answer)}"
        )
        if used + len(entry) > budget and lines:
            break
        lines.append(entry)
        used += len(entry)
    return _wrap("transcript", "\n\n".join(reversed(lines)) or "(nothing yet)")


# --- follow-up probes ------------------------------------------------------------------------

_KIND_PROBE = {
    "deepening": Probe.deepening,
    "concrete_instance": Probe.concrete_instance,
    "teach_back": Probe.teach_back,
}


class LLMProbes:
    """A ProbeStrategy: the rules decide whether and which kind of follow-up; the model words it.

    - the guide's limits (RuleProbes.may_follow_up) end the follow-ups, never the model;
    - when the rules would ask about an unexplained term or "how would you know", that targeted
      question is asked as it is;
    - when the rules want a concrete instance, the model asks for one about what was said;
    - when the rules see nothing to ask, the model deepens on a cue or decision the expert
      mentioned, then (after `teach_back_min_words` words) restates it for the expert to correct.
    """

    def __init__(
        self,
        model: BaseChatModel | LLMClient,
        fallback: RuleProbes | None = None,
        *,
        template: PromptTemplate | None = None,
        timeout: float = 20.0,
        max_concurrency: int = 8,
        max_chars: int = MAX_QUESTION_CHARS,
        teach_back_min_words: int = 40,
        max_transcript_chars: int = 2500,
    ):
        self.client = _client(model, timeout, max_concurrency)
        self.fallback = fallback or RuleProbes()
        self.template = template or default_templates()["probe"]
        self.max_chars = max_chars
        self.teach_back_min_words = teach_back_min_words
        self.max_transcript_chars = max_transcript_chars

    @property
    def stats(self) -> LLMStats:
        return self.client.stats

    async def next_probe(self, ctx: ProbeContext) -> ProbeSuggestion | None:
        if not self.fallback.may_follow_up(ctx):
            return None
        rule = self.fallback.suggest(ctx)
        kind = self._kind(ctx, rule)
        if kind is None:
            return rule
        try:
            text = await self._ask(ctx, kind)
        except Rejected as err:
            self.client.fell_back(self.template.source, err)
            return rule
        if text is None:
            self.stats.declined += 1
            return rule
        self.stats.accepted += 1
        return ProbeSuggestion(text, _KIND_PROBE[kind], self.template.source)

    def _kind(self, ctx: ProbeContext, rule: ProbeSuggestion | None) -> str | None:
        if rule is not None:
            return "concrete_instance" if rule.probe is Probe.concrete_instance else None
        asked = set(ctx.probes_asked)
        if Probe.deepening not in asked:
            return "deepening"
        words = len(ctx.answer.split())
        if Probe.teach_back not in asked and words >= self.teach_back_min_words:
            return "teach_back"
        return None

    async def _ask(self, ctx: ProbeContext, kind: str) -> str | None:
        earlier = list(ctx.transcript)
        last = earlier[-1] if earlier else None
        if last is not None and (last.answer or "").strip() == ctx.answer.strip():
            # The latest answer is shown once, on its own; the transcript keeps what was asked.
            earlier[-1] = TranscriptTurn(last.question, last.probe, "(the latest answer, below)")
        values = {
            "profession": ctx.guide.profession,
            "guide_title": ctx.guide.title,
            "step_title": ctx.step.title,
            "method": ctx.step.method.value,
            "probe": ctx.question.probe.value,
            "question": ctx.question.text,
            "answer": _wrap("answer", _clip(ctx.answer, 3000)),
            "transcript": render_transcript(earlier, self.max_transcript_chars),
            "kind": kind,
            "kind_instruction": self.template.kinds[kind],
        }
        text = await self.client.complete(self.template, values)
        if text.strip().strip(".").upper() == "NONE":
            return None
        system, _ = self.template.render(**values)
        expert = [ctx.answer, *(t.answer for t in ctx.transcript if t.answer)]
        guard = _Guard.build(self.template, system, expert)
        # A teach-back restates the expert: "So you would ... . Have I got that right?" may be
        # two sentences and quote longer runs of their words.
        teach_back = kind == "teach_back"
        return check_question(
            text,
            guard,
            max_chars=self.max_chars,
            max_sentences=2 if teach_back else 1,
            echo_words=20 if teach_back else _ECHO_WORDS,
        )


# --- entry drafts ----------------------------------------------------------------------------


class LLMDrafts:
    """An EntryDrafter: a standalone question, and a long answer split into points, verbatim.

    Every sentence of every answer the model returns must be the expert's own (compared with
    case, spacing and punctuation normalised), and together they must keep `min_coverage` of the
    answer; otherwise the guide's own entry is used.
    """

    def __init__(
        self,
        model: BaseChatModel | LLMClient,
        fallback: GuideDrafts | None = None,
        *,
        template: PromptTemplate | None = None,
        timeout: float = 20.0,
        max_concurrency: int = 8,
        max_entries: int = 5,
        min_words: int = 60,
        max_answer_chars: int = 6000,
        min_coverage: float = 0.8,
    ):
        self.client = _client(model, timeout, max_concurrency)
        self.fallback = fallback or GuideDrafts()
        self.template = template or default_templates()["draft"]
        self.max_entries = max_entries
        self.min_words = min_words
        self.max_answer_chars = max_answer_chars
        self.min_coverage = min_coverage

    @property
    def stats(self) -> LLMStats:
        return self.client.stats

    async def draft(self, ctx: DraftContext) -> list[EntryDraft]:
        plain = await self.fallback.draft(ctx)
        answer = ctx.answer.strip()
        # A short answer to a guide question already has its author-written standalone question;
        # a very long one would take the model longer than an interview should wait.
        if not answer or len(answer) > self.max_answer_chars:
            return plain
        if not ctx.followup and len(answer.split()) < self.min_words:
            return plain
        try:
            drafts = await self._ask(ctx, answer)
        except Rejected as err:
            self.client.fell_back(self.template.source, err)
            return plain
        self.stats.accepted += 1
        return drafts

    async def _ask(self, ctx: DraftContext, answer: str) -> list[EntryDraft]:
        values = {
            "profession": ctx.guide.profession,
            "standalone": ctx.guide.standalone(ctx.question),
            "asked": ctx.asked,
            "answer": _wrap("answer", answer),
            "max_entries": str(self.max_entries),
        }
        text = await self.client.complete(self.template, values)
        items = _parse_entries(text)
        if len(items) > self.max_entries:
            raise Rejected("too_many_entries")
        system, _ = self.template.render(**values)
        guard = _Guard.build(self.template, system, [answer])
        covered: list[tuple[int, int]] = []
        drafts = []
        for question, part in items:
            # The question is the model's; it may reuse the expert's terms but not their answer.
            question = check_question(question, guard, max_sentences=2)
            spans = check_verbatim(part, answer)
            covered += spans
            # Stored as the expert typed it, not as the model copied it.
            words = " ".join(" ".join(answer[a:b].split()) for a, b in spans)
            drafts.append(EntryDraft(question, words, self.template.source))
        if _coverage(covered, answer) < self.min_coverage:
            raise Rejected("dropped_content")
        return drafts


def _parse_entries(text: str) -> list[tuple[str, str]]:
    cleaned = re.sub(r"^```(?:json)?|```$", "", text.strip(), flags=re.M).strip()
    starts = [i for i in (cleaned.find("{"), cleaned.find("[")) if i >= 0]
    if not starts:
        raise Rejected("empty" if not cleaned else "malformed", "no JSON")
    try:
        data, _ = json.JSONDecoder().raw_decode(cleaned[min(starts) :])
    except json.JSONDecodeError:
        raise Rejected("malformed", "invalid JSON") from None
    if isinstance(data, dict):
        data = data.get("entries", [data] if "answer" in data else None)
    if not isinstance(data, list) or not data:
        raise Rejected("malformed", "no entries")
    items = []
    for item in data:
        if not isinstance(item, dict):
            raise Rejected("malformed", "entry is not an object")
        q, a = item.get("question"), item.get("answer")
        if not isinstance(q, str) or not isinstance(a, str) or not a.strip():
            raise Rejected("malformed", "entry without question or answer")
        items.append((q, a))
    return items


# --- end-of-interview summary ----------------------------------------------------------------

_STOPWORDS = frozenset(
    "about after again also because been before being between both could does doing down during "
    "each from further have having here into just more most other over same should some such "
    "than that their them then there these they this those through under until very what when "
    "where which while will with would your yours yourself you have right think".split()
)


@dataclass(frozen=True)
class Summary:
    text: str
    source: str  # "llm:summary@<version>"


class LLMSummary:
    """The teach-back at the end: what the expert does and why, for them to correct.

    None when the model fails or writes something the interview did not contain (fewer than
    `min_grounding` of its content words appear in the transcript); the interview then ends
    without a teach-back.
    """

    def __init__(
        self,
        model: BaseChatModel | LLMClient,
        *,
        template: PromptTemplate | None = None,
        timeout: float = 20.0,
        max_concurrency: int = 8,
        max_chars: int = 1200,
        max_transcript_chars: int = 6000,
        min_grounding: float = 0.6,
    ):
        self.client = _client(model, timeout, max_concurrency)
        self.template = template or default_templates()["summary"]
        self.max_chars = max_chars
        self.max_transcript_chars = max_transcript_chars
        self.min_grounding = min_grounding

    @property
    def stats(self) -> LLMStats:
        return self.client.stats

    async def summarize(self, transcript: list[TranscriptTurn], guide: Guide) -> Summary | None:
        answered = [t for t in transcript if t.answer and t.answer.strip()]
        if not answered:
            return None
        per_answer = max(200, self.max_transcript_chars // len(answered))
        values = {
            "profession": guide.profession,
            "guide_title": guide.title,
            "transcript": render_transcript(
                answered, self.max_transcript_chars, per_answer=per_answer
            ),
        }
        try:
            text = await self.client.complete(self.template, values)
            text = self._check(text, values, answered)
        except Rejected as err:
            self.client.fell_back(self.template.source, err)
            return None
        self.stats.accepted += 1
        return Summary(text, self.template.source)

    def _check(self, text: str, values: dict[str, str], turns: list[TranscriptTurn]) -> str:
        text = " ".join(text.split())
        if not text:
            raise Rejected("empty")
        if len(text) > self.max_chars:
            raise Rejected("too_long")
        system, _ = self.template.render(**values)
        expert = [t.answer or "" for t in turns]
        # A summary restates the expert at length; only much longer verbatim runs are suspect.
        _Guard.build(self.template, system, expert).check(text, echo_words=30)
        known = set(_norm(" ".join(f"{t.question} {t.answer}" for t in turns)).split())
        content = [w for w in _norm(text).split() if len(w) > 3 and w not in _STOPWORDS]
        if content and sum(w in known for w in content) / len(content) < self.min_grounding:
            raise Rejected("ungrounded")
        return text


# --- all three on one client -----------------------------------------------------------------


@dataclass
class LLMAssist:
    """The three helpers sharing one model, one concurrency limit and one LLMStats."""

    client: LLMClient
    probes: LLMProbes
    drafter: LLMDrafts
    summary: LLMSummary

    @property
    def stats(self) -> LLMStats:
        return self.client.stats

    @classmethod
    def build(
        cls,
        model: BaseChatModel | LLMClient,
        *,
        rules: RuleProbes | None = None,
        timeout: float = 20.0,
        max_concurrency: int = 8,
    ) -> LLMAssist:
        client = _client(model, timeout, max_concurrency)
        return cls(client, LLMProbes(client, rules), LLMDrafts(client), LLMSummary(client))

    @classmethod
    def from_settings(
        cls, settings: LLMSettings, *, rules: RuleProbes | None = None
    ) -> LLMAssist | None:
        """None when no model is configured: the interview runs on the guide and the rules."""
        client = LLMClient.from_settings(settings)
        return None if client is None else cls.build(client, rules=rules)
