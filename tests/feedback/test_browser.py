"""A customer in headless Chromium on a 375 px phone: follows the link from the received email,
answers without JavaScript; axe finds no serious or critical violation on the pages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from reviewwatch.config import Settings
from reviewwatch.digest.send import SmtpTransport
from reviewwatch.feedback.customers import parse_customers
from reviewwatch.feedback.invite import ask_customers
from storage.db import Store
from storage.models import Mention
from tests.digest.smtpserver import SmtpServer
from tests.feedback.conftest import BUSINESS, CSV, feedback_links

CHROMIUM = Path(os.environ.get("REVIEWWATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed "
                       "(apt-get install -y chromium)"),
]
PHONE = {"width": 375, "height": 740}


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"


def test_customer_answers_on_a_phone_without_javascript(
    synced: Store, settings: Settings, smtp_server: SmtpServer, live_url: str
) -> None:
    from playwright.sync_api import sync_playwright

    ask_customers(synced, settings, BUSINESS, parse_customers(CSV), SmtpTransport(settings.smtp))
    [link] = feedback_links(smtp_server.recorder.to("bo@example.com")[0])

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--no-sandbox", "--disable-gpu"])
        checker = browser.new_page(viewport=PHONE)  # JavaScript on: axe runs in the page
        checker.goto(link)
        assert checker.locator("html").get_attribute("lang") == "sv"
        _no_sideways_scroll(checker)
        assert _serious(checker) == []

        customer = browser.new_context(viewport=PHONE, java_script_enabled=False).new_page()
        customer.goto(link)
        customer.get_by_label("3", exact=True).check()
        customer.fill("textarea[name=comment]", "Kall soppa <script>alert(1)</script>")
        customer.get_by_role("button", name="Skicka").click()
        assert "Tack" in customer.locator("main").inner_text()
        assert customer.get_by_role("link", name="Skriv en offentlig recension").get_attribute(
            "href") == settings.feedback.public_review_url

        checker.goto(link)  # now used: a clear page, itself accessible
        assert "redan använts" in checker.locator("main").inner_text()
        _no_sideways_scroll(checker)
        assert _serious(checker) == []
        browser.close()
    with synced.session() as session:
        [mention] = session.scalars(select(Mention)).all()
        assert (mention.rating, mention.language, mention.is_private) == (3.0, "sv", True)
        assert mention.text == "Kall soppa <script>alert(1)</script>"  # stored as text, shown escaped
