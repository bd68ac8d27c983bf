"""The HTTP API through FastAPI's TestClient, on both backends: auth, filters, pages, corrections."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from reviewwatch.api import create_app
from storage.models import Correction, Mention
from tests.analysts.conftest import HOSTILE, Seeded, add_rating_claims, analyst_settings

READ = {"Authorization": "Bearer read-secret"}
# The seeded mentions' month: the claims chart's window (the gap's default is the last 90 days).
NOVEMBER = {"business": "cafe-a", "since": "2026-11-01", "until": "2026-11-30"}
WRITE = {"Authorization": "Bearer write-secret"}


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.settings, seeded.store)) as client:
        yield client


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "Basic cmVhZC1zZWNyZXQ="},
                                     {"Authorization": "Bearer reader:read-secret"}])
def test_without_a_valid_token_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/api/v1/mentions", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/api/v1/mentions", "/api/v1/aggregates/sentiment",
                                  "/api/v1/aggregates/topics", "/api/v1/claims/perceived"])
@pytest.mark.parametrize("params", [{"business": "nope"}, {"topic": "weather"},
                                    {"since": "2026-13-01"}, {"search": "a\x00b"}])
def test_the_token_is_checked_before_the_filters(client: TestClient, path: str, params: dict) -> None:
    """Without a token nothing is learnt, not even whether a business or topic exists."""
    response = client.get(path, params=params)
    assert response.status_code == 401, response.text
    assert "nope" not in response.text and "weather" not in response.text


def test_read_token_reads_but_cannot_correct(client: TestClient, seeded: Seeded) -> None:
    assert client.get("/api/v1/me", headers=READ).json() == {"analyst": "reader", "can_write": False}
    response = client.post(f"/api/v1/mentions/{seeded.ids['c1']}/corrections",
                           json={"label": "positive"}, headers=READ)
    assert response.status_code == 403


def test_mentions_filters_and_cursor_pages(client: TestClient, seeded: Seeded) -> None:
    params = {"business": "cafe-a", "sentiment": "negative", "since": "2026-11-01",
              "until": "2026-11-30", "limit": 2}
    seen, cursor = [], None
    while True:
        response = client.get("/api/v1/mentions", params={**params, "cursor": cursor} if cursor
                              else params, headers=READ)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item["mention_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    expected = [seeded.ids[k] for k in ("c9", "c8", "c6", "c3", "c1")]
    assert seen == expected


def test_hostile_search_stays_a_parameter(client: TestClient, seeded: Seeded) -> None:
    response = client.get("/api/v1/mentions", params={"search": "'; DROP TABLE mentions; --"},
                          headers=READ)
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["text"] == HOSTILE
    with seeded.store.session() as s:
        assert s.scalar(select(func.count()).select_from(Mention)) == 12


@pytest.mark.parametrize(("params", "message"), [
    ({"since": "2026-13-01"}, "date"),
    ({"since": "2026-11-20", "until": "2026-11-01"}, "since (2026-11-20) is after until"),
    ({"topic": "weather"}, "unknown topic 'weather'"),
    ({"business": "nope"}, "unknown business 'nope'"),
    ({"limit": 501}, "limit 501 is above the largest page size 500"),
    ({"limit": 0}, "greater than or equal to 1"),
    ({"cursor": "garbage"}, "invalid cursor"),
    ({"sentiment": "angry"}, "negative"),
    ({"min_rating": 9}, "less than or equal to 5"),
    ({"search": "x" * 201}, "at most 200"),
    ({"source": "fax"}, "unknown source type 'fax'"),
    ({"search": "a\x00b"}, "control characters are not allowed"),
    ({"business": "cafe-a\x00"}, "control characters are not allowed"),
])
def test_invalid_filters_422(client: TestClient, params: dict, message: str) -> None:
    response = client.get("/api/v1/mentions", params=params, headers=READ)
    assert response.status_code == 422, response.text
    assert message in response.text


def test_aggregates(client: TestClient) -> None:
    body = client.get("/api/v1/aggregates/sentiment",
                      params={"business": "cafe-a", "bucket": "week"}, headers=READ).json()
    assert [r["bucket"] for r in body["rows"]] == ["2026-11-02", "2026-11-09", "2026-11-16"]
    first = body["rows"][0]
    assert first["mentions"] == 3 and 0 < first["positive_low"] < first["positive_high"] < 1
    months = client.get("/api/v1/aggregates/sentiment", params={"bucket": "month"}, headers=READ)
    assert [r["mentions"] for r in months.json()["rows"]] == [12]
    topics = client.get("/api/v1/aggregates/topics", params={"business": "cafe-a"},
                        headers=READ).json()["rows"]
    assert {r["topic"]: r["mentions"] for r in topics}["service"] == 6
    claims = client.get("/api/v1/claims/perceived", params=NOVEMBER,
                        headers=READ).json()
    assert {(c["metric"], c["topic"]) for c in claims} == {("positive_share", "overall"),
                                                           ("positive_share", "service")}
    assert client.get("/api/v1/aggregates/sentiment", params={"bucket": "year"},
                      headers=READ).status_code == 422


def test_claims_perceived_includes_average_rating_claims(client: TestClient, seeded: Seeded) -> None:
    add_rating_claims(seeded.store)
    claims = client.get("/api/v1/claims/perceived", params=NOVEMBER,
                        headers=READ).json()
    ratings = {c["topic"]: c for c in claims if c["metric"] == "average_rating"}
    assert {t: (c["claimed"], c["scale"], c["mentions"]) for t, c in ratings.items()} == {
        "overall": (4.5, 5.0, 10), "service": (9.0, 10.0, 6)}
    assert all(c["low"] < c["perceived"] < c["high"] for c in ratings.values())
    assert {c["metric"] for c in claims} == {"positive_share", "average_rating"}


def test_claims_perceived_leaves_out_predictions(client: TestClient, seeded: Seeded) -> None:
    import datetime as dt

    from storage.models import Business, Claim

    with seeded.store.transaction() as s:
        business = s.scalars(select(Business).where(Business.slug == "cafe-a")).one()
        s.add(Claim(business_id=business.id, claim_key="declared:prediction:2027-01", origin="declared",
                    metric="positive_share", topic="price", value=0.7, kind="prediction",
                    period="2027-01", stated_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC)))
    claims = client.get("/api/v1/claims/perceived", params=NOVEMBER,
                        headers=READ).json()
    assert {c["topic"] for c in claims} == {"overall", "service"}
    assert all(c["kind"] == "claim" for c in claims)


def test_correction_round_trip(client: TestClient, seeded: Seeded) -> None:
    c1 = seeded.ids["c1"]
    response = client.post(f"/api/v1/mentions/{c1}/corrections",
                           json={"label": "positive", "topics": ["price"], "note": "sarcasm"},
                           headers=WRITE)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["analyst"] == "alice" and body["label_before"] == "negative"
    assert body["topics_before"] == ["service", "wait_time"] and body["topics_after"] == ["price"]
    detail = client.get(f"/api/v1/mentions/{c1}", headers=READ).json()
    assert detail["label"] == "positive" and detail["model_label"] == "negative"
    assert detail["corrected"] is True and detail["topics"] == ["price"]
    assert [c["analyst"] for c in detail["corrections"]] == ["alice"]
    negative = client.get("/api/v1/mentions", params={"sentiment": "negative"}, headers=READ)
    assert c1 not in [i["mention_id"] for i in negative.json()["items"]]
    with seeded.store.session() as s:
        assert s.scalar(select(func.count()).select_from(Correction)) == 1


@pytest.mark.parametrize(("body", "status"), [
    ({"label": "furious"}, 422), ({"topics": ["weather"]}, 422), ({}, 422),
    ({"label": "positive", "sql": "x"}, 422),
])
def test_invalid_corrections(client: TestClient, seeded: Seeded, body: dict, status: int) -> None:
    response = client.post(f"/api/v1/mentions/{seeded.ids['c1']}/corrections", json=body,
                           headers=WRITE)
    assert response.status_code == status, response.text


def test_unknown_mention_404(client: TestClient) -> None:
    assert client.get("/api/v1/mentions/999999", headers=READ).status_code == 404
    response = client.post("/api/v1/mentions/999999/corrections", json={"label": "neutral"},
                           headers=WRITE)
    assert response.status_code == 404


def test_openapi_and_dashboard_are_served(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/mentions" in spec["paths"] and "/api/v1/gap/{business}" in spec["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/dashboard.js").status_code == 200


def test_the_dashboard_page_tells_nothing_without_a_token(client: TestClient) -> None:
    """The page is a shell: businesses and topics come through the API, with a token."""
    page = client.get("/")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    for secret in ("cafe-a", "Café A", "Caf&#233; A", "shop-b", "Shop B", "wait_time",
                   "service", "ambience"):
        assert secret not in page.text, secret
    assert client.get("/api/v1/businesses").status_code == 401
    assert client.get("/api/v1/topics").status_code == 401
    assert [b["id"] for b in client.get("/api/v1/businesses", headers=READ).json()] == [
        "cafe-a", "shop-b"]


def test_cors_is_off_by_default_and_on_for_configured_origins(seeded: Seeded) -> None:
    origin = {"Origin": "https://analysts.example", **READ}
    with TestClient(create_app(seeded.settings, seeded.store)) as off:
        assert "access-control-allow-origin" not in off.get("/api/v1/me", headers=origin).headers
    settings = analyst_settings(cors_origins=["https://analysts.example"])
    with TestClient(create_app(settings, seeded.store)) as on:
        response = on.get("/api/v1/me", headers=origin)
        assert response.headers["access-control-allow-origin"] == "https://analysts.example"


def test_gap_endpoint_returns_the_gap_report(client: TestClient) -> None:
    response = client.get("/api/v1/gap/cafe-a",
                          params={"since": "2026-11-01", "until": "2026-11-30"}, headers=READ)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["business"]["slug"] == "cafe-a"
    assert report["window"]["since"].startswith("2026-11-01")
    assert len(report["claims"]) == 2 and report["overall"]
    assert client.get("/api/v1/gap/nope", headers=READ).status_code == 404
    bad = client.get("/api/v1/gap/cafe-a", params={"since": "2026-12-01", "until": "2026-11-01"},
                     headers=READ)
    assert bad.status_code == 422


def test_the_claims_chart_and_the_gap_report_agree_on_a_survey(client: TestClient, seeded: Seeded,
                                                               tmp_path) -> None:
    """A survey is about its own period (Nov 1-10 here), not the window the dashboard shows."""
    from reviewwatch.gap.claims import import_survey, read_survey
    from storage.models import Business

    csv = tmp_path / "survey.csv"
    csv.write_text("period_start,period_end,metric,value,topic\n2026-11-01,2026-11-10,csat,90,service\n",
                   encoding="utf-8")
    with seeded.store.transaction() as s:
        business = s.scalars(select(Business).where(Business.slug == "cafe-a")).one()
        import_survey(s, business, read_survey(csv))
    window = {"business": "cafe-a", "since": "2026-11-01", "until": "2026-11-30"}
    chart = client.get("/api/v1/claims/perceived", params=window, headers=READ)
    assert chart.status_code == 200, chart.text
    gap = client.get("/api/v1/gap/cafe-a", params={"since": "2026-11-01", "until": "2026-11-30"},
                     headers=READ).json()
    survey = next(c for c in chart.json() if c["origin"] == "survey")
    reported = next(c for c in gap["claims"] if c["origin"] == "survey")
    # Service mentions of Nov 1-10: c1, c2, c5 (not c6, c7, c9 of the 11th, 16th and 18th).
    assert survey["mentions"] == reported["mentions"] == 3
    assert (survey["perceived"], survey["low"], survey["high"]) == (
        reported["perceived"]["value"], reported["perceived"]["low"], reported["perceived"]["high"])
    assert survey["verdict"] == reported["verdict"]
    by_key = {c["claim_key"]: c for c in gap["claims"]}
    for row in chart.json():
        assert row["mentions"] == by_key[row["claim_key"]]["mentions"]
