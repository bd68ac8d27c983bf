"""The dashboard's follow-up panel in headless Chromium against a real uvicorn: the response
figures and the items show, a write token marks an item resolved (kept in its history), a read
token gets no buttons; screenshots at 375 and 1366 px, and axe finds nothing serious."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from reviewwatch.config import ClaimConfig
from reviewwatch.sync import sync_settings
from storage.followup import change_state, history, sync_followups
from storage.models import FollowupItem, Mention
from tests.analysts.conftest import Seeded
from reviewwatch.api import create_app
from tests.conftest import REPO
from tests.live_server import serve_in_thread

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("REVIEWWATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]
PANEL = "#followup-panel[data-loaded]"


@pytest.fixture
def live_url(seeded: Seeded) -> Iterator[str]:
    """The app under a real uvicorn on a free port (as `reviewwatch serve` runs it)."""
    with serve_in_thread(create_app(seeded.settings, seeded.store)) as url:
        yield url


@pytest.fixture
def page(live_url: str):  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(live_url)
        yield page
        assert not dialogs, f"a crawled string ran as script: {dialogs}"
        browser.close()


def _login(page, token: str) -> None:  # noqa: ANN001
    page.fill("#token", token)
    page.click("#token-use")
    page.wait_for_selector("body[data-loaded]")


def _reply_to_c1(seeded: Seeded) -> None:
    seeded.settings.businesses[0].claims.append(
        ClaimConfig(response_within_hours=24, stated_at=dt.date(2026, 10, 1)))
    seeded.settings.gap.min_mentions = 3
    with seeded.store.transaction() as session:
        sync_settings(session, seeded.settings)
        sync_followups(session)
        mention = session.get_one(Mention, seeded.ids["c1"])
        item = session.scalars(select(FollowupItem).where(FollowupItem.mention_id == mention.id)).one()
        assert mention.published_at is not None
        change_state(session, item.id, "replied", by="alice", via="api",
                     replied_at=mention.published_at + dt.timedelta(hours=6))


def _serious(checked) -> list[str]:  # noqa: ANN001
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(checked)
    return [f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]}"
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def test_the_panel_shows_figures_and_a_write_token_resolves_an_item(page, seeded: Seeded) -> None:  # noqa: ANN001
    _reply_to_c1(seeded)
    _login(page, "write-secret")
    page.wait_for_selector(PANEL)
    facts = page.inner_text("#followup-panel .fu-facts")
    assert "negative mentions\n5" in facts and "answered\n1" in facts and "6.0 h" in facts
    assert page.locator("#followup-panel .fu-item").count() == 4  # the open ones
    promise = page.inner_text("#followup-panel .fu-promises")
    assert "answers every negative mention within 24 h" in promise and "overstated" in promise
    hostile = page.locator("#followup-panel .fu-text", has_text="<script>")
    assert hostile.count() == 1  # shown as text, not run

    target = page.locator("#followup-panel .fu-item[data-item-id]").first
    item_id = int(target.get_attribute("data-item-id") or 0)
    before = page.get_attribute("#followup-panel", "data-loaded")
    target.locator("button[data-state=resolved]").click()
    page.wait_for_function(
        "before => document.getElementById('followup-panel').dataset.loaded !== before", arg=before)
    assert page.locator(f"#followup-panel .fu-item[data-item-id='{item_id}']").count() == 0
    with seeded.store.session() as session:
        changes = history(session, item_id)
    assert [(c.state_after, c.changed_by, c.via) for c in changes][-1] == ("resolved", "alice", "api")
    page.select_option("#fu-state", "resolved")
    page.wait_for_selector(f"#followup-panel .fu-item[data-item-id='{item_id}']")


def test_a_read_token_sees_the_figures_but_no_buttons(page, seeded: Seeded) -> None:  # noqa: ANN001
    _login(page, "read-secret")
    page.wait_for_selector(PANEL)
    assert page.locator("#followup-panel .fu-item").count() == 5
    assert not page.locator("#followup-panel .fu-actions").first.is_visible()


@pytest.mark.parametrize("width", [375, 1366])
def test_panel_screenshots_and_accessibility(page, seeded: Seeded, width: int) -> None:  # noqa: ANN001
    _reply_to_c1(seeded)
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    _login(page, "write-secret")
    page.wait_for_selector(PANEL)
    panel = page.locator("#followup-panel")
    path = ARTIFACTS / f"followup-panel-{width}.png"
    panel.screenshot(path=str(path))
    assert path.stat().st_size > 5_000
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a {width}px screen"
    assert _serious(page) == []
