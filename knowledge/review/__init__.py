"""Curator review: the queue and its claims, decisions and their audit, undo, search, stats, pay."""

from knowledge.review.audit import (
    APPROVE,
    DECISIONS,
    DUPLICATE,
    EDIT,
    FLAG_PII,
    REJECT,
    SCORE,
    SKIP,
    UNDO,
    UNDOABLE,
)
from knowledge.review.chart import render_chart
from knowledge.review.errors import (
    AlreadyReviewed,
    EntryClaimed,
    EntryNotFound,
    EntryWithdrawn,
    NothingToUndo,
    ReviewError,
    UndoConflict,
)
from knowledge.review.panel import Vote
from knowledge.review.service import ReviewService
from knowledge.review.stats import DayCount, ExpertCounts, ReviewStats, StatusCounts
from knowledge.review.views import (
    AuditRecord,
    Card,
    Decision,
    EntryDetail,
    EntrySummary,
    EntryView,
    SearchHit,
)

__all__ = [
    "APPROVE",
    "DECISIONS",
    "DUPLICATE",
    "EDIT",
    "FLAG_PII",
    "REJECT",
    "SCORE",
    "SKIP",
    "UNDO",
    "UNDOABLE",
    "AlreadyReviewed",
    "AuditRecord",
    "Card",
    "DayCount",
    "Decision",
    "EntryClaimed",
    "EntryDetail",
    "EntryNotFound",
    "EntrySummary",
    "EntryView",
    "EntryWithdrawn",
    "ExpertCounts",
    "NothingToUndo",
    "ReviewError",
    "ReviewService",
    "ReviewStats",
    "SearchHit",
    "StatusCounts",
    "UndoConflict",
    "Vote",
    "render_chart",
]
