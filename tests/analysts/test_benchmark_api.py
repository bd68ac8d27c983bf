"""`GET /api/v1/benchmark?business=` on a seeded store with known shares, on both backends: the
token, a 404 for an unknown business, and the same figures as the gap report's `benchmark`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from reviewwatch.api import create_app
from storage.db import Store
from tests.gap.benchmark_seed import populate, settings

READ = {"Authorization": "Bearer read-secret"}
WINDOW = {"since": "2026-03-01", "until": "2026-05-31"}  # tests/gap/seed.py's window


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    config = settings(read_tokens=["reader:read-secret"])
    with store.transaction() as session:
        populate(session, config)
    with TestClient(create_app(config, store)) as client:
        yield client


def test_the_benchmark_needs_a_token_and_a_known_business(client: TestClient) -> None:
    assert client.get("/api/v1/benchmark", params={"business": "cafe"}).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/api/v1/benchmark", params={"business": "cafe"}, headers=wrong).status_code == 401
    unknown = client.get("/api/v1/benchmark", params={"business": "nowhere"}, headers=READ)
    assert unknown.status_code == 404 and "nowhere" in unknown.json()["detail"]
    assert client.get("/api/v1/benchmark", headers=READ).status_code == 422
    backwards = client.get("/api/v1/benchmark", headers=READ,
                           params={"business": "cafe", "since": "2026-05-01", "until": "2026-04-01"})
    assert backwards.status_code == 422


def test_the_benchmark_is_the_gap_reports(client: TestClient) -> None:
    response = client.get("/api/v1/benchmark", params={"business": "cafe", **WINDOW}, headers=READ)
    assert response.status_code == 200
    body = response.json()
    report = client.get("/api/v1/gap/cafe", params=WINDOW, headers=READ).json()
    assert body["benchmark"] == report["benchmark"]
    assert body["business"] == {"slug": "cafe", "name": "Cafe"}
    assert body["window"]["since"].startswith("2026-03-01")
    clean = next(s for s in body["benchmark"]["scopes"] if s["key"] == "cleanliness")
    assert clean["business"]["positive_share"]["value"] == pytest.approx(0.30)
    assert clean["median"]["positive_share"]["value"] == pytest.approx(0.775)
    assert clean["median"]["comparisons"]["positive_share"]["verdict"] == "lower"
    small = next(c for c in clean["competitors"] if c["slug"] == "rival-small")
    assert small["comparisons"]["positive_share"]["verdict"] == "not comparable"

    alone = client.get("/api/v1/benchmark", params={"business": "rival-a", **WINDOW}, headers=READ)
    assert alone.status_code == 200 and alone.json()["benchmark"] is None
