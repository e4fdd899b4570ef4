"""Experts: identity, consent, pay, their own data, and forgetting them."""

from knowledge.experts.identity import (
    ExpertView,
    channel_key,
    expert_actor,
    parse_channel_key,
    person_actor,
)
from knowledge.experts.pay import Earnings
from knowledge.experts.service import ExpertService, consent_digest

__all__ = [
    "Earnings",
    "ExpertService",
    "ExpertView",
    "channel_key",
    "consent_digest",
    "expert_actor",
    "parse_channel_key",
    "person_actor",
]
