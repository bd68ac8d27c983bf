"""The dry run writes .eml files and changes nothing; crawl failures are reported in the digest."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

from sqlalchemy import select

from reviewwatch.config import Settings
from reviewwatch.digest.deliver import send_digests
from reviewwatch.digest.preview import preview_digests
from storage.db import Store
from storage.models import CrawlRun, Digest, DigestItem, Source
from tests.digest.conftest import BUSINESS, OWNER, T0, Seeder
from tests.digest.smtpserver import SmtpServer
from tests.digest.mail import digests, plain, tokens


def test_dry_run_writes_eml_files_and_a_real_run_still_sends_everything(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder, tmp_path: Path
) -> None:
    first, second = seed(), seed()
    outbox = tmp_path / "outbox"

    run = preview_digests(store, settings, BUSINESS, outbox, now=T0)

    [outcome] = run.outcomes
    assert (
        outcome.status == "written" and outcome.path is not None and outcome.path.parent == outbox
    )
    message = email.message_from_bytes(outcome.path.read_bytes(), policy=email.policy.default)
    assert tokens(message) == {first, second}  # type: ignore[arg-type]
    assert message["To"] == OWNER and message["Subject"] == "Café Test: 2 negative mentions"
    assert digests(store) == [] and smtp_server.recorder.received == []
    with store.session() as session:
        assert session.scalars(select(DigestItem)).all() == []

    send_digests(store, settings, BUSINESS, now=T0)
    [sent] = smtp_server.recorder.to(OWNER)
    assert tokens(sent) == {first, second}


def test_dry_run_shows_a_pending_digest_as_it_will_be_retried(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder, tmp_path: Path
) -> None:
    first = seed()
    smtp_server.recorder.mode = "data_451"
    send_digests(store, settings, BUSINESS, now=T0)
    [pending] = digests(store)
    run = preview_digests(store, settings, BUSINESS, tmp_path / "out", now=T0)
    [outcome] = run.outcomes
    assert outcome.message_id == pending.message_id and outcome.mentions == 1
    assert digests(store)[0].attempts == 1 and digests(store)[0].status == "pending"
    assert outcome.path is not None and f"mention-{first}" in outcome.path.read_text()


def test_crawl_failures_since_the_last_digest_are_reported(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    seed()
    with store.transaction() as session:
        source_id = session.scalar(select(Source.id))
        session.add_all(
            [
                CrawlRun(
                    source_id=source_id,
                    started_at=T0 - dt.timedelta(days=3),
                    status="failed",
                    error_summary="old failure, before the previous digest",
                ),
                CrawlRun(
                    source_id=source_id,
                    started_at=T0 - dt.timedelta(hours=1),
                    status="failed",
                    error_summary="connection refused\r\nX-Evil: 1",
                ),
                CrawlRun(source_id=source_id, started_at=T0 - dt.timedelta(hours=1), status="ok"),
            ]
        )
        session.add(
            Digest(
                business_id=session.scalar(select(Source.business_id)),
                recipient=OWNER,
                message_id="<old@x>",
                status="sent",
                created_at=T0 - dt.timedelta(days=1),
            )
        )
    send_digests(store, settings, BUSINESS, now=T0)
    [message] = smtp_server.recorder.to(OWNER)
    text = plain(message)
    assert "Crawl failures" in text and "connection refused X-Evil: 1" in text
    assert "old failure" not in text
    with store.session() as session:
        assert len(session.scalars(select(Digest)).all()) == 2
