"""The overview in headless Chromium at 375 and 1366 pixels: the numbers on screen are the API's,
no text is below 11 px (SVG text as rendered), no sideways scroll on a phone, the whole width is
used on a desktop, and axe finds no serious or critical violation.

Screenshots: test-artifacts/overview-375.png and overview-1366.png (git-ignored), to be looked at.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from storage.mentions import MentionData, write_mentions
from storage.models import Business, Mention, Score, Source
from tests.analysts import test_browser
from tests.analysts.conftest import Seeded, add_rating_claims
from tests.analysts.test_browser import ARTIFACTS, _login, _period

# The dashboard tests' server, browser page and Chromium check.
live_url = test_browser.live_url
page = test_browser.page
pytestmark = test_browser.pytestmark

SEPTEMBER_TO_NOVEMBER = ("2026-09-01", "2026-11-30")
# (day offset from Sep 1, rating, language, label): a fuller season for the screenshots
MORE = [(d, 1 + (d * 7) % 5, ("en", "fr", "sv", "de")[d % 4]) for d in range(0, 60, 2)]
LABEL = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}


def add_season(seeded: Seeded) -> None:
    with seeded.store.transaction() as session:
        business = session.query(Business).filter_by(slug="cafe-a").one()
        source = session.query(Source).filter_by(business_id=business.id).one()
        write_mentions(session, business_id=business.id, source_id=source.id, items=[
            MentionData(external_id=f"season-{d}", text=f"Visit {d}: it was {LABEL[r]}.",
                        rating=r, rating_scale=5, language=lang,
                        published_at=dt.datetime(2026, 9, 1, 10, tzinfo=dt.UTC) + dt.timedelta(days=d))
            for d, r, lang in MORE])
        for mention in session.query(Mention).filter(Mention.external_id.like("season-%")):
            r = int(mention.rating or 3)
            session.add(Score(mention_id=mention.id, model_id="test-model", model_version="1",
                              label=LABEL[r], p_negative=0.1, p_neutral=0.1, p_positive=0.8,
                              stars=float(r), language=None, topic_scores={}, is_current=True))


def _api(page, live_url: str, path: str) -> Any:
    response = page.request.get(live_url + path, headers={"Authorization": "Bearer read-secret"})
    assert response.ok, response.text()
    return response.json()


# Every visible text's size on screen: an SVG's text through the scale it is drawn at.
SMALL_TEXT = """() => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!node.textContent.trim() || !parent) continue;
    const box = parent.getBoundingClientRect();
    if (!box.width || !box.height || parent.closest("[hidden], title")) continue;
    let size = parseFloat(getComputedStyle(parent).fontSize);
    if (parent instanceof SVGElement) size *= parent.getScreenCTM().a;
    if (size < 11) small.push(parent.tagName + " " + size.toFixed(1) + "px: " + node.textContent.slice(0, 30));
  }
  return small;
}"""


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


@pytest.mark.parametrize("width", [375, 1366])
def test_overview_at_phone_and_desktop_widths(page, live_url: str, seeded: Seeded,
                                              width: int) -> None:
    add_rating_claims(seeded.store)
    add_season(seeded)
    page.set_viewport_size({"width": width, "height": 900})
    _login(page, "read-secret")
    _period(page, *SEPTEMBER_TO_NOVEMBER)
    since, until = SEPTEMBER_TO_NOVEMBER
    data = _api(page, live_url, f"/api/v1/overview?business=cafe-a&since={since}&until={until}")

    # The key numbers are the API's.
    totals = data["totals"]
    assert page.text_content("#card-mentions .card-value") == str(totals["mentions"]) == "40"
    rating = totals["average_rating"]["value"]
    assert page.text_content("#card-rating .card-value") == f"{rating:.2f} / 5"
    busiest = max(data["periods"], key=lambda p: p["mentions"])
    bar = page.locator(f"#volume-chart rect.bar.volume[data-start='{busiest['start']}']")
    assert f": {busiest['mentions']} mentions" in bar.locator("title").text_content()
    assert page.locator("#volume-chart rect.bar.volume").count() == len(data["periods"])
    claims = {c["claim_key"]: c for c in data["claims"]}
    assert len(claims) == 4
    for key, claim in claims.items():
        shown = page.locator(f"#claims-table tr[data-claim-key='{key}'] .verdict-tag")
        assert shown.text_content() == claim["verdict"]
    assert page.locator("#rating-chart rect.bar.stars").count() == 5
    assert page.locator("#by-language tbody tr").count() == len(data["breakdowns"]["language"])

    # Readable: no text under 11 px as drawn, nothing sticking out sideways.
    assert page.evaluate(SMALL_TEXT) == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a {width}px screen"
    panels = page.locator("main > section.panel")
    boxes = [panels.nth(i).bounding_box() for i in range(panels.count())]
    if width == 1366:  # the whole width: side by side, and the last column reaches the right
        assert max(b["x"] + b["width"] for b in boxes) > width - 40
        assert len({round(b["x"]) for b in boxes}) >= 3
    else:  # one column, each panel the screen's width
        assert {round(b["x"]) for b in boxes} == {round(boxes[0]["x"])}
        assert all(b["width"] > width - 30 for b in boxes)

    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"overview-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000
    assert _serious(page) == []
