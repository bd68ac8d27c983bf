"""Deliver digests exactly once per mention and recipient, retrying failed sends with back-off.

A digest and its items are stored (pending, with its Message-ID) in one transaction before the
first attempt; `UNIQUE(mention_id, recipient)` on digest_items keeps a mention in one digest per
recipient. A send that fails leaves the digest pending (attempts, last_error, next_attempt_at);
the next run resends that same digest before composing a new one for that recipient. If the
process dies after the server accepted a message but before it was marked sent, the retry sends
it again with the same Message-ID: at-least-once, de-duplicable by Message-ID.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import ColumnElement, CursorResult, Select, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reviewwatch.config import BusinessConfig, Settings
from reviewwatch.digest.compose import build_message, subject_for
from reviewwatch.digest.gapinfo import GapSection, latest_snapshot
from reviewwatch.digest.gather import (
    build_content,
    digest_config,
    gap_for,
    previous_digest,
    recipient_language,
)
from reviewwatch.digest.headers import new_message_id
from reviewwatch.digest.select import Selected, describe_mentions, select_negative
from reviewwatch.digest.send import OutboxTransport, SmtpTransport, Transport
from reviewwatch.errors import StoreError
from reviewwatch.gap.claims import remember_business
from storage.db import Store
from storage.models import Business, Digest, DigestItem, utcnow

log = logging.getLogger(__name__)
BACKOFF_BASE = dt.timedelta(minutes=5)
BACKOFF_CAP = dt.timedelta(hours=6)
# While one run is sending a digest, others leave it alone for this long.
LEASE = dt.timedelta(minutes=10)
# Outcomes of a digest that has not reached its recipient yet.
UNSENT = ("pending", "waiting")


@dataclass(frozen=True, slots=True)
class Outcome:
    business: str
    recipient: str
    message_id: str
    # "sent", "pending" (failed, will be retried), "waiting" (back-off), "written" (dry run),
    # "cancelled" (its recipient was removed from the configuration)
    status: str
    mentions: int
    error: str | None = None
    path: Path | None = None


@dataclass(slots=True)
class DigestRun:
    business: str
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def unsent(self) -> int:
        """Digests still to be sent: failed (`pending`) or backing off (`waiting`)."""
        return sum(1 for outcome in self.outcomes if outcome.status in UNSENT)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt `attempts + 1`: 5 min, 10, 20, ... capped at 6 hours."""
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


def send_digests(
    store: Store,
    settings: Settings,
    business_slug: str,
    *,
    transport: Transport | None = None,
    now: dt.datetime | None = None,
    created_since: dt.datetime | None = None,
    business_id: int | None = None,
) -> DigestRun:
    """Retry the business's due pending digests, then compose and send new ones per owner.

    `created_since` (a cycle's start, for a stage task delivered again): a recipient who has a
    digest created since then gets no new one, so the cycle sends each recipient one digest.
    `business_id`: the business's id when the caller knows it (a cycle does), else looked up.
    """
    now = now or utcnow()
    transport = transport or SmtpTransport(settings.smtp)
    config = settings.business(business_slug)
    if business_id is None:
        business_id = business_id_of(store, business_slug)
    run = DigestRun(business_slug)
    blocked: set[str] = set()
    with store.reading() as session:  # one read for both: what is pending, who has one already
        pending = _pending(session, business_id)
        if created_since is not None:
            blocked |= _recipients_since(session, business_id, created_since)
    for digest_id, recipient, due_at in pending:
        if due_at is not None and due_at > now:
            blocked.add(recipient)
            run.outcomes.append(_waiting(store, digest_id, business_slug))
            continue
        outcome = attempt(store, settings, digest_id, transport, now)
        run.outcomes.append(outcome)
        if outcome.status != "sent":
            blocked.add(recipient)
    for recipient in recipients(config):
        if recipient in blocked:
            continue
        fresh = _create_digest(store, settings, config, business_id, recipient, now, leased=True)
        if fresh is not None:
            run.outcomes.append(_first_attempt(store, settings, fresh, transport, now))
    return run


def retry_now(store: Store, business_slug: str, now: dt.datetime | None = None) -> int:
    """End the back-off of the business's digests whose last send failed: the next attempt may
    be now. A digest being sent at this moment (leased, no failure recorded) is left alone."""
    business_id = business_id_of(store, business_slug)
    now = now or utcnow()
    with store.transaction() as session:
        result = cast(CursorResult[Any], session.execute(
            update(Digest)
            .where(
                Digest.business_id == business_id,
                Digest.status == "pending",
                Digest.last_error.is_not(None),
                Digest.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
        ))
        return int(result.rowcount)


def _recipients_since(session: Session, business_id: int, since: dt.datetime) -> set[str]:
    return set(
        session.scalars(
            select(Digest.recipient).where(
                Digest.business_id == business_id, Digest.created_at >= since
            )
        )
    )


def retry_due(
    store: Store,
    settings: Settings,
    *,
    transport: Transport | None = None,
    now: dt.datetime | None = None,
) -> list[Outcome]:
    """Resend every pending digest (all businesses) whose back-off has passed."""
    now = now or utcnow()
    transport = transport or SmtpTransport(settings.smtp)
    with store.reading() as session:
        due = session.scalars(
            select(Digest.id).where(Digest.status == "pending", _due(now)).order_by(Digest.id)
        ).all()
    return [attempt(store, settings, digest_id, transport, now) for digest_id in due]


def create_digest(
    store: Store,
    settings: Settings,
    config: BusinessConfig,
    business_id: int,
    recipient: str,
    now: dt.datetime,
) -> int | None:
    """Store a pending digest with its items (one transaction); None if there is nothing to send."""
    fresh = _create_digest(store, settings, config, business_id, recipient, now, leased=False)
    return fresh.digest_id if fresh is not None else None


@dataclass(frozen=True, slots=True)
class _Fresh:
    """A digest `_create_digest` has just stored, with what it read to store it: its first attempt
    composes the message from these (the same mentions, snapshot and previous digest the stored
    items and subject came from) instead of reading them all again."""

    digest_id: int
    recipient: str
    message_id: str
    subject: str
    created_at: dt.datetime
    business: Business  # detached, its columns loaded
    selected: list[Selected]
    since: dt.datetime | None  # the previous digest's creation
    gap: GapSection


def _create_digest(
    store: Store,
    settings: Settings,
    config: BusinessConfig,
    business_id: int,
    recipient: str,
    now: dt.datetime,
    *,
    leased: bool,
) -> _Fresh | None:
    """`create_digest`, with what it read. `leased`: stored as claimed for sending by this run
    (the lease `attempt` would take), for a first attempt that follows at once."""
    try:
        with store.transaction() as session:
            selected = select_negative(session, business_id, recipient, config.digest)
            if not selected and not config.digest.all_quiet_email:
                return None
            business = session.get_one(Business, business_id)
            remember_business(session, business)  # the gap section asks for it by slug
            snapshot = latest_snapshot(session, business_id)  # held: gap_for reads it by id
            snapshot_id = snapshot.id if snapshot is not None else None
            previous = previous_digest(session, business_id, recipient)
            gap = gap_for(session, settings, business, snapshot_id, previous)
            digest = Digest(
                business_id=business_id,
                recipient=recipient,
                message_id=new_message_id(settings.smtp.sender),
                subject=subject_for(
                    business.name,
                    len(selected),
                    len(gap.at_risk),
                    recipient_language(settings, business.slug, recipient),
                ),
                status="pending",
                attempts=0,
                next_attempt_at=now + LEASE if leased else None,
                gap_snapshot_id=snapshot_id,
                created_at=now,
            )
            session.add(digest)
            session.flush()
            session.add_all(
                DigestItem(digest_id=digest.id, mention_id=item.mention.id, recipient=recipient)
                for item in selected
            )
            session.flush()
            return _Fresh(digest.id, recipient, digest.message_id, digest.subject, now, business,
                          selected, previous.created_at if previous is not None else None, gap)
    except IntegrityError:
        # Another run stored a digest holding some of these mentions first: they go out there.
        log.warning("%s: a concurrent run claimed mentions for %s; skipping", config.id, recipient)
        return None


def _first_attempt(
    store: Store, settings: Settings, fresh: _Fresh, transport: Transport, now: dt.datetime
) -> Outcome:
    """`attempt` for a digest this run has just stored leased: nothing to claim or read again.
    If this process dies before recording the outcome, the lease runs out and the digest is
    sent again with the same Message-ID (a redelivered digest stage ends the lease at once)."""
    slug, mentions = fresh.business.slug, len(fresh.selected)
    try:
        with store.reading() as session:  # read only: the crawl failures and follow-up views
            message: EmailMessage | None = compose_message(
                session, settings, fresh.business, fresh.selected, since=fresh.since,
                gap=fresh.gap, recipient=fresh.recipient, subject=fresh.subject,
                message_id=fresh.message_id, created_at=fresh.created_at,
            )
        error = None
    except Exception as exc:  # noqa: BLE001 - recorded on the digest, retried later
        log.exception("composing digest %s failed", fresh.digest_id)
        message, error = None, f"composing failed: {exc}"
    if message is not None:
        error = _send(transport, message, fresh.recipient)
    _record(store, fresh.digest_id, error, now)
    return _logged(slug, fresh.recipient, fresh.message_id, mentions, error, transport)


def attempt(
    store: Store,
    settings: Settings,
    digest_id: int,
    transport: Transport,
    now: dt.datetime,
    *,
    gap: GapSection | None = None,
) -> Outcome:
    """One delivery attempt of a stored digest; its state in the store says how it went.
    `gap`: the digest's gap section as `create_digest` just computed it (else computed here)."""
    with store.transaction() as session:
        # Claim it (a short lease) so that a concurrent run does not send it at the same time.
        claimed = cast(CursorResult[Any], session.execute(
            update(Digest)
            .where(Digest.id == digest_id, Digest.status == "pending", _due(now))
            .values(next_attempt_at=now + LEASE)
        )).rowcount  # an UPDATE's result is a cursor result
        digest = session.get_one(Digest, digest_id)
        slug = session.get_one(Business, digest.business_id).slug
        mentions = item_count(session, digest_id)
    if claimed != 1:
        return Outcome(slug, digest.recipient, digest.message_id, "waiting", mentions)
    if not still_wanted(settings, slug, digest.recipient):
        reason = f"{digest.recipient} is no longer an owner of {slug}"
        _cancel(store, digest_id, reason)
        log.warning("%s: digest %s cancelled: %s", slug, digest.message_id, reason)
        return Outcome(slug, digest.recipient, digest.message_id, "cancelled", mentions, reason)
    message, error = _compose(store, settings, digest_id, gap)
    if message is not None:
        error = _send(transport, message, digest.recipient)
    _record(store, digest_id, error, now)
    return _logged(slug, digest.recipient, digest.message_id, mentions, error, transport)


def _logged(slug: str, recipient: str, message_id: str, mentions: int, error: str | None,
            transport: Transport) -> Outcome:
    """The outcome of an attempt whose result is recorded, logged."""
    if error:
        log.warning("%s: digest %s to %s not sent: %s", slug, message_id, recipient, error)
    else:
        log.info("%s: digest %s sent to %s (%d mentions)", slug, message_id, recipient, mentions)
    written = transport.written if isinstance(transport, OutboxTransport) else []
    return Outcome(
        slug,
        recipient,
        message_id,
        "sent" if error is None else "pending",
        mentions,
        error,
        written[-1] if written else None,
    )


def _compose(
    store: Store, settings: Settings, digest_id: int, gap: GapSection | None = None
) -> tuple[EmailMessage | None, str | None]:
    try:
        with store.reading() as session:  # read only: no lock held while the gap is computed
            return message_for(session, settings, session.get_one(Digest, digest_id), gap), None
    except Exception as exc:  # noqa: BLE001 - recorded on the digest, retried later
        log.exception("composing digest %s failed", digest_id)
        return None, f"composing failed: {exc}"


def _send(transport: Transport, message: EmailMessage, recipient: str) -> str | None:
    try:
        transport.send(message, recipient)
    except Exception as exc:  # noqa: BLE001 - any failure leaves the digest pending
        return str(exc) or type(exc).__name__
    return None


def message_for(
    session: Session, settings: Settings, digest: Digest, gap: GapSection | None = None
) -> EmailMessage:
    """The email of a stored digest, rebuilt from its items: identical items on every attempt.
    `gap`: its gap section when the caller has it (computed from the same snapshot and previous
    digest), else computed here."""
    business = session.get_one(Business, digest.business_id)
    config = digest_config(settings, business.slug)
    ids = session.scalars(
        select(DigestItem.mention_id).where(DigestItem.digest_id == digest.id)
    ).all()
    selected = describe_mentions(session, ids, config)
    previous = previous_digest(session, business.id, digest.recipient, before_id=digest.id)
    return compose_message(
        session,
        settings,
        business,
        selected,
        since=previous.created_at if previous else None,
        gap=gap if gap is not None else gap_for(session, settings, business,
                                                digest.gap_snapshot_id, previous),
        recipient=digest.recipient,
        subject=digest.subject,
        message_id=digest.message_id,
        created_at=digest.created_at,
    )


def compose_message(
    session: Session,
    settings: Settings,
    business: Business,
    selected: list[Selected],
    *,
    since: dt.datetime | None,
    gap: GapSection,
    recipient: str,
    subject: str,
    message_id: str,
    created_at: dt.datetime,
) -> EmailMessage:
    """A digest's email from its mentions and gap section: the one composition of a first
    attempt (from what storing it read) and of a resend (from the stored digest)."""
    content = build_content(
        session,
        settings,
        business,
        selected,
        since=since,
        until=created_at,
        gap=gap,
        language=recipient_language(settings, business.slug, recipient),
        recipient=recipient,
    )
    return build_message(
        content,
        subject=subject,
        sender=settings.smtp.sender,
        recipient=recipient,
        message_id=message_id,
        date=created_at,
    )


def _record(store: Store, digest_id: int, error: str | None, now: dt.datetime) -> None:
    with store.transaction() as session:
        if error is None:  # one statement: the back-off below needs the attempts read
            session.execute(
                update(Digest).where(Digest.id == digest_id)
                .values(attempts=Digest.attempts + 1, status="sent", sent_at=now, last_error=None,
                        next_attempt_at=None)
                .execution_options(synchronize_session=False)
            )
            return
        digest = session.get_one(Digest, digest_id)
        digest.attempts += 1
        if error is None:
            digest.status, digest.sent_at = "sent", now
            digest.last_error, digest.next_attempt_at = None, None
        else:
            digest.last_error = error[:2000]
            digest.next_attempt_at = now + backoff(digest.attempts)


def business_id_of(store: Store, slug: str) -> int:
    with store.reading() as session:
        business_id = session.scalar(select(Business.id).where(Business.slug == slug))
    if business_id is None:
        raise StoreError(f"business {slug!r} is not in the store (is the configuration synced?)")
    return business_id


def pending_query(business_id: int) -> Select[Digest]:
    return (
        select(Digest)
        .where(Digest.business_id == business_id, Digest.status == "pending")
        .order_by(Digest.id)
    )


def _pending(session: Session, business_id: int) -> list[tuple[int, str, dt.datetime | None]]:
    return [
        (d.id, d.recipient, d.next_attempt_at)
        for d in session.scalars(pending_query(business_id))
    ]


def _waiting(store: Store, digest_id: int, slug: str) -> Outcome:
    with store.reading() as session:
        digest = session.get_one(Digest, digest_id)
        return Outcome(
            slug,
            digest.recipient,
            digest.message_id,
            "waiting",
            item_count(session, digest_id),
            digest.last_error,
        )


def item_count(session: Session, digest_id: int) -> int:
    return len(
        session.scalars(select(DigestItem.id).where(DigestItem.digest_id == digest_id)).all()
    )


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(Digest.next_attempt_at.is_(None), Digest.next_attempt_at <= now)


def still_wanted(settings: Settings, slug: str, recipient: str) -> bool:
    """Whether the configuration still sends this business's digests to this recipient."""
    config = next((b for b in settings.businesses if b.id == slug), None)
    return config is not None and recipient in recipients(config)


def _cancel(store: Store, digest_id: int, reason: str) -> None:
    """A digest for a recipient removed from the configuration is never sent (nor retried)."""
    with store.transaction() as session:
        digest = session.get_one(Digest, digest_id)
        digest.status, digest.next_attempt_at, digest.last_error = "cancelled", None, reason


def recipients(config: BusinessConfig) -> list[str]:
    seen: dict[str, None] = {}
    for owner in config.owners:
        seen.setdefault(str(owner), None)
    return list(seen)
