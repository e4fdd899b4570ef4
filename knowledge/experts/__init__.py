"""Experts: identity, consent, pay, their own data, and forgetting them."""

from knowledge.experts.errors import ExpertError, NotYourEntry
from knowledge.experts.identity import (
    ExpertView,
    channel_key,
    expert_actor,
    parse_channel_key,
    person_actor,
)
from knowledge.experts.own_data import Eraser, Forgotten
from knowledge.experts.own_entries import CORRECTED, WITHDRAWN, Correction, OwnEntry, Withdrawal
from knowledge.experts.pay import Earnings
from knowledge.experts.service import ExpertService, consent_digest

__all__ = [
    "CORRECTED",
    "WITHDRAWN",
    "Correction",
    "Earnings",
    "Eraser",
    "ExpertError",
    "ExpertService",
    "ExpertView",
    "Forgotten",
    "NotYourEntry",
    "OwnEntry",
    "Withdrawal",
    "channel_key",
    "consent_digest",
    "expert_actor",
    "parse_channel_key",
    "person_actor",
]
