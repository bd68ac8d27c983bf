"""counting: rated mentions labelled by their rating, topic opinions, undated mentions counted

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10

How a mention counts, the same in every view, the rollup, the gap and the digest:
- its label is an analyst's correction, else (when `label_rules.ratings_decide`) the label of
  the reviewer's rating through the thresholds of the one-row table `label_rules`, else the
  model's. `v_mentions` keeps `model_label` beside `label`, adds `rating_label` (the rating's
  label, whether or not ratings decide) and `label_source` (correction, rating or model);
- a topic found in a mention is an opinion: `score_topics.sentiment` (new, nullable) holds its
  own polarity; per-topic figures (`v_mention_topics.label`, `v_topic_weekly`, the rollup's
  topic rows) count that polarity, else the mention's label (`label_source` = topic when own);
- a mention counts at its published time, else its first-seen time (`v_mentions.counted_at`):
  `v_daily_sentiment`, `v_topic_weekly` and the rollup counted dated mentions only before.
The rollup triggers mark the counted day, and follow ratings and the rule; every day is
recomputed. A later migration that copies `label_rules` or the tables of 0002/0005 on SQLite
must recreate these views and triggers.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

VIEWS = ("v_topic_weekly", "v_daily_sentiment", "v_mention_topics", "v_mentions")
DEFAULT_RULE = {"negative_below": 0.375, "positive_above": 0.625}


def _revision(name: str) -> ModuleType:
    """An earlier revision's module (its frozen SQL, for building on it and for the downgrade)."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"reviewwatch_migration_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dialect() -> str:
    return str(op.get_bind().dialect.name)


def _fragments() -> dict[str, str]:
    v1 = _revision("0002_analyst_views.py")
    fragments: dict[str, str] = v1._POSTGRESQL if _dialect() == "postgresql" else v1._SQLITE
    return fragments


# ---------------------------------------------------------------------------------- views


def _v_mentions(d: dict[str, str]) -> str:
    return f"""
CREATE VIEW v_mentions AS
SELECT
    x.mention_id AS mention_id, x.business_id AS business_id, x.business AS business,
    x.source_id AS source_id, x.source_type AS source_type, x.external_id AS external_id,
    x.url AS url, x.author AS author, x.rating AS rating, x.rating_scale AS rating_scale,
    x.rating_normalised AS rating_normalised, x.title AS title, x.text AS text,
    x.language AS language, x.is_own AS is_own, x.duplicate_of_id AS duplicate_of_id,
    x.published_at AS published_at, x.first_seen_at AS first_seen_at,
    x.counted_at AS counted_at, x.score_id AS score_id, x.model_id AS model_id,
    x.model_version AS model_version, x.model_label AS model_label,
    x.p_negative AS p_negative, x.p_neutral AS p_neutral, x.p_positive AS p_positive,
    x.stars AS stars, x.scored_at AS scored_at, x.rating_label AS rating_label,
    CASE
        WHEN x.corrected_label IS NOT NULL THEN x.corrected_label
        WHEN x.score_id IS NULL THEN NULL
        WHEN x.rating_label IS NOT NULL AND x.ratings_decide = {d["true"]} THEN x.rating_label
        ELSE x.model_label
    END AS label,
    CASE
        WHEN x.corrected_label IS NOT NULL THEN 'correction'
        WHEN x.score_id IS NULL THEN NULL
        WHEN x.rating_label IS NOT NULL AND x.ratings_decide = {d["true"]} THEN 'rating'
        ELSE 'model'
    END AS label_source,
    x.corrected AS corrected, x.topics_corrected AS topics_corrected
FROM (
    SELECT
        m.id AS mention_id, m.business_id AS business_id, b.slug AS business,
        m.source_id AS source_id, s.type AS source_type, m.external_id AS external_id,
        m.url AS url, m.author AS author, m.rating AS rating, m.rating_scale AS rating_scale,
        m.rating_normalised AS rating_normalised, m.title AS title, m.text AS text,
        m.language AS language, m.is_own AS is_own, m.duplicate_of_id AS duplicate_of_id,
        m.published_at AS published_at, m.first_seen_at AS first_seen_at,
        COALESCE(m.published_at, m.first_seen_at) AS counted_at,
        sc.id AS score_id, sc.model_id AS model_id, sc.model_version AS model_version,
        sc.label AS model_label, sc.p_negative AS p_negative, sc.p_neutral AS p_neutral,
        sc.p_positive AS p_positive, sc.stars AS stars, sc.scored_at AS scored_at,
        CASE
            WHEN m.rating_normalised IS NULL OR lr.id IS NULL THEN NULL
            WHEN m.rating_normalised < lr.negative_below THEN 'negative'
            WHEN m.rating_normalised > lr.positive_above THEN 'positive'
            ELSE 'neutral'
        END AS rating_label,
        lr.ratings_decide AS ratings_decide,
        (SELECT c.label_after FROM corrections c
          WHERE c.mention_id = m.id AND c.label_after IS NOT NULL
          ORDER BY c.created_at DESC, c.id DESC LIMIT 1) AS corrected_label,
        EXISTS (SELECT 1 FROM corrections c WHERE c.mention_id = m.id) AS corrected,
        EXISTS (SELECT 1 FROM corrections c WHERE c.mention_id = m.id
                  AND {d["is_array"].format(col="c.topics_after")}) AS topics_corrected
    FROM mentions m
    JOIN businesses b ON b.id = m.business_id
    JOIN sources s ON s.id = m.source_id
    LEFT JOIN scores sc ON sc.mention_id = m.id AND sc.is_current = {d["true"]}
    LEFT JOIN label_rules lr ON lr.id = 1
    WHERE m.deleted_at IS NULL
) x
"""


def _v_mention_topics(d: dict[str, str]) -> str:
    false = "0" if d["true"] == "1" else "FALSE"
    return f"""
CREATE VIEW v_mention_topics AS
SELECT vm.mention_id AS mention_id, st.topic AS topic, st.probability AS probability,
       0 AS corrected, st.sentiment AS sentiment,
       COALESCE(st.sentiment, vm.label) AS label,
       CASE WHEN st.sentiment IS NOT NULL THEN 'topic' ELSE vm.label_source END AS label_source
FROM v_mentions vm
JOIN score_topics st ON st.score_id = vm.score_id
WHERE vm.topics_corrected = {false}
UNION ALL
SELECT ct.mention_id AS mention_id, ct.topic AS topic, 1.0 AS probability, 1 AS corrected,
       NULL AS sentiment, vm.label AS label, vm.label_source AS label_source
FROM v_corrected_topics ct
JOIN v_mentions vm ON vm.mention_id = ct.mention_id
"""


_COUNTS = """
    COUNT(*) AS mentions,
    SUM(CASE WHEN vm.label = 'positive' THEN 1 ELSE 0 END) AS positive,
    SUM(CASE WHEN vm.label = 'neutral' THEN 1 ELSE 0 END) AS neutral,
    SUM(CASE WHEN vm.label = 'negative' THEN 1 ELSE 0 END) AS negative,
    AVG(vm.stars) AS avg_stars,
    AVG(vm.rating_normalised) AS avg_rating_normalised"""

# The customer's voice: counted (scored or corrected), not the business's own posts, not
# cross-posted duplicates; dated or not (an undated mention counts when first seen).
_VOICE = "vm.label IS NOT NULL AND vm.is_own = {false} AND vm.duplicate_of_id IS NULL"


def _v_daily_sentiment(d: dict[str, str]) -> str:
    day = d["day"].format(col="vm.counted_at")
    voice = _VOICE.format(false="0" if d["true"] == "1" else "FALSE")
    return f"""
CREATE VIEW v_daily_sentiment AS
SELECT vm.business_id AS business_id, vm.business AS business, {day} AS day,{_COUNTS}
FROM v_mentions vm
WHERE {voice}
GROUP BY vm.business_id, vm.business, {day}
"""


def _v_topic_weekly(d: dict[str, str]) -> str:
    false = "0" if d["true"] == "1" else "FALSE"
    week = d["week"].format(col="vm.counted_at")
    voice = _VOICE.format(false=false)
    # The opinions about each topic: the topic's own polarity, else the mention's label.
    columns = ("v.business_id, v.business, v.counted_at, v.stars, v.rating_normalised, "
               "v.is_own, v.duplicate_of_id")
    return f"""
CREATE VIEW v_topic_weekly AS
SELECT vm.business_id AS business_id, vm.business AS business, vm.topic AS topic,
       {week} AS week,{_COUNTS}
FROM (
    SELECT {columns}, st.topic AS topic, COALESCE(st.sentiment, v.label) AS label
    FROM v_mentions v
    JOIN score_topics st ON st.score_id = v.score_id
    WHERE v.topics_corrected = {false}
    UNION ALL
    SELECT {columns}, ct.topic AS topic, v.label AS label
    FROM v_mentions v
    JOIN v_corrected_topics ct ON ct.mention_id = v.mention_id
) vm
WHERE {voice}
GROUP BY vm.business_id, vm.business, vm.topic, {week}
"""


def _create_views() -> None:
    d = _fragments()
    for build in (_v_mentions, _v_mention_topics, _v_daily_sentiment, _v_topic_weekly):
        op.execute(build(d))


def _drop_views() -> None:
    for name in VIEWS:  # dependents first: PostgreSQL refuses to drop a view others use
        op.execute(f"DROP VIEW IF EXISTS {name}")


# ------------------------------------------------------------------------- rollup triggers

_SQLITE_DAY = "date(COALESCE({row}.published_at, {row}.first_seen_at))"
_PG_DAY = "CAST((COALESCE({row}.published_at, {row}.first_seen_at) AT TIME ZONE 'UTC') AS DATE)"
# A mention's fields that move it between days or change whether or how it counts.
_MENTION_FIELDS = ("deleted_at", "published_at", "first_seen_at", "duplicate_of_id", "is_own",
                   "business_id", "rating_normalised")
_MENTION_OF_SCORE = "(SELECT s.mention_id FROM scores s WHERE s.id = {row}.score_id)"

# (trigger, table, event, mention id expressions) for SQLite.
_SQLITE_BY_MENTION = (
    ("rollup_scores_insert", "scores", "AFTER INSERT", ("NEW.mention_id",)),
    ("rollup_scores_update", "scores", "AFTER UPDATE OF is_current, label, stars, mention_id",
     ("NEW.mention_id", "OLD.mention_id")),
    ("rollup_scores_delete", "scores", "AFTER DELETE", ("OLD.mention_id",)),
    ("rollup_score_topics_insert", "score_topics", "AFTER INSERT",
     (_MENTION_OF_SCORE.format(row="NEW"),)),
    ("rollup_score_topics_update", "score_topics", "AFTER UPDATE",
     (_MENTION_OF_SCORE.format(row="NEW"), _MENTION_OF_SCORE.format(row="OLD"))),
    ("rollup_score_topics_delete", "score_topics", "AFTER DELETE",
     (_MENTION_OF_SCORE.format(row="OLD"),)),
    ("rollup_corrections_insert", "corrections", "AFTER INSERT", ("NEW.mention_id",)),
    ("rollup_corrections_update", "corrections", "AFTER UPDATE",
     ("NEW.mention_id", "OLD.mention_id")),
    ("rollup_corrections_delete", "corrections", "AFTER DELETE", ("OLD.mention_id",)),
)
_SQLITE_OTHERS = ("rollup_mentions_update", "rollup_mentions_delete", "rollup_label_rules_insert",
                  "rollup_label_rules_update", "rollup_label_rules_delete")
# 0005's and 0007's SQLite triggers, replaced here.
_SQLITE_EARLIER = ("rollup_scores_insert", "rollup_scores_update", "rollup_scores_update_old",
                   "rollup_scores_delete", "rollup_score_topics_insert",
                   "rollup_score_topics_delete", "rollup_corrections_insert",
                   "rollup_corrections_delete", "rollup_mentions_update", "rollup_mentions_delete",
                   "rollup_score_topics_update", "rollup_corrections_update")


def _sqlite_mark(mention: str) -> str:
    return (
        "INSERT OR IGNORE INTO rollup_dirty (business_id, day) "
        f"SELECT m.business_id, {_SQLITE_DAY.format(row='m')} FROM mentions m "
        f"WHERE m.id = {mention};"
    )


def _sqlite_mark_row(row: str) -> str:
    return (
        "INSERT OR IGNORE INTO rollup_dirty (business_id, day) "
        f"SELECT {row}.business_id, {_SQLITE_DAY.format(row=row)};"
    )


def _mark_rated(day: str, conflict: tuple[str, str]) -> str:
    """Mark every day holding a rated mention: a change of the rule relabels them."""
    insert, on_conflict = conflict
    return (
        f"{insert} INTO rollup_dirty (business_id, day) SELECT DISTINCT m.business_id, "
        f"{day.format(row='m')} FROM mentions m WHERE m.rating_normalised IS NOT NULL{on_conflict}"
    )


def _sqlite_triggers() -> None:
    for name, table, event, mentions in _SQLITE_BY_MENTION:
        marks = " ".join(_sqlite_mark(mention) for mention in mentions)
        op.execute(f"CREATE TRIGGER {name} {event} ON {table} BEGIN {marks} END")
    changed = " OR ".join(f"OLD.{f} IS NOT NEW.{f}" for f in _MENTION_FIELDS)
    op.execute(
        f"CREATE TRIGGER rollup_mentions_update AFTER UPDATE OF {', '.join(_MENTION_FIELDS)} "
        f"ON mentions WHEN {changed} BEGIN {_sqlite_mark_row('OLD')} {_sqlite_mark_row('NEW')} END"
    )
    op.execute(
        "CREATE TRIGGER rollup_mentions_delete AFTER DELETE ON mentions "
        f"BEGIN {_sqlite_mark_row('OLD')} END"
    )
    rated = _mark_rated(_SQLITE_DAY, ("INSERT OR IGNORE", ""))
    for event in ("INSERT", "UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER rollup_label_rules_{event.lower()} AFTER {event} ON label_rules "
            f"BEGIN {rated}; END"
        )


_PG_MARK_MENTION = f"""
CREATE OR REPLACE FUNCTION rollup_mark_mention(p_mention integer) RETURNS void LANGUAGE sql AS $$
  INSERT INTO rollup_dirty (business_id, day)
  SELECT m.business_id, {_PG_DAY.format(row="m")} FROM mentions m WHERE m.id = p_mention
  ON CONFLICT DO NOTHING
$$"""
_PG_ON_MENTION = f"""
CREATE OR REPLACE FUNCTION rollup_on_mention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NOT (
      {" OR ".join(f"OLD.{f} IS DISTINCT FROM NEW.{f}" for f in _MENTION_FIELDS)}) THEN
    RETURN NULL;
  END IF;
  INSERT INTO rollup_dirty (business_id, day)
  VALUES (OLD.business_id, {_PG_DAY.format(row="OLD")}) ON CONFLICT DO NOTHING;
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO rollup_dirty (business_id, day)
    VALUES (NEW.business_id, {_PG_DAY.format(row="NEW")}) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$"""
_PG_ON_RULE = f"""
CREATE FUNCTION rollup_on_label_rule() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_mark_rated(_PG_DAY, ("INSERT", " ON CONFLICT DO NOTHING"))};
  RETURN NULL;
END $$"""
_PG_MENTIONS_TRIGGER = (
    "CREATE TRIGGER rollup_mentions AFTER DELETE OR UPDATE OF {fields} ON mentions "
    "FOR EACH ROW EXECUTE FUNCTION rollup_on_mention()"
)


def _pg_triggers() -> None:
    op.execute(_PG_MARK_MENTION)
    op.execute(_PG_ON_MENTION)
    op.execute("DROP TRIGGER IF EXISTS rollup_mentions ON mentions")
    op.execute(_PG_MENTIONS_TRIGGER.format(fields=", ".join(_MENTION_FIELDS)))
    op.execute(_PG_ON_RULE)
    op.execute(
        "CREATE TRIGGER rollup_label_rules AFTER INSERT OR UPDATE OR DELETE ON label_rules "
        "FOR EACH STATEMENT EXECUTE FUNCTION rollup_on_label_rule()"
    )


def _mark_every_day() -> None:
    """Every counted day is recomputed: labels, topic opinions and undated mentions changed."""
    if _dialect() == "postgresql":
        day, insert, on_conflict = _PG_DAY, "INSERT", " ON CONFLICT DO NOTHING"
    else:
        day, insert, on_conflict = _SQLITE_DAY, "INSERT OR IGNORE", ""
    op.execute(
        f"{insert} INTO rollup_dirty (business_id, day) SELECT DISTINCT m.business_id, "
        f"{day.format(row='m')} FROM mentions m{on_conflict}"
    )


# ------------------------------------------------------------------------- upgrade, downgrade


def upgrade() -> None:
    op.create_table(
        "label_rules",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ratings_decide", sa.Boolean(), nullable=False),
        sa.Column("negative_below", sa.Float(), nullable=False),
        sa.Column("positive_above", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_label_rules_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_rules")),
    )
    op.execute(
        sa.text(
            "INSERT INTO label_rules (id, ratings_decide, negative_below, positive_above, "
            "updated_at) VALUES (1, :decide, :negative_below, :positive_above, CURRENT_TIMESTAMP)"
        ).bindparams(decide=True, **DEFAULT_RULE)
    )
    op.add_column("score_topics", sa.Column("sentiment", sa.String(length=16), nullable=True))
    _drop_views()
    _create_views()
    if _dialect() == "postgresql":
        _pg_triggers()
    else:
        for name in _SQLITE_EARLIER:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        _sqlite_triggers()
    _mark_every_day()


def downgrade() -> None:
    v2, v3 = _revision("0002_analyst_views.py"), _revision("0003_analyst_views_join_friendly.py")
    v5, v7 = _revision("0005_sentiment_rollup.py"), _revision("0007_rollup_sqlite_update_triggers.py")
    postgresql = _dialect() == "postgresql"
    if postgresql:
        op.execute("DROP TRIGGER IF EXISTS rollup_label_rules ON label_rules")
        op.execute("DROP FUNCTION IF EXISTS rollup_on_label_rule()")
        op.execute("DROP TRIGGER IF EXISTS rollup_mentions ON mentions")
        for name in ("rollup_mark_mention", "rollup_on_mention"):
            op.execute(v5._PG_FUNCTIONS[name].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
        fields = ", ".join(v5._MENTION_FIELDS)
        op.execute(_PG_MENTIONS_TRIGGER.format(fields=fields))
    else:
        for name in (*(t[0] for t in _SQLITE_BY_MENTION), *_SQLITE_OTHERS):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    _drop_views()
    if postgresql:
        op.drop_column("score_topics", "sentiment")
    else:
        # SQLite >= 3.35 drops a column in place: a batch copy would lose score_topics' triggers.
        op.execute("ALTER TABLE score_topics DROP COLUMN sentiment")
    op.drop_table("label_rules")
    d = v2._POSTGRESQL if postgresql else v2._SQLITE
    op.execute(v3._v_mentions(v2, d))
    op.execute(v3._v_mention_topics(d))
    op.execute(v2._v_daily_sentiment(d))
    op.execute(v3._v_topic_weekly(v2, d))
    if not postgresql:
        v5._sqlite_upgrade()
        v7.upgrade()
    _mark_every_day()
