"""analyst views v2: join-friendly topics (v_corrected_topics, v_mentions.topics_corrected)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

SQLite cannot push a join condition into a UNION ALL view, so joining `v_mention_topics` read
every topic of the store. The views now separate the model's topics (`score_topics`, kept when
`v_mentions.topics_corrected` is false) from the analysts' (`v_corrected_topics`, small), and
`v_topic_weekly` aggregates over those two index-driven branches. Same columns as before, plus
`v_mentions.topics_corrected` and the view `v_corrected_topics`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

VIEWS = ("v_claims", "v_topic_weekly", "v_daily_sentiment", "v_mention_topics",
         "v_corrected_topics", "v_mentions")


def _v1() -> ModuleType:
    """Revision 0002 (its frozen SQL fragments, and its views for the downgrade)."""
    path = Path(__file__).with_name("0002_analyst_views.py")
    spec = importlib.util.spec_from_file_location("reviewwatch_migration_0002", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _v_mentions(v1: ModuleType, d: dict[str, str]) -> str:
    topics_corrected = (
        "    EXISTS (SELECT 1 FROM corrections c WHERE c.mention_id = m.id AND "
        + d["is_array"].format(col="c.topics_after")
        + ") AS topics_corrected,\n"
    )
    sql: str = v1._v_mentions(d)
    anchor = "    EXISTS (SELECT 1 FROM corrections c WHERE c.mention_id = m.id) AS corrected\n"
    assert anchor in sql
    return sql.replace(anchor, topics_corrected + anchor)


def _v_corrected_topics(d: dict[str, str]) -> str:
    is_array = d["is_array"]
    return f"""
CREATE VIEW v_corrected_topics AS
SELECT c.mention_id AS mention_id, {d["element"]} AS topic
FROM corrections c CROSS JOIN {d["elements"]}
WHERE {is_array.format(col="c.topics_after")}
  AND NOT EXISTS (
    SELECT 1 FROM corrections c2
     WHERE c2.mention_id = c.mention_id AND {is_array.format(col="c2.topics_after")}
       AND (c2.created_at > c.created_at OR (c2.created_at = c.created_at AND c2.id > c.id)))
"""


def _v_mention_topics(d: dict[str, str]) -> str:
    return f"""
CREATE VIEW v_mention_topics AS
SELECT vm.mention_id AS mention_id, st.topic AS topic, st.probability AS probability,
       0 AS corrected
FROM v_mentions vm
JOIN score_topics st ON st.score_id = vm.score_id
WHERE vm.topics_corrected = {"0" if d["true"] == "1" else "FALSE"}
UNION ALL
SELECT ct.mention_id AS mention_id, ct.topic AS topic, 1.0 AS probability, 1 AS corrected
FROM v_corrected_topics ct
"""


def _v_topic_weekly(v1: ModuleType, d: dict[str, str]) -> str:
    false = "0" if d["true"] == "1" else "FALSE"
    week = d["week"].format(col="vm.published_at")
    voice = v1._VOICE.format(false=false)
    return f"""
CREATE VIEW v_topic_weekly AS
SELECT vm.business_id AS business_id, vm.business AS business, vm.topic AS topic,
       {week} AS week,{v1._COUNTS}
FROM (
    SELECT v.*, st.topic AS topic FROM v_mentions v
    JOIN score_topics st ON st.score_id = v.score_id
    WHERE v.topics_corrected = {false}
    UNION ALL
    SELECT v.*, ct.topic AS topic FROM v_mentions v
    JOIN v_corrected_topics ct ON ct.mention_id = v.mention_id
) vm
WHERE {voice}
GROUP BY vm.business_id, vm.business, vm.topic, {week}
"""


def upgrade() -> None:
    v1 = _v1()
    d = v1._POSTGRESQL if op.get_bind().dialect.name == "postgresql" else v1._SQLITE
    for name in v1.VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.execute(_v_mentions(v1, d))
    op.execute(_v_corrected_topics(d))
    op.execute(_v_mention_topics(d))
    op.execute(v1._v_daily_sentiment(d))
    op.execute(_v_topic_weekly(v1, d))
    op.execute(v1._V_CLAIMS)


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    _v1().upgrade()
