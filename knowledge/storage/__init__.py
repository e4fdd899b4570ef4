"""SQL storage, the source of truth: models, the session factory, migrations, entry hashing."""

from knowledge.storage import entries as _entries  # noqa: F401  (registers the hash event)
from knowledge.storage.db import Database, DatabaseError, unavailable, upgrade
from knowledge.storage.models import (
    AuditEvent,
    Base,
    CuratorPseudonym,
    CuratorRole,
    Entry,
    Expert,
    Export,
    ExportEntry,
    ExportExpert,
    ExportPost,
    IndexDeletion,
    Interview,
    PayRecord,
    ReviewDecision,
    Tenanted,
    TextVector,
    Turn,
    iso,
    utcnow,
)
from knowledge.storage.tenancy import EVERYTHING, TERMINAL, Scope
from knowledge.vocab import EntryStatus, InterviewStatus, TurnStatus

__all__ = [
    "unavailable",
    "EVERYTHING",
    "TERMINAL",
    "AuditEvent",
    "Base",
    "CuratorPseudonym",
    "CuratorRole",
    "Database",
    "DatabaseError",
    "Entry",
    "EntryStatus",
    "Expert",
    "Export",
    "ExportEntry",
    "ExportExpert",
    "ExportPost",
    "IndexDeletion",
    "Interview",
    "InterviewStatus",
    "PayRecord",
    "ReviewDecision",
    "Scope",
    "Tenanted",
    "TextVector",
    "Turn",
    "TurnStatus",
    "iso",
    "upgrade",
    "utcnow",
]
