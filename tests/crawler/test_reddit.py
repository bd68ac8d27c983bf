"""reddit: application-only OAuth with credentials from the environment, then a search
listing; posts that do not name the business are left out; no credentials, a failed run."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.db import Store
from storage.models import CrawlRun, Mention
from tests.crawler.conftest import RecordedSite, run_crawl, write_crawl_config


def reddit_source(base: str) -> str:
    return (
        '  [[businesses.sources]]\n  type = "reddit"\n  query = "Bistro Nord"\n'
        f'  options = {{ subreddit = "food", auth_url = "{base}reddit/api/v1/access_token", '
        f'api_url = "{base}reddit-api/" }}\n'
    )


def test_reddit_search_with_credentials_from_the_environment(site: RecordedSite, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    config = write_crawl_config(tmp_path, db, reddit_source(site.base_url))
    secrets = {"REVIEWWATCH_CRAWL__REDDIT_CLIENT_ID": "app-id",
               "REVIEWWATCH_CRAWL__REDDIT_CLIENT_SECRET": "app-secret"}
    done = run_crawl(config, env=secrets)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "app-secret" not in done.stdout + done.stderr
    store = Store(db)
    try:
        with store.session() as session:
            posts = session.scalars(select(Mention).order_by(Mention.external_id)).all()
            run = session.scalars(select(CrawlRun)).one()
    finally:
        store.dispose()
    assert [(p.external_id, p.title, p.text, p.url) for p in posts] == [
        ("t3_b", "Bistro Nord was great", "Friendly staff & fast.",
         "https://www.reddit.com/r/food/comments/b/x/"),
        ("t3_c", "Bistro Nord opens a second place on Main Street", "",  # a link post's title
         "https://www.reddit.com/r/food/comments/c/z/")]
    assert posts[0].published_at.isoformat() == "2026-09-21T14:13:20+00:00"
    assert (run.status, run.new, run.details["issues"]) == ("ok", 2, {"post not about the business": 1})

    without = run_crawl(config)
    assert without.returncode == 1
    assert "bistro/reddit Bistro Nord: configuration: 1" in without.stdout
