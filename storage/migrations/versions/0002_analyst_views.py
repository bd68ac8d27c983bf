"""analyst views: v_mentions, v_mention_topics, v_daily_sentiment, v_topic_weekly, v_claims

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Stable, documented views for analysts (README "Analysts"). An analyst's correction overrides
the model: `label` and the topics in `v_mention_topics` come from the latest correction that
set them, else from the current score. Days and weeks are UTC; weeks start on Monday.
The SQL is frozen here per dialect: a later change of a view is a new migration. A later
migration that must recreate (batch-copy) `mentions`, `scores`, `score_topics`, `corrections`,
`sources`, `businesses` or `claims` on SQLite has to drop these views first and recreate them.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

VIEWS = ("v_claims", "v_topic_weekly", "v_daily_sentiment", "v_mention_topics", "v_mentions")

# Dialect fragments: booleans, JSON arrays and calendar buckets differ between the backends.
_SQLITE = {
    "true": "1",
    "is_array": "json_type({col}) = 'array'",
    "elements": "json_each(c.topics_after) AS j",
    "element": "j.value",
    "day": "date({col})",
    "week": "date({col}, '-6 days', 'weekday 1')",
}
_POSTGRESQL = {
    "true": "TRUE",
    "is_array": "json_typeof({col}) = 'array'",
    "elements": "LATERAL json_array_elements_text(c.topics_after) AS j(value)",
    "element": "j.value",
    "day": "CAST(({col} AT TIME ZONE 'UTC') AS DATE)",
    "week": "CAST(date_trunc('week', {col} AT TIME ZONE 'UTC') AS DATE)",
}


def _v_mentions(d: dict[str, str]) -> str:
    return f"""
CREATE VIEW v_mentions AS
SELECT
    m.id AS mention_id,
    m.business_id AS business_id,
    b.slug AS business,
    m.source_id AS source_id,
    s.type AS source_type,
    m.external_id AS external_id,
    m.url AS url,
    m.author AS author,
    m.rating AS rating,
    m.rating_scale AS rating_scale,
    m.rating_normalised AS rating_normalised,
    m.title AS title,
    m.text AS text,
    m.language AS language,
    m.is_own AS is_own,
    m.duplicate_of_id AS duplicate_of_id,
    m.published_at AS published_at,
    m.first_seen_at AS first_seen_at,
    sc.id AS score_id,
    sc.model_id AS model_id,
    sc.model_version AS model_version,
    sc.label AS model_label,
    sc.p_negative AS p_negative,
    sc.p_neutral AS p_neutral,
    sc.p_positive AS p_positive,
    sc.stars AS stars,
    sc.scored_at AS scored_at,
    COALESCE(
        (SELECT c.label_after FROM corrections c
          WHERE c.mention_id = m.id AND c.label_after IS NOT NULL
          ORDER BY c.created_at DESC, c.id DESC LIMIT 1),
        sc.label
    ) AS label,
    EXISTS (SELECT 1 FROM corrections c WHERE c.mention_id = m.id) AS corrected
FROM mentions m
JOIN businesses b ON b.id = m.business_id
JOIN sources s ON s.id = m.source_id
LEFT JOIN scores sc ON sc.mention_id = m.id AND sc.is_current = {d["true"]}
WHERE m.deleted_at IS NULL
"""


def _v_mention_topics(d: dict[str, str]) -> str:
    is_array = d["is_array"]
    return f"""
CREATE VIEW v_mention_topics AS
SELECT sc.mention_id AS mention_id, st.topic AS topic, st.probability AS probability,
       0 AS corrected
FROM score_topics st
JOIN scores sc ON sc.id = st.score_id AND sc.is_current = {d["true"]}
WHERE NOT EXISTS (
    SELECT 1 FROM corrections c
     WHERE c.mention_id = sc.mention_id AND {is_array.format(col="c.topics_after")})
UNION ALL
SELECT c.mention_id AS mention_id, {d["element"]} AS topic, 1.0 AS probability, 1 AS corrected
FROM corrections c CROSS JOIN {d["elements"]}
WHERE {is_array.format(col="c.topics_after")}
  AND NOT EXISTS (
    SELECT 1 FROM corrections c2
     WHERE c2.mention_id = c.mention_id AND {is_array.format(col="c2.topics_after")}
       AND (c2.created_at > c.created_at OR (c2.created_at = c.created_at AND c2.id > c.id)))
"""


_COUNTS = """
    COUNT(*) AS mentions,
    SUM(CASE WHEN vm.label = 'positive' THEN 1 ELSE 0 END) AS positive,
    SUM(CASE WHEN vm.label = 'neutral' THEN 1 ELSE 0 END) AS neutral,
    SUM(CASE WHEN vm.label = 'negative' THEN 1 ELSE 0 END) AS negative,
    AVG(vm.stars) AS avg_stars,
    AVG(vm.rating_normalised) AS avg_rating_normalised"""

# The customer's voice: scored, not the business's own posts, not cross-posted duplicates.
_VOICE = """vm.label IS NOT NULL AND vm.is_own = {false} AND vm.duplicate_of_id IS NULL
  AND vm.published_at IS NOT NULL"""


def _v_daily_sentiment(d: dict[str, str]) -> str:
    day = d["day"].format(col="vm.published_at")
    voice = _VOICE.format(false="0" if d["true"] == "1" else "FALSE")
    return f"""
CREATE VIEW v_daily_sentiment AS
SELECT vm.business_id AS business_id, vm.business AS business, {day} AS day,{_COUNTS}
FROM v_mentions vm
WHERE {voice}
GROUP BY vm.business_id, vm.business, {day}
"""


def _v_topic_weekly(d: dict[str, str]) -> str:
    week = d["week"].format(col="vm.published_at")
    voice = _VOICE.format(false="0" if d["true"] == "1" else "FALSE")
    return f"""
CREATE VIEW v_topic_weekly AS
SELECT vm.business_id AS business_id, vm.business AS business, t.topic AS topic,
       {week} AS week,{_COUNTS}
FROM v_mentions vm
JOIN v_mention_topics t ON t.mention_id = vm.mention_id
WHERE {voice}
GROUP BY vm.business_id, vm.business, t.topic, {week}
"""


_V_CLAIMS = """
CREATE VIEW v_claims AS
SELECT c.id AS claim_id, c.business_id AS business_id, b.slug AS business,
       b.name AS business_name, c.claim_key AS claim_key, c.origin AS origin,
       c.metric AS metric, c.topic AS topic, c.value AS value, c.scale AS scale,
       c.kind AS kind, c.period AS period, c.evidence_url AS evidence_url,
       c.evidence_text AS evidence_text, c.stated_at AS stated_at, c.active AS active
FROM claims c
JOIN businesses b ON b.id = c.business_id
"""


def upgrade() -> None:
    fragments = _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE
    for build in (_v_mentions, _v_mention_topics, _v_daily_sentiment, _v_topic_weekly):
        op.execute(build(fragments))
    op.execute(_V_CLAIMS)


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
