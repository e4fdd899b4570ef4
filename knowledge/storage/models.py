"""SQLAlchemy 2.0 models. Every schema change goes through an Alembic migration."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from knowledge.vocab import EntryStatus, InterviewStatus, TurnStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(d: datetime | None) -> str | None:
    """A timestamp as ISO 8601 text for JSON (None stays None)."""
    return d.isoformat() if d else None


def new_pseudonym() -> str:
    return "expert-" + secrets.token_hex(6)


class UTCDateTime(TypeDecorator):
    """Timezone-aware timestamps everywhere; SQLite hands back naive ones, read as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware datetimes")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[dict[str, Any]]: JSON,
    }


class Expert(Base):
    __tablename__ = "experts"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))  # "discord", "terminal"
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200))
    # What datasets show instead of the name: random, stable for this expert.
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True, default=new_pseudonym)
    profession: Mapped[str | None] = mapped_column(String(200))
    rate_per_hour: Mapped[float | None] = mapped_column(Float)
    consent_version: Mapped[str | None] = mapped_column(String(64))
    consent_text: Mapped[str | None] = mapped_column(Text)
    consented_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    interviews: Mapped[list[Interview]] = relationship(
        back_populates="expert", cascade="all, delete-orphan", passive_deletes=True
    )


class Interview(Base):
    __tablename__ = "interviews"
    __table_args__ = (Index("ix_interviews_expert_status", "expert_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    guide_slug: Mapped[str] = mapped_column(String(100))
    guide_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[InterviewStatus] = mapped_column(String(16), default=InterviewStatus.active)
    # Index in the guide's question list of the question being asked (or last asked).
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Where the interview happens: "terminal", "discord:thread:<id>", "discord:dm:<id>".
    channel: Mapped[str | None] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    active_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    summary: Mapped[str | None] = mapped_column(Text)
    summary_source: Mapped[str | None] = mapped_column(String(100))
    summary_correction: Mapped[str | None] = mapped_column(Text)

    expert: Mapped[Expert] = relationship(back_populates="interviews")
    turns: Mapped[list[Turn]] = relationship(
        back_populates="interview",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Turn.seq",
    )


class Turn(Base):
    """One question asked in an interview, and the expert's answer to it."""

    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("interview_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[str] = mapped_column(String(100))
    question_id: Mapped[str] = mapped_column(String(100))
    probe: Mapped[str] = mapped_column(String(40))
    followup: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(100), default="guide")  # guide, rules, llm:...
    # What a follow-up asked about: the expert's phrase, as they wrote it (None: the answer as a
    # whole, or a guide question).
    focus: Mapped[str | None] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    status: Mapped[TurnStatus] = mapped_column(String(16), default=TurnStatus.asked)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    # Files or links the expert sent that are not answer text: [{"name", "url", "size"}].
    references: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    interview: Mapped[Interview] = relationship(back_populates="turns")
    entries: Mapped[list[Entry]] = relationship(
        back_populates="turn", cascade="all, delete-orphan", passive_deletes=True
    )


class Entry(Base):
    """A question-and-answer pair derived from a turn: what curators review and datasets hold."""

    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_status_guide", "status", "guide_slug"),
        Index("ix_entries_interview", "interview_id"),
        Index("ix_entries_unindexed", "indexed_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"))
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    guide_slug: Mapped[str] = mapped_column(String(100))
    step_id: Mapped[str] = mapped_column(String(100))
    probe: Mapped[str] = mapped_column(String(40))
    part: Mapped[int] = mapped_column(Integer, default=0)  # when one answer became several entries
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)  # the expert's words, never changed
    draft_source: Mapped[str] = mapped_column(String(100), default="guide")
    edited_question: Mapped[str | None] = mapped_column(Text)
    edited_answer: Mapped[str | None] = mapped_column(Text)
    edited_by: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[EntryStatus] = mapped_column(String(16), default=EntryStatus.pending)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    flagged_pii: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    # float32 vector of `answer`, so Chroma can be rebuilt without re-encoding.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    # Hash of what Chroma should hold for this entry; indexed_hash is what it holds.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    indexed_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    turn: Mapped[Turn] = relationship(back_populates="entries")

    @property
    def final_question(self) -> str:
        return self.edited_question or self.question

    @property
    def final_answer(self) -> str:
        return self.edited_answer or self.answer


class AuditEvent(Base):
    """Every change to experts, interviews and entries: who, when, before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class IndexDeletion(Base):
    """Vectors still to remove from Chroma after their entries left SQL (outbox)."""

    __tablename__ = "index_deletions"

    entry_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
