"""curator_pseudonyms: what dataset provenance shows instead of a curator's id

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "curator_pseudonyms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("pseudonym", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pseudonym"),
    )
    op.create_index(
        "uq_curator_pseudonyms_actor",
        "curator_pseudonyms",
        ["actor", sa.text("coalesce(guild_id, 0)")],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_curator_pseudonyms_actor", table_name="curator_pseudonyms")
    op.drop_table("curator_pseudonyms")
