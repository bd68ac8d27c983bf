"""Hostile and broken sites: none crashes the crawl, each is counted and reported, and nothing
already stored is lost."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from storage.db import Store
from storage.models import CrawlRun, Mention, Source
from tests.crawler.conftest import RecordedSite, run_crawl, source, write_crawl_config

BAD = {
    "bad/missing": ("failed", "HTTP 404: 1"),
    "bad/500": ("failed", "retried after HTTP 500: 1; HTTP 500: 1"),
    "bad/slow": ("failed", "retried after timeout: 1; timeout: 1"),
    "bad/loop": ("failed", "redirect loop: 1"),
    "bad/big": ("failed", "response too large: 1"),
    "private/reviews.html": ("failed", "forbidden by robots.txt: 1"),
    "bad/429": ("ok", "retried after HTTP 429: 1"),  # succeeded on the retry: reported, no error
    "bad/big-unannounced": ("failed", "response too large: 1"),
    "bad/latin1": ("ok", "wrong declared encoding (utf-8)"),
    "bad/utf8-as-latin1": ("ok", "wrong declared encoding (cp1252)"),
    "shop/reviews.html": ("ok", "malformed structured data"),
}


def last_runs(store: Store, base: str) -> dict[str, tuple[CrawlRun, Source]]:
    with store.session() as session:
        out = {}
        for run, src in session.execute(
            select(CrawlRun, Source).join(Source, Source.id == CrawlRun.source_id).order_by(CrawlRun.id)
        ):
            out[src.target.removeprefix(base)] = (run, src)
        return out


def test_bad_sites_are_counted_and_reported(site: RecordedSite, database_url: str, tmp_path: Path) -> None:
    base = site.base_url
    config = write_crawl_config(
        tmp_path, database_url, "".join(source("schema_org", base + path) for path in BAD)
    )
    done = run_crawl(config)
    assert done.returncode == 1, done.stdout + done.stderr  # some sources failed
    assert "Traceback" not in done.stderr
    store = Store(database_url)
    try:
        recorded = last_runs(store, base)
        for path, (status, reason) in BAD.items():
            run, src = recorded[path]
            assert run.status == status, (path, run.status, run.error_summary)
            assert run.finished_at is not None
            if reason:
                assert reason in (run.error_summary or ""), (path, run.error_summary)
            if status == "failed":
                assert run.errors == 1 and run.new == 0, path
                assert src.last_success_at is None and src.state == {}, path
                assert reason in done.stdout, done.stdout
            else:
                assert run.errors == 0 and src.last_success_at is not None, path
        assert recorded["bad/429"][0].new == 1
        assert recorded["shop/reviews.html"][0].new == 4
        with store.session() as session:
            latin = session.scalar(select(Mention).where(Mention.external_id == "https://shop.example/r/latin1"))
            utf8 = session.scalar(select(Mention).where(Mention.external_id == "https://shop.example/r/utf8"))
        assert latin is not None and latin.text == "Très bon café, un peu cher." and latin.author == "Zoé"
        assert utf8 is not None and utf8.text == "Très bon café, un peu cher." and utf8.author == "Zoé"
    finally:
        store.dispose()
    # Retry-After: 1 was honoured before the second attempt; 500 was retried once (retries = 1).
    times = [t for p, t in site.hits if p == "/bad/429"]
    assert len(times) == 2 and times[1] - times[0] >= 0.9
    assert len([p for p, _ in site.hits if p == "/bad/500"]) == 2
    assert not [p for p, _ in site.hits if p.startswith("/private/")]

    # The good page disappears: the run fails, what was stored stays.
    (Path(site.root) / "shop/reviews.html").unlink()
    again = run_crawl(config, "--source", "schema_org")
    assert again.returncode == 1
    store = Store(database_url)
    try:
        run, src = last_runs(store, base)["shop/reviews.html"]
        assert (run.status, run.error_summary) == ("failed", "HTTP 404: 1")
        with store.session() as session:
            kept = session.scalar(
                select(func.count()).select_from(Mention)
                .where(Mention.source_id == src.id, Mention.deleted_at.is_(None))
            )
        assert kept == 4
    finally:
        store.dispose()


def test_unknown_business_is_a_clear_error(tmp_path: Path) -> None:
    config = write_crawl_config(tmp_path, f"sqlite:///{tmp_path / 's.db'}", "")
    done = run_crawl(config, "--business", "nope")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "error: unknown business 'nope' (known: bistro)"
    )
