"""review_decisions (one row per curator and entry: verdict, reason, edits, rubric scores) and
entries.disputed (blind reviews that disagree wait for an adjudicator)

Revision ID: 0005
Revises: 0002a
Create Date: 2026-12-03 10:40:00

Every entry decided before this migration keeps its status; its decision becomes one
review_decisions row by the curator who made it (with the edits, when that curator made them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002a"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("curator", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("edited_question", sa.Text(), nullable=True),
        sa.Column("edited_answer", sa.Text(), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id", "curator"),
    )
    op.create_index("ix_review_decisions_curator", "review_decisions", ["curator"])
    with op.batch_alter_table("entries") as b:
        b.add_column(sa.Column("disputed", sa.Boolean(), nullable=False, server_default=sa.false()))
    # One row per decision already made: the curator who made it, as it stands.
    op.execute(
        "INSERT INTO review_decisions (entry_id, curator, kind, verdict, reason, duplicate_of,"
        " edited_question, edited_answer, decided_at, created_at, guild_id)"
        " SELECT id, decided_by, 'review', status, reason, duplicate_of,"
        " CASE WHEN edited_by = decided_by THEN edited_question END,"
        " CASE WHEN edited_by = decided_by THEN edited_answer END,"
        " COALESCE(decided_at, updated_at), COALESCE(decided_at, updated_at), guild_id"
        " FROM entries WHERE status <> 'pending' AND decided_by IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("entries") as b:
        b.drop_column("disputed")
    op.drop_index("ix_review_decisions_curator", table_name="review_decisions")
    op.drop_table("review_decisions")
