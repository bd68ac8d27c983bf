"""`reviewwatch run --dry-run`: the real crawl process fails (its source is a closed port), the
failure is recorded and reported, and the digest is still written as an .eml file."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from reviewwatch.cli import cli
from storage.db import Store
from storage.models import CrawlRun, Digest
from tests.digest.conftest import BUSINESS, OWNER, Seeder
from tests.digest.smtpserver import SmtpServer


def test_run_dry_run_reports_the_failed_crawl_and_writes_the_digest(
    store: Store,
    database_url: str,
    write_config,
    tmp_path: Path,
    smtp_server: SmtpServer,
    seed: Seeder,
) -> None:
    mention = seed()
    config = write_config(
        f'data_dir = "{tmp_path.as_posix()}"\ndatabase_url = "{database_url}"\n'
        "[crawl]\ntimeout_s = 2\nretries = 0\n"
        f'[[businesses]]\nid = "{BUSINESS}"\nname = "Café Test"\ntimezone = "Europe/Stockholm"\n'
        f'owners = ["{OWNER}"]\n'
        '[[businesses.sources]]\ntype = "schema_org"\nurl = "http://127.0.0.1:9/reviews/"\n'
    )
    outbox = tmp_path / "eml"

    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(config),
            "run",
            "--business",
            BUSINESS,
            "--dry-run",
            "--outbox",
            str(outbox),
        ],
    )

    assert result.exit_code == 1, result.output  # a stage failed: the crawl
    assert "crawl" in result.stdout and "digest" in result.stdout
    assert f"dry run: .eml files in {outbox}" in " ".join(result.stdout.split())
    with store.session() as session:
        runs = session.scalars(select(CrawlRun)).all()
        assert runs and all(run.status == "failed" or run.errors > 0 for run in runs)
        assert session.scalars(select(Digest)).all() == []  # the dry run stored no digest
    [eml] = list(outbox.glob("*.eml"))
    text = eml.read_text()
    assert f"mention-{mention}" in text and "Crawl failures" in text
    assert smtp_server.recorder.received == []
