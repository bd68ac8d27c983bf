"""Politeness: one site's concurrency budget is shared by every source crawled at once, and
every request names the crawler and its contact address."""

from __future__ import annotations

from pathlib import Path

from tests.crawler.conftest import RecordedSite, run_crawl, source, write_crawl_config


def test_sources_on_one_site_share_its_concurrency(site: RecordedSite, tmp_path: Path) -> None:
    sources = "".join(source("schema_org", f"{site.base_url}measured/{n}.html") for n in range(4))
    config = write_crawl_config(
        tmp_path, f"sqlite:///{tmp_path / 'p.db'}", sources, concurrent_per_domain=1,
        contact="crawl-ops@example.org")
    done = run_crawl(config)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len([p for p, _ in site.hits if p.startswith("/measured/")]) == 4
    assert site.most_in_flight == 1
    assert site.agents == {"reviewwatch/0.1 (+review monitoring; contact: crawl-ops@example.org)"}
