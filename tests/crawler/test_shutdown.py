"""A crawl stopped by SIGTERM (the scheduler's timeout, a shutdown) still records its runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from storage.db import Store
from storage.models import CrawlRun
from tests.conftest import REPO
from tests.crawler.conftest import RecordedSite, source, write_crawl_config


def test_sigterm_records_a_failed_run(site: RecordedSite, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    config = write_crawl_config(tmp_path, db, source("schema_org", f"{site.base_url}bad/slow"),
                                timeout_s=30)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWWATCH_")}
    child = subprocess.Popen([sys.executable, "-m", "crawler", "--config", str(config)], cwd=REPO,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not any(p == "/bad/slow" for p, _ in site.hits):
            assert time.monotonic() < deadline and child.poll() is None, "the crawl never asked"
            site.release.wait(0.05)
        child.send_signal(signal.SIGTERM)
        output, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 1, output
    store = Store(db)
    try:
        with store.session() as session:
            run = session.scalars(select(CrawlRun)).one()
    finally:
        store.dispose()
    assert run.status == "failed" and run.finished_at is not None
    assert "crawl stopped (shutdown)" in run.error_summary
