"""Ask customers for feedback: each request stored first, then sent, at least once, never twice.

Like a digest (`reviewwatch.digest.deliver`): an invitation is stored (pending, with its
Message-ID and token) in one transaction before the first attempt; a failed send leaves it
pending with a back-off, and the next `reviewwatch ask` for the business resends that same
invitation before asking anyone new. A customer with any invitation inside
`feedback.cooldown_days`, or one still unsent, is not asked again; opted-out customers never are.
Settings: `feedback.*`, `smtp.*`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update

from reviewwatch.config import Settings
from reviewwatch.digest.deliver import LEASE, backoff, business_id_of
from reviewwatch.digest.headers import new_message_id
from reviewwatch.digest.send import OutboxTransport, Transport
from reviewwatch.feedback.customers import Customer, CustomerList
from reviewwatch.feedback.message import feedback_link, opt_out_link, request_message
from reviewwatch.feedback.tokens import Tokens, new_token_id
from storage.db import Store
from storage.models import Business, FeedbackInvitation, FeedbackOptOut, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Asked:
    email: str
    status: str  # sent, written (dry run), pending (failed: retried by the next run)
    error: str | None = None
    path: Path | None = None


@dataclass(slots=True)
class AskRun:
    business: str
    asked: list[Asked] = field(default_factory=list)
    opted_out: int = 0
    cooldown: int = 0
    duplicates: int = 0

    def count(self, status: str) -> int:
        return sum(1 for a in self.asked if a.status == status)


def ask_customers(
    store: Store,
    settings: Settings,
    slug: str,
    customers: CustomerList,
    transport: Transport,
    *,
    now: dt.datetime | None = None,
) -> AskRun:
    """Resend this business's due unsent requests, then ask each customer not to be skipped."""
    now = now or utcnow()
    tokens = Tokens(settings.feedback)  # no key, no request: refused before anything is stored
    business_id = business_id_of(store, slug)
    run = AskRun(slug, duplicates=customers.duplicates)
    for invitation_id in _due(store, business_id, now):
        run.asked.append(attempt(store, settings, tokens, invitation_id, transport, now))
    wanted = _not_skipped(store, settings, business_id, customers.customers, run, now)
    for customer in wanted:
        invitation_id = _store_invitation(store, settings, business_id, customer, now)
        run.asked.append(attempt(store, settings, tokens, invitation_id, transport, now))
    return run


def _not_skipped(
    store: Store,
    settings: Settings,
    business_id: int,
    customers: list[Customer],
    run: AskRun,
    now: dt.datetime,
) -> list[Customer]:
    since = now - dt.timedelta(days=settings.feedback.cooldown_days)
    inv = FeedbackInvitation
    with store.session() as session:
        opted = set(session.scalars(
            select(FeedbackOptOut.email).where(FeedbackOptOut.business_id == business_id)
        ))
        recent = set(session.scalars(
            select(inv.email).where(
                inv.business_id == business_id,
                or_(inv.created_at >= since, inv.status == "pending"),
            )
        ))
    wanted = []
    for customer in customers:
        if customer.email in opted:
            run.opted_out += 1
        elif customer.email in recent:
            run.cooldown += 1
        else:
            wanted.append(customer)
    return wanted


def _store_invitation(
    store: Store, settings: Settings, business_id: int, customer: Customer, now: dt.datetime
) -> int:
    with store.transaction() as session:
        invitation = FeedbackInvitation(
            token_id=new_token_id(),
            business_id=business_id,
            email=customer.email,
            name=customer.name,
            language=customer.language,
            visited_on=customer.visited_on,
            reference=customer.reference,
            message_id=new_message_id(settings.smtp.sender),
            status="pending",
            attempts=0,
            created_at=now,
            expires_at=now + dt.timedelta(days=settings.feedback.expire_days),
        )
        session.add(invitation)
        session.flush()
        return invitation.id


def _due(store: Store, business_id: int, now: dt.datetime) -> list[int]:
    inv = FeedbackInvitation
    with store.session() as session:
        return list(session.scalars(
            select(inv.id)
            .where(inv.business_id == business_id, inv.status == "pending",
                   or_(inv.next_attempt_at.is_(None), inv.next_attempt_at <= now))
            .order_by(inv.id)
        ))


def attempt(
    store: Store,
    settings: Settings,
    tokens: Tokens,
    invitation_id: int,
    transport: Transport,
    now: dt.datetime,
) -> Asked:
    """One delivery attempt of a stored request; a leased or sent one is left alone."""
    inv = FeedbackInvitation
    with store.transaction() as session:
        claimed = cast(CursorResult[Any], session.execute(
            update(inv)
            .where(inv.id == invitation_id, inv.status == "pending",
                   or_(inv.next_attempt_at.is_(None), inv.next_attempt_at <= now))
            .values(next_attempt_at=now + LEASE)
        )).rowcount
        invitation = session.get_one(inv, invitation_id)
        email = invitation.email
        message = message_for(session.get_one(Business, invitation.business_id), invitation,
                              settings, tokens)
    if claimed != 1:
        return Asked(email, "pending", "being sent by another run")
    try:
        transport.send(message, email)
        error = None
    except Exception as exc:  # noqa: BLE001 - any failure leaves the request pending
        error = str(exc) or type(exc).__name__
    outbox = transport if isinstance(transport, OutboxTransport) else None
    status = "pending" if error else ("written" if outbox else "sent")
    with store.transaction() as session:
        invitation = session.get_one(inv, invitation_id)
        invitation.attempts += 1
        if error is None:
            invitation.status, invitation.sent_at = status, now
            invitation.next_attempt_at = invitation.last_error = None
        else:
            invitation.last_error = error[:2000]
            invitation.next_attempt_at = now + backoff(invitation.attempts)
            log.warning("feedback request %s not sent: %s", invitation.message_id, error)
    path = outbox.written[-1] if outbox and error is None else None
    return Asked(email, status, error, path)


def message_for(
    business: Business, invitation: FeedbackInvitation, settings: Settings, tokens: Tokens
) -> EmailMessage:
    """The request as sent: rebuilt identically (Message-ID, Date, link) on every attempt."""
    public = settings.feedback.public_url
    return request_message(
        business_name=business.name,
        customer_name=invitation.name,
        language=invitation.language,
        recipient=invitation.email,
        sender=settings.smtp.sender,
        message_id=invitation.message_id,
        date=invitation.created_at,
        link=feedback_link(public, tokens.link_token(invitation.token_id, invitation.expires_at)),
        opt_out=opt_out_link(public, tokens.opt_out_token(invitation.token_id)),
    )
