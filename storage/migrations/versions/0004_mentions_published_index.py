"""index mentions.published_at (newest-first listings across businesses)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Created without batch mode: SQLite batch operations may copy the table, which the analyst
views (0002/0003) referencing `mentions` would not survive.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_mentions_published_at", "mentions", ["published_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_mentions_published_at", table_name="mentions")
