"""tacit's Prometheus metrics: one registry, counted where things happen, served by `health`.

Every name starts with `tacit_`. The counters are process-wide (one registry per process, like
the logging configuration); `/metrics` renders them with the process's own (CPU, memory).
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

ANSWERS = Counter(
    "tacit_answers_stored", "Answers committed to SQL (each acknowledged once).", registry=REGISTRY
)
TURN_SECONDS = Histogram(
    "tacit_turn_seconds",
    "From an answer received to the next question ready (entries made, next turn opened).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
    registry=REGISTRY,
)
LLM_CALLS = Counter("tacit_llm_calls", "Calls to the configured LLM.", ["task"], registry=REGISTRY)
LLM_FALLBACKS = Counter(
    "tacit_llm_fallbacks",
    "LLM output not used, the guide's own wording used instead, by reason.",
    ["reason"],
    registry=REGISTRY,
)
VECTORS_INDEXED = Counter(
    "tacit_vectors_indexed", "Entry vectors written to Chroma by the outbox.", registry=REGISTRY
)
OUTBOX = Gauge(
    "tacit_outbox_backlog",
    "Entry changes and deletions still owed to Chroma (refreshed on every scrape).",
    registry=REGISTRY,
)
REMINDERS = Counter(
    "tacit_reminders_sent", "Reminders sent for paused or idle interviews.", registry=REGISTRY
)
ERRORS = Counter(
    "tacit_errors",
    "Refusals shown to users (by their kind) and unexpected errors (kind=unexpected).",
    ["kind"],
    registry=REGISTRY,
)


def error(kind: str | BaseException) -> None:
    """Count one error: a refusal by its class name, or a kind given as text."""
    ERRORS.labels(kind if isinstance(kind, str) else type(kind).__name__).inc()


def render() -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
