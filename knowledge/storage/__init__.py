"""SQL storage, the source of truth: models, the session factory, migrations, entry hashing."""

from knowledge.storage import entries as _entries  # noqa: F401  (registers the hash event)
from knowledge.storage.db import Database, DatabaseError, upgrade
from knowledge.storage.models import (
    AuditEvent,
    Base,
    Entry,
    Expert,
    IndexDeletion,
    Interview,
    Turn,
    iso,
    utcnow,
)
from knowledge.vocab import EntryStatus, InterviewStatus, TurnStatus

__all__ = [
    "AuditEvent",
    "Base",
    "Database",
    "DatabaseError",
    "Entry",
    "EntryStatus",
    "Expert",
    "IndexDeletion",
    "Interview",
    "InterviewStatus",
    "Turn",
    "TurnStatus",
    "iso",
    "upgrade",
    "utcnow",
]
