"""Optional LLM assistance (any LangChain chat model) that falls back to the rules on any failure.

Three helpers plug into the seams the interview already has: LLMProbes is a ProbeStrategy,
LLMDrafts an EntryDrafter, LLMSummary writes the end-of-interview teach-back. Each one treats
the expert's words as data (delimited in the prompt, never obeyed), bounds every call by
`timeout` and a semaphore of `max_concurrency`, checks what the model wrote, and on a timeout,
an error or an output that fails a check returns what the rules would have returned, counting
the reason in LLMStats. The guide's structure, not the model, decides when to move on.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from knowledge.config import LLMSettings
from knowledge.interview.probes import RuleProbes
from knowledge.llm.client import (
    LOCAL_API_KEY,
    LLMClient,
    LLMStats,
    as_client,
    build_chat_model,
    default_templates,
)
from knowledge.llm.drafts import LLMDrafts
from knowledge.llm.guards import check_question, check_verbatim
from knowledge.llm.probes import LLMProbes
from knowledge.llm.summary import LLMSummary


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
        client = as_client(model, timeout, max_concurrency)
        return cls(client, LLMProbes(client, rules), LLMDrafts(client), LLMSummary(client))

    @classmethod
    def from_settings(
        cls, settings: LLMSettings, *, rules: RuleProbes | None = None
    ) -> LLMAssist | None:
        """None when no model is configured: the interview runs on the guide and the rules."""
        client = LLMClient.from_settings(settings)
        return None if client is None else cls.build(client, rules=rules)


__all__ = [
    "LOCAL_API_KEY",
    "LLMAssist",
    "LLMClient",
    "LLMDrafts",
    "LLMProbes",
    "LLMStats",
    "LLMSummary",
    "build_chat_model",
    "check_question",
    "check_verbatim",
    "default_templates",
]
