"""The documented SQL views: present after upgrade, readable, gone after downgrade."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from storage.db import Store
from storage.migrate import downgrade, upgrade
from storage.models import GapSnapshot
from tests.analysts.conftest import Seeded

VIEWS = {"v_mentions", "v_mention_topics", "v_corrected_topics", "v_daily_sentiment",
         "v_topic_weekly", "v_claims", "v_claim_gaps"}


def test_views_answer_plain_sql(seeded: Seeded) -> None:
    with seeded.store.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM v_mentions")).scalar() == 12
        assert c.execute(text(
            "SELECT SUM(mentions) FROM v_daily_sentiment WHERE business = :b"), {"b": "cafe-a"}
        ).scalar() == 10
        weekly = c.execute(text(
            "SELECT week, mentions FROM v_topic_weekly WHERE business = 'cafe-a' "
            "AND topic = 'service' ORDER BY week")).all()
        assert [(str(w)[:10], n) for w, n in weekly] == [
            ("2026-11-02", 2), ("2026-11-09", 2), ("2026-11-16", 2)]
        claims = c.execute(text("SELECT business, topic, value FROM v_claims ORDER BY topic")).all()
        assert sorted((b, t or "", v) for b, t, v in claims) == [
            ("cafe-a", "", 0.9), ("cafe-a", "service", 0.8)]
        topics = c.execute(text("SELECT COUNT(*) FROM v_mention_topics")).scalar()
        assert topics == 17


def test_claim_gaps_view_is_the_latest_snapshot(seeded: Seeded) -> None:
    from reviewwatch.digest.gapinfo import take_snapshot

    with seeded.store.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM v_claim_gaps")).scalar() == 0  # no snapshot yet
    with seeded.store.transaction() as session:
        take_snapshot(session, seeded.settings, "cafe-a")
        latest = take_snapshot(session, seeded.settings, "cafe-a")
        report = session.get(GapSnapshot, latest).report
    with seeded.store.engine.connect() as c:
        rows = c.execute(text(
            "SELECT snapshot_id, business, claim_key, topic, claimed, mentions, perceived, "
            "perceived_low, perceived_high, gap, gap_low, gap_high, verdict FROM v_claim_gaps "
            "ORDER BY claim_key")).mappings().all()
    expected = sorted(report["claims"], key=lambda claim: claim["claim_key"])
    assert len(rows) == len(expected) == 2
    for row, claim in zip(rows, expected, strict=True):
        assert (row["snapshot_id"], row["business"], row["claim_key"]) == (
            latest, "cafe-a", claim["claim_key"])
        assert row["topic"] == claim["topic"] and row["verdict"] == claim["verdict"]
        assert row["claimed"] == pytest.approx(claim["claimed"])
        assert row["mentions"] == claim["mentions"]
        for column, key in (("perceived", "perceived"), ("gap", "gap")):
            figure = claim[key] or {"value": None, "low": None, "high": None}
            for suffix, part in (("", "value"), ("_low", "low"), ("_high", "high")):
                assert row[column + suffix] == pytest.approx(figure[part]), column + suffix


def test_downgrade_drops_the_views(database_url: str) -> None:
    store = Store(database_url)
    assert VIEWS <= set(inspect(store.engine).get_view_names())
    downgrade(store.engine, "0001")
    assert not VIEWS & set(inspect(store.engine).get_view_names())
    upgrade(store.engine)
    assert VIEWS <= set(inspect(store.engine).get_view_names())
    store.dispose()
