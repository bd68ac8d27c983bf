"""The store side of a run, in process on both backends: batches, copies across sources,
claims updated not duplicated, and the source's state moved only by a successful run."""

from __future__ import annotations

from sqlalchemy import select

from crawler.context import SourceContext, Tally
from crawler.items import ClaimItem, MentionItem
from crawler.store import ClaimWriter, MentionWriter, begin_run, finish_run
from reviewwatch.config import BusinessConfig, Settings, SourceConfig
from storage.db import Store
from storage.models import Claim, CrawlRun, Mention, Source
from reviewwatch.sync import sync_settings

LONG = "The staff ignored us for twenty minutes and the coffee arrived cold. Never again."


def contexts(store: Store) -> dict[str, SourceContext]:
    settings = Settings(businesses=[BusinessConfig(id="b", name="B", sources=[
        SourceConfig(type="trustpilot", url="https://t.example/review/b"),
        SourceConfig(type="own_site", url="https://b.example/"),
    ])])
    with store.transaction() as session:
        sync_settings(session, settings)
    with store.session() as session:
        return {
            s.type: SourceContext(
                business_id=s.business_id, business_slug="b", keywords=["B"], website=None,
                source_id=s.id, type=s.type, target=s.target, options={}, state={},
                last_success_at=None, known_ids=frozenset(), crawl=settings.crawl,
                own_site_levels=settings.gap.own_site_levels)
            for s in session.scalars(select(Source))
        }


def test_batches_copies_and_state(store: Store) -> None:
    ctx = contexts(store)
    tally = Tally()
    writer = MentionWriter(store, ctx["trustpilot"], tally, batch_size=2)
    for n in range(5):
        writer.add(MentionItem(external_id=f"r{n}", text=f"review {n}"))
    writer.flush()
    assert (tally.new, tally.unchanged) == (5, 0)
    # The same long text from a second source is a copy of the first.
    first = MentionWriter(store, ctx["trustpilot"], Tally(), 10)
    first.add(MentionItem(external_id="orig", text=LONG))
    first.flush()
    second = MentionWriter(store, ctx["own_site"], Tally(), 10)
    second.add(MentionItem(external_id="copy", text=LONG))
    second.flush()
    with store.session() as session:
        by_id = {m.external_id: m for m in session.scalars(select(Mention))}
    assert by_id["copy"].duplicate_of_id == by_id["orig"].id
    assert by_id["orig"].duplicate_of_id is None

    site = ctx["own_site"]
    for _ in range(2):  # a re-crawl updates the claim in place
        claims = ClaimWriter(store, site, Tally())
        claims.add(ClaimItem(claim_key="own_site:k", metric="positive_share", value=0.9,
                             evidence_url="https://b.example/", evidence_text="Best staff.", topic="service"))
        claims.flush()
    run_id, started = begin_run(store, site.source_id)
    finish_run(store, run_id=run_id, context=site, started=started, status="failed", tally=Tally(),
               details={}, new_state={"cursor": 1})
    with store.session() as session:
        assert [(c.claim_key, c.value, c.active) for c in session.scalars(select(Claim))] == [
            ("own_site:k", 0.9, True)]
        source = session.get(Source, site.source_id)
        assert (source.state, source.last_success_at) == ({}, None)  # a failed run moves nothing
        assert session.get(CrawlRun, run_id).status == "failed"
    run_id, started = begin_run(store, site.source_id)
    finish_run(store, run_id=run_id, context=site, started=started, status="ok", tally=Tally(),
               details={"claim_keys": []}, new_state={"cursor": 2})
    with store.session() as session:
        source = session.get(Source, site.source_id)
        assert source.state == {"cursor": 2} and source.last_success_at == started
        # A complete crawl no longer finds the claim: it is retired, not deleted.
        assert [c.active for c in session.scalars(select(Claim))] == [False]
