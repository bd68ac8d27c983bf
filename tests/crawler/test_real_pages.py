"""What real pages turn up (issue 28): headline-only entries, reviews dated only by
dateCreated or dateModified, dates from the future, a first crawl that never fully succeeds,
reviews nested in an item not named like the business, a site whose markup changed, and
network errors. Each through a real crawl (a child process) against the local HTTP server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select

from storage.db import Store
from storage.models import CrawlRun, Mention, Source
from tests.crawler.conftest import RecordedSite, run_crawl, source, write_crawl_config

PIXEL = '&lt;img src="https://pixel.example/t.gif" width="1" height="1" alt=""/&gt;'


def stored(url: str) -> tuple[dict[str, Mention], list[CrawlRun], list[Source]]:
    store = Store(url)
    try:
        with store.session() as session:
            mentions = {m.external_id: m for m in session.scalars(select(Mention))}
            # Sources crawl concurrently: their runs in the order of the sources.
            runs = list(session.scalars(select(CrawlRun).order_by(CrawlRun.source_id, CrawlRun.id)))
            sources = list(session.scalars(select(Source).order_by(Source.id)))
        return mentions, runs, sources
    finally:
        store.dispose()


def schema_page(root: Path, name: str, data: object, next_href: str | None = None) -> None:
    link = f'<link rel="next" href="{next_href}">' if next_href else ""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '<!doctype html><html><head><meta charset="utf-8"><script type="application/ld+json">'
        f"{json.dumps(data)}</script>{link}</head><body></body></html>", encoding="utf-8")


def review(ident: str, day: str | None, body: str, date_key: str = "datePublished", **more: object) -> dict:
    node: dict = {"@type": "Review", "@id": f"https://shop.example/{ident}", "author": f"Guest {ident}",
                  "reviewBody": body, "reviewRating": {"ratingValue": 3}, **more}
    if day:
        node[date_key] = day
    return node


def restaurant(*reviews: dict) -> dict:
    return {"@context": "https://schema.org", "@type": "Restaurant", "name": "Bistro Nord",
            "review": list(reviews)}


def test_a_headline_is_text_in_every_source(site: RecordedSite, tmp_path: Path) -> None:
    """A news video whose description is only a tracking pixel, and a Reddit link post."""
    (Path(site.root) / "feeds/video.rss").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>City TV</title>'
        "<language>en</language>"
        "<item><guid>v1</guid><title>Video: inside Bistro Nord's new kitchen</title>"
        "<link>https://tv.example/v1</link><pubDate>Mon, 05 Oct 2026 09:00:00 +0000</pubDate>"
        f"<description>{PIXEL}</description></item>"
        "<item><guid>v2</guid><title>Weather</title><link>https://tv.example/v2</link>"
        f"<description>{PIXEL}</description></item>"
        "</channel></rss>", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'h.db'}"
    reddit = (
        '  [[businesses.sources]]\n  type = "reddit"\n  query = "Bistro Nord"\n'
        f'  options = {{ subreddit = "food", auth_url = "{site.base_url}reddit/api/v1/access_token", '
        f'api_url = "{site.base_url}reddit-api/" }}\n'
    )
    config = write_crawl_config(tmp_path, db, source("feed", f"{site.base_url}feeds/video.rss") + reddit)
    done = run_crawl(config, env={"REVIEWWATCH_CRAWL__REDDIT_CLIENT_ID": "app-id",
                                  "REVIEWWATCH_CRAWL__REDDIT_CLIENT_SECRET": "app-secret"})
    assert done.returncode == 0, done.stdout + done.stderr
    mentions, runs, _ = stored(db)
    video = mentions["v1"]
    assert (video.title, video.text, video.url) == (
        "Video: inside Bistro Nord's new kitchen", "", "https://tv.example/v1")
    link_post = mentions["t3_c"]
    assert (link_post.title, link_post.text) == ("Bistro Nord opens a second place on Main Street", "")
    assert [(r.status, r.invalid) for r in runs] == [("ok", 0), ("ok", 0)]


def test_reviews_dated_by_date_created_or_modified(site: RecordedSite, database_url: str,
                                                   tmp_path: Path) -> None:
    root = Path(site.root)
    schema_page(root, "dated/index.html", restaurant(
        review("published", "2026-10-05", "Published and created.", dateCreated="2026-09-01"),
        review("created", "2026-10-04T12:00:00Z", "Only created.", date_key="dateCreated"),
        review("modified", "2026-10-03", "Only modified.", date_key="dateModified"),
        review("undated", None, "No date at all."),
    ))
    next_data = {"props": {"pageProps": {"reviews": [
        {"id": "tp-upd", "text": "Edited review.", "rating": 4, "consumer": {"displayName": "Uma"},
         "dates": {"updatedDate": "2026-10-02T08:00:00.000Z"}}]}}}
    (root / "trustpilot/review/dated.example.html").write_text(
        f'<html><script id="__NEXT_DATA__" type="application/json">{json.dumps(next_data)}</script></html>',
        encoding="utf-8")
    config = write_crawl_config(tmp_path, database_url, source("schema_org", f"{site.base_url}dated/")
                                + source("trustpilot", f"{site.base_url}trustpilot/review/dated.example"))
    done = run_crawl(config)
    assert done.returncode == 0, done.stdout + done.stderr
    mentions, _, _ = stored(database_url)
    published = {key.rsplit("/", 1)[-1]: (m.published_at.isoformat() if m.published_at else None)
                 for key, m in mentions.items()}
    assert published == {
        "published": "2026-10-05T00:00:00+00:00",
        "created": "2026-10-04T12:00:00+00:00",
        "modified": "2026-10-03T00:00:00+00:00",
        "undated": None,
        "tp-upd": "2026-10-02T08:00:00+00:00",
    }


def test_a_future_date_is_not_trusted_and_moves_no_cursor(site: RecordedSite, database_url: str,
                                                          tmp_path: Path) -> None:
    root = Path(site.root)

    def listing(days: list[str]) -> None:
        pages = [days[i:i + 2] for i in range(0, len(days), 2)]
        for n, chunk in enumerate(pages, start=1):
            schema_page(root, f"future/p{n}.html",
                        restaurant(*(review(d, d, f"Visit of {d}.") for d in chunk)),
                        f"p{n + 1}.html" if n < len(pages) else None)

    listing(["2999-01-01", "2026-10-08", "2026-10-07", "2026-10-06"])
    config = write_crawl_config(tmp_path, database_url, source("schema_org", f"{site.base_url}future/p1.html"))
    done = run_crawl(config)
    assert done.returncode == 0, done.stdout + done.stderr
    mentions, runs, sources = stored(database_url)
    poisoned = mentions["https://shop.example/2999-01-01"]
    assert poisoned.published_at is None  # counts at its first-seen time
    assert poisoned.extra["claimed_published_at"] == "2999-01-01T00:00:00+00:00"
    assert runs[-1].status == "ok"
    assert runs[-1].details["issues"] == {"date in the future: counted when first seen": 1}
    assert sources[0].state["newest_published"] == "2026-10-08T00:00:00+00:00"

    # Three new reviews push page 1 down: a cursor in 2999 would call them old and stop at page 1.
    listing(["2026-10-11", "2026-10-10", "2026-10-09", "2999-01-01", "2026-10-08", "2026-10-07",
             "2026-10-06"])
    again = run_crawl(config)
    assert again.returncode == 0, again.stdout + again.stderr
    mentions, runs, _ = stored(database_url)
    assert {"https://shop.example/2026-10-10", "https://shop.example/2026-10-09"} <= set(mentions)
    assert (runs[-1].new, runs[-1].pages) == (3, 3)


def test_a_partial_first_crawl_keeps_its_progress(site: RecordedSite, database_url: str,
                                                  tmp_path: Path) -> None:
    root = Path(site.root)
    schema_page(root, "partial/p1.html", restaurant(review("a", "2026-10-08", "A."),
                                                    review("b", "2026-10-07", "B.")), "p2.html")
    schema_page(root, "partial/p2.html", restaurant(review("c", "2026-10-06", "C.")), "p3.html")
    # p3.html is missing: every crawl of the first kind ends on a 404.
    config = write_crawl_config(
        tmp_path, database_url,
        source("schema_org", f"{site.base_url}partial/p1.html")
        + source("mastodon", f"{site.base_url}mastodon/", '{ hashtags = ["bistronord", "gone"] }'))
    first = run_crawl(config)
    assert first.returncode == 0, first.stdout + first.stderr
    _, runs, sources = stored(database_url)
    assert [(r.status, r.pages, r.new) for r in runs] == [("partial", 2, 3), ("partial", 1, 2)]
    listing, toots = sources
    assert listing.last_success_at is None
    assert listing.state == {"newest_published": "2026-10-08T00:00:00+00:00", "first_crawl_done": True}
    # The timeline that answered keeps its cursor; the one that failed has none to keep.
    assert toots.state["since_id"] == {"tag:bistronord": "300"} and toots.state["first_crawl_done"]

    second = run_crawl(config, "--source", "schema_org")
    assert second.returncode == 0, second.stdout + second.stderr
    _, runs, sources = stored(database_url)
    latest = [r for r in runs if r.source_id == listing.id][-1]
    # Not a first crawl again: page 1 holds nothing new, the listing stops there and succeeds.
    assert (latest.status, latest.pages, latest.unchanged) == ("ok", 1, 2)
    assert sources[0].last_success_at is not None


def test_reviews_nested_in_one_item_belong_to_the_page(site: RecordedSite, database_url: str,
                                                       tmp_path: Path) -> None:
    root = Path(site.root)
    recipe = {"@context": "https://schema.org", "@type": "Recipe", "name": "Grandma's apple pie",
              "review": [review("pie1", "2026-10-05", "Best pie in town, served warm."),
                         review("pie2", "2026-10-04", "Too sweet for me.")]}
    schema_page(root, "recipe/index.html", recipe)
    shop = {"@context": "https://schema.org", "@graph": [
        {"@type": "Product", "name": "Blender 3000", "review": [review("bl", "2026-10-05", "Loud.")]},
        {"@type": "Product", "name": "Toaster X", "review": [review("to", "2026-10-04", "Burnt.")]},
    ]}
    schema_page(root, "products/index.html", shop)
    config = write_crawl_config(tmp_path, database_url,
                                source("schema_org", f"{site.base_url}recipe/")
                                + source("schema_org", f"{site.base_url}products/"))
    done = run_crawl(config)
    assert done.returncode == 0, done.stdout + done.stderr
    mentions, runs, _ = stored(database_url)
    assert sorted(mentions) == ["https://shop.example/pie1", "https://shop.example/pie2"]
    assert runs[1].details["issues"] == {"review of another item": 2}
    out = " ".join(done.stdout.split())
    assert ("products/: nothing stored: 2 reviews of another item ('Blender 3000', 'Toaster X') "
            "left out") in out
    assert "set options.match_item = false on this source" in out

    config = write_crawl_config(tmp_path, database_url,
                                source("schema_org", f"{site.base_url}products/", "{ match_item = false }"))
    assert run_crawl(config).returncode == 0
    mentions, _, _ = stored(database_url)
    assert {"https://shop.example/bl", "https://shop.example/to"} <= set(mentions)


def test_a_site_whose_markup_changed_is_suspect(site: RecordedSite, database_url: str,
                                                tmp_path: Path) -> None:
    root = Path(site.root)
    schema_page(root, "changing/index.html", restaurant(review("x", "2026-10-05", "Fine.")))
    config = write_crawl_config(tmp_path, database_url, source("schema_org", f"{site.base_url}changing/"))
    assert run_crawl(config).returncode == 0
    (root / "changing/index.html").write_text(
        "<html><body><div class='review-card'>Fine.</div></body></html>", encoding="utf-8")
    done = run_crawl(config)
    assert done.returncode == 0, done.stdout + done.stderr
    _, runs, _ = stored(database_url)
    assert [r.status for r in runs] == ["ok", "suspect"]  # one source: by id is by time
    assert "has the markup changed?" in runs[-1].error_summary
    assert "suspect" in done.stdout and "? suspect" in done.stderr

    # `reviewwatch status` and the next digest say so too.
    import subprocess
    import sys

    from tests.conftest import REPO

    status = subprocess.run([sys.executable, "-m", "reviewwatch", "--config", str(config), "status"],
                            cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert status.returncode == 0, status.stderr
    assert "suspect" in status.stdout
    from zoneinfo import ZoneInfo

    from reviewwatch.digest.gather import crawl_failures
    from reviewwatch.digest.locale import Texts

    store = Store(database_url)
    try:
        with store.session() as session:
            business_id = session.scalar(select(Source.business_id))
            failures = crawl_failures(session, business_id, runs[0].finished_at,
                                      dt.datetime.now(dt.UTC), ZoneInfo("UTC"), Texts("en"))
    finally:
        store.dispose()
    assert [f.status for f in failures] == ["suspect: no reviews found"]  # the status in words


def test_network_errors_are_one_line_and_dns_is_not_retried(site: RecordedSite, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    config = write_crawl_config(
        tmp_path, db,
        source("schema_org", "http://no-such-host.invalid/reviews")
        + source("schema_org", f"{site.base_url}shop/reviews.html")
        + source("schema_org", f"{site.base_url}shop/reviews-3.html"),
        retries=3, retry_backoff_s=1.0)
    done = run_crawl(config)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    _, runs, _ = stored(db)
    by_target = {r.source_id: r for r in runs}
    assert by_target[1].error_summary == "host not found (DNS): 1"  # asked once, not retried
    assert [line for line in done.stderr.splitlines() if "no-such-host" in line and "WARNING" in line]
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    assert len(warnings) == 1, done.stderr
    progress = [line for line in done.stderr.splitlines() if "no-such-host.invalid/reviews:" in line]
    assert progress and all("✓" not in line for line in progress) and "✗ failed" in progress[-1]
    # Two sources of one type are told apart by their targets.
    port = site.base_url.split(":")[-1].rstrip("/")
    table = done.stdout
    assert f"127.0.0.1:{port}/shop/reviews.html" in table
    assert f"127.0.0.1:{port}/shop/reviews-3.html" in table
