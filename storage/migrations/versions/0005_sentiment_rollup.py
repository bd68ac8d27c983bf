"""sentiment rollup: pre-aggregated voice per business, day, topic, label, kept by triggers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

`sentiment_rollup` holds counts per (business, UTC day, topic or '' for all, label), with
analysts' corrections applied. Triggers on scores, score_topics, corrections and mentions mark
the (business, day) they touch in `rollup_dirty`; storage/rollup.py recomputes those days
lazily before aggregates read the rollup. Every existing day starts dirty. A later migration
that copies one of these tables on SQLite (batch mode) must recreate the triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SQLITE_DAY = "date({col})"
_PG_DAY = "CAST(({col} AT TIME ZONE 'UTC') AS DATE)"

# (trigger, table, event, mention id expression) for SQLite.
_SQLITE_BY_MENTION = (
    ("rollup_scores_insert", "scores", "AFTER INSERT", "NEW.mention_id"),
    ("rollup_scores_update", "scores", "AFTER UPDATE OF is_current, label, stars, mention_id",
     "NEW.mention_id"),
    ("rollup_scores_update_old", "scores", "AFTER UPDATE OF mention_id", "OLD.mention_id"),
    ("rollup_scores_delete", "scores", "AFTER DELETE", "OLD.mention_id"),
    ("rollup_score_topics_insert", "score_topics", "AFTER INSERT",
     "(SELECT s.mention_id FROM scores s WHERE s.id = NEW.score_id)"),
    ("rollup_score_topics_delete", "score_topics", "AFTER DELETE",
     "(SELECT s.mention_id FROM scores s WHERE s.id = OLD.score_id)"),
    ("rollup_corrections_insert", "corrections", "AFTER INSERT", "NEW.mention_id"),
    ("rollup_corrections_delete", "corrections", "AFTER DELETE", "OLD.mention_id"),
)
_MENTION_FIELDS = ("deleted_at", "published_at", "duplicate_of_id", "is_own", "business_id")
SQLITE_TRIGGERS = [t[0] for t in _SQLITE_BY_MENTION] + ["rollup_mentions_update",
                                                       "rollup_mentions_delete"]


def _sqlite_mark(mention: str) -> str:
    return (
        "INSERT OR IGNORE INTO rollup_dirty (business_id, day) "
        f"SELECT m.business_id, {_SQLITE_DAY.format(col='m.published_at')} FROM mentions m "
        f"WHERE m.id = {mention} AND m.published_at IS NOT NULL;"
    )


def _sqlite_mark_row(row: str) -> str:
    return (
        "INSERT OR IGNORE INTO rollup_dirty (business_id, day) "
        f"SELECT {row}.business_id, {_SQLITE_DAY.format(col=row + '.published_at')} "
        f"WHERE {row}.published_at IS NOT NULL;"
    )


def _sqlite_upgrade() -> None:
    for name, table, event, mention in _SQLITE_BY_MENTION:
        op.execute(f"CREATE TRIGGER {name} {event} ON {table} BEGIN {_sqlite_mark(mention)} END")
    changed = " OR ".join(f"OLD.{f} IS NOT NEW.{f}" for f in _MENTION_FIELDS)
    op.execute(
        f"CREATE TRIGGER rollup_mentions_update AFTER UPDATE OF {', '.join(_MENTION_FIELDS)} "
        f"ON mentions WHEN {changed} BEGIN {_sqlite_mark_row('OLD')} {_sqlite_mark_row('NEW')} END"
    )
    op.execute(
        f"CREATE TRIGGER rollup_mentions_delete AFTER DELETE ON mentions "
        f"BEGIN {_sqlite_mark_row('OLD')} END"
    )


_PG_FUNCTIONS = {
    "rollup_mark_mention": f"""
CREATE FUNCTION rollup_mark_mention(p_mention integer) RETURNS void LANGUAGE sql AS $$
  INSERT INTO rollup_dirty (business_id, day)
  SELECT m.business_id, {_PG_DAY.format(col="m.published_at")} FROM mentions m
   WHERE m.id = p_mention AND m.published_at IS NOT NULL
  ON CONFLICT DO NOTHING
$$""",
    "rollup_on_mention_ref": """
CREATE FUNCTION rollup_on_mention_ref() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN PERFORM rollup_mark_mention(NEW.mention_id); END IF;
  IF TG_OP <> 'INSERT' THEN PERFORM rollup_mark_mention(OLD.mention_id); END IF;
  RETURN NULL;
END $$""",
    "rollup_on_score_topic": """
CREATE FUNCTION rollup_on_score_topic() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    PERFORM rollup_mark_mention((SELECT s.mention_id FROM scores s WHERE s.id = NEW.score_id));
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM rollup_mark_mention((SELECT s.mention_id FROM scores s WHERE s.id = OLD.score_id));
  END IF;
  RETURN NULL;
END $$""",
    "rollup_on_mention": f"""
CREATE FUNCTION rollup_on_mention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NOT (
      {" OR ".join(f"OLD.{f} IS DISTINCT FROM NEW.{f}" for f in _MENTION_FIELDS)}) THEN
    RETURN NULL;
  END IF;
  IF OLD.published_at IS NOT NULL THEN
    INSERT INTO rollup_dirty (business_id, day)
    VALUES (OLD.business_id, {_PG_DAY.format(col="OLD.published_at")}) ON CONFLICT DO NOTHING;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.published_at IS NOT NULL THEN
    INSERT INTO rollup_dirty (business_id, day)
    VALUES (NEW.business_id, {_PG_DAY.format(col="NEW.published_at")}) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$""",
}
_PG_TRIGGERS = (
    ("rollup_scores", "scores",
     "AFTER INSERT OR DELETE OR UPDATE OF is_current, label, stars, mention_id",
     "rollup_on_mention_ref"),
    ("rollup_score_topics", "score_topics", "AFTER INSERT OR DELETE OR UPDATE",
     "rollup_on_score_topic"),
    ("rollup_corrections", "corrections", "AFTER INSERT OR DELETE OR UPDATE",
     "rollup_on_mention_ref"),
    ("rollup_mentions", "mentions",
     f"AFTER DELETE OR UPDATE OF {', '.join(_MENTION_FIELDS)}", "rollup_on_mention"),
)


def _pg_upgrade() -> None:
    for sql in _PG_FUNCTIONS.values():
        op.execute(sql)
    for name, table, event, function in _PG_TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"
        )


def upgrade() -> None:
    op.create_table(
        "sentiment_rollup",
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("stars_sum", sa.Float(), nullable=False),
        sa.Column("stars_n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["businesses.id"],
                                name=op.f("fk_sentiment_rollup_business_id_businesses"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("business_id", "day", "topic", "label",
                                name=op.f("pk_sentiment_rollup")),
    )
    op.create_table(
        "rollup_dirty",
        sa.Column("business_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("business_id", "day", name=op.f("pk_rollup_dirty")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    (_pg_upgrade if postgresql else _sqlite_upgrade)()
    day = (_PG_DAY if postgresql else _SQLITE_DAY).format(col="published_at")
    op.execute(
        f"INSERT INTO rollup_dirty (business_id, day) SELECT DISTINCT business_id, {day} "
        "FROM mentions WHERE published_at IS NOT NULL"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _event, _function in _PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in _PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name} CASCADE")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("rollup_dirty")
    op.drop_table("sentiment_rollup")
