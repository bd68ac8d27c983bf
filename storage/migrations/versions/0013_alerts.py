"""alerts: spikes of negative mentions and their emails

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

`alerts` holds one spike per business, topic ("" for all mentions) and local day (a unique
key, so two daemons cannot both alert), with what was observed and predicted, the topics that
spiked with it, the triggering mentions, and the email's delivery state and Message-ID (stored
before the first attempt).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("alert_day", sa.Date(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("bound", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=False),
        sa.Column("mention_ids", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("delivered_to", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"],
            name=op.f("fk_alerts_business_id_businesses"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "business_id", "topic", "alert_day", name=op.f("uq_alerts_business_id_topic_alert_day")
        ),
        sa.UniqueConstraint("message_id", name=op.f("uq_alerts_message_id")),
    )
    op.create_index("ix_alerts_status_next", "alerts", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_status_next", table_name="alerts")
    op.drop_table("alerts")
