"""`/api/v1/overview` on both backends, against the seeded store's known figures: volume per
week, the reviewers' ratings, breakdowns, thin weeks merged (never 0 or 100 % from one mention),
the change against the previous window, and the claims' verdicts as `reviewwatch gap` gives them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from reviewwatch.api import create_app
from reviewwatch.config import Settings
from storage.mentions import MentionData, write_mentions
from storage.models import Business, Mention, Score, Source
from tests.analysts.conftest import Seeded, add_rating_claims

READ = {"Authorization": "Bearer read-secret"}
NOVEMBER = {"business": "cafe-a", "since": "2026-11-01", "until": "2026-11-30"}


def with_min_mentions(settings: Settings, n: int) -> Settings:
    return settings.model_copy(update={"gap": settings.gap.model_copy(update={"min_mentions": n})})


def add_mention(seeded: Seeded, external_id: str, day: dt.date, rating: int, label: str) -> None:
    with seeded.store.transaction() as session:
        business = session.query(Business).filter_by(slug="cafe-a").one()
        source = session.query(Source).filter_by(business_id=business.id).one()
        write_mentions(session, business_id=business.id, source_id=source.id, items=[
            MentionData(external_id=external_id, text="One more visit.", rating=rating,
                        rating_scale=5, language="en",
                        published_at=dt.datetime.combine(day, dt.time(12), dt.UTC))])
        mention = session.query(Mention).filter_by(external_id=external_id).one()
        session.add(Score(mention_id=mention.id, model_id="test-model", model_version="1",
                          label=label, p_negative=0.1, p_neutral=0.1, p_positive=0.8,
                          stars=float(rating), language=None, topic_scores={}, is_current=True))


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.settings, seeded.store)) as client:
        yield client


def overview(client: TestClient, **params: str) -> dict:
    response = client.get("/api/v1/overview", params={**NOVEMBER, **params}, headers=READ)
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def test_volume_ratings_and_breakdowns_of_the_seeded_month(client: TestClient) -> None:
    body = overview(client)
    assert body["business"] == {"id": "cafe-a", "name": "Café A"}
    assert body["window"] == {"since": "2026-11-01", "until": "2026-11-30", "days": 30}
    weeks = [(p["start"], p["mentions"], p["partial"]) for p in body["periods"]]
    assert weeks == [("2026-10-26", 0, True), ("2026-11-02", 3, False), ("2026-11-09", 3, False),
                     ("2026-11-16", 4, False), ("2026-11-23", 0, False), ("2026-11-30", 0, True)]
    totals = body["totals"]
    assert (totals["mentions"], totals["positive"], totals["neutral"], totals["negative"]) == (
        10, 4, 1, 5)
    # ratings 1 5 2 3 5 1 4 2 1 4: the reviewers' own, mean 2.8
    assert totals["rated_mentions"] == 10 and totals["average_rating"]["value"] == 2.8
    assert [s["mentions"] for s in body["rating_distribution"]] == [3, 2, 1, 2, 2]
    share = totals["positive_share"]
    assert share["value"] == 0.4 and 0.16 < share["low"] < 0.4 < share["high"] < 0.7  # Wilson
    breakdowns = body["breakdowns"]
    assert [(r["key"], r["mentions"]) for r in breakdowns["source"]] == [("trustpilot", 10)]
    assert {r["key"]: r["mentions"] for r in breakdowns["language"]} == {
        "en": 7, "de": 1, "fr": 1, "sv": 1}
    topics = {r["key"]: r for r in breakdowns["topic"]}
    assert topics["service"]["mentions"] == 6 and topics["service"]["positive"] == 3
    assert topics["wait_time"]["negative"] == 2 and topics["wait_time"]["uncertain"]
    # 10 mentions in all (gap.min_mentions): one share over the whole month
    [group] = body["share_groups"]
    assert group["mentions"] == 10 and group["merged"] and not group["uncertain"]


def test_a_week_with_one_mention_is_merged_not_drawn_as_0_or_100(seeded: Seeded) -> None:
    add_mention(seeded, "late", dt.date(2026, 11, 25), 5, "positive")
    settings = with_min_mentions(seeded.settings, 3)
    with TestClient(create_app(settings, seeded.store)) as client:
        body = overview(client)
    lonely = next(p for p in body["periods"] if p["start"] == "2026-11-23")
    assert lonely["mentions"] == 1
    group = body["share_groups"][lonely["group"]]
    # weeks 0+3 | 3 | 4+1+0: the thin tail joins the week before it
    assert [g["mentions"] for g in body["share_groups"]] == [3, 3, 5]
    assert group["merged"] and group["mentions"] == 5 and group["positive"] == 3
    assert group["positive_share"]["value"] == 0.6
    for g in body["share_groups"]:
        assert not g["uncertain"] and 0 < g["positive_share"]["value"] < 1


def test_a_window_with_too_few_mentions_is_flagged_uncertain(client: TestClient) -> None:
    body = overview(client, business="shop-b", since="2026-11-06", until="2026-11-06")
    [group] = body["share_groups"]
    assert group["mentions"] == 1 and group["uncertain"]
    assert group["positive_share"]["low"] > 0.2 and group["positive_share"]["high"] == 1.0
    assert body["totals"]["uncertain"]


def test_the_change_against_the_previous_window_of_the_same_length(client: TestClient) -> None:
    body = overview(client, since="2026-11-16", until="2026-11-30")
    assert body["previous_window"] == {"since": "2026-11-01", "until": "2026-11-15", "days": 15}
    now, before = body["totals"], body["previous"]
    assert (now["mentions"], now["positive"], now["negative"]) == (4, 2, 2)
    assert (before["mentions"], before["positive"], before["negative"]) == (6, 2, 3)
    change = body["change"]
    assert change["mentions"] == -2 and change["mentions_ratio"] == pytest.approx(4 / 6, abs=1e-6)
    positive = change["positive_share"]
    assert positive["difference"] == pytest.approx(0.5 - 2 / 6, abs=1e-6)
    assert positive["low"] < 0 < positive["high"] and not positive["clear"]  # noise, not a change
    # ratings 4 2 1 4 against 1 5 2 3 5 1
    assert change["average_rating"]["difference"] == pytest.approx(2.75 - 17 / 6, abs=1e-6)


def test_claims_carry_the_gap_reports_verdicts(client: TestClient, seeded: Seeded) -> None:
    add_rating_claims(seeded.store)
    claims = overview(client)["claims"]
    gap = client.get("/api/v1/gap/cafe-a", params={"since": "2026-11-01", "until": "2026-11-30"},
                     headers=READ).json()
    assert len(claims) == len(gap["claims"]) == 4
    by_key = {c["claim_key"]: c for c in gap["claims"]}
    for claim in claims:
        reported = by_key[claim["claim_key"]]
        assert claim["verdict"] == reported["verdict"] and claim["origin"] == reported["origin"]
        assert claim["perceived"] == (reported["perceived"] or {}).get("value")
        assert claim["claimed"] == reported["claimed"]
    assert {c["verdict"] for c in claims} <= {"supported", "overstated", "understated",
                                              "not enough evidence"}


def test_per_month_and_the_default_window(client: TestClient) -> None:
    months = overview(client, period="month", since="2026-10-01", until="2026-11-30")
    assert [(p["start"], p["mentions"]) for p in months["periods"]] == [
        ("2026-10-01", 0), ("2026-11-01", 10)]
    default = client.get("/api/v1/overview", params={"business": "cafe-a"}, headers=READ).json()
    today = dt.datetime.now(dt.UTC).date()
    assert default["window"]["until"] == today.isoformat()
    assert len(default["periods"]) == 13
    assert dt.date.fromisoformat(default["window"]["since"]).weekday() == 0


@pytest.mark.parametrize(("params", "status", "message"), [
    ({"since": "2026-12-01", "until": "2026-11-01"}, 422, "is after until"),
    ({"since": "1990-01-01"}, 422, "more than 400 weeks"),
    ({"until": "9999-12-31"}, 422, "past the last day"),
    ({"period": "day"}, 422, "week"),
    ({"business": "nope"}, 404, "unknown business"),
    ({"bucket": "week"}, 422, "unknown query parameter"),
])
def test_bad_requests_say_why(client: TestClient, params: dict, status: int, message: str) -> None:
    response = client.get("/api/v1/overview", params={**NOVEMBER, **params}, headers=READ)
    assert response.status_code == status and message in response.text, response.text


def test_the_token_comes_first_and_results_are_kept_per_revision(client: TestClient,
                                                                 seeded: Seeded) -> None:
    assert client.get("/api/v1/overview", params={"business": "nope"}).status_code == 401
    cache = client.app.state.reports  # type: ignore[attr-defined]
    first = overview(client)
    computed = cache.computed
    assert overview(client) == first and cache.computed == computed  # kept
    add_mention(seeded, "new", dt.date(2026, 11, 20), 1, "negative")
    assert overview(client)["totals"]["mentions"] == 11  # the store changed: computed again
