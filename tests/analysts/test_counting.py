"""How a mention counts, the same in the views, the rollup, the aggregates, the API and the gap.

A rated mention is labelled by its rating (the model's label kept beside it), a correction wins
over both, a topic claim counts the opinions about its topic, and an undated mention counts at
its first-seen time. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import func, select, text

import storage.analytics as analytics
from reviewwatch.api import create_app
from reviewwatch.config import Settings
from reviewwatch.gap import compute_gap
from reviewwatch.gap.render_html import render_html
from reviewwatch.gap.render_table import print_report
from reviewwatch.gap.report import json_schema
from reviewwatch.sync import sync_settings
from storage.db import Store
from storage.labels import RatingRule, stored_rule
from storage.models import Business, Correction, Mention, RollupDirty, Score, ScoreTopic, Source
from storage.queries import MentionFilter, mentions_frame
from tests.gap.schema_check import errors

DAY = dt.timedelta(days=1)
SINCE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
UNTIL = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
READ = {"Authorization": "Bearer read-secret"}

# key: (rating, scale, model label, {topic: own polarity or None}, day of November or None)
MENTIONS: dict[str, tuple[float | None, float | None, str, dict[str, str | None], int | None]] = {
    # five stars, but the model reads the complaint about the wait
    "five_stars_complains": (5, 5, "negative", {"wait_time": "negative", "service": "positive"}, 2),
    "one_star_model_positive": (1, 5, "positive", {"cleanliness": "negative"}, 3),
    "three_stars": (3, 5, "neutral", {"cleanliness": None}, 3),  # an old score: no polarity
    "four_and_a_half": (4.5, 5, "positive", {"cleanliness": "positive"}, 4),
    "eight_of_ten": (8, 10, "neutral", {}, 5),
    "unrated": (None, None, "negative", {"cleanliness": "negative", "location": "positive"}, 5),
    "undated": (None, None, "positive", {"cleanliness": "positive"}, None),  # first seen on the 6th
    "corrected": (5, 5, "positive", {}, 6),  # an analyst says negative
    # positive overall, negative about cleanliness
    "mixed": (5, 5, "positive", {"cleanliness": "negative", "service": "positive"}, 7),
}
LABELS = {  # key: (label, label_source, model_label, rating_label)
    "five_stars_complains": ("positive", "rating", "negative", "positive"),
    "one_star_model_positive": ("negative", "rating", "positive", "negative"),
    "three_stars": ("neutral", "rating", "neutral", "neutral"),
    "four_and_a_half": ("positive", "rating", "positive", "positive"),
    "eight_of_ten": ("positive", "rating", "neutral", "positive"),
    "unrated": ("negative", "model", "negative", None),
    "undated": ("positive", "model", "positive", None),
    "corrected": ("negative", "correction", "positive", "positive"),
    "mixed": ("positive", "rating", "positive", "positive"),
}


@dataclass
class Hotel:
    store: Store
    settings: Settings
    ids: dict[str, int]


def hotel_settings(**rating_labels: object) -> Settings:
    return Settings(
        api={"read_tokens": ["reader:read-secret"]},
        gap={"min_mentions": 1, "rating_labels": rating_labels},
        businesses=[{
            "id": "hotel", "name": "Hotel",
            "sources": [{"type": "trustpilot", "url": "https://trustpilot.example/hotel"}],
            "claims": [
                {"positive_share": 0.8, "stated_at": "2026-10-01"},
                {"topic": "cleanliness", "positive_share": 0.9, "stated_at": "2026-10-01"},
            ],
        }],
    )


def _seed(store: Store, settings: Settings) -> dict[str, int]:
    ids: dict[str, int] = {}
    with store.transaction() as s:
        sync_settings(s, settings)
        business = s.scalars(select(Business).where(Business.slug == "hotel")).one()
        source = s.scalars(select(Source).where(Source.business_id == business.id)).one()
        for key, (rating, scale, label, topics, day) in MENTIONS.items():
            at = dt.datetime(2026, 11, day or 6, 12, tzinfo=dt.UTC)
            normalised = None if rating is None or scale is None else (rating - 1) / (scale - 1)
            mention = Mention(
                business_id=business.id, source_id=source.id, external_id=key, text=key,
                rating=rating, rating_scale=scale, rating_normalised=normalised,
                published_at=at if day else None, first_seen_at=at, last_seen_at=at,
                content_hash=hashlib.sha256(key.encode()).hexdigest(), extra={},
            )
            s.add(mention)
            s.flush()
            p = {"negative": 0.1, "neutral": 0.1, "positive": 0.1, label: 0.8}
            s.add(Score(
                mention_id=mention.id, model_id="test", model_version="1", label=label,
                p_negative=p["negative"], p_neutral=p["neutral"], p_positive=p["positive"],
                stars=None, topic_scores={}, is_current=True,
                topics=[ScoreTopic(topic=t, probability=0.9, sentiment=polarity)
                        for t, polarity in topics.items()],
            ))
            ids[key] = mention.id
        s.add(Correction(mention_id=ids["corrected"], analyst="ana", label_after="negative",
                         created_at=UNTIL))
    return ids


@pytest.fixture
def hotel(store: Store) -> Hotel:
    settings = hotel_settings()
    return Hotel(store, settings, _seed(store, settings))


def _view_labels(hotel: Hotel) -> dict[str, tuple[str | None, ...]]:
    names = {v: k for k, v in hotel.ids.items()}
    with hotel.store.engine.connect() as c:
        rows = c.execute(text(
            "SELECT mention_id, label, label_source, model_label, rating_label FROM v_mentions"))
        return {names[row[0]]: tuple(row[1:]) for row in rows}


def test_the_view_labels_a_rated_mention_by_its_rating_and_keeps_the_model_label(
    hotel: Hotel,
) -> None:
    assert _view_labels(hotel) == LABELS


def test_undated_mentions_count_at_first_seen_in_every_figure(
    hotel: Hotel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The views and the rollup counted dated mentions only, while the gap fell back."""
    with hotel.store.engine.connect() as c:
        days = dict(c.execute(text(
            "SELECT day, mentions FROM v_daily_sentiment WHERE business = 'hotel'")).all())
        weekly = c.execute(text(
            "SELECT SUM(mentions) FROM v_topic_weekly WHERE topic = 'cleanliness'")).scalar()
    assert sum(days.values()) == 9
    assert {str(d)[:10]: n for d, n in days.items()}["2026-11-06"] == 2  # undated + corrected
    assert weekly == 6
    with hotel.store.transaction() as s:
        flt = MentionFilter(business="hotel", since=dt.date(2026, 11, 6),
                            until=dt.date(2026, 11, 6))
        assert set(mentions_frame(s, flt)["mention_id"]) == {
            hotel.ids["undated"], hotel.ids["corrected"]}
        total = analytics.sentiment_over_time_total(s, MentionFilter(business="hotel"))
        report = compute_gap(s, hotel.settings, "hotel", since=SINCE, until=UNTIL).to_dict()
        _rollup_equals_live(s, monkeypatch)
    assert total == {"mentions": 9, "positive": 5, "neutral": 1, "negative": 3}
    assert report["overall"]["mentions"] == 9


def _rollup_equals_live(s, monkeypatch: pytest.MonkeyPatch) -> None:
    for flt in (MentionFilter(business="hotel"), MentionFilter(business="hotel", topic="cleanliness"),
                MentionFilter(business="hotel", sentiment="negative"),
                MentionFilter(since=dt.date(2026, 11, 6), until=dt.date(2026, 11, 30))):
        for fn, args in ((analytics.sentiment_over_time, ("day",)),
                         (analytics.topic_aggregates, ("week",)), (analytics.topic_aggregates, ())):
            rolled = fn(s, flt, *args)
            with monkeypatch.context() as m:
                m.setattr(analytics, "rollup_can_answer", lambda _flt: False)
                live = fn(s, flt, *args)
            pd.testing.assert_frame_equal(rolled, live, check_dtype=False, check_exact=False)
    assert s.scalar(select(func.count()).select_from(RollupDirty)) == 0


def test_topic_figures_count_the_opinions_about_the_topic(
    hotel: Hotel, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hotel.store.transaction() as s:
        topics = analytics.topic_aggregates(s, MentionFilter(business="hotel")).set_index("topic")
        over_time = analytics.sentiment_over_time_total(
            s, MentionFilter(business="hotel", topic="cleanliness"))
        negative_about = mentions_frame(
            s, MentionFilter(business="hotel", topic="cleanliness", sentiment="negative"))
        _rollup_equals_live(s, monkeypatch)
    cleanliness = topics.loc["cleanliness"]
    # the "mixed" review is positive overall and negative about cleanliness
    assert (cleanliness["positive"], cleanliness["neutral"], cleanliness["negative"]) == (2, 1, 3)
    assert over_time == {"mentions": 6, "positive": 2, "neutral": 1, "negative": 3}
    assert (topics.loc["wait_time", "negative"], topics.loc["service", "positive"]) == (1, 2)
    assert set(negative_about["mention_id"]) == {
        hotel.ids[k] for k in ("one_star_model_positive", "unrated", "mixed")}
    with hotel.store.engine.connect() as c:
        rows = c.execute(text(
            "SELECT mention_id, sentiment, label, label_source FROM v_mention_topics "
            "WHERE topic = 'cleanliness'")).all()
    names = {v: k for k, v in hotel.ids.items()}
    assert {names[m]: (own, label, source) for m, own, label, source in rows} == {
        "one_star_model_positive": ("negative", "negative", "topic"),
        "three_stars": (None, "neutral", "rating"),
        "four_and_a_half": ("positive", "positive", "topic"),
        "unrated": ("negative", "negative", "topic"),
        "undated": ("positive", "positive", "topic"),
        "mixed": ("negative", "negative", "topic"),
    }


def test_the_gap_counts_what_the_views_count_and_says_which_labels(hotel: Hotel) -> None:
    with hotel.store.session() as s:
        report = compute_gap(s, hotel.settings, "hotel", since=SINCE, until=UNTIL).to_dict()
        from reviewwatch.gap.perceived import load_observations

        observations, _unscored = load_observations(s, business_id(s), SINCE, UNTIL)
    assert not errors(report, json_schema())
    assert report["schema_version"] == 4
    assert report["method"]["rating_labels"] == {
        "ratings_decide": True, "negative_below": 0.375, "positive_above": 0.625}
    overall = report["overall"]
    assert (overall["positive"], overall["neutral"], overall["negative"]) == (5, 1, 3)
    assert overall["label_sources"] == {"correction": 1, "model": 2, "rating": 6}
    names = {v: k for k, v in hotel.ids.items()}
    assert {names[o.mention_id]: (o.label, o.label_source, o.model_label) for o in observations} == {
        k: (label, source, model) for k, (label, source, model, _r) in LABELS.items()}
    claims = {c["topic"]: c for c in report["claims"]}
    cleanliness = claims["cleanliness"]
    assert cleanliness["mentions"] == 6
    assert cleanliness["perceived"]["value"] == pytest.approx(2 / 6)
    assert cleanliness["label_sources"] == {"rating": 1, "topic": 5}
    assert claims[None]["label_sources"] == overall["label_sources"]
    by_topic = {g["key"]: g for g in report["breakdowns"]["topic"]}
    assert (by_topic["cleanliness"]["positive"], by_topic["cleanliness"]["negative"]) == (2, 3)
    assert by_topic["cleanliness"]["label_sources"] == {"rating": 1, "topic": 5}
    console = Console(file=io.StringIO(), width=250)
    print_report(report, console)
    printed = " ".join(console.file.getvalue().split())  # type: ignore[attr-defined]
    assert "9 mentions counted (6 by rating, 2 by the model, 1 by an analyst)" in printed
    assert "counted 5 by the opinion about cleanliness, 1 by rating" in printed
    page = render_html([report])
    assert "counted 5 by the opinion about cleanliness, 1 by rating" in page
    # the newest mentions against the cleanliness claim are those negative about cleanliness
    with hotel.store.session() as s:
        result = compute_gap(s, hotel.settings, "hotel", since=SINCE, until=UNTIL).claims
    against = {names[o.mention_id] for c in result if c.topic == "cleanliness" for o in c.against}
    assert against == {"one_star_model_positive", "unrated", "mixed"}


def business_id(session) -> int:
    return int(session.scalar(select(Business.id).where(Business.slug == "hotel")))


def test_a_changed_rule_relabels_every_figure(
    hotel: Hotel, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hotel.store.transaction() as s:
        _rollup_equals_live(s, monkeypatch)  # the rollup is up to date with the default rule
    strict = hotel_settings(negative_below=0.6, positive_above=0.9)
    with hotel.store.transaction() as s:
        sync_settings(s, strict)
        assert stored_rule(s) == RatingRule(True, 0.6, 0.9)
        assert s.scalar(select(func.count()).select_from(RollupDirty)) > 0  # the trigger marked
    labels = _view_labels(hotel)
    assert labels["three_stars"][:2] == ("negative", "rating")  # 0.5 < 0.6
    assert labels["four_and_a_half"][:2] == ("neutral", "rating")  # 0.875, not above 0.9
    assert labels["eight_of_ten"][:2] == ("neutral", "rating")
    with hotel.store.transaction() as s:
        _rollup_equals_live(s, monkeypatch)
        total = analytics.sentiment_over_time_total(s, MentionFilter(business="hotel"))
        report = compute_gap(s, strict, "hotel", since=SINCE, until=UNTIL).to_dict()
    counts = {k: report["overall"][k] for k in ("positive", "neutral", "negative")}
    assert total == {"mentions": 9, **counts} == {
        "mentions": 9, "positive": 3, "neutral": 2, "negative": 4}
    model_only = hotel_settings(enabled=False)
    with hotel.store.transaction() as s:
        sync_settings(s, model_only)
    labels = _view_labels(hotel)
    assert labels["five_stars_complains"][:2] == ("negative", "model")
    assert labels["corrected"][:2] == ("negative", "correction")
    with hotel.store.transaction() as s:
        _rollup_equals_live(s, monkeypatch)
        report = compute_gap(s, model_only, "hotel", since=SINCE, until=UNTIL).to_dict()
    assert report["overall"]["label_sources"] == {"correction": 1, "model": 8}


@pytest.mark.parametrize(("rating", "scale", "expected"), [
    (1, 5, "negative"), (1.5, 5, "negative"), (2, 5, "negative"), (2.5, 5, "neutral"),
    (3, 5, "neutral"), (3.5, 5, "neutral"), (4, 5, "positive"), (4.5, 5, "positive"),
    (5, 5, "positive"), (1, 10, "negative"), (4, 10, "negative"), (5, 10, "neutral"),
    (6, 10, "neutral"), (7, 10, "positive"), (10, 10, "positive"), (63, 100, "positive"),
    (62, 100, "neutral"), (38, 100, "negative"), (39, 100, "neutral"),
])
def test_the_default_rule_in_python_and_in_sql(
    store: Store, rating: float, scale: float, expected: str
) -> None:
    """The documented mapping, and the views' SQL agreeing with Python at the boundaries."""
    from storage.ratings import normalise_rating

    normalised = normalise_rating(rating, scale)
    assert RatingRule().label(normalised) == expected
    with store.transaction() as s:
        sync_settings(s, hotel_settings())
        business = s.scalars(select(Business).where(Business.slug == "hotel")).one()
        source = s.scalars(select(Source).where(Source.business_id == business.id)).one()
        s.add(Mention(business_id=business.id, source_id=source.id, external_id="x", text="x",
                      rating=rating, rating_scale=scale, rating_normalised=normalised,
                      content_hash="x", extra={}))
    with store.engine.connect() as c:
        assert c.execute(text("SELECT rating_label FROM v_mentions")).scalar() == expected


def test_analysts_list_the_mentions_where_rating_and_model_disagree(
    hotel: Hotel, write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    disagree = {hotel.ids[k] for k in ("five_stars_complains", "one_star_model_positive",
                                       "eight_of_ten")}
    with hotel.store.session() as s:
        frame = mentions_frame(s, MentionFilter(disagree=True))
    assert set(frame["mention_id"]) == disagree
    with TestClient(create_app(hotel.settings, hotel.store)) as client:
        body = client.get("/api/v1/mentions", params={"disagree": "true", "min_rating": 5},
                          headers=READ).json()
        [item] = body["items"]
        assert item["mention_id"] == hotel.ids["five_stars_complains"]
        assert (item["label"], item["model_label"], item["rating_label"], item["label_source"]) == (
            "positive", "negative", "positive", "rating")
        assert item["topic_sentiment"] == {"service": "positive", "wait_time": "negative"}
        undated = client.get("/api/v1/mentions", params={"since": "2026-11-06",
                                                          "until": "2026-11-06"}, headers=READ)
        assert {i["mention_id"] for i in undated.json()["items"]} == {
            hotel.ids["undated"], hotel.ids["corrected"]}
        topics = client.get("/api/v1/aggregates/topics", params={"business": "hotel"},
                            headers=READ).json()["rows"]
        assert {r["topic"]: r["negative"] for r in topics}["cleanliness"] == 3
    from click.testing import CliRunner

    from reviewwatch.cli import cli

    path = write_config('[[businesses]]\nid = "hotel"\nname = "Hotel"\n'
                        '[gap]\nmin_mentions = 1\n')
    monkeypatch.setenv("REVIEWWATCH_DATABASE_URL", hotel.store.url)
    result = CliRunner().invoke(cli, ["--config", str(path), "query", "--disagree",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    rows = json.loads(result.stdout)
    assert {r["mention_id"] for r in rows} == disagree
    assert all(r["rating_label"] != r["model_label"] for r in rows)
