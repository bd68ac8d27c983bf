"""A digest due while its business's crawl is still running goes out with what is stored and
names the sources not crawled in time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from reviewwatch.config import Settings
from reviewwatch.sync import sync_settings
from reviewwatch.worker.runtime import WorkerRuntime, set_runtime
from reviewwatch.worker.tasks import run_stage
from storage.cycles import begin_stage, claim_cycle, enqueue_stage
from storage.db import Store
from storage.models import Business, CrawlRun, CycleStage, utcnow
from tests.digest.smtpserver import SmtpServer


class NoRetry:
    def retry(self, countdown: float) -> Exception:  # a digest is never "busy" here
        raise AssertionError(f"unexpected retry in {countdown} s")


def test_a_digest_due_during_its_crawl_names_the_shortfall(
    store: Store, smtp: SmtpServer, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        smtp={"host": "127.0.0.1", "port": smtp.port, "security": "none", "timeout_s": 5},
        businesses=[{
            "id": "slowpoke", "name": "Slowpoke", "owners": ["owner@slowpoke.example"],
            "sources": [{"type": "schema_org", "url": "http://127.0.0.1:9/reviews/"}],
            "digest": {"all_quiet_email": True},
        }],
    )
    with store.transaction() as session:
        sync_settings(session, settings)
        business_id = session.scalars(select(Business.id)).one()
        cycle_id = claim_cycle(session, business_id=business_id, cycle_date=dt.date.today(),
                               due_at=utcnow(), claimed_by="test")
        assert cycle_id is not None
        enqueue_stage(session, cycle_id, "crawl")
        # A worker is crawling it right now (its heartbeat is fresh).
        begin_stage(session, cycle_id, "crawl", "crawler-1", dt.timedelta(minutes=1))
    published: list[tuple[str, int]] = []
    runtime = WorkerRuntime(settings, store, queues=["digest"], concurrency=1,
                            publish=lambda stage, cid: published.append((stage, cid)), name="mailer")
    set_runtime(runtime)
    try:
        detail = run_stage(NoRetry(), cycle_id, "digest")
        again = run_stage(NoRetry(), cycle_id, "digest")  # the same task delivered twice
    finally:
        set_runtime(None)
    assert "1 sent" in detail and "not crawled before the digest was due" in detail
    assert again == "already finished"
    [message] = smtp.recorder.received
    body = message.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "not crawled before the digest was due (its crawl was still running)" in body
    with store.session() as session:
        runs = session.execute(select(CrawlRun.status, CrawlRun.details)).all()
        assert [(status, details.get("reason")) for status, details in runs] == [("failed", "late")]
        states: dict[str, Any] = dict(session.execute(select(CycleStage.stage, CycleStage.state)).all())
    assert states == {"crawl": "running", "digest": "done"}
    assert published == []  # the digest ends the chain


def test_a_digest_claimed_by_a_lost_worker_is_sent_by_the_redelivered_task(
    store: Store, smtp: SmtpServer, tmp_path: Path
) -> None:
    from reviewwatch.digest.deliver import LEASE, create_digest
    from storage.models import Digest

    settings = Settings(
        data_dir=tmp_path,
        smtp={"host": "127.0.0.1", "port": smtp.port, "security": "none", "timeout_s": 5},
        businesses=[{"id": "phoenix", "name": "Phoenix", "owners": ["owner@phoenix.example"],
                     "digest": {"all_quiet_email": True}}],
    )
    long_ago = utcnow() - dt.timedelta(minutes=5)
    with store.transaction() as session:
        sync_settings(session, settings)
        business_id = session.scalars(select(Business.id)).one()
        cycle_id = claim_cycle(session, business_id=business_id, cycle_date=dt.date.today(),
                               due_at=long_ago, claimed_by="test")
        assert cycle_id is not None
        for stage in ("crawl", "digest"):
            enqueue_stage(session, cycle_id, stage)
        # The crawl finished; the digest's first worker stored the digest, claimed it for
        # sending (its lease) and died before the SMTP exchange; its heartbeat stopped.
        crawl = begin_stage(session, cycle_id, "crawl", "w-dead", dt.timedelta(seconds=30))
        assert crawl.stage_id is not None
        from storage.cycles import finish_stage

        finish_stage(session, crawl.stage_id, True, "crawled")
        begin_stage(session, cycle_id, "digest", "w-dead", dt.timedelta(seconds=30), now=long_ago)
    digest_id = create_digest(store, settings, settings.businesses[0], business_id,
                              "owner@phoenix.example", utcnow())
    assert digest_id is not None
    with store.transaction() as session:
        session.get_one(Digest, digest_id).next_attempt_at = utcnow() + LEASE
    runtime = WorkerRuntime(settings, store, queues=["digest"], concurrency=1,
                            publish=lambda stage, cid: None, name="w-new")
    set_runtime(runtime)
    try:
        detail = run_stage(NoRetry(), cycle_id, "digest")
    finally:
        set_runtime(None)
    assert detail.startswith("1 sent"), detail
    [message] = smtp.recorder.received
    with store.session() as session:
        digest = session.get_one(Digest, digest_id)
        assert (digest.status, message.message["Message-ID"]) == ("sent", digest.message_id)
        attempts = session.scalar(select(CycleStage.attempts).where(CycleStage.stage == "digest"))
    assert attempts == 2
