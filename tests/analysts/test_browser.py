"""The dashboard in headless Chromium against a real uvicorn: charts render, a correction round-trips,
nothing shows before a token, the token lives in the tab only, bidi controls are neutralised.

Screenshots at 375 and 1366 pixels are saved under test-artifacts/ (git-ignored) to be looked at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from reviewwatch.api import create_app
from storage.models import Correction
from tests.analysts.conftest import HOSTILE, Seeded, add_rating_claims
from tests.conftest import REPO
from tests.live_server import serve_in_thread

ARTIFACTS = REPO / "test-artifacts"

CHROMIUM = Path(os.environ.get("REVIEWWATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed "
                       "(apt-get install -y chromium)"),
]


@pytest.fixture
def live_url(seeded: Seeded) -> Iterator[str]:
    with serve_in_thread(create_app(seeded.settings, seeded.store)) as url:
        yield url


@pytest.fixture
def page(live_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 1100})
        page = context.new_page()
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


def _period(page, since: str, until: str) -> None:
    """Set both days, then let the dashboard reload once and wait for it."""
    before = page.get_attribute("body", "data-loaded")
    page.evaluate("""([since, until]) => {
        document.getElementById("since").value = since;
        document.getElementById("until").value = until;
        document.getElementById("until").dispatchEvent(new Event("change"));
    }""", [since, until])
    page.wait_for_function("before => document.body.dataset.loaded !== before", arg=before)


def test_nothing_is_shown_before_a_token(page, seeded: Seeded) -> None:
    assert page.locator("body.signed-out").count() == 1
    assert page.locator("#business option").count() == 0
    assert page.locator("#f-topic option").all_text_contents() == ["any"]
    html = page.content()
    for secret in ("cafe-a", "Café A", "shop-b", "Shop B", "wait_time"):
        assert secret not in html, secret
    assert page.is_visible("#token") and not page.is_visible("#sentiment-chart")
    _login(page, "read-secret")
    assert page.locator("#business option").all_text_contents() == ["Café A", "Shop B"]
    assert "wait_time" in page.locator("#f-topic option").all_text_contents()


def test_the_token_is_kept_for_the_tab_only_and_sign_out_forgets_it(page, live_url: str) -> None:
    _login(page, "read-secret")
    assert page.evaluate("sessionStorage.getItem('reviewwatch.token')") == "read-secret"
    assert page.evaluate("localStorage.length") == 0
    assert page.input_value("#token") == ""  # not left in the page either
    page.reload()
    page.wait_for_selector("body[data-loaded]")  # the same tab keeps it
    other = page.context.new_page()  # another tab of the same browser does not get it
    other.goto(live_url)
    assert other.locator("body.signed-out").count() == 1
    assert other.evaluate("sessionStorage.getItem('reviewwatch.token')") is None
    other.close()
    page.click("#sign-out")
    page.wait_for_selector("body.signed-out")
    assert page.evaluate("sessionStorage.getItem('reviewwatch.token')") is None
    assert page.locator("#mentions-table tbody tr").count() == 0
    assert page.locator("#business option").count() == 0
    assert page.locator("#sentiment-chart *").count() == 0
    page.reload()
    assert page.locator("body.signed-out").count() == 1
    assert page.evaluate("sessionStorage.length") == 0


def test_a_token_left_in_local_storage_by_an_earlier_version_is_forgotten(page) -> None:
    page.evaluate("localStorage.setItem('reviewwatch.token', 'write-secret')")
    page.reload()
    assert page.locator("body.signed-out").count() == 1
    assert page.evaluate("localStorage.getItem('reviewwatch.token')") is None


def test_a_refused_token_signs_out(page) -> None:
    page.fill("#token", "wrong")
    page.click("#token-use")
    page.wait_for_selector("#error:not([hidden])")
    assert "sign in again" in page.text_content("#error")
    assert page.locator("body.signed-out").count() == 1
    assert page.evaluate("sessionStorage.length") == 0


def test_dashboard_renders_charts_and_escapes_text(page, seeded: Seeded, tmp_path: Path) -> None:
    import datetime as dt

    from reviewwatch.gap import compute_gap

    add_rating_claims(seeded.store)
    _login(page, "write-secret")  # the period controls show once signed in
    _period(page, "2026-11-01", "2026-11-30")  # the seeded month, whatever today is
    assert page.text_content("#whoami") == "alice (may correct)"
    line = page.get_attribute("#sentiment-chart path.line.positive", "d")
    # The month's 10 mentions make one share (gap.min_mentions = 10), flat across its weeks
    # rather than one 0-100 % zigzag per thin week.
    assert line and line.startswith("M") and line.count("L") == 1
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


BIDI_TEXT = "Service was \u202egood\u202c, \u2067really\u2069 \u200fbad\u200e \u061cmeh"
BIDI_AUTHOR = "\u202eeve"


def _add_bidi_mention(seeded: Seeded) -> int:
    import datetime as dt

    from storage.mentions import MentionData, write_mentions
    from storage.models import Business, Mention, Score, Source

    with seeded.store.transaction() as session:
        business = session.query(Business).filter_by(slug="cafe-a").one()
        source = session.query(Source).filter_by(business_id=business.id).one()
        write_mentions(session, business_id=business.id, source_id=source.id, items=[
            MentionData(external_id="bidi", text=BIDI_TEXT, title="\u202eelttit", rating=1,
                        rating_scale=5, language="en", author=BIDI_AUTHOR,
                        published_at=dt.datetime(2026, 11, 19, 13, tzinfo=dt.UTC))])
        mention = session.query(Mention).filter_by(external_id="bidi").one()
        session.add(Score(mention_id=mention.id, model_id="test-model", model_version="1",
                          label="negative", p_negative=0.8, p_neutral=0.1, p_positive=0.1,
                          stars=1.0, language=None, topic_scores={}, is_current=True))
        return mention.id


def test_bidi_controls_in_crawled_text_do_not_reorder_the_dashboard(page, seeded: Seeded) -> None:
    from reviewwatch.display import display_text

    mention_id = _add_bidi_mention(seeded)
    _login(page, "read-secret")
    cell = page.locator(f"tr[data-mention-id='{mention_id}'] td.text")
    shown = cell.locator(".body").text_content()
    assert shown == display_text(BIDI_TEXT) == "Service was good, really bad meh"
    assert cell.locator(".title").text_content() == "elttit"
    every_text = page.evaluate("document.body.innerText")
    assert not any(c in every_text for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
    assert cell.locator(".body").get_attribute("dir") == "auto"


def test_the_dashboards_bidi_set_is_the_python_one() -> None:
    """dashboard.js and reviewwatch/display.py strip the same characters."""
    import re

    from reviewwatch.display import BIDI_CONTROLS

    script = (REPO / "reviewwatch" / "api" / "static" / "dashboard.js").read_text(encoding="utf-8")
    [pattern] = re.findall(r"const BIDI_CONTROLS = /(\[[^\]]+\])/g;", script)
    js_class = re.compile(pattern.encode().decode("unicode_escape"))
    every = {chr(c) for c in range(0x0600, 0x2100) if js_class.fullmatch(chr(c))}
    every |= {chr(c) for c in range(0x2100, 0x2200) if js_class.fullmatch(chr(c))}
    assert every == set(BIDI_CONTROLS)


@pytest.mark.parametrize("width", [375, 1366])
def test_screenshots_at_phone_and_desktop_widths(page, seeded: Seeded, width: int) -> None:
    """Saved for a person to look at: signed out, then signed in with charts and mentions."""
    add_rating_claims(seeded.store)
    _add_bidi_mention(seeded)
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    page.reload()
    page.screenshot(path=str(ARTIFACTS / f"dashboard-signed-out-{width}.png"), full_page=True)
    _login(page, "write-secret")
    path = ARTIFACTS / f"dashboard-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    # Nothing sticks out sideways but the mentions table, which scrolls in its own box.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a {width}px screen"
