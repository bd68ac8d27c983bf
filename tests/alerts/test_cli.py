"""`reviewwatch alerts` and the cycle's check after the crawl: real store, real SMTP server."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from reviewwatch.cli import cli
from reviewwatch.config import Settings
from reviewwatch.cycle import run_cycle
from reviewwatch.digest.send import SmtpTransport
from storage.db import Store
from storage.models import Alert
from tests.alerts.conftest import BUSINESS, OWNER, Day, History, steady
from tests.digest.smtpserver import SmtpServer
from tests.scheduler.test_cycle import keyword_scorer


def _config(write_config, database_url: str, tmp_path: Path, port: int) -> Path:
    return write_config(
        f'data_dir = "{tmp_path.as_posix()}"\ndatabase_url = "{database_url}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout_s = 5\n'
        f'[[businesses]]\nid = "{BUSINESS}"\nname = "Café Test"\ntimezone = "Europe/Stockholm"\n'
        f'owners = ["{OWNER}"]\n'
        '[[businesses.sources]]\ntype = "schema_org"\nurl = "http://127.0.0.1:9/reviews/"\n'
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_alerts_command_dry_run_then_real_then_nothing_more(
    store: Store, database_url: str, write_config, tmp_path: Path, smtp_server: SmtpServer,
    history: History,
) -> None:
    now = _now()
    history(steady(), now=now)
    history([Day(ago=0, negative=9)], now=now)
    config = _config(write_config, database_url, tmp_path, smtp_server.port)
    outbox = tmp_path / "previews"

    dry = CliRunner().invoke(cli, ["--config", str(config), "alerts", "--dry-run",
                                   "--outbox", str(outbox)])

    assert dry.exit_code == 0, dry.output
    assert len(list(outbox.glob(f"alert-{BUSINESS}-*.eml"))) == 1
    flat = " ".join(dry.stdout.split())
    assert "written" in flat and "nothing stored" in flat
    assert smtp_server.recorder.received == []

    real = CliRunner().invoke(cli, ["--config", str(config), "alerts", "--business", BUSINESS])
    assert real.exit_code == 0, real.output
    assert "sent" in real.stdout and len(smtp_server.recorder.to(OWNER)) == 1

    again = CliRunner().invoke(cli, ["--config", str(config), "alerts"])
    assert again.exit_code == 0 and "no spike" in again.stdout
    assert len(smtp_server.recorder.received) == 1


def test_bad_arguments_exit_2_with_one_line(
    database_url: str, write_config, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = _config(write_config, database_url, tmp_path, smtp_server.port)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    ours = {
        ("alerts", "--business", "nope"): "unknown business 'nope'",
        ("alerts", "--outbox", str(tmp_path)): "--outbox is where --dry-run writes",
        ("alerts", "--dry-run", "--outbox", str(tmp_path / "no" / "such")): "does not exist",
    }
    for args, message in ours.items():
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    # Click's own checks: its usage line, then the problem.
    for args, message in {
        ("alerts", "--dry-run", "--outbox", str(a_file)): f"Directory '{a_file}' is a file",
        ("alerts", "--no-such-option"): "No such option '--no-such-option'",
    }.items():
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == 2 and message in result.stderr, (args, result.output)


def test_the_cycle_checks_after_the_crawl_and_its_scoring(
    store: Store, settings: Settings, smtp_server: SmtpServer, history: History
) -> None:
    now = _now()
    history(steady(), now=now)
    # What this crawl brings: rude reviews of the last hours, not scored yet.
    crawl = (
        "import datetime as dt, sys\n"
        "from sqlalchemy import select\n"
        "from storage.db import Store\n"
        "from storage.mentions import MentionData, write_mentions\n"
        "from storage.models import Business, Source\n"
        "store = Store(sys.argv[1], migrate=False)\n"
        "now = dt.datetime.now(dt.UTC)\n"
        "with store.transaction() as s:\n"
        "    src = s.scalars(select(Source).join(Business).where(Business.slug == sys.argv[2])).one()\n"
        "    items = [MentionData(external_id=f'new-{i}', text=f'Rude staff, token mention-{900 + i}',\n"
        "             language='en', published_at=now - dt.timedelta(hours=i + 1)) for i in range(12)]\n"
        "    write_mentions(s, business_id=src.business_id, source_id=src.id, items=items)\n"
    )
    result = run_cycle(
        settings, BUSINESS, store=store,
        crawl=lambda _settings, slug: [sys.executable, "-c", crawl, store.url, slug],
        score=keyword_scorer, transport=SmtpTransport(settings.smtp),
    )

    assert result.ok, result.stages
    assert result.stage("score").detail == "12 scored; 1 spike alert: 1 sent"  # type: ignore[union-attr]
    subjects = [str(m["Subject"]) for m in smtp_server.recorder.to(OWNER)]
    assert "Spike alert: Café Test: 12 negative mentions in 24 hours" in subjects
    with store.session() as session:
        [alert] = session.scalars(select(Alert)).all()
    assert alert.status == "sent" and alert.observed == 12
