"""The model behind every LLM helper: built from settings, called with a bound, counted."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from knowledge.config import ConfigError, LLMSettings
from knowledge.llm.templates import PromptTemplate, load_templates
from knowledge.ops import metrics

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
        metrics.LLM_CALLS.labels(template.name).inc()
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
        metrics.LLM_FALLBACKS.labels(err.reason).inc()
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


def as_client(model: BaseChatModel | LLMClient, timeout: float, max_concurrency: int) -> LLMClient:
    if isinstance(model, LLMClient):
        return model
    return LLMClient(model, timeout=timeout, max_concurrency=max_concurrency)
