"""A customer's answer end to end: the request received by a real SMTP server, its link followed
in Chromium (375 and 1366 px, axe on every page, screenshots under test-artifacts/), the answer in
the store, in `reviewwatch gap --format json` (both channels of the claim) and first in the
owner's next digest (`reviewwatch digest`, received by the same SMTP server)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from reviewwatch.cli import cli
from reviewwatch.config import Settings
from reviewwatch.digest.send import SmtpTransport
from reviewwatch.feedback.customers import parse_customers
from reviewwatch.feedback.invite import ask_customers
from storage.db import Store
from storage.models import Mention
from tests.conftest import REPO
from tests.digest.smtpserver import SmtpServer
from tests.feedback.conftest import BUSINESS, CSV, KEY, OWNER, feedback_links

CHROMIUM = Path(os.environ.get("REVIEWWATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed "
                       "(apt-get install -y chromium)"),
]
ARTIFACTS = REPO / "test-artifacts"
WIDTHS = (375, 1366)
COMMENT = "Soupe froide, serveur impoli <img src=x onerror=alert(1)>"


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


def _look(page, name: str) -> None:
    """At each width: no sideways scroll, no serious axe violation, a screenshot to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name}: {scroll} px wide at {width} px"
        assert _serious(page) == [], name
        page.screenshot(path=str(ARTIFACTS / f"feedback-{name}-{width}.png"), full_page=True)


def _config(write_config, database_url: str, tmp_path: Path, settings: Settings) -> Path:
    return write_config(
        f'data_dir = "{tmp_path.as_posix()}"\ndatabase_url = "{database_url}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {settings.smtp.port}\nsecurity = "none"\n'
        f'timeout_s = 5\n'
        f'[feedback]\npublic_url = "{settings.feedback.public_url}"\n'
        f'[[businesses]]\nid = "{BUSINESS}"\nname = "Café <b>Test</b> & Co"\n'
        f'owners = ["{OWNER}"]\n'
        '  [[businesses.claims]]\n  positive_share = 0.9\n  stated_at = 2026-01-01\n'
    )


# One backend: the browser is the point here; the store's part runs on both in the other tests.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_answer_from_the_email_to_the_store_the_gap_and_the_digest(
    synced: Store, settings: Settings, smtp_server: SmtpServer, live_url: str, tmp_path: Path,
    database_url: str, write_config, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import sync_playwright

    ask_customers(synced, settings, BUSINESS, parse_customers(CSV), SmtpTransport(settings.smtp))
    [link] = feedback_links(smtp_server.recorder.to("ann@example.com")[0])

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(link)
        assert page.locator("input[name=score]").count() == 11  # the 0-10 question
        _look(page, "form")
        page.get_by_label("2", exact=True).check()
        page.fill("textarea[name=comment]", COMMENT)
        page.get_by_role("button", name="Send").click()
        page.wait_for_selector("[role=status]")
        # A low score sees the same public invitation as anyone: no review gating.
        assert page.get_by_role("link", name="Write a public review").get_attribute("href") \
            == settings.feedback.public_review_url
        _look(page, "done")
        page.goto(link)
        assert "already been used" in page.locator("main").inner_text()
        _look(page, "used")
        browser.close()

    with synced.session() as session:
        [answer] = session.scalars(select(Mention).where(Mention.is_private.is_(True))).all()
        assert (answer.rating, answer.text, answer.language) == (2.0, COMMENT, "en")

    monkeypatch.setenv("REVIEWWATCH_FEEDBACK__SECRET_KEY", KEY)
    config = _config(write_config, database_url, tmp_path, settings)
    runner = CliRunner()
    gap = runner.invoke(cli, ["--config", str(config), "gap", "--business", BUSINESS,
                              "--format", "json"])
    assert gap.exit_code == 0, gap.output
    [claim] = json.loads(gap.stdout)["claims"]
    public, asked = claim["channels"]["public"], claim["channels"]["asked"]
    assert public["mentions"] == 0 and public["share_positive"] is None  # nobody posted
    assert (asked["asked"], asked["answered"], asked["answers_counted"]) == (2, 1, 1)
    assert asked["response_rate"]["value"] == 0.5 and asked["share_positive"]["value"] == 0
    assert asked["nps"]["value"] == -100 and asked["nps_answers"] == 1
    assert "Soupe froide" not in gap.stdout  # counted, never shown

    digest = runner.invoke(cli, ["--config", str(config), "digest", "--business", BUSINESS])
    assert digest.exit_code == 0, digest.output
    [message] = smtp_server.recorder.to(OWNER)
    text = message.get_body(("plain",)).get_content()
    assert text.index("customers who told you first") < text.index("Soupe froide")
    html = message.get_body(("html",)).get_content()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
