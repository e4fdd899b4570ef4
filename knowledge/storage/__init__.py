"""SQL storage: the source of truth for experts, interviews, turns, entries and the audit log."""

from knowledge.storage.db import Database, upgrade
from knowledge.storage.models import (
    AuditEvent,
    Base,
    Entry,
    EntryStatus,
    Expert,
    IndexDeletion,
    Interview,
    InterviewStatus,
    Turn,
    TurnStatus,
)

__all__ = [
    "AuditEvent",
    "Base",
    "Database",
    "Entry",
    "EntryStatus",
    "Expert",
    "IndexDeletion",
    "Interview",
    "InterviewStatus",
    "Turn",
    "TurnStatus",
    "upgrade",
]
