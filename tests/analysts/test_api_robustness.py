"""The API's edges: ids out of the store's range, offline docs, the gate to the store, gap cache."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from reviewwatch.api import create_app
from reviewwatch.api.cache import ReportCache
from reviewwatch.api.warm import Warmer
from reviewwatch.config import Settings
from reviewwatch.api.database import StoreGate
from storage.db import PoolOptions, Store
from storage.models import Business, Claim
from tests.analysts.conftest import Seeded, analyst_settings, seed_store

READ = {"Authorization": "Bearer read-secret"}
WRITE = {"Authorization": "Bearer write-secret"}


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.settings, seeded.store)) as client:
        yield client


@pytest.mark.parametrize("mention_id", ["99999999999999999999999", "2147483648", "0", "-1",
                                        "9223372036854775808"])
def test_an_id_beyond_the_store_is_refused_not_a_500(client: TestClient, mention_id: str) -> None:
    response = client.get(f"/api/v1/mentions/{mention_id}", headers=READ)
    assert response.status_code == 422, response.text
    corrected = client.post(f"/api/v1/mentions/{mention_id}/corrections",
                            json={"label": "neutral"}, headers=WRITE)
    assert corrected.status_code == 422, corrected.text


def test_the_largest_id_is_a_plain_404(client: TestClient) -> None:
    assert client.get("/api/v1/mentions/2147483647", headers=READ).status_code == 404


@pytest.mark.parametrize("params", [
    {"until": "9999-12-31"}, {"since": "0001-01-01"},
    {"cursor": "WzEsIDk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ"},  # [1, 99999999999999999999999]
    {"cursor": "W251bGwsIDk5OTk5OTk5OTk5OTk5OTk5OTk5XQ"},  # [null, 99999999999999999999]
])
def test_extreme_filters_are_answered_not_a_500(client: TestClient, params: dict) -> None:
    for path in ("/api/v1/mentions", "/api/v1/aggregates/sentiment", "/api/v1/aggregates/topics"):
        response = client.get(path, params=params, headers=READ)
        assert response.status_code in (200, 422), (path, response.status_code, response.text)
    gap = client.get("/api/v1/gap/cafe-a", params={"until": "9999-12-31"}, headers=READ)
    assert gap.status_code in (200, 422), gap.text


def test_api_docs_are_served_from_the_package_without_a_cdn(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assets += re.findall(r"""url:\s*['"]([^'"]+)['"]""", page.text)
    assert assets, page.text
    for url in assets:
        assert url.startswith("/"), f"{url} is not served by the app itself"
        assert client.get(url).status_code == 200, url
    assert "http://" not in page.text and "https://" not in page.text
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets)
    assert any(url.endswith(".css") for url in assets)


def test_the_gate_admits_no_more_steps_than_the_pool_has_connections(seeded: Seeded) -> None:
    """With 40 requests in flight and 3 connections, none waits for a connection inside a step."""
    store = Store(seeded.store.url, migrate=False, pool=PoolOptions(size=2, overflow=1,
                                                                    timeout_s=5))
    gate = StoreGate(store)
    inside, most = 0, 0
    lock = threading.Lock()
    release = threading.Event()

    def step(session) -> int:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        release.wait(0.05)  # hold the connection a moment, as a slow query would
        found = session.scalar(select(Business.id).limit(1))
        with lock:
            inside -= 1
        return int(found)

    async def many() -> list[int]:
        return list(await asyncio.gather(*(gate.run(step) for _ in range(40))))

    try:
        results = asyncio.run(many())
    finally:
        store.dispose()
    assert len(results) == 40
    assert most == 3 == gate.capacity


def test_more_requests_than_threads_and_connections_do_not_deadlock(seeded: Seeded) -> None:
    """The 200-user lock-up, in small: one connection, two worker threads, twenty requests.

    When a request held its connection while waiting for a thread, the threads all waited for
    that connection and nothing moved until the pool's timeout turned every request into a 500.
    """
    import anyio.to_thread

    store = Store(seeded.store.url, migrate=False, pool=PoolOptions(size=1, overflow=0,
                                                                    timeout_s=30))
    app = create_app(seeded.settings, store)

    async def burst() -> list[int]:
        import httpx

        anyio.to_thread.current_default_thread_limiter().total_tokens = 2
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api",
                                     timeout=120) as http:
            paths = ["/api/v1/mentions?business=cafe-a&sentiment=negative",
                     "/api/v1/aggregates/sentiment?business=cafe-a",
                     "/api/v1/mentions/1", "/api/v1/businesses"] * 5
            responses = await asyncio.gather(*(http.get(p, headers=READ) for p in paths))
            return [r.status_code for r in responses]

    try:
        codes = asyncio.run(burst())
    finally:
        store.dispose()
    assert codes == [200] * 20


def test_a_gap_report_is_reused_until_the_store_changes(seeded: Seeded) -> None:
    app = create_app(seeded.settings, seeded.store)
    cache = app.state.reports
    params = {"since": "2026-11-01", "until": "2026-11-30"}
    with TestClient(app) as client:
        first = client.get("/api/v1/gap/cafe-a", params=params, headers=READ).json()
        again = client.get("/api/v1/gap/cafe-a", params=params, headers=READ).json()
        assert again == first and cache.computed == 1
        client.get("/api/v1/gap/cafe-a", params={**params, "until": "2026-11-20"}, headers=READ)
        assert cache.computed == 2  # another window, another report
        # a correction changes what customers are shown to say: the report is computed again
        mention = client.get("/api/v1/mentions", params={"business": "cafe-a", "limit": 1},
                             headers=READ).json()["items"][0]["mention_id"]
        assert client.post(f"/api/v1/mentions/{mention}/corrections", json={"label": "positive"},
                           headers=WRITE).status_code == 201
        client.get("/api/v1/gap/cafe-a", params=params, headers=READ)
        assert cache.computed == 3
        # so does a claim changed by another process
        with seeded.store.transaction() as session:
            claim = session.scalars(select(Claim)).first()
            assert claim is not None
            claim.value = 0.5
        after = client.get("/api/v1/gap/cafe-a", params=params, headers=READ).json()
        assert cache.computed == 4
        assert after["claims"] != first["claims"]


def test_pool_settings_reach_the_engine(store: Store) -> None:
    settings = analyst_settings()
    settings = settings.model_copy(update={"database_pool_size": 3, "database_max_overflow": 2,
                                           "database_pool_timeout_s": 7.0})
    sized = Store(store.url, migrate=False, pool=settings.pool_options)
    try:
        pool = sized.engine.pool
        if sized.engine.dialect.name == "sqlite":
            assert (pool.size(), pool._max_overflow, pool._timeout) == (3, 2, 7.0)  # type: ignore[attr-defined]
        else:
            # A server keeps every connection it opened, up to size + overflow: none is closed
            # on its return and opened again by the next busy moment (a PostgreSQL fork each).
            assert (pool.size(), pool._max_overflow, pool._timeout) == (5, 0, 7.0)  # type: ignore[attr-defined]
            held = [sized.engine.connect() for _ in range(5)]
            for connection in held:
                connection.close()
            assert pool.checkedin() == 5  # type: ignore[attr-defined]
        seed_store  # noqa: B018 - imported for the fixtures' module
    finally:
        sized.dispose()


def test_the_claims_chart_reuses_the_gap_report_until_the_store_changes(seeded: Seeded) -> None:
    """The chart and /gap are one computation: one report for both, computed again after a change."""
    app = create_app(seeded.settings, seeded.store)
    cache = app.state.reports
    params = {"business": "cafe-a", "since": "2026-11-01", "until": "2026-11-30"}
    with TestClient(app) as client:
        first = client.get("/api/v1/claims/perceived", params=params, headers=READ).json()
        assert client.get("/api/v1/claims/perceived", params=params, headers=READ).json() == first
        gap = client.get("/api/v1/gap/cafe-a", params={"since": "2026-11-01", "until": "2026-11-30"},
                         headers=READ).json()
        assert cache.computed == 1
        assert [c["claim_key"] for c in gap["claims"]] == [c["claim_key"] for c in first]
        client.get("/api/v1/claims/perceived", params={**params, "until": "2026-11-20"},
                   headers=READ)
        assert cache.computed == 2  # another window
        mention = client.get("/api/v1/mentions", params={"business": "cafe-a", "limit": 1,
                                                          "sentiment": "negative"},
                             headers=READ).json()["items"][0]["mention_id"]
        assert client.post(f"/api/v1/mentions/{mention}/corrections", json={"label": "positive"},
                           headers=WRITE).status_code == 201
        after = client.get("/api/v1/claims/perceived", params=params, headers=READ).json()
        assert cache.computed == 3 and after != first


def test_workers_share_computed_reports_through_the_cache_directory(seeded: Seeded,
                                                                    tmp_path) -> None:
    """Two apps (as two `serve` workers) over one store: the second reuses the first's report."""
    params = {"since": "2026-11-01", "until": "2026-11-30"}
    settings = warming_every(seeded.settings, 0)  # the counts below are the requests' alone
    first_app = create_app(settings, seeded.store, cache_dir=tmp_path / "cache")
    second_app = create_app(settings, seeded.store, cache_dir=tmp_path / "cache")
    with TestClient(first_app) as first, TestClient(second_app) as second:
        one = first.get("/api/v1/gap/cafe-a", params=params, headers=READ).json()
        two = second.get("/api/v1/gap/cafe-a", params=params, headers=READ).json()
        assert one == two
        assert (first_app.state.reports.computed, second_app.state.reports.computed) == (1, 0)
        claims = {"business": "cafe-a", "since": "2026-11-01"}  # another window: a new report
        made = second.get("/api/v1/claims/perceived", params=claims, headers=READ).json()
        assert first.get("/api/v1/claims/perceived", params=claims, headers=READ).json() == made
        assert (first_app.state.reports.computed, second_app.state.reports.computed) == (1, 1)
        # a change of the store: computed again, once
        mention = first.get("/api/v1/mentions", params={"business": "cafe-a", "limit": 1,
                                                        "sentiment": "negative"},
                            headers=READ).json()["items"][0]["mention_id"]
        assert first.post(f"/api/v1/mentions/{mention}/corrections", json={"label": "positive"},
                          headers=WRITE).status_code == 201
        second.get("/api/v1/gap/cafe-a", params=params, headers=READ)
        first.get("/api/v1/gap/cafe-a", params=params, headers=READ)
        assert (first_app.state.reports.computed, second_app.state.reports.computed) == (1, 2)


def warming_every(settings: Settings, seconds: float) -> Settings:
    return settings.model_copy(
        update={"api": settings.api.model_copy(update={"warm_every_s": seconds})})


def _warm_status(directory: Path, passes: int, deadline_s: float = 60) -> dict:
    """warm.json once the warmer has finished `passes` passes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            status = json.loads((directory / "warm.json").read_text(encoding="utf-8"))
            if status["passes"] >= passes:
                return dict(status)
        except (OSError, ValueError):
            pass
        time.sleep(0.05)  # polling the warmer's thread, with a deadline
    raise AssertionError(f"the warmer did not finish {passes} passes in {deadline_s} s")


def test_the_server_computes_the_default_reports_ahead_and_again_after_a_change(
    seeded: Seeded, tmp_path: Path
) -> None:
    """What a dashboard opens on (the default window) is ready before anyone asks: requests
    compute nothing; after a correction the warmer computes it again, not the next request."""
    directory = tmp_path / "cache"
    settings = warming_every(seeded.settings, 0.1)
    app = create_app(settings, seeded.store, cache_dir=directory)
    cache = app.state.reports
    with TestClient(app) as client:
        status = _warm_status(directory, 1)
        assert status["businesses"] == 2 and status["computed"] == 2
        computed = cache.computed
        gap = client.get("/api/v1/gap/cafe-a", headers=READ).json()
        claims = client.get("/api/v1/claims/perceived", params={"business": "cafe-a"},
                            headers=READ).json()
        assert client.get("/api/v1/gap/shop-b", headers=READ).status_code == 200
        assert cache.computed == computed  # all three answered from the warmed reports
        assert [c["claim_key"] for c in claims] == [c["claim_key"] for c in gap["claims"]]
        # Another server process over the same cache directory does not warm a second time.
        other = Warmer(settings, seeded.store, ReportCache(directory), directory)
        assert other.start() is False
        # A correction changes the store: the warmer's next pass computes both reports again.
        mention = client.get("/api/v1/mentions", params={"business": "cafe-a", "limit": 1,
                                                          "sentiment": "negative"},
                             headers=READ).json()["items"][0]["mention_id"]
        assert client.post(f"/api/v1/mentions/{mention}/corrections", json={"label": "positive"},
                           headers=WRITE).status_code == 201
        status = _warm_status(directory, 2)
        assert status["computed"] == 2
        computed = cache.computed
        after = client.get("/api/v1/gap/cafe-a", headers=READ).json()
        assert cache.computed == computed
        assert after["overall"] != gap["overall"]  # the report the warmer made sees the correction


def test_the_warmer_is_off_with_zero(seeded: Seeded, tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    warmer = Warmer(warming_every(seeded.settings, 0), seeded.store, ReportCache(directory),
                    directory)
    assert warmer.start() is False


def test_a_request_that_waits_too_long_for_the_store_gets_503_with_retry_after(
    seeded: Seeded,
) -> None:
    from fastapi import HTTPException

    store = Store(seeded.store.url, migrate=False, pool=PoolOptions(size=1, overflow=0,
                                                                    timeout_s=0.3))
    gate = StoreGate(store)
    release = threading.Event()

    def slow(session) -> str:
        release.wait(5)  # holds the one place until the second request has given up
        return "slow"

    async def both() -> list[object]:
        first = asyncio.create_task(gate.run(slow))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(gate.run(lambda session: "second"))
        results = await asyncio.gather(second, return_exceptions=True)
        release.set()
        return [*results, await first]

    try:
        refused, first = asyncio.run(both())
    finally:
        store.dispose()
    assert first == "slow"
    assert isinstance(refused, HTTPException) and refused.status_code == 503
    assert refused.headers == {"Retry-After": "1"}


@pytest.mark.parametrize("value", ["0", "1700000000", "2026-1-5", "yesterday"])
def test_a_day_must_be_written_as_a_day(client: TestClient, value: str) -> None:
    """`until=0` parsed as a Unix time (1970-01-01) gave a silently empty answer; every day
    parameter now wants YYYY-MM-DD, on every endpoint that takes one."""
    for path in ("/api/v1/mentions", "/api/v1/aggregates/topics", "/api/v1/gap/cafe-a"):
        response = client.get(path, params={"until": value}, headers=READ)
        assert response.status_code == 422, (path, response.text)
        assert "YYYY-MM-DD" in response.text
    assert client.get("/api/v1/mentions", params={"until": "2026-11-30"},
                      headers=READ).status_code == 200
