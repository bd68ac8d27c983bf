"""Follow-up items as the API and the dashboard show them: filtered, newest first, with the
mention they follow, and one item with its history and the public replies found."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.followup import history, replies_of
from storage.models import Business, FollowupItem, Mention, Source

EXCERPT_CHARS = 600


def item_rows(
    session: Session,
    *,
    business_id: int | None = None,
    state: str | None = None,
    source: str | None = None,
    negative_only: bool = True,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Items matching the filters, newest first (ids below `before` for the next page)."""
    query = (
        select(FollowupItem, Mention, Source.type, Business.slug)
        .join(Mention, Mention.id == FollowupItem.mention_id)
        .join(Source, Source.id == Mention.source_id)
        .join(Business, Business.id == FollowupItem.business_id)
        .order_by(FollowupItem.id.desc())
        .limit(limit)
    )
    if business_id is not None:
        query = query.where(FollowupItem.business_id == business_id)
    if state is not None:
        query = query.where(FollowupItem.state == state)
    if source is not None:
        query = query.where(Source.type == source)
    if negative_only:
        query = query.where(FollowupItem.negative.is_(True))
    if before is not None:
        query = query.where(FollowupItem.id < before)
    rows = session.execute(query).all()
    replies = replies_of(session, [mention.id for _, mention, _, _ in rows])
    return [
        _row(item, mention, source_type, slug, len(replies.get(mention.id, [])))
        for item, mention, source_type, slug in rows
    ]


def item_detail(session: Session, item_id: int) -> dict[str, Any] | None:
    found = session.execute(
        select(FollowupItem, Mention, Source.type, Business.slug)
        .join(Mention, Mention.id == FollowupItem.mention_id)
        .join(Source, Source.id == Mention.source_id)
        .join(Business, Business.id == FollowupItem.business_id)
        .where(FollowupItem.id == item_id)
    ).first()
    if found is None:
        return None
    item, mention, source_type, slug = found
    replies = replies_of(session, [mention.id]).get(mention.id, [])
    return {
        **_row(item, mention, source_type, slug, len(replies)),
        "history": [
            {"state_before": c.state_before, "state_after": c.state_after,
             "changed_by": c.changed_by, "via": c.via, "changed_at": c.changed_at, "note": c.note}
            for c in history(session, item.id)
        ],
        "public_replies": [
            {"text": r.text, "author": r.author, "replied_at": r.replied_at,
             "found_url": r.found_url, "source_type": r.source_type}
            for r in replies
        ],
    }


def _row(
    item: FollowupItem, mention: Mention, source_type: str, slug: str, replies: int
) -> dict[str, Any]:
    at = mention.published_at or mention.first_seen_at
    return {
        "id": item.id,
        "mention_id": mention.id,
        "business": slug,
        "source_type": source_type,
        "state": item.state,
        "negative": item.negative,
        "created_at": item.created_at,
        "changed_at": item.changed_at,
        "changed_by": item.changed_by,
        "first_response_at": item.first_response_at,
        "response_hours": response_hours(at, item.first_response_at),
        "published_at": mention.published_at,
        "author": mention.author,
        "title": mention.title,
        "excerpt": mention.text[:EXCERPT_CHARS],
        "url": mention.url,
        "rating": mention.rating,
        "rating_scale": mention.rating_scale,
        "is_private": mention.is_private,
        "replies_found": replies,
    }


def response_hours(at: dt.datetime | None, first: dt.datetime | None) -> float | None:
    if at is None or first is None:
        return None
    return round(max(0.0, (first - at).total_seconds() / 3600.0), 3)
