"""tenancy (a server per expert, interview and entry), corrections, exports, pay records

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 18:35:55

Existing Discord experts go to the server given as `home_guild_id` (tacit passes
`[discord] home_guild_id`); without one they belong to no server until `tacit db assign-guild`
gives them one. Terminal experts belong to none. Interviews take their expert's server, entries
their interview's, and every entry is owed to Chroma again (its metadata gains the server).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("experts") as b:
        b.add_column(sa.Column("guild_id", sa.BigInteger(), nullable=True))
        b.add_column(sa.Column("reminders", sa.Boolean(), nullable=False, server_default=sa.true()))
    _drop_old_identity()
    op.create_index(
        "uq_experts_identity",
        "experts",
        ["platform", "external_id", sa.text("coalesce(guild_id, 0)")],
        unique=True,
    )
    with op.batch_alter_table("interviews") as b:
        b.add_column(sa.Column("guild_id", sa.BigInteger(), nullable=True))
        b.add_column(sa.Column("reminded_at", TS, nullable=True))
        b.create_index("ix_interviews_guild", ["guild_id"])
    with op.batch_alter_table("entries") as b:
        b.add_column(sa.Column("guild_id", sa.BigInteger(), nullable=True))
        b.add_column(sa.Column("corrected_answer", sa.Text(), nullable=True))
        b.add_column(sa.Column("corrected_at", TS, nullable=True))
        b.create_index("ix_entries_guild_status", ["guild_id", "status"])

    home = op.get_context().config.attributes.get("home_guild_id")
    if home:
        op.execute(
            sa.text("UPDATE experts SET guild_id = :g WHERE platform = 'discord'").bindparams(
                g=int(home)
            )
        )
    op.execute(
        "UPDATE interviews SET guild_id = "
        "(SELECT experts.guild_id FROM experts WHERE experts.id = interviews.expert_id)"
    )
    op.execute(
        "UPDATE entries SET indexed_hash = NULL, guild_id = "
        "(SELECT interviews.guild_id FROM interviews WHERE interviews.id = entries.interview_id)"
    )

    op.create_table(
        "curator_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("role_id", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("guild_id", "role_id"),
    )
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("out", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("card", sa.JSON(), nullable=True),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "export_entries",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(["export_id"], ["exports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("export_id", "entry_id"),
    )
    op.create_index("ix_export_entries_entry", "export_entries", ["entry_id"])
    op.create_table(
        "export_experts",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["export_id"], ["exports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("export_id", "pseudonym"),
    )
    op.create_index("ix_export_experts_pseudonym", "export_experts", ["pseudonym"])
    op.create_table(
        "export_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("where", sa.String(length=100), nullable=False),
        sa.Column("posted_at", TS, nullable=False),
        sa.Column("recall_at", TS, nullable=True),
        sa.Column("deleted_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["export_id"], ["exports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_export_posts_export_id", "export_posts", ["export_id"])
    op.create_table(
        "pay_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("pseudonym", sa.String(length=32), nullable=False),
        sa.Column("interview_started_at", TS, nullable=False),
        sa.Column("active_seconds", sa.Float(), nullable=False),
        sa.Column("rate_per_hour", sa.Float(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("entries_total", sa.Integer(), nullable=False),
        sa.Column("entries_accepted", sa.Integer(), nullable=False),
        sa.Column("paid_at", TS, nullable=True),
        sa.Column("forgotten_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pay_records_pseudonym", "pay_records", ["pseudonym"])


def _drop_old_identity() -> None:
    """The unnamed UNIQUE (platform, external_id) of 0001: one record per person, any server."""
    if op.get_bind().dialect.name == "sqlite":
        # SQLite rebuilds the table; the naming convention names the reflected constraint.
        with op.batch_alter_table(
            "experts", naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"}
        ) as b:
            b.drop_constraint("uq_experts_platform", type_="unique")
    else:
        op.drop_constraint("experts_platform_external_id_key", "experts", type_="unique")


def downgrade() -> None:
    for table in ("pay_records", "export_posts", "export_experts", "export_entries"):
        op.drop_table(table)
    op.drop_table("exports")
    op.drop_table("curator_roles")
    with op.batch_alter_table("entries") as b:
        b.drop_index("ix_entries_guild_status")
        b.drop_column("corrected_at")
        b.drop_column("corrected_answer")
        b.drop_column("guild_id")
    with op.batch_alter_table("interviews") as b:
        b.drop_index("ix_interviews_guild")
        b.drop_column("reminded_at")
        b.drop_column("guild_id")
    op.drop_index("uq_experts_identity", "experts")
    with op.batch_alter_table("experts") as b:
        b.drop_column("reminders")
        b.drop_column("guild_id")
        b.create_unique_constraint("uq_experts_platform", ["platform", "external_id"])
