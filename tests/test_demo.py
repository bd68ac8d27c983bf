"""`reviewwatch demo` end to end: the demo site over real HTTP, the crawl in a child process,
the embedded model, the gap and the digests, as `make demo` runs it (into a temporary data dir)."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from reviewwatch.cli import cli
from storage.db import Store
from storage.models import Digest, FollowupItem, Mention, PublicReply, Score
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def port_taken(port: int) -> Iterator[None]:
    """The demo's default port in use, as when another demo site runs (if it already is, fine)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            pass  # something else holds it already
        yield


def test_demo_runs_the_whole_cycle(tmp_path: Path, real_data_dir: Path, monkeypatch) -> None:
    data = tmp_path / "demo"
    data.mkdir()
    (data / "models").symlink_to(real_data_dir / "models")  # the converted model, made once
    monkeypatch.setenv("REVIEWWATCH_DATA_DIR", str(data))

    port = free_port()
    with port_taken(8765):
        result = CliRunner().invoke(
            cli, ["--config", str(REPO / "examples" / "demo.toml"), "demo", "--port", str(port)])

    assert result.exit_code == 0, result.output
    assert f"demo site served on http://127.0.0.1:{port}/" in result.stdout
    out = " ".join(result.stdout.split())
    for slug in ("cafe-aurora", "hotel-rivoli", "hotel-lumiere", "rapidride"):
        assert f"{slug} crawl yes" in " ".join(out.replace("│", " ").split())
    assert "overstated" in out and "NO" not in result.stdout.split()

    store = Store(f"sqlite:///{data / 'reviewwatch.db'}")
    with store.session() as session:
        mentions = session.scalar(select(func.count()).select_from(Mention))
        scored = session.scalar(
            select(func.count()).select_from(Score).where(Score.is_current.is_(True))
        )
        # every demo review and post (the competitor's 10 reviews and RapidRide's
        # 45 UK ones, dated relative to the demo's run, included), two answers, each
        # scored once
        assert mentions == scored == 105
        answers = session.scalars(
            select(Mention.rating).where(Mention.is_private.is_(True)).order_by(Mention.rating)
        ).all()
        assert answers == [2.0, 9.0]  # the two customers who answered on the feedback page
        assert session.scalars(select(Digest)).all() == []  # a dry run marks nothing delivered
        # Hôtel Lumière's Trustpilot replies (two negative reviews answered, 5 h and 52 h later)
        # and RapidRide's reply on Mastodon to a commuter's post; the competitor, Hôtel Rivoli,
        # answered one of its Trustpilot reviews
        assert session.scalar(select(func.count()).select_from(PublicReply)) == 5
        replied = session.scalars(select(FollowupItem).where(FollowupItem.state == "replied")).all()
        assert len(replied) >= 2
    store.dispose()

    requests = sorted((data / "outbox").glob("feedback-*.eml"))
    # Each business asks each bundled customer once (examples/demo_customers.csv).
    assert len(requests) == 24
    for slug in ("cafe-aurora", "hotel-rivoli", "hotel-lumiere", "rapidride"):
        assert f"{slug}: 6 feedback requests written" in out
    assert "cafe-aurora: 2 answered on the feedback page: score 2, score 9" in out
    # The gap tables show each claim in public beside when asked; the answers stay private.
    assert out.count("in public versus when asked") == 3
    assert "Vi väntade 40 minuter" not in result.stdout
    emls = sorted(p for p in (data / "outbox").glob("*.eml") if not p.name.startswith(("feedback-", "alert-")))
    assert len(emls) == 3
    # RapidRide's UK reviews end with a burst in the last 24 hours: the check after its crawl
    # wrote the owners' alert (dry run) and the demo shows it.
    alerts = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
              for p in sorted((data / "outbox").glob("alert-rapidride-*.eml"))]
    subjects = {str(m["Subject"]) for m in alerts}
    assert "Spike alert: RapidRide: 8 negative mentions in 24 hours" in subjects
    assert "spike alerts" in out and "written" in out
    lumiere = next(p for p in emls if p.name.startswith("hotel-lumiere"))
    message = email.message_from_bytes(lumiere.read_bytes(), policy=policy.default)
    assert "leak@example.com" not in str(message["To"]) and message["Bcc"] is None
    html = message.get_body(("html",)).get_content()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    # the hotel's owner reads French (examples/demo.toml): subject, headings, topics, numbers
    assert "mentions négatives" in str(message["Subject"]) and '<html lang="fr">' in html
    assert "Mentions négatives, les plus récentes d&#39;abord" in html
    # Hôtel Lumière beside its competitor, Hôtel Rivoli: in the digest and the gap table
    # in the owner's French (reviewwatch/digest/gaptext.py); the table keeps its English
    text = message.get_body(("plain",)).get_content()
    assert "Face à la concurrence : " in text and "Against competitors" not in text
    assert "against its competitors: " in out and "competitors' median" in out

    report = (data / "gap-report.html").read_text(encoding="utf-8")
    assert "<svg" in report and "Café Aurora" in report and "<script>alert" not in report
    assert "Responses to negative mentions" in report and "responses to negative mentions" in out
    assert report.count('class="summary"') == 4  # each business (the competitor too) opens with its summary
    height = report_height(data / "gap-report.html")
    if height is not None:
        # "a few screens": 4 businesses (0 to 11 claims each), about 1.75 screens of 768 px each
        # at 1366 px; the breakdown tables are folded under <details>
        assert height <= MAX_REPORT_HEIGHT, f"the demo's gap report is {height} px tall"


# Measured at 1366 px in Chromium 156: 17 809 px before #31 (three businesses), 3 908 px after;
# 5 371 px once a fourth business (the competitor) and the channels, responses and benchmark
# sections came (each folded under <details> but for its headline); 10% headroom for fonts that
# differ between machines.
MAX_REPORT_HEIGHT = 5900


def report_height(path: Path) -> int | None:
    """The report's height in Chromium at 1366 px wide; None without Chromium."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium),
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(path.as_uri())
        height = int(page.evaluate("document.documentElement.scrollHeight"))
        browser.close()
    return height
