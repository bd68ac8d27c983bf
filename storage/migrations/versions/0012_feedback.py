"""feedback: invitations, opt-outs, private mentions kept out of the customers' public voice

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

- `feedback_invitations`: one customer asked once (its signed link's token id, its email's
  delivery state and Message-ID, when it expires and when it was answered, the answer's mention);
- `feedback_opt_outs`: (business, email) pairs never asked again;
- `mentions.is_private`: an answer is a private mention (source type `feedback`). `v_mentions`
  shows the column; `v_daily_sentiment` and `v_topic_weekly` (the public voice) leave private
  mentions out, as does the rollup (`storage.rollup`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _revision(name: str) -> ModuleType:
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"reviewwatch_migration_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _views(private: bool) -> list[str]:
    """0008's views; with `private`, v_mentions shows is_private and the voice leaves it out."""
    v8 = _revision("0008_counting_rule.py")
    d = v8._fragments()
    false = "0" if d["true"] == "1" else "FALSE"
    mentions, topics = v8._v_mentions(d), v8._v_mention_topics(d)
    daily, weekly = v8._v_daily_sentiment(d), v8._v_topic_weekly(d)
    if private:
        mentions = mentions.replace(
            "x.is_own AS is_own,", "x.is_own AS is_own, x.is_private AS is_private,"
        ).replace("m.is_own AS is_own,", "m.is_own AS is_own, m.is_private AS is_private,")
        voice = f"vm.is_own = {false}"
        private_out = f"{voice} AND vm.is_private = {false}"
        daily = daily.replace(voice, private_out)
        weekly = weekly.replace(voice, private_out).replace(
            "v.is_own, v.duplicate_of_id", "v.is_own, v.is_private, v.duplicate_of_id"
        )
        assert mentions.count("is_private") == 4 and "is_private" in daily and "is_private" in weekly
    return [mentions, topics, daily, weekly]


def _replace_views(private: bool) -> None:
    v8 = _revision("0008_counting_rule.py")
    v8._drop_views()
    for sql in _views(private):
        op.execute(sql)


def upgrade() -> None:
    op.add_column(
        "mentions",
        sa.Column("is_private", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "feedback_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("mention_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"],
            name=op.f("fk_feedback_invitations_business_id_businesses"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mentions.id"],
            name=op.f("fk_feedback_invitations_mention_id_mentions"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_invitations")),
        sa.UniqueConstraint("message_id", name=op.f("uq_feedback_invitations_message_id")),
        sa.UniqueConstraint("token_id", name=op.f("uq_feedback_invitations_token_id")),
    )
    op.create_index(
        "ix_feedback_invitations_business_email", "feedback_invitations", ["business_id", "email"]
    )
    op.create_index(
        "ix_feedback_invitations_status_next", "feedback_invitations",
        ["status", "next_attempt_at"],
    )
    op.create_table(
        "feedback_opt_outs",
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"],
            name=op.f("fk_feedback_opt_outs_business_id_businesses"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "email", name=op.f("pk_feedback_opt_outs")),
    )
    _replace_views(private=True)


def downgrade() -> None:
    _revision("0008_counting_rule.py")._drop_views()
    op.drop_table("feedback_opt_outs")
    op.drop_index("ix_feedback_invitations_status_next", table_name="feedback_invitations")
    op.drop_index("ix_feedback_invitations_business_email", table_name="feedback_invitations")
    op.drop_table("feedback_invitations")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("mentions", "is_private")
    else:
        # In place (SQLite >= 3.35): a batch copy of mentions would lose its rollup triggers.
        op.execute("ALTER TABLE mentions DROP COLUMN is_private")
    for sql in _views(private=False):
        op.execute(sql)
