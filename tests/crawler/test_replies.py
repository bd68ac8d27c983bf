"""A reply the crawler finds marks the mention's follow-up item replied at the reply's time:
Trustpilot's reply, an App Store developer response, a reply post by the business's own
Mastodon account, each from recorded pages served by the local HTTP server, through the
crawler's item -> pipeline -> store path, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from storage.db import Store
from storage.followup import history, sync_followups
from storage.models import Claim, FollowupItem, Mention, PublicReply, Score, Source
from tests.crawler.conftest import RecordedSite, run_crawl, source, write_crawl_config

TP_REPLY = ('"reply": {"message": "Wir bitten um Entschuldigung.", '
            '"publishedDate": "2026-09-25T10:00:00.000Z"}')
APPLE_FR = "apple/fr/rss/customerreviews/page=1/id=42/sortby=mostrecent/json.json"
OWN_STATUSES = "mastodon/api/v1/accounts/7/statuses.json"


def _sources(base: str) -> str:
    return "".join([
        source("trustpilot", f"{base}trustpilot/review/bistro.example"),
        source("mastodon", f"{base}mastodon/",
               '{ hashtags = ["bistronord"], own_account = "bistronord" }'),
        source("app_store", f"{base}apple/", '{ app_id = "42", countries = ["fr"] }'),
        source("own_site", f"{base}promise/"),
    ])


def _hide_replies(root: Path) -> dict[Path, bytes]:
    """The pages as they were before the business answered; returns the originals."""
    originals = {p: p.read_bytes() for p in (
        root / "trustpilot/review/bistro.example.html", root / APPLE_FR, root / OWN_STATUSES)}
    tp, apple, own = originals
    tp.write_text(tp.read_text(encoding="utf-8").replace(TP_REPLY, '"reply": null'), encoding="utf-8")
    apple.write_text(apple.read_text(encoding="utf-8").replace('"developerResponse"', '"x"'),
                     encoding="utf-8")
    own.write_text("[]", encoding="utf-8")
    assert TP_REPLY not in tp.read_text(encoding="utf-8")
    return originals


def _score_everything_negative(store: Store) -> None:
    """The model says negative; rated reviews count by their rating (tp2: 4 stars, positive)."""
    with store.transaction() as session:
        for mention in session.scalars(select(Mention).where(Mention.is_own.is_(False))):
            session.add(Score(mention_id=mention.id, model_id="m", model_version="1",
                              label="negative", p_negative=0.8, p_neutral=0.1, p_positive=0.1,
                              is_current=True))
        session.flush()
        sync_followups(session)


def _items(store: Store) -> dict[str, FollowupItem]:
    with store.session() as session:
        rows = session.execute(
            select(Mention.external_id, FollowupItem).join(Mention, Mention.id == FollowupItem.mention_id)
        ).all()
        return {ext: item for ext, item in rows}


def test_replies_found_by_the_crawler_mark_items_replied_at_the_replys_time(
    site: RecordedSite, database_url: str, tmp_path: Path
) -> None:
    root = Path(site.root)
    originals = _hide_replies(root)
    config = write_crawl_config(tmp_path, database_url, _sources(site.base_url))
    done = run_crawl(config)
    assert done.returncode == 0, done.stdout + done.stderr
    store = Store(database_url)
    try:
        with store.session() as session:  # the promises the business's own site makes
            promises = session.execute(select(Claim.value, Claim.scale, Claim.evidence_text).where(
                Claim.metric == "response_within_hours")).all()
        assert sorted(promises) == [
            (1.0, 24.0, "We answer every review within 24 hours."),
            (1.0, 48.0, "Nous répondons à chaque avis sous 48 heures.")]
        _score_everything_negative(store)
        before = _items(store)
        assert {k: i.state for k, i in before.items()} == {
            "tp1": "open", "881": "open", "882": "open",
            "https://m.example/s/298": "open", "https://m.example/s/300": "open"}
        for path, content in originals.items():
            path.write_bytes(content)

        done = run_crawl(config)
        assert done.returncode == 0, done.stdout + done.stderr
        after = _items(store)
        replied = {k: i.first_response_at for k, i in after.items() if i.state == "replied"}
        assert replied == {
            "tp1": dt.datetime(2026, 9, 25, 10, 0, tzinfo=dt.UTC),
            "881": dt.datetime(2026, 8, 2, 23, 30, tzinfo=dt.UTC),
            "https://m.example/s/298": dt.datetime(2026, 9, 8, 20, 15, tzinfo=dt.UTC),
        }
        assert {k for k, i in after.items() if i.state == "open"} == {
            "882", "https://m.example/s/300"}
        with store.session() as session:
            changes = history(session, after["https://m.example/s/298"].id)
            assert [(c.state_after, c.via, c.changed_by) for c in changes] == [
                ("open", "created", "reviewwatch"), ("replied", "crawler", "bistronord")]
            assert changes[1].changed_at == dt.datetime(2026, 9, 8, 20, 15, tzinfo=dt.UTC)
            replies = {(t, r.text) for t, r in session.execute(
                select(Source.type, PublicReply).join(Mention, Mention.id == PublicReply.mention_id)
                .join(Source, Source.id == Mention.source_id))}
            assert replies == {
                ("trustpilot", "Wir bitten um Entschuldigung."),
                ("app_store", "Merci, la version 1.2 corrige ce plantage. <b>Désolés</b>"),
                ("mastodon", "@c Förlåt för väntan, vi har anställt en kock till."),
            }

    finally:
        store.dispose()
