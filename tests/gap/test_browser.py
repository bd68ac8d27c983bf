"""The HTML gap report in headless Chromium at 375 and 1366 px: its summary is on the first
screen, nothing scrolls sideways on a phone, and axe finds no serious or critical violation.

Screenshots of the summary are saved as test-artifacts/gap-summary-375.png and -1366.png
(git-ignored) to be looked at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewwatch.gap.render_html import render_html
from storage.db import Store
from tests.conftest import REPO
from tests.gap.test_summary import LANGUAGES, report_with_languages

CHROMIUM = Path(os.environ.get("REVIEWWATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "test-artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]
WIDTHS = (375, 1366)


def _serious(page) -> list[str]:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


def test_the_summary_opens_the_report_at_both_widths(
    store: Store, tmp_path: Path, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the page, not the store, is under test: once is enough")
    from playwright.sync_api import sync_playwright

    report = report_with_languages(store, LANGUAGES)
    page_file = tmp_path / "gap.html"
    page_file.write_text(render_html([report]), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--no-sandbox", "--disable-gpu"])
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.goto(page_file.as_uri())
            summary = page.locator("#summary-1")
            lines = summary.locator("li")
            assert lines.count() == len(report["summary"])
            for line, entry in zip(lines.all(), report["summary"], strict=True):
                assert line.locator(".verdict").inner_text() == entry["verdict"]
            box = summary.bounding_box()
            assert box is not None and box["y"] + box["height"] <= 800, (
                f"the summary ends at {box} px, below the first screen at {width} px")
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= width, f"{scroll_width} px wide at {width} px"
            # every interval chart shows its bars whole on the first look: on a phone the stacked
            # one (labels above the bars), on a laptop the wide one; neither scrolls sideways
            shown = page.locator(".chart svg.stacked" if width < 620 else ".chart svg.wide")
            hidden = page.locator(".chart svg.wide" if width < 620 else ".chart svg.stacked")
            assert shown.count() == hidden.count() > 0
            for chart in shown.all():
                assert chart.is_visible()
                box = chart.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
                assert chart.locator("rect").count() > 0  # the bars are drawn
            assert not any(chart.is_visible() for chart in hidden.all())
            summary.screenshot(path=str(ARTIFACTS / f"gap-summary-{width}.png"))
            page.screenshot(path=str(ARTIFACTS / f"gap-report-{width}.png"), full_page=True)
            assert _serious(page) == []
            page.close()
        browser.close()
