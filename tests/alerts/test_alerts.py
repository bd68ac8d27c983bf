"""Spike alerts on a real store (SQLite and PostgreSQL) through the real SMTP server of the digest
tests: a burst alerts once per topic and day, a steady history never, a dry run stores nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import threading
from email import policy
from pathlib import Path

from sqlalchemy import select

from reviewwatch.alerts.deliver import check_business, retry_due_alerts, store_alert
from reviewwatch.config import Settings
from reviewwatch.digest.send import SmtpTransport
from storage.db import Store
from storage.models import Alert, Business
from tests.alerts.conftest import BUSINESS, NOW, OWNER, Day, History, steady
from tests.digest.mail import html, plain, tokens
from tests.digest.smtpserver import SmtpServer


def alerts(store: Store) -> list[Alert]:
    with store.session() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def test_a_burst_alerts_the_owners_once_per_topic_and_day(
    store: Store, settings: Settings, smtp_server: SmtpServer, history: History
) -> None:
    history(steady())
    burst = history([Day(ago=0, negative=12, topic="wait_time")])
    # Rated mentions count by their rating (the gap's label): 5 stars is not negative whatever
    # the model says, 1 star is negative whatever the model says.
    history([Day(ago=0, negative=3, rating=5, positive=0)])
    one_star = history([Day(ago=0, negative=1, rating=1, model_label="positive", positive=0)])

    run = check_business(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp), now=NOW)

    # One email: the topic that rose with the whole business is told in it.
    [found] = run.found
    assert found.spike.topic == "" and found.spike.observed == 13
    assert [(t["topic"], t["observed"]) for t in found.spike.topics] == [("wait_time", 12)]
    assert found.spike.expected < 4 and found.spike.bound < 13
    assert found.outcome is not None and found.outcome.status == "sent"
    [message] = smtp_server.recorder.to(OWNER)
    assert str(message["Subject"]) == "Spike alert: Café Test: 13 negative mentions in 24 hours"
    assert tokens(message) == set(burst) | set(one_star)
    assert "Rising with it: wait time (12; 0.0 expected)." in plain(message)
    [stored] = alerts(store)
    assert stored.message_id == str(message["Message-ID"]) and stored.status == "sent"
    assert stored.delivered_to == [OWNER] and stored.topics[0]["topic"] == "wait_time"
    assert sorted(stored.mention_ids) == sorted(set(burst) | set(one_star))

    # Checked again the same day (a second crawl, a second daemon): nothing new is sent.
    again = check_business(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp),
                           now=NOW + dt.timedelta(hours=2))
    assert again.found == [] and len(smtp_server.recorder.received) == 1
    # Two daemons racing past the check: the unique key lets one of them store the alert.
    with store.session() as session:
        business = session.scalars(select(Business).where(Business.slug == BUSINESS)).one()
        session.expunge(business)
    assert store_alert(store, settings, business, found.spike, NOW) is None
    assert len(alerts(store)) == 1


def test_a_topic_rising_alone_has_an_alert_of_its_own(
    store: Store, settings: Settings, smtp_server: SmtpServer, history: History
) -> None:
    history(steady(per_day=(18, 22, 20, 19, 21, 20, 20)))  # about nothing in particular
    # 21 of 27 mentions negative: the business's usual share (20 of 28), but 7 about hygiene.
    history([Day(ago=0, negative=14, positive=6),
             Day(ago=0, negative=7, topic="hygiene", positive=0)])

    run = check_business(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp), now=NOW)

    assert [(f.spike.topic, f.spike.observed) for f in run.found] == [("hygiene", 7)]
    [message] = smtp_server.recorder.to(OWNER)
    assert "7 negative mentions about hygiene in 24 hours" in str(message["Subject"])


def test_a_steady_history_and_a_small_count_do_not_alert(
    store: Store, settings: Settings, smtp_server: SmtpServer, history: History
) -> None:
    history(steady())
    # A busy day for this business: more complaints than on any day of its history, but among
    # as many more mentions of every kind.
    history([Day(ago=0, negative=5, positive=16)])

    run = check_business(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp), now=NOW)
    assert run.found == [] and alerts(store) == [] and smtp_server.recorder.received == []

    # No history at all: 3 negative mentions in a day are below the minimum count (4) ...
    later = NOW + dt.timedelta(days=60)
    history([Day(ago=0, negative=3, positive=0)], now=later)
    quiet = check_business(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp),
                           now=later)
    assert quiet.found == []
    # ... and a fourth makes it an alert: nothing in the history predicts any.
    history([Day(ago=0, negative=1, positive=0)], now=later)
    spike = check_business(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp),
                           now=later)
    assert [(f.spike.observed, f.spike.expected) for f in spike.found] == [(4, 0.0)]


def test_a_dry_run_writes_eml_files_sends_and_stores_nothing(
    store: Store, settings: Settings, smtp_server: SmtpServer, history: History, tmp_path: Path
) -> None:
    history(steady())
    hostile = "Rude staff <script>alert(1)</script> \u202eevil\u202c token mention-{n}."
    history([Day(ago=0, negative=9, text=hostile)])
    outbox = tmp_path / "outbox"

    dry = check_business(store, settings, BUSINESS, dry_run=True, outbox=outbox, now=NOW)

    assert [f.outcome.status for f in dry.found if f.outcome] == ["written"]
    [eml] = list(outbox.glob("alert-*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    body = html(message)  # type: ignore[arg-type]
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "\u202e" not in body and "\u202e" not in plain(message)  # type: ignore[arg-type]
    assert smtp_server.recorder.received == [] and alerts(store) == []

    # The email quotes at most alerts.max_listed mentions, the newest.
    short = settings.model_copy(update={"alerts": settings.alerts.model_copy(
        update={"max_listed": 3})})
    check_business(store, short, BUSINESS, dry_run=True, outbox=tmp_path / "short", now=NOW)
    [brief] = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
               for p in (tmp_path / "short").glob("*.eml")]
    assert "The 3 newest of the 9 mentions" in plain(brief)  # type: ignore[arg-type]
    assert len(tokens(brief)) == 3  # type: ignore[arg-type]

    # Nothing blocks the real alert afterwards.
    real = check_business(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp), now=NOW)
    assert [f.outcome.status for f in real.found if f.outcome] == ["sent"]
    assert len(smtp_server.recorder.to(OWNER)) == 1


def test_a_failed_send_is_retried_with_back_off_under_the_same_message_id(
    store: Store, settings: Settings, smtp_server: SmtpServer, history: History
) -> None:
    history(steady())
    history([Day(ago=0, negative=10)])
    smtp_server.recorder.mode = "data_451"

    run = check_business(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp), now=NOW)

    [alert] = alerts(store)
    assert [f.outcome.status for f in run.found if f.outcome] == ["pending"]
    assert alert.status == "pending" and alert.attempts == 1 and "451" in (alert.last_error or "")
    assert alert.next_attempt_at == NOW + dt.timedelta(minutes=5)
    assert retry_due_alerts(store, settings, now=NOW + dt.timedelta(minutes=1)) == []  # backing off

    smtp_server.recorder.mode = "ok"
    [outcome] = retry_due_alerts(store, settings, now=NOW + dt.timedelta(minutes=6))
    assert outcome.status == "sent"
    [message] = smtp_server.recorder.to(OWNER)
    assert str(message["Message-ID"]) == alert.message_id
    [sent] = alerts(store)
    assert dataclasses.asdict(outcome)["message_id"] == sent.message_id and sent.status == "sent"


def test_an_alert_for_an_owner_removed_meanwhile_is_cancelled_not_sent(
    store: Store, settings: Settings, smtp_server: SmtpServer, history: History
) -> None:
    history(steady())
    history([Day(ago=0, negative=10)])
    smtp_server.recorder.mode = "rcpt_550"
    check_business(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp), now=NOW)
    [pending] = alerts(store)
    assert pending.status == "pending" and "550" in (pending.last_error or "")

    smtp_server.recorder.mode = "ok"
    without = settings.model_copy(update={"businesses": [
        settings.businesses[0].model_copy(update={"owners": []})]})
    [outcome] = retry_due_alerts(store, without, now=NOW + dt.timedelta(hours=1))
    assert outcome.status == "cancelled" and smtp_server.recorder.received == []
    [cancelled] = alerts(store)
    assert cancelled.status == "cancelled" and cancelled.sent_at is None


def test_two_checks_racing_send_one_alert(
    store: Store, settings: Settings, smtp_server: SmtpServer, history: History
) -> None:
    """Two daemons checking the same business at the same moment: the unique key keeps one."""
    history(steady())
    history([Day(ago=0, negative=10)])
    start = threading.Barrier(2)
    runs = []

    def check() -> None:
        start.wait(timeout=10)
        runs.append(check_business(store, settings, BUSINESS,
                                   transport=SmtpTransport(settings.smtp), now=NOW))

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(runs) == 2
    assert len(alerts(store)) == 1 and len(smtp_server.recorder.to(OWNER)) == 1
    assert sum(o.status == "sent" for run in runs for o in run.outcomes) == 1


def test_a_check_given_the_business_id_retries_what_is_due_then_finds_spikes(
    store: Store, settings: Settings, smtp_server: SmtpServer, history: History
) -> None:
    """The cycle's check: the business's id given, its slug is not looked up; an alert due again
    is sent first, and the spike check after it sees that alert (no second one for the day)."""
    from sqlalchemy import event

    history(steady())
    history([Day(ago=0, negative=10)])
    with store.session() as session:
        business_id = session.scalars(select(Business.id).where(Business.slug == BUSINESS)).one()
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        smtp_server.recorder.mode = "data_451"
        first = check_business(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp),
                               now=NOW, business_id=business_id)
        assert first.retried == [] and [f.outcome.status for f in first.found if f.outcome] == [
            "pending"]
        smtp_server.recorder.mode = "ok"
        later = NOW + dt.timedelta(minutes=6)
        again = check_business(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp),
                               now=later, business_id=business_id)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert [o.status for o in again.retried] == ["sent"] and again.found == []
    [alert] = alerts(store)
    [message] = smtp_server.recorder.to(OWNER)
    assert alert.status == "sent" and str(message["Message-ID"]) == alert.message_id
    assert not [s for s in sent if "businesses.slug =" in s]
