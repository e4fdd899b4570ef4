"""SQLAlchemy 2.0 models. Every schema change goes through an Alembic migration."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
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
    func,
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


def new_curator_pseudonym() -> str:
    return "curator-" + secrets.token_hex(6)


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


class Tenanted:
    """A row that belongs to one Discord server (`guild_id`), or to none: the terminal's.

    Sessions opened for one tenant see only its rows (`storage/tenancy.py` adds the filter to
    every ORM statement), so no query can forget it.
    """

    # Discord snowflakes need 64 bits. NULL: the terminal's (seen from the command line only).
    guild_id: Mapped[int | None] = mapped_column(BigInteger)


class Expert(Tenanted, Base):
    """A person as one server (or the terminal) knows them: consent, pay and pseudonym are
    per server, so the same Discord user interviewed in two servers is two records."""

    __tablename__ = "experts"

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
    # A nudge after `[interview] remind_after_hours` of a paused or idle interview (/me reminders).
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    interviews: Mapped[list[Interview]] = relationship(
        back_populates="expert", cascade="all, delete-orphan", passive_deletes=True
    )


# One record per person and server. NULLs are distinct in a UNIQUE index, so coalesce makes the
# terminal (guild NULL) one tenant too; no Discord id is 0.
Index(
    "uq_experts_identity",
    Expert.platform,
    Expert.external_id,
    func.coalesce(Expert.guild_id, 0),
    unique=True,
)


class Interview(Tenanted, Base):
    """One run of a guide with one expert; its server is its expert's."""

    __tablename__ = "interviews"
    __table_args__ = (
        Index("ix_interviews_expert_status", "expert_id", "status"),
        Index("ix_interviews_guild", "guild_id"),
    )

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
    # When the last reminder was sent; another waits for new activity (last_activity_at).
    reminded_at: Mapped[datetime | None]

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
    # How the answer arrived (knowledge/quality/arrival.py: question time, each message or
    # line with its time and length, typing seen) and the figures made of it.
    arrival: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The quality flags of the answer: [{"kind": "pasted"|"repeat"|"boilerplate", "reason"}].
    flags: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    interview: Mapped[Interview] = relationship(back_populates="turns")
    entries: Mapped[list[Entry]] = relationship(
        back_populates="turn", cascade="all, delete-orphan", passive_deletes=True
    )


class Entry(Tenanted, Base):
    """A question-and-answer pair derived from a turn: what curators review and datasets hold.

    Its server is its interview's. Three texts of the answer, never overwritten by each other:
    the expert's `answer`, the expert's own `corrected_answer`, and a curator's `edited_answer`.
    """

    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_status_guide", "status", "guide_slug"),
        Index("ix_entries_guild_status", "guild_id", "status"),
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
    # The expert's own correction (/me entries): kept beside `answer`, which stays as it was.
    corrected_answer: Mapped[str | None] = mapped_column(Text)
    corrected_at: Mapped[datetime | None]
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
    # Its blind reviews disagree: it waits for an adjudicator (`review_decisions` holds them).
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
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
    def expert_answer(self) -> str:
        """The expert's words as they stand: their correction, else their answer."""
        return self.corrected_answer or self.answer

    @property
    def final_answer(self) -> str:
        """What datasets ship: a curator's edit, else the expert's correction, else the answer."""
        return self.edited_answer or self.corrected_answer or self.answer


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


class ReviewDecision(Tenanted, Base):
    """One curator's decision on one entry: their verdict, reason, edits and rubric scores.

    An entry needs `reviews_per_entry` of these (kind "review", by different curators) before it
    is final; when they disagree, one more (kind "adjudication") by a curator who has not
    reviewed it decides. A row whose `verdict` is NULL holds edits or scores made before the
    curator decided. Its server is its entry's.
    """

    __tablename__ = "review_decisions"
    __table_args__ = (
        UniqueConstraint("entry_id", "curator"),
        Index("ix_review_decisions_curator", "curator"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    curator: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="review")  # review, adjudication
    verdict: Mapped[str | None] = mapped_column(String(16))  # approved, rejected, duplicate
    reason: Mapped[str | None] = mapped_column(Text)
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    edited_question: Mapped[str | None] = mapped_column(Text)
    edited_answer: Mapped[str | None] = mapped_column(Text)
    # Rubric scores by criterion name: {"specificity": 4}.
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IndexDeletion(Base):
    """Vectors still to remove from Chroma after their entries left SQL (outbox)."""

    __tablename__ = "index_deletions"

    entry_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TextVector(Base):
    """Vectors that `tacit worker` made for a process without the model (`[embeddings]
    in_process = false`): guide questions, search queries. A row without a vector is a request;
    its text is cleared once the vector is made."""

    __tablename__ = "text_vectors"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str | None] = mapped_column(Text)
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    made_at: Mapped[datetime | None]


class CuratorRole(Tenanted, Base):
    """A role whose members curate one server, set from Discord by its admins (/review curators);
    `[discord] curator_roles` in the settings adds to these."""

    __tablename__ = "curator_roles"
    __table_args__ = (UniqueConstraint("guild_id", "role_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(BigInteger)
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class CuratorPseudonym(Tenanted, Base):
    """What datasets show instead of a curator's id ("discord:<id>", "cli:<login>"): random,
    stable for this curator in this server, like an expert's pseudonym."""

    __tablename__ = "curator_pseudonyms"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True, default=new_curator_pseudonym)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index(
    "uq_curator_pseudonyms_actor",
    CuratorPseudonym.actor,
    func.coalesce(CuratorPseudonym.guild_id, 0),
    unique=True,
)


class Export(Tenanted, Base):
    """A dataset tacit wrote: who made it, where its files are, what they hold.

    `guild_id` is the server it was made for (NULL: the operator's, from the command line).
    Forgetting an expert or withdrawing an entry rewrites (or deletes) the files still there.
    """

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(40))  # "all", "terminal", "guild:<id>"
    format: Mapped[str] = mapped_column(String(16))
    out: Mapped[str] = mapped_column(Text)  # the path asked for (a file, or a folder for hf)
    # [{"path", "size", "sha256"}] as last written by tacit: a file changed since is left alone.
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The card's fields (hf), so a rewritten folder gets a card with the new counts.
    card: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    examples: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    # on_disk, rewritten (erasure removed examples), deleted (erasure removed the files), gone
    status: Mapped[str] = mapped_column(String(16), default="on_disk")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ExportEntry(Base):
    """An entry an export holds (no foreign key: the entry may be gone, the record stays)."""

    __tablename__ = "export_entries"
    __table_args__ = (Index("ix_export_entries_entry", "entry_id"),)

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class ExportExpert(Base):
    """An expert pseudonym an export holds."""

    __tablename__ = "export_experts"
    __table_args__ = (Index("ix_export_experts_pseudonym", "pseudonym"),)

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    pseudonym: Mapped[str] = mapped_column(String(32), primary_key=True)


class ExportPost(Base):
    """A message a front-end posted with an export attached (the bot's DM to the curator), so
    erasure can delete it: `where` is "discord:<channel id>:<message id>"."""

    __tablename__ = "export_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("exports.id", ondelete="CASCADE"), index=True)
    where: Mapped[str] = mapped_column(String(100))
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when erasure took words out of the export: the message must go (then deleted_at).
    recall_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class PayRecord(Tenanted, Base):
    """What a forgotten expert was owed for one interview, kept without their name or words."""

    __tablename__ = "pay_records"
    __table_args__ = (Index("ix_pay_records_pseudonym", "pseudonym"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(32))
    interview_started_at: Mapped[datetime]
    active_seconds: Mapped[float] = mapped_column(Float)
    rate_per_hour: Mapped[float] = mapped_column(Float)
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(8))
    entries_total: Mapped[int] = mapped_column(Integer, default=0)
    entries_accepted: Mapped[int] = mapped_column(Integer, default=0)
    paid_at: Mapped[datetime | None]
    forgotten_at: Mapped[datetime] = mapped_column(default=utcnow)
