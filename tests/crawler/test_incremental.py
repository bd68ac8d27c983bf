"""Incremental crawling: first-crawl depth, stopping at the first page with nothing new,
--since, and Mastodon's since_id cursor with its rate-limit headers honoured."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from storage.db import Store
from storage.models import CrawlRun, Mention, Source
from tests.crawler.conftest import RecordedSite, run_crawl, source, write_crawl_config

DAYS = [8, 7, 6, 5, 4, 3, 2, 1]  # October 2026, newest first, two reviews a page


def write_listing(root: Path, days: list[int]) -> None:
    pages = [days[i:i + 2] for i in range(0, len(days), 2)]
    for number, chunk in enumerate(pages, start=1):
        reviews = [{"@type": "Review", "@id": f"https://shop.example/d/{d}", "author": f"Guest {d}",
                    "datePublished": f"2026-10-{d:02d}", "reviewBody": f"Visit on October {d}.",
                    "reviewRating": {"ratingValue": 3}} for d in chunk]
        data = {"@context": "https://schema.org", "@type": "Restaurant", "name": "Bistro Nord", "review": reviews}
        link = f'<link rel="next" href="p{number + 1}.html">' if number < len(pages) else ""
        (root / "list").mkdir(exist_ok=True)
        (root / "list" / f"p{number}.html").write_text(
            f'<html><head><script type="application/ld+json">{json.dumps(data)}</script>{link}</head></html>',
            encoding="utf-8")


def last_run(url: str) -> CrawlRun:
    store = Store(url)
    try:
        with store.session() as session:
            return session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
    finally:
        store.dispose()


def test_listing_depth_stop_and_since(site: RecordedSite, tmp_path: Path) -> None:
    root = Path(site.root)
    write_listing(root, DAYS)
    listing = source("schema_org", f"{site.base_url}list/p1.html")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    config = write_crawl_config(tmp_path, db, listing, first_crawl_pages=2)
    assert run_crawl(config).returncode == 0
    first = last_run(db)
    assert (first.pages, first.new) == (2, 4)  # a first crawl reads first_crawl_pages

    write_listing(root, [9, *DAYS])  # a new review on top pushes the others down
    assert run_crawl(config).returncode == 0
    second = last_run(db)
    # Page 1 holds something new, page 2 nothing: the listing stops there.
    assert (second.pages, second.new, second.unchanged) == (2, 1, 3)

    other = f"sqlite:///{tmp_path / 'b.db'}"
    config = write_crawl_config(tmp_path, other, listing, name="since.toml")
    assert run_crawl(config, "--since", "2026-10-05").returncode == 0
    since = last_run(other)
    assert (since.pages, since.new) == (4, 5)  # Oct 9..5; page 4 holds only older ones: the end
    assert since.details["issues"] == {"older than --since": 3}


def status(number: int) -> dict:
    return {"id": str(number), "created_at": f"2026-09-{number - 90:02d}T10:00:00.000Z",
            "language": "en", "uri": f"https://m.example/s/{number}", "url": f"https://m.example/@a/{number}",
            "content": f"<p>#bistronord post {number}</p>", "account": {"acct": "a@m.example"}, "reblog": None}


def test_mastodon_since_id_and_rate_limit(site: RecordedSite, tmp_path: Path) -> None:
    site.statuses = [status(n) for n in (105, 104, 103, 102, 101)]
    db = f"sqlite:///{tmp_path / 'm.db'}"
    config = write_crawl_config(
        tmp_path, db, source("mastodon", f"{site.base_url}social/", '{ hashtags = ["bistronord"] }'))
    done = run_crawl(config)
    assert done.returncode == 0, done.stdout + done.stderr
    run = last_run(db)
    assert (run.pages, run.new) == (3, 5)
    hits = [(p, t) for p, t in site.hits if p.startswith("/social/")]
    assert len(hits) == 3
    # Each response said the quota was spent until a second later: the crawler waited.
    assert all(later - earlier >= 0.9 for (_, earlier), (_, later) in zip(hits, hits[1:]))
    store = Store(db)
    try:
        with store.session() as session:
            assert session.scalar(select(Source.state))["since_id"] == {"tag:bistronord": "105"}
            texts = session.scalars(select(Mention.text).order_by(Mention.external_id)).all()
        assert texts[0] == "#bistronord post 101"
    finally:
        store.dispose()

    site.statuses.insert(0, status(106))
    site.hits.clear()
    assert run_crawl(config).returncode == 0
    asked = [parse_qs(urlsplit(p).query) for p, _ in site.hits if p.startswith("/social/")]
    assert asked[0]["since_id"] == ["105"]
    run = last_run(db)
    assert (run.pages, run.new, run.unchanged) == (1, 1, 0)
