"""The dashboard in headless Chromium against a real uvicorn: charts render, a correction round-trips."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from reviewwatch.api import create_app
from storage.models import Correction
from tests.analysts.conftest import HOSTILE, Seeded, add_rating_claims

CHROMIUM = Path(os.environ.get("REVIEWWATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed "
                       "(apt-get install -y chromium)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_url(seeded: Seeded) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(create_app(seeded.settings, seeded.store), host="127.0.0.1",
                            port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.02)  # polling the start flag, with a deadline
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def page(live_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        external: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(live_url) else external.append(r.url))
        page.goto(live_url)
        yield page
        assert not dialogs, f"a crawled string ran as script: {dialogs}"
        assert not external, f"the dashboard loaded something from elsewhere: {external}"
        browser.close()


def _login(page, token: str) -> None:
    page.fill("#token", token)
    page.click("#token-use")
    page.wait_for_selector("body[data-loaded]")


def test_dashboard_renders_charts_and_escapes_text(page, seeded: Seeded, tmp_path: Path) -> None:
    import datetime as dt

    from reviewwatch.gap import compute_gap

    add_rating_claims(seeded.store)
    page.fill("#since", "2026-11-01")  # the seeded month, whatever today is
    page.fill("#until", "2026-11-30")
    _login(page, "write-secret")
    assert page.text_content("#whoami") == "alice (may correct)"
    line = page.get_attribute("#sentiment-chart path.line.positive", "d")
    assert line and line.startswith("M") and line.count("L") == 2  # three weeks
    assert page.locator("#sentiment-chart polygon.band").count() == 2
    assert page.locator("#claims-chart rect.bar").count() == 4
    assert page.locator("#claims-chart rect.bar.rating").count() == 2
    assert page.locator("#claims-chart line.claim").count() == 4
    labels = page.locator("#claims-chart text").all_text_contents()
    # The chart shows the gap computation's figures (smoothed stars), as `reviewwatch gap` does.
    with seeded.store.session() as s:
        report = compute_gap(s, seeded.settings, "cafe-a", since=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                             until=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    ratings = {f"{c.perceived.value:.1f}/{c.scale:g} / {c.claimed:.1f}/{c.scale:g}"
               for c in report.claims if c.metric == "average_rating" and c.perceived}
    assert len(ratings) == 2 and ratings <= set(labels), (ratings, labels)
    rows = page.locator("#mentions-table tbody tr")
    assert rows.count() == 5  # cafe-a's negative mentions
    hostile = page.locator(f"tr[data-mention-id='{seeded.ids['c6']}'] td.text .body")
    assert hostile.text_content() == HOSTILE
    assert page.locator("#mentions-table script").count() == 0
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


def test_a_correction_round_trips(page, seeded: Seeded) -> None:
    _login(page, "write-secret")
    c1 = seeded.ids["c1"]
    row = page.locator(f"tr[data-mention-id='{c1}']")
    row.locator("select.correct-label").select_option("positive")
    row.locator("input.correct-topics").fill("price, quality")
    row.locator("button.correct-save").click()
    row.wait_for(state="detached")  # no longer negative
    with seeded.store.session() as s:
        [correction] = s.scalars(select(Correction)).all()
    assert (correction.mention_id, correction.analyst) == (c1, "alice")
    assert (correction.label_before, correction.label_after) == ("negative", "positive")
    assert correction.topics_after == ["price", "quality"]
    page.reload()
    page.wait_for_selector("body[data-loaded]")  # the token was kept
    page.select_option("#f-sentiment", "positive")
    page.click("#apply")
    corrected = page.locator(f"tr[data-mention-id='{c1}']")
    corrected.wait_for()
    assert corrected.locator("td.sentiment .label").text_content() == "positive"
    assert corrected.locator("td.sentiment .corrected").count() == 1
    assert corrected.locator("td.topics").text_content() == "price, quality"


def test_a_read_token_sees_no_correction_controls(page) -> None:
    _login(page, "read-secret")
    assert page.text_content("#whoami") == "reader (read only)"
    assert page.locator("#mentions-table tbody tr").count() == 5  # the rows are there ...
    assert page.locator("#mentions-table button.correct-save").count() == 5
    for button in page.locator("#mentions-table button.correct-save").all():
        assert not button.is_visible()  # ... without their correction controls
