"""merge tenancy (0002) with turn focus (0004): one head again

Revision ID: 0002a
Revises: 0002, 0004
Create Date: 2026-12-02 20:10:00

0002 and 0004 were written side by side on 0001; neither touches the other's tables, so the
merge has nothing to do. A database at 0004 (turn focus, no tenancy) goes through 0002 here.
"""

revision = "0002a"
down_revision = ("0002", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
