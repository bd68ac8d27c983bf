"""The dashboard's channels panel in Chromium: each claim in public beside when asked, from the
API's counts only (the answers' text never reaches the page); axe on the panel, screenshots at
375 and 1366 px under test-artifacts/."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from reviewwatch.api import create_app
from reviewwatch.digest.send import OutboxTransport
from reviewwatch.feedback.customers import parse_customers
from reviewwatch.feedback.invite import ask_customers
from storage.db import Store
from storage.feedback import record_answer
from storage.models import FeedbackInvitation
from tests.analysts.conftest import Seeded, analyst_settings, seed_store
from tests.conftest import REPO
from tests.feedback.conftest import KEY
from tests.live_server import serve_in_thread

CHROMIUM = Path(os.environ.get("REVIEWWATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed "
                       "(apt-get install -y chromium)"),
]
ARTIFACTS = REPO / "test-artifacts"
ASKED_AT = dt.datetime(2026, 11, 8, 12, 0, tzinfo=dt.UTC)
SECRET = "Secret private answer"


@pytest.fixture
def asked(store: Store, tmp_path: Path) -> Seeded:
    """The analysts' seeded store (cafe-a: 10 public mentions in November 2026, two claims),
    and three cafe-a customers asked on 8 November: one answers 10, one 2, one not at all."""
    settings = analyst_settings()
    settings = settings.model_copy(update={"feedback": settings.feedback.model_copy(
        update={"secret_key": SecretStr(KEY)})})
    seeded = seed_store(store, settings)
    lines = "".join(f"c{i}@example.com,C{i},en\n" for i in range(3))
    ask_customers(store, settings, "cafe-a", parse_customers("email,name,language\n" + lines),
                  OutboxTransport(tmp_path), now=ASKED_AT)
    with store.transaction() as session:
        invitations = session.scalars(select(FeedbackInvitation).order_by(FeedbackInvitation.id))
        for invitation, score in zip(invitations, (10, 2), strict=False):
            record_answer(session, invitation.id, score=score, comment=SECRET,
                          question="recommend", now=ASKED_AT + dt.timedelta(days=1))
    return seeded


@pytest.fixture
def dashboard(asked: Seeded) -> Iterator[str]:
    with serve_in_thread(create_app(asked.settings, asked.store)) as url:
        yield url


# One backend: the browser is the point here; the store's part runs on both in the other tests.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_panel_shows_each_claim_in_public_beside_when_asked(dashboard: str) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(dashboard)
        assert not page.is_visible("#channels-panel")  # nothing before a token
        page.fill("#token", "read-secret")
        page.click("#token-use")
        page.wait_for_selector("body[data-loaded]")
        before = page.get_attribute("body", "data-loaded")
        page.evaluate("""() => {
            document.getElementById("since").value = "2026-11-01";
            document.getElementById("until").value = "2026-11-30";
            document.getElementById("until").dispatchEvent(new Event("change"));
        }""")
        page.wait_for_function("b => document.body.dataset.loaded !== b", arg=before)
        # The panel reloads after each load of the dashboard's: wait for the one of November.
        page.wait_for_function("""() => Number(document.getElementById("channels-panel")
            .dataset.loaded || 0) >= Number(document.body.dataset.loaded)""")

        rows = page.locator("#channels-table tbody tr")
        assert rows.count() == 2
        overall = page.locator("#channels-table tbody tr", has_text="90% positive")
        cells = overall.locator("td.num").all_text_contents()
        # public: 4 of 10 positive; asked: 3, answered 2 (67%), 1 of 2 positive, NPS 0.
        assert cells[0].startswith("40% (") and cells[0].endswith("n=10")
        assert cells[1].startswith("50% (") and cells[1].endswith("n=2")
        assert cells[2].startswith("0 (") and cells[2].endswith("n=2")
        assert cells[3] == "3" and cells[4].startswith("2: 67% (")
        # Side by side: one interval bar per channel, on one 0-100% axis.
        assert overall.locator("svg.channels-bars circle").count() == 2
        assert "when asked 50% (9%" in overall.locator("svg").get_attribute("aria-label")
        assert page.locator("#channels-empty").is_hidden()
        assert SECRET not in page.content()

        ARTIFACTS.mkdir(exist_ok=True)
        for width in (375, 1366):
            page.set_viewport_size({"width": width, "height": 900})
            results = Axe().run(page, context="#channels-panel")
            serious = [v["id"] for v in results.response["violations"]
                       if v.get("impact") in ("serious", "critical")]
            assert serious == [], serious
            page.locator("#channels-panel").screenshot(
                path=str(ARTIFACTS / f"dashboard-channels-{width}.png"))
            box = page.locator("#channels-panel").bounding_box()
            assert box is not None and box["x"] + box["width"] <= width + 1

        page.click("#sign-out")
        page.wait_for_selector("body.signed-out")
        assert page.locator("#channels-table tbody tr").count() == 0
        browser.close()
