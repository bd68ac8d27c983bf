"""rollup: SQLite triggers for UPDATE on score_topics and corrections (PostgreSQL had them)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

reviewwatch itself only inserts and deletes those rows, but an analyst's hand-written UPDATE
(say, fixing a correction's label in SQL) must mark the days it touches, as on PostgreSQL, or
the rollup would keep answering with the old counts. Both the old and the new mention's day
are marked, since an UPDATE may move a row from one mention to another.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_MENTION_OF_SCORE = "(SELECT s.mention_id FROM scores s WHERE s.id = {row}.score_id)"

# (trigger, table, mention id expression for a row alias)
_TRIGGERS = (
    ("rollup_score_topics_update", "score_topics", _MENTION_OF_SCORE),
    ("rollup_corrections_update", "corrections", "{row}.mention_id"),
)


def _mark(mention: str) -> str:
    return (
        "INSERT OR IGNORE INTO rollup_dirty (business_id, day) "
        "SELECT m.business_id, date(m.published_at) FROM mentions m "
        f"WHERE m.id = {mention} AND m.published_at IS NOT NULL;"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table, mention in _TRIGGERS:
        marks = " ".join(_mark(mention.format(row=row)) for row in ("OLD", "NEW"))
        op.execute(f"CREATE TRIGGER {name} AFTER UPDATE ON {table} BEGIN {marks} END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, _table, _mention in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
