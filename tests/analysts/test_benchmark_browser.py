"""The dashboard's benchmark panel (static/benchmark.js) in headless Chromium against a real uvicorn,
at 375 and 1366 pixels: the figures on screen are the API's, nothing sticks out sideways, and axe
finds no serious or critical violation in the panel. Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviewwatch.api import create_app
from reviewwatch.config import Settings
from storage.db import Store
from storage.models import utcnow
from tests.conftest import REPO
from tests.gap.benchmark_seed import populate, settings
from tests.live_server import serve_in_thread

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("REVIEWWATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed "
                       "(apt-get install -y chromium)"),
]
READ = {"Authorization": "Bearer read-secret"}


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Store, Settings]]:
    """On SQLite only: what the page shows is the API's, which test_benchmark_api.py checks on
    both backends."""
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    config = settings(read_tokens=["reader:read-secret"])
    with store.transaction() as session:
        populate(session, config, at=utcnow() - dt.timedelta(days=3))  # inside the default window
    try:
        yield store, config
    finally:
        store.dispose()


@pytest.fixture
def live_url(seeded: tuple[Store, Settings]) -> Iterator[str]:
    with serve_in_thread(create_app(seeded[1], seeded[0])) as url:
        yield url


def api_benchmark(seeded: tuple[Store, Settings]) -> dict[str, Any]:
    with TestClient(create_app(seeded[1], seeded[0])) as client:
        response = client.get("/api/v1/benchmark", params={"business": "cafe"}, headers=READ)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def percent(x: float) -> str:
    return f"{int(x * 100 + 0.5)}%"  # JavaScript's Math.round on these positive shares


def shown(estimate: dict[str, float]) -> str:
    return f"{percent(estimate['value'])} ({percent(estimate['low'])}–{percent(estimate['high'])})"


@pytest.mark.parametrize("width", [375, 1366])
def test_the_benchmark_panel_shows_the_apis_figures(
    live_url: str, seeded: tuple[Store, Settings], width: int
) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    expected = api_benchmark(seeded)
    clean = next(s for s in expected["benchmark"]["scopes"] if s["key"] == "cleanliness")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--no-sandbox", "--disable-gpu", "--disable-sync"])
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(live_url)
        assert page.locator("#bm-scopes > *").count() == 0  # nothing before a token
        page.fill("#token", "read-secret")
        page.click("#token-use")
        page.wait_for_selector("#benchmark-panel[data-loaded]")

        assert page.inner_text("#bm-line") == expected["line"] + "."
        assert expected["line"].startswith("Cleanliness: 30 % positive, competitors' median 78 %")
        card = page.locator('.bm-scope[data-scope="cleanliness"]')
        own = card.locator(".bm-own .bm-fig").inner_text()
        median = card.locator(".bm-median .bm-fig").inner_text()
        assert own == shown(clean["business"]["positive_share"]) == "30% (18%–45%)"
        assert median == shown(clean["median"]["positive_share"])
        assert card.locator(".bm-median .bm-diff").inner_text().startswith("Cafe −48 pts (")
        assert card.locator(".bm-median .bm-diff").inner_text().endswith("): lower")
        assert "not comparable" in card.locator(".bm-thin .bm-diff").inner_text()
        assert page.locator(".bm-scope").count() == len(expected["benchmark"]["scopes"]) == 3

        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#benchmark-panel").screenshot(path=str(ARTIFACTS / f"benchmark-panel-{width}.png"))
        page.screenshot(path=str(ARTIFACTS / f"benchmark-dashboard-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than a {width}px screen"
        smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll(
            '#benchmark-panel *')].filter(e => e.childElementCount === 0 && e.textContent.trim())
            .map(e => parseFloat(getComputedStyle(e).fontSize)))""")
        assert smallest >= 11, f"text of {smallest}px in the panel"

        page.select_option("#bm-metric", "mean_stars")  # the other figures, from the same data
        stars = clean["business"]["mean_stars"]
        assert card.locator(".bm-own .bm-fig").inner_text() == (
            f"{stars['value']:.2f} ({stars['low']:.2f}–{stars['high']:.2f})")

        results = Axe().run(page, context="#benchmark-panel")
        grave = [v["id"] for v in results.response["violations"]
                 if v["impact"] in ("serious", "critical")]
        assert grave == [], results.generate_report()
        browser.close()
