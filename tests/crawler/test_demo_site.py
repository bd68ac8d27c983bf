"""The bundled demo web site, crawled end to end with examples/demo.toml through a real server."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import func, select

from crawler.demo_site import DEMO_ROOT, serve
from storage.db import Store
from storage.models import Business, Claim, Mention, PublicReply, Source
from tests.conftest import REPO
from tests.crawler.conftest import run_crawl


def test_demo_site_crawls_end_to_end(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    with serve(DEMO_ROOT, "127.0.0.1", 0) as server:
        text = (REPO / "examples/demo.toml").read_text(encoding="utf-8")
        text = text.replace("http://127.0.0.1:8765/", server.base_url)
        text = re.sub(r'^data_dir = .*$', f"data_dir = {json.dumps(str(tmp_path))}\n"
                      f"database_url = {json.dumps(database)}", text, count=1, flags=re.M)
        config = tmp_path / "demo.toml"
        config.write_text(text, encoding="utf-8")
        done = run_crawl(config)
    assert done.returncode == 0, done.stdout + done.stderr
    store = Store(database)
    try:
        with store.session() as session:
            counts = dict(session.execute(
                select(Business.slug + "/" + Source.type, func.count(Mention.id))
                .join(Source, Source.business_id == Business.id)
                .join(Mention, Mention.source_id == Source.id)
                .group_by(Business.slug, Source.type)
            ).all())
            languages = set(session.scalars(select(Mention.language).distinct()))
            hostile = session.scalar(select(Mention).where(Mention.author.like("Mallory%")))
            negative = session.scalar(
                select(func.count()).select_from(Mention).join(Source)
                .join(Business).where(Business.slug == "cafe-aurora", Mention.rating <= 2))
            own_posts = session.scalar(
                select(func.count()).select_from(Mention).where(Mention.is_own.is_(True)))
            replies = {  # the business's public replies found
                (slug, kind): n for slug, kind, n in session.execute(
                    select(Business.slug, Source.type, func.count(PublicReply.id))
                    .join(Source, Source.business_id == Business.id)
                    .join(Mention, Mention.source_id == Source.id)
                    .join(PublicReply, PublicReply.mention_id == Mention.id)
                    .group_by(Business.slug, Source.type))}
            own_claims = dict(session.execute(
                select(Business.slug, func.count(Claim.id)).join(Claim, Claim.business_id == Business.id)
                .where(Claim.origin == "own_site").group_by(Business.slug)).all())
    finally:
        store.dispose()
    assert counts == {
        "cafe-aurora/schema_org": 18,
        "hotel-lumiere/trustpilot": 12,
        "hotel-rivoli/trustpilot": 10,  # Hôtel Lumière's competitor
        "rapidride/app_store": 54,  # 9, and 45 in the UK (a burst in the last 24 h)
        "rapidride/mastodon": 7,
        "rapidride/feed": 2,
    }
    assert {"en", "fr", "sv", "ru", "de", "es"} <= languages
    assert hostile.author == "Mallory Bcc: leak@example.com" and "\r" not in hostile.author
    assert "<script>alert(1)</script>" in hostile.text and hostile.rating == 1
    assert negative >= 10  # the café claims 95 % positive service; its guests disagree
    assert own_posts == 3  # RapidRide's own account: kept, never counted as a customer
    assert replies == {("hotel-lumiere", "trustpilot"): 3, ("hotel-rivoli", "trustpilot"): 1,
                       ("rapidride", "mastodon"): 1}
    # hotel-lumiere: 6 service claims and its promise to answer every review within 48 hours
    assert own_claims == {"cafe-aurora": 5, "hotel-lumiere": 7, "rapidride": 5}
