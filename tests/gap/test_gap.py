"""compute_gap on a seeded store (SQLite and PostgreSQL): exact figures, verdicts, edge cases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from reviewwatch.config import ClaimConfig
from reviewwatch.errors import InputError
from reviewwatch.gap import compute_gap
from reviewwatch.gap.claims import import_survey, read_survey
from storage.db import Store
from tests.gap import seed

DAY = dt.timedelta(days=1)


def claim(stated: int = 1, **kwargs: Any) -> ClaimConfig:
    return ClaimConfig(stated_at=dt.date(2026, 1, stated), **kwargs)


def rounded(estimate: dict[str, float] | None) -> tuple[float, float, float] | None:
    if estimate is None:
        return None
    return round(estimate["value"], 4), round(estimate["low"], 4), round(estimate["high"], 4)


def by_label(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["label"]: c for c in report["claims"]}


def test_known_mentions_give_the_hand_computed_figures_and_verdicts(store: Store) -> None:
    config = seed.settings(
        [
            claim(positive_share=0.95),
            claim(2, positive_share=0.7, topic="service"),
            claim(3, positive_share=0.3, topic="service"),
            claim(positive_share=0.8, topic="price"),
        ]
    )
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        kept = seed.many(
            s, business, sources["schema_org"], {"positive": 8, "negative": 2}, topics=["service"]
        )
        # none of these count: own post, deleted, duplicate, outside the window, not yet scored
        seed.add(s, business, sources["schema_org"], "positive", is_own=True, topics=["service"])
        seed.add(s, business, sources["schema_org"], "positive", deleted=True)
        seed.add(s, business, sources["trustpilot"], "positive", duplicate_of=kept[0].id)
        seed.add(s, business, sources["schema_org"], "positive", at=seed.SINCE - DAY)
        seed.add(s, business, sources["schema_org"], "positive", at=seed.UNTIL)
        seed.add(s, business, sources["schema_org"], None)
        report = compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()
    overall = report["overall"]
    assert (overall["mentions"], overall["positive"], overall["negative"]) == (10, 8, 2)
    assert report["unscored_mentions"] == 1
    assert rounded(overall["positive_share"]) == (0.8, 0.4902, 0.9433)
    assert rounded(overall["negative_share"]) == (0.2, 0.0567, 0.5098)
    assert overall["net_sentiment"] == pytest.approx(0.6)
    claims = by_label(report)
    assert claims["declared: 95% positive"]["verdict"] == "overstated"
    assert rounded(claims["declared: 95% positive"]["gap"]) == (0.15, 0.0067, 0.4598)
    assert claims["declared: 70% positive on service"]["verdict"] == "supported"
    assert claims["declared: 30% positive on service"]["verdict"] == "understated"
    nobody = claims["declared: 80% positive on price"]
    assert (nobody["verdict"], nobody["mentions"], nobody["perceived"]) == (
        "not enough evidence",
        0,
        None,
    )
    assert [g["key"] for g in report["breakdowns"]["topic"]] == ["service"]
    assert [(g["key"], g["mentions"]) for g in report["breakdowns"]["source"]] == [
        ("schema_org", 10)
    ]
    overall_claim = claims["declared: 95% positive"]
    slices = overall_claim["by_source"] + overall_claim["by_language"]
    assert [(x["key"], x["mentions"], x["verdict"]) for x in slices] == [
        ("schema_org", 10, "overstated"),
        ("en", 10, "overstated"),
    ]
    (week,) = claims["declared: 70% positive on service"]["trend"]
    assert (week["period"], week["verdict"], rounded(week["perceived"])) == (
        "2026-W21",
        "supported",
        (0.8, 0.4902, 0.9433),
    )


def test_mixed_rating_scales_and_model_stars_give_the_smoothed_mean(store: Store) -> None:
    config = seed.settings(
        [claim(average_rating=4.7), claim(2, average_rating=8, rating_scale=10)], min_mentions=5
    )
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        add = seed.add
        add(s, business, sources["schema_org"], "positive", rating=5, scale=5, stars=1.0)  # 5 stars
        add(s, business, sources["schema_org"], "positive", rating=4, scale=5)  # 4 stars
        add(s, business, sources["trustpilot"], "positive", rating=10, scale=10)  # 5 stars
        add(s, business, sources["trustpilot"], "neutral", rating=7, scale=10)  # 1 + 4*6/9 stars
        add(s, business, sources["trustpilot"], "negative", stars=2.0)  # the model's estimate
        report = compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()
    # (5*3 + 5 + 4 + 5 + 3.6667 + 2) / 10; spread (7.1778 + 5*(2 + 0.4667^2)) / 10
    assert rounded(report["overall"]["mean_stars"]) == (3.4667, 2.629, 4.3043)
    claims = by_label(report)
    five = claims["declared: average 4.7/5"]
    assert (five["verdict"], five["mentions"]) == ("overstated", 5)
    ten = claims["declared: average 8/10"]
    assert rounded(ten["perceived"]) == (6.55, 4.6652, 8.4348)
    assert ten["verdict"] == "supported"


def test_an_analysts_correction_overrides_the_model(store: Store) -> None:
    config = seed.settings([claim(positive_share=0.95, topic="service")])
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        mentions = seed.many(
            s, business, sources["schema_org"], {"positive": 10}, topics=["service"]
        )
        seed.correct(s, mentions[0], label="negative")
        seed.correct(s, mentions[1], label="negative")
        seed.correct(s, mentions[2], label="neutral", at=seed.UNTIL - 2 * DAY)
        seed.correct(s, mentions[2], label="negative", at=seed.UNTIL - DAY)  # the latest wins
        seed.correct(s, mentions[3], topics=["price"])  # topics only: the label stays positive
        report = compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()
    assert (report["overall"]["positive"], report["overall"]["negative"]) == (7, 3)
    assert rounded(report["overall"]["positive_share"]) == (0.7, 0.3968, 0.8922)
    topics = {g["key"]: (g["mentions"], g["positive"]) for g in report["breakdowns"]["topic"]}
    assert topics == {"price": (1, 1), "service": (9, 6)}
    (service,) = report["claims"]
    assert (service["mentions"], service["verdict"]) == (9, "not enough evidence")


def test_no_mentions_at_all(store: Store) -> None:
    config = seed.settings([claim(positive_share=0.9), claim(average_rating=4.5)])
    with store.transaction() as s:
        seed.setup(s, config)
        report = compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()
    overall = report["overall"]
    assert overall["mentions"] == 0
    assert overall["positive_share"] is overall["mean_stars"] is overall["net_sentiment"] is None
    assert {c["verdict"] for c in report["claims"]} == {"not enough evidence"}
    assert all(c["trend"] == [] and c["gap"] is None for c in report["claims"])
    assert report["breakdowns"]["week"] == []


def test_one_mention(store: Store) -> None:
    config = seed.settings([claim(positive_share=0.9)], min_mentions=1)
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        seed.add(s, business, sources["schema_org"], "positive")
        report = compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()
    assert rounded(report["overall"]["positive_share"]) == (1.0, 0.2065, 1.0)
    assert report["claims"][0]["verdict"] == "supported"


def test_all_neutral(store: Store) -> None:
    config = seed.settings([claim(positive_share=0.5)])
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        seed.many(s, business, sources["schema_org"], {"neutral": 10})
        report = compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()
    overall = report["overall"]
    assert rounded(overall["positive_share"]) == (0.0, 0.0, 0.2775)
    assert rounded(overall["negative_share"]) == (0.0, 0.0, 0.2775)
    assert overall["net_sentiment"] is None
    assert report["claims"][0]["verdict"] == "overstated"


def test_a_very_long_window_is_charted_per_month(store: Store) -> None:
    config = seed.settings([claim(positive_share=0.5)], min_mentions=1)
    since = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        for year in (1990, 2005, 2026):
            seed.add(
                s,
                business,
                sources["schema_org"],
                "positive",
                at=dt.datetime(year, 3, 5, tzinfo=dt.UTC),
            )
        report = compute_gap(s, config, "cafe", since=since, until=seed.UNTIL).to_dict()
    assert report["window"]["granularity"] == "month"
    assert [p["period"] for p in report["claims"][0]["trend"]] == ["1990-03", "2005-03", "2026-03"]
    assert [g["key"] for g in report["breakdowns"]["month"]] == ["1990-03", "2005-03", "2026-03"]
    assert [g["key"] for g in report["breakdowns"]["week"]] == ["1990-W10", "2005-W09", "2026-W10"]


def test_recency_weighting_uses_an_effective_sample_size(store: Store) -> None:
    config = seed.settings([claim(positive_share=0.5)], recency_half_life_days=30)
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        seed.add(s, business, sources["schema_org"], "positive", at=seed.UNTIL)
        seed.add(s, business, sources["schema_org"], "negative", at=seed.UNTIL - 30 * DAY)
        report = compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL + DAY).to_dict()
    # weights relative to `until` (one day after the newest): 2^(-1/30) and 2^(-31/30)
    assert report["overall"]["effective_mentions"] == pytest.approx(1.8)
    assert rounded(report["overall"]["positive_share"]) == (0.6667, 0.148, 0.9584)


def test_predictions_are_checked_against_their_own_period(store: Store) -> None:
    config = seed.settings(
        [
            claim(positive_share=0.9, predicted_for="2026-04"),
            claim(positive_share=0.5, predicted_for="2099-01"),
        ]
    )
    april = dt.datetime(2026, 4, 10, tzinfo=dt.UTC)
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        seed.many(s, business, sources["schema_org"], {"positive": 8, "negative": 2}, at=april)
        seed.many(s, business, sources["schema_org"], {"negative": 10}, at=april + 30 * DAY)
        report = compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()
    assert report["claims"] == []
    april_claim, future = sorted(report["calibration"], key=lambda c: c["period"])
    assert april_claim["window"]["since"].startswith("2026-04-01")
    assert rounded(april_claim["perceived"]) == (0.8, 0.4902, 0.9433)
    assert (april_claim["verdict"], april_claim["status"]) == ("supported", "complete")
    assert (future["verdict"], future["status"]) == ("not enough evidence", "future")


def test_a_window_that_ends_before_it_starts_is_refused(store: Store) -> None:
    config = seed.settings()
    with store.transaction() as s:
        seed.setup(s, config)
        with pytest.raises(InputError, match="window"):
            compute_gap(s, config, "cafe", since=seed.UNTIL, until=seed.SINCE)
        with pytest.raises(InputError, match="unknown business"):
            compute_gap(s, config, "nobody")


def test_a_survey_claim_is_compared_with_its_own_period(store: Store, tmp_path: Path) -> None:
    config = seed.settings()
    csv = tmp_path / "survey.csv"
    csv.write_text(
        "period_start,period_end,metric,value,topic\n2026-04-01,2026-04-30,nps,90,service\n",
        encoding="utf-8",
    )
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        import_survey(s, business, read_survey(csv))
        april = dt.datetime(2026, 4, 30, 23, tzinfo=dt.UTC)
        seed.many(
            s,
            business,
            sources["schema_org"],
            {"positive": 8, "negative": 2},
            topics=["service"],
            at=april,
        )
        seed.many(
            s,
            business,
            sources["schema_org"],
            {"negative": 5},
            topics=["service"],
            at=april + 2 * DAY,
        )  # May: outside the survey's period
        report = compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()
    (survey,) = report["claims"]
    assert (survey["origin"], survey["claimed"], survey["mentions"]) == ("survey", 0.95, 10)
    assert survey["window"]["until"].startswith("2026-05-01")
    assert rounded(survey["perceived"]) == (0.8, 0.4902, 0.9433)
    assert survey["verdict"] == "overstated"
