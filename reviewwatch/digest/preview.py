"""The dry run: write what a real run would send now as .eml files, and change nothing stored.

Pending digests are written as they will be retried (same Message-ID); other owners get a
preview of their next digest under a fresh Message-ID. Nothing is marked as delivered, so a
later real run sends every one of these mentions.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy.orm import Session

from reviewwatch.config import BusinessConfig, Settings
from reviewwatch.digest.compose import build_message, subject_for
from reviewwatch.digest.deliver import (
    DigestRun,
    Outcome,
    business_id_of,
    item_count,
    message_for,
    pending_query,
    recipients,
)
from reviewwatch.digest.gapinfo import latest_snapshot_id
from reviewwatch.digest.gather import build_content, gap_for, previous_digest, recipient_language
from reviewwatch.digest.headers import new_message_id
from reviewwatch.digest.select import select_negative
from reviewwatch.digest.send import OutboxTransport
from storage.db import Store
from storage.models import Business, utcnow


def preview_digests(
    store: Store,
    settings: Settings,
    business_slug: str,
    outbox: Path,
    *,
    now: dt.datetime | None = None,
) -> DigestRun:
    """The dry run: write what a real run would send now as .eml files; change nothing stored.

    Pending digests are written as they would be retried; other owners get a preview of their
    next digest under a fresh Message-ID. Nothing is marked delivered, so a real run sends it all.
    """
    now = now or utcnow()
    config = settings.business(business_slug)
    business_id = business_id_of(store, business_slug)
    writer = OutboxTransport(outbox, prefix=business_slug)
    run = DigestRun(business_slug)
    with store.session() as session:
        pending = {d.recipient: d for d in session.scalars(pending_query(business_id))}
        for recipient in sorted(set(recipients(config)) | set(pending)):
            digest = pending.get(recipient)
            message, mentions = (
                (message_for(session, settings, digest), item_count(session, digest.id))
                if digest is not None
                else _preview(session, settings, config, business_id, recipient, now)
            )
            if message is None:
                continue
            writer.send(message, recipient)
            run.outcomes.append(
                Outcome(
                    business_slug,
                    recipient,
                    str(message["Message-ID"]),
                    "written",
                    mentions,
                    path=writer.written[-1],
                )
            )
        session.rollback()
    return run


def _preview(
    session: Session,
    settings: Settings,
    config: BusinessConfig,
    business_id: int,
    recipient: str,
    now: dt.datetime,
) -> tuple[EmailMessage | None, int]:
    selected = select_negative(session, business_id, recipient, config.digest)
    if not selected and not config.digest.all_quiet_email:
        return None, 0
    business = session.get_one(Business, business_id)
    previous = previous_digest(session, business_id, recipient)
    gap = gap_for(session, settings, business, latest_snapshot_id(session, business_id), previous)
    language = recipient_language(settings, business.slug, recipient)
    content = build_content(
        session,
        settings,
        business,
        selected,
        since=previous.created_at if previous else None,
        until=now,
        gap=gap,
        language=language,
        recipient=recipient,
    )
    message = build_message(
        content,
        subject=subject_for(business.name, len(selected), len(gap.at_risk), language),
        sender=settings.smtp.sender,
        recipient=recipient,
        message_id=new_message_id(settings.smtp.sender),
        date=now,
    )
    return message, len(selected)
