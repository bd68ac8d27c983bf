"""Check a business for spikes and email its owners at once, with the digest's delivery guarantee.

The digest's path (`reviewwatch.digest.deliver`, `send.py`) carries alerts too: an alert is
stored first (pending, its one Message-ID minted) in its own transaction, then sent; a send that
fails leaves it pending with the digest's back-off (`backoff`), and the next check of the
business, or the daemon's retry job, resends that same message; a run that dies between the
server's acceptance and the store's update sends it again under the same Message-ID:
at-least-once, de-duplicable. A short lease (`LEASE`) keeps two runs from sending it at once.
`delivered_to` lists the owners already served, so a retry goes only to the others; an owner
removed from the configuration is skipped (`still_wanted`).

The dry run stores nothing: it writes what would be sent as .eml files and leaves every spike
free to be alerted by a later real check. Settings: `[alerts]`, `[smtp]`, the owners.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reviewwatch.alerts.compose import build_message, subject_for
from reviewwatch.alerts.detect import Spike, find_spikes
from reviewwatch.config import Settings
from reviewwatch.digest.deliver import (
    LEASE,
    Outcome,
    backoff,
    business_id_of,
    recipients,
    still_wanted,
)
from reviewwatch.digest.headers import new_message_id
from reviewwatch.digest.send import OutboxTransport, SmtpTransport, Transport
from storage.db import Store
from storage.models import Alert, Business, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Found:
    spike: Spike
    # None: another check stored this spike first (the per-day limit held)
    outcome: Outcome | None


@dataclass(slots=True)
class AlertRun:
    """One check of one business: alerts retried, spikes found and what became of their emails."""

    business: str
    retried: list[Outcome] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)

    @property
    def outcomes(self) -> list[Outcome]:
        return self.retried + [f.outcome for f in self.found if f.outcome is not None]

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def summary(self) -> str:
        """'' when nothing was found or retried, else e.g. '1 spike alert: 1 sent'."""
        if not self.found and not self.retried:
            return ""
        states = ", ".join(
            f"{self.count(s)} {s}" for s in ("sent", "written", "pending", "waiting", "cancelled")
            if self.count(s)
        )
        found = len(self.found)
        return f"{found} spike alert{'' if found == 1 else 's'}" + (f": {states}" if states else "")


def check_business(
    store: Store,
    settings: Settings,
    slug: str,
    *,
    dry_run: bool = False,
    outbox: Path | None = None,
    transport: Transport | None = None,
    now: dt.datetime | None = None,
    business_id: int | None = None,
) -> AlertRun:
    """Retry the business's due alerts, then find its spikes now and alert the owners of each.

    With `dry_run`, the emails are written into `outbox` and nothing is stored or retried.
    `business_id`: the business's id when the caller knows it (a cycle does), not looked up.
    """
    now = now or utcnow()
    if business_id is None:
        business_id = business_id_of(store, slug)
    run = AlertRun(slug)
    if dry_run:
        if outbox is None:
            raise ValueError("a dry run needs an outbox folder")
        writer = OutboxTransport(outbox, prefix=f"alert-{slug}")
        with store.session() as session:
            business = session.get_one(Business, business_id)
            for spike in find_spikes(session, settings.alerts, business, now):
                alert = new_alert(settings, business, spike, now)
                run.found.append(Found(spike, _write(session, settings, alert, writer)))
            session.rollback()
        return run
    transport = transport or SmtpTransport(settings.smtp)
    # Usually nothing is due: then the spikes are found in the same session as that answer.
    # Due alerts are sent first (each in transactions of its own, the send between them), and
    # the spikes found after, in reads that see what those sends recorded.
    with store.reading() as session:  # reads only
        due = _due_in(session, now, business_id)
        if due:
            session.close()
            run.retried = [attempt(store, settings, alert_id, transport, now) for alert_id in due]
        business = session.get_one(Business, business_id)
        spikes = find_spikes(session, settings.alerts, business, now)
        session.expunge(business)
    for spike in spikes:
        alert_id = store_alert(store, settings, business, spike, now)
        outcome = None if alert_id is None else attempt(store, settings, alert_id, transport, now)
        run.found.append(Found(spike, outcome))
    return run


def check_after_crawl(store: Store, settings: Settings, slug: str, **options: Any) -> AlertRun:
    """The daemon's check after a crawl (and its scoring): never raises, so the cycle goes on.
    `options`: `check_business`'s (a cycle passes its `business_id`)."""
    if not settings.alerts.enabled:
        return AlertRun(slug)
    try:
        return check_business(store, settings, slug, **options)
    except Exception:  # noqa: BLE001 - an alert check failing must not fail the cycle
        log.exception("%s: spike alert check failed", slug)
        return AlertRun(slug)


def new_alert(settings: Settings, business: Business, spike: Spike, now: dt.datetime) -> Alert:
    config = next((b for b in settings.businesses if b.id == business.slug), None)
    return Alert(
        business_id=business.id,
        topic=spike.topic,
        alert_day=spike.alert_day,
        window_start=spike.window_start,
        window_end=spike.window_end,
        observed=spike.observed,
        expected=spike.expected,
        bound=spike.bound,
        method=spike.method[:200],
        mention_ids=list(spike.mention_ids),
        topics=list(spike.topics),
        recipients=recipients(config) if config is not None else [],
        delivered_to=[],
        message_id=new_message_id(settings.smtp.sender),
        subject=subject_for(business.name, spike.topic, spike.observed),
        status="pending",
        attempts=0,
        created_at=now,
    )


def store_alert(
    store: Store, settings: Settings, business: Business, spike: Spike, now: dt.datetime
) -> int | None:
    """Store the alert before any attempt; None when a check elsewhere stored it first."""
    try:
        with store.transaction() as session:
            alert = new_alert(settings, business, spike, now)
            session.add(alert)
            session.flush()
            return alert.id
    except IntegrityError:
        log.info("%s: the %s spike of %s is alerted already", business.slug,
                 spike.topic or "overall", spike.alert_day)
        return None


def retry_due_alerts(
    store: Store,
    settings: Settings,
    *,
    transport: Transport | None = None,
    now: dt.datetime | None = None,
) -> list[Outcome]:
    """Resend every pending alert (all businesses) whose back-off has passed."""
    now = now or utcnow()
    transport = transport or SmtpTransport(settings.smtp)
    return [attempt(store, settings, alert_id, transport, now) for alert_id in _due(store, now)]


def attempt(
    store: Store, settings: Settings, alert_id: int, transport: Transport, now: dt.datetime
) -> Outcome:
    """One delivery attempt of a stored alert to the owners it has not reached yet."""
    with store.transaction() as session:
        claimed = cast(CursorResult[Any], session.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.status == "pending", _due_clause(now))
            .values(next_attempt_at=now + LEASE)
        )).rowcount
        alert = session.get_one(Alert, alert_id)
        slug = session.get_one(Business, alert.business_id).slug
        todo = [r for r in alert.recipients if r not in alert.delivered_to]
        wanted = [r for r in todo if still_wanted(settings, slug, r)]
        message = build_message(session, settings, alert, list(alert.recipients)) if wanted else None
        session.expunge(alert)
    outcome = _outcome(slug, alert, wanted, "waiting")
    if claimed != 1:
        return outcome
    delivered, errors = [], []
    for recipient in wanted:
        assert message is not None
        try:
            transport.send(message, recipient)
            delivered.append(recipient)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the alert pending
            errors.append(f"{recipient}: {exc or type(exc).__name__}")
    error = "; ".join(errors) or None
    # Nobody left to send it to and nobody served before: cancelled rather than sent.
    status = _record(store, alert_id, delivered, error, now,
                     nobody=not wanted and not alert.delivered_to)
    if error:
        log.warning("%s: alert %s not sent: %s", slug, alert.message_id, error)
    else:
        log.info("%s: alert %s %s (%s)", slug, alert.message_id, status, ", ".join(delivered))
    written = transport.written if isinstance(transport, OutboxTransport) else []
    return _outcome(slug, alert, wanted, status, error, written[-1] if written else None)


def _record(
    store: Store, alert_id: int, delivered: list[str], error: str | None, now: dt.datetime,
    *, nobody: bool,
) -> str:
    with store.transaction() as session:
        alert = session.get_one(Alert, alert_id)
        alert.attempts += 1
        alert.delivered_to = [*alert.delivered_to, *delivered]
        if error is None:
            alert.status = "cancelled" if nobody else "sent"
            alert.sent_at = None if nobody else now
            alert.last_error = "no owner to send it to" if nobody else None
            alert.next_attempt_at = None
        else:
            alert.last_error = error[:2000]
            alert.next_attempt_at = now + backoff(alert.attempts)
        return "pending" if error else alert.status


def _write(session: Session, settings: Settings, alert: Alert, writer: OutboxTransport) -> Outcome:
    """The dry run's 'send': one .eml file per owner, nothing stored."""
    slug = session.get_one(Business, alert.business_id).slug
    owners = list(alert.recipients)
    message = build_message(session, settings, alert, owners)
    for recipient in owners:
        writer.send(message, recipient)
    path = writer.written[-1] if owners else None
    return _outcome(slug, alert, owners, "written", None, path)


def _outcome(
    slug: str, alert: Alert, recipients_: list[str], status: str, error: str | None = None,
    path: Path | None = None,
) -> Outcome:
    return Outcome(slug, ", ".join(recipients_), alert.message_id, status,
                   len(alert.mention_ids), error, path)


def _due(store: Store, now: dt.datetime, business_id: int | None = None) -> list[int]:
    with store.reading() as session:
        return _due_in(session, now, business_id)


def _due_in(session: Session, now: dt.datetime, business_id: int | None = None) -> list[int]:
    query = select(Alert.id).where(Alert.status == "pending", _due_clause(now))
    if business_id is not None:
        query = query.where(Alert.business_id == business_id)
    return list(session.scalars(query.order_by(Alert.id)))


def _due_clause(now: dt.datetime) -> Any:
    return or_(Alert.next_attempt_at.is_(None), Alert.next_attempt_at <= now)
