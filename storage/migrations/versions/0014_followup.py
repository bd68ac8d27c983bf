"""follow-up: an item per negative mention with its state history, and public replies found

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06

- `followup_items`: one per negative mention (public or feedback): state open, replied,
  resolved or dismissed, who changed it last and when, the first response's time;
- `followup_changes`: every change of an item's state (who, through what, when);
- `public_replies`: the business's public replies the crawler found under a mention.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followup_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("negative", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("first_response_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'replied', 'resolved', 'dismissed')",
            name=op.f("ck_followup_items_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"],
            name=op.f("fk_followup_items_business_id_businesses"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mentions.id"],
            name=op.f("fk_followup_items_mention_id_mentions"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_items")),
        sa.UniqueConstraint("mention_id", name=op.f("uq_followup_items_mention_id")),
    )
    op.create_index(
        "ix_followup_items_business_state", "followup_items", ["business_id", "state"]
    )
    op.create_table(
        "followup_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("state_before", sa.String(length=16), nullable=True),
        sa.Column("state_after", sa.String(length=16), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["followup_items.id"],
            name=op.f("fk_followup_changes_item_id_followup_items"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_changes")),
    )
    op.create_index(
        op.f("ix_followup_changes_item_id"), "followup_changes", ["item_id"]
    )
    op.create_table(
        "public_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("reply_key", sa.String(length=512), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=500), nullable=True),
        sa.Column("replied_at", UTCDateTime(), nullable=True),
        sa.Column("found_url", sa.String(length=2000), nullable=True),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mentions.id"],
            name=op.f("fk_public_replies_mention_id_mentions"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_replies")),
        sa.UniqueConstraint(
            "mention_id", "reply_key", name=op.f("uq_public_replies_mention_id_reply_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("public_replies")
    op.drop_index(op.f("ix_followup_changes_item_id"), table_name="followup_changes")
    op.drop_table("followup_changes")
    op.drop_index("ix_followup_items_business_state", table_name="followup_items")
    op.drop_table("followup_items")
