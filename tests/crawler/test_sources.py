"""Each spider against recorded pages shaped like the real site: the exact rows stored, on
SQLite and PostgreSQL; a re-crawl changes nothing; an edited review becomes a revision."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.db import Store
from storage.models import Claim, CrawlRun, Mention, MentionRevision, Source
from tests.crawler.conftest import RecordedSite, run_crawl, source, write_crawl_config


def all_sources(base: str) -> str:
    return "".join([
        source("schema_org", f"{base}shop/reviews.html"),
        source("trustpilot", f"{base}trustpilot/review/bistro.example"),
        source("mastodon", f"{base}mastodon/", '{ hashtags = ["bistronord"] }'),
        source("feed", f"{base}feeds/news.atom"),
        source("app_store", f"{base}apple/", '{ app_id = "42", countries = ["se"] }'),
        source("own_site", f"{base}mysite/"),
    ])


def mentions_by_source(store: Store) -> dict[str, dict[str, Mention]]:
    with store.session() as session:
        rows = session.execute(select(Source.type, Mention).join(Mention, Mention.source_id == Source.id))
        out: dict[str, dict[str, Mention]] = {}
        for kind, mention in rows:
            out.setdefault(kind, {})[mention.external_id] = mention
        return out


def runs(store: Store) -> dict[str, list[CrawlRun]]:
    with store.session() as session:
        out: dict[str, list[CrawlRun]] = {}
        for kind, run in session.execute(
            select(Source.type, CrawlRun).join(CrawlRun, CrawlRun.source_id == Source.id).order_by(CrawlRun.id)
        ):
            out.setdefault(kind, []).append(run)
        return out


def test_every_source_format_is_stored_exactly(site: RecordedSite, database_url: str, tmp_path: Path) -> None:
    config = write_crawl_config(tmp_path, database_url, all_sources(site.base_url))
    done = run_crawl(config)
    assert done.returncode == 0, done.stdout + done.stderr
    store = Store(database_url)
    try:
        stored = mentions_by_source(store)
        assert {k: sorted(v) for k, v in stored.items()} == {
            "schema_org": ["https://shop.example/r/1", "https://shop.example/r/2",
                           "https://shop.example/r/4", "https://shop.example/r/5"],
            "trustpilot": ["tp1", "tp2", "tp3"],
            "mastodon": ["https://m.example/s/298", "https://m.example/s/300"],
            "feed": ["urn:e1"],
            "app_store": ["771", "772"],
        }
        shop = stored["schema_org"]
        first = shop["https://shop.example/r/1"]
        assert (first.author, first.title, first.text, first.rating, first.rating_scale,
                first.rating_normalised, first.language) == (
            "Ann", "Lovely", "Lovely food, friendly staff.", 5.0, 5.0, 1.0, "en")
        # A 0..10 rating of 3 is 4 on 1..11: the same place on the scale.
        swede = shop["https://shop.example/r/2"]
        assert (swede.rating, swede.rating_scale, swede.rating_normalised) == (4.0, 11.0, 0.3)
        assert swede.language == "sv" and swede.published_at.isoformat() == "2026-10-04T16:30:00+00:00"
        assert shop["https://shop.example/r/4"].text == "Service lent, prix élevés."  # microdata
        assert shop["https://shop.example/r/5"].text == "Вкусно, но долго ждали."  # RDFa
        hostile = stored["trustpilot"]["tp1"]
        assert hostile.author == "Mallory Bcc: leak@example.com"
        assert hostile.text == "Schmutzige Tische. <script>alert(1)</script>"
        assert hostile.reply_text == "Wir bitten um Entschuldigung." and hostile.language == "de"
        assert stored["trustpilot"]["tp2"].reply_text is None
        toot = stored["mastodon"]["https://m.example/s/300"]
        assert toot.text == "Loved #BistroNord tonight & the staff!" and toot.author == "a@m.example"
        assert stored["mastodon"]["https://m.example/s/298"].text == "Väntade länge på #bistronord.\nTråkigt."
        news = stored["feed"]["urn:e1"]
        assert (news.text, news.language) == ("Le Bistro Nord agrandit sa terrasse.", "fr")
        assert [stored["app_store"][i].rating for i in ("771", "772")] == [1.0, 2.0]
        with store.session() as session:
            claims = sorted(
                ((c.metric, c.topic, c.value, c.scale, c.evidence_text)
                 for c in session.scalars(select(Claim).where(Claim.origin == "own_site"))),
                key=str,
            )
        assert claims == [
            ("average_rating", None, 9.2, 10.0, "Bistro Nord: rated 9.2/10 from 120 reviews"),
            ("positive_share", "service", 0.85, None, "Notre personnel est toujours aimable."),
            ("positive_share", "service", 0.9, None, "The friendliest staff in town!"),
            ("positive_share", None, 0.97, None, "97 % of our guests are satisfied."),
        ]
        first_runs = runs(store)
        shop_run = first_runs["schema_org"][0]
        assert (shop_run.status, shop_run.pages, shop_run.new, shop_run.invalid, shop_run.errors) == (
            "ok", 3, 4, 3, 0)
        assert shop_run.details["issues"] == {
            "malformed structured data": 1, "missing text, title and rating": 1, "review of another item": 1}
        assert first_runs["trustpilot"][0].invalid == 1  # the review without an id
        assert first_runs["mastodon"][0].details["issues"] == {"boost skipped": 1}
        assert all(r[0].status == "ok" for r in first_runs.values())
        with store.session() as session:
            states = {s.type: s.state for s in session.scalars(select(Source))}
        assert states["mastodon"]["since_id"] == {"tag:bistronord": "300"}
    finally:
        store.dispose()

    # A re-crawl finds nothing new: every row as it was, the listing stops after one page.
    again = run_crawl(config)
    assert again.returncode == 0, again.stdout + again.stderr
    store = Store(database_url)
    try:
        assert {k: len(v) for k, v in mentions_by_source(store).items()} == {
            "schema_org": 4, "trustpilot": 3, "mastodon": 2, "feed": 1, "app_store": 2}
        second = {kind: r[-1] for kind, r in runs(store).items()}
        assert {k: (r.new, r.updated) for k, r in second.items()} == {k: (0, 0) for k in second}
        assert second["schema_org"].pages == 1 and second["schema_org"].unchanged == 2
        assert second["own_site"].unchanged == 4
        with store.session() as session:
            assert session.scalar(select(MentionRevision.id)) is None
            assert all(m.revision == 1 for m in session.scalars(select(Mention)))
    finally:
        store.dispose()

    # The reviewer edits review 1: it becomes revision 2 and the old text is kept.
    page = Path(site.root) / "shop/reviews.html"
    page.write_text(page.read_text(encoding="utf-8").replace(
        "Lovely food, friendly staff.", "Lovely food, friendly staff. Edit: the dessert was cold."),
        encoding="utf-8")
    third = run_crawl(config, "--source", "schema_org")
    assert third.returncode == 0, third.stdout + third.stderr
    store = Store(database_url)
    try:
        edited = mentions_by_source(store)["schema_org"]["https://shop.example/r/1"]
        assert edited.revision == 2 and edited.text.endswith("the dessert was cold.")
        with store.session() as session:
            old = session.scalars(select(MentionRevision)).all()
        assert [(r.revision, r.text) for r in old] == [(1, "Lovely food, friendly staff.")]
        last = runs(store)["schema_org"][-1]
        assert (last.new, last.updated, last.unchanged) == (0, 1, 1)
    finally:
        store.dispose()
    assert "schema_org" in third.stdout and "updated" in third.stdout


def _listing_page(listing: str, n: int, next_link: str) -> str:
    import json

    review = {"@type": "Review", "@id": f"https://shop.example/{listing}/{n}", "author": f"Guest {n}",
              "datePublished": f"2026-10-{20 - n:02d}", "reviewBody": f"Review number {n} of Bistro Nord.",
              "reviewRating": {"ratingValue": 4}}
    data = {"@context": "https://schema.org", "@type": "Restaurant", "name": "Bistro Nord",
            "review": [review]}
    return (f'<!doctype html><html><head><meta charset="utf-8"><script type="application/ld+json">'
            f"{json.dumps(data)}</script></head><body>{next_link}</body></html>")


def test_a_configured_next_selector_follows_the_pages(
    site: RecordedSite, database_url: str, tmp_path: Path
) -> None:
    """A listing whose 'next' is an ordinary link, found by `next_selector` (no rel=next)."""
    for listing in ("plain", "styled"):
        pages = Path(site.root) / listing
        pages.mkdir()
        for n in (1, 2, 3):
            link = f'<a class="older" href="p{n + 1}.html">older</a>' if n < 3 else ""
            (pages / f"p{n}.html").write_text(_listing_page(listing, n, link), encoding="utf-8")
    config = write_crawl_config(tmp_path, database_url, "".join([
        source("schema_org", f"{site.base_url}plain/p1.html"),
        source("schema_org", f"{site.base_url}styled/p1.html", '{ next_selector = "a.older" }'),
    ]))
    done = run_crawl(config)
    assert done.returncode == 0, done.stdout + done.stderr
    store = Store(database_url)
    try:
        assert sorted(mentions_by_source(store)["schema_org"]) == [
            "https://shop.example/plain/1",  # without the selector the link is not followed
            *(f"https://shop.example/styled/{n}" for n in (1, 2, 3)),
        ]
        assert sorted(run.pages for run in runs(store)["schema_org"]) == [1, 3]
    finally:
        store.dispose()


def test_the_app_store_feed_is_read_to_apples_ten_page_limit(
    site: RecordedSite, database_url: str, tmp_path: Path
) -> None:
    import datetime as dt
    import json

    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for page in range(1, 13):  # two more pages than Apple serves
        entries = [{
            "id": {"label": f"no-{page}-{i}"}, "im:rating": {"label": str(1 + i % 5)},
            "title": {"label": f"Review {page}.{i}"}, "content": {"label": f"Bistro Nord app review {page}.{i}"},
            "author": {"name": {"label": f"user{i}"}}, "im:version": {"label": "2.1"},
            "updated": {"label": (start - dt.timedelta(hours=page * 50 + i)).isoformat()},
        } for i in range(50)]
        folder = Path(site.root) / f"apple/no/rss/customerreviews/page={page}/id=42/sortby=mostrecent"
        folder.mkdir(parents=True)
        (folder / "json.json").write_text(json.dumps({"feed": {"entry": entries}}), encoding="utf-8")
    config = write_crawl_config(
        tmp_path, database_url,
        source("app_store", f"{site.base_url}apple/", '{ app_id = "42", countries = ["no"] }'),
        first_crawl_pages=20, max_pages=20,
    )
    done = run_crawl(config)
    assert done.returncode == 0, done.stdout + done.stderr
    asked = sorted({int(p.split("page=")[1].split("/")[0]) for p, _ in site.hits if "/apple/no/" in p})
    assert asked == list(range(1, 11))  # page 11 is never asked for
    store = Store(database_url)
    try:
        stored = mentions_by_source(store)["app_store"]
        assert len(stored) == 500 and "no-10-49" in stored and "no-11-0" not in stored
        assert stored["no-3-7"].rating == 3.0 and stored["no-3-7"].rating_scale == 5.0
    finally:
        store.dispose()
