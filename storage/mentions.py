"""Idempotent writes of mentions: new ones inserted, edited ones revised, the rest only touched.

A mention's identity is (source, external id); its content hash covers the normalised title,
text and rating, so a re-crawl of unchanged content changes nothing but `last_seen_at`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from storage.models import Mention, MentionRevision, utcnow
from storage.ratings import normalise_rating


@dataclass(frozen=True, slots=True)
class MentionData:
    """What a crawler knows about one mention, already normalised."""

    external_id: str
    text: str
    url: str | None = None
    author: str | None = None
    title: str | None = None
    rating: float | None = None
    rating_scale: float | None = None
    language: str | None = None
    published_at: dt.datetime | None = None
    truncated: bool = False
    is_own: bool = False
    reply_text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.text, self.rating, self.reply_text)

    @property
    def rating_normalised(self) -> float | None:
        return normalise_rating(self.rating, self.rating_scale)


@dataclass(slots=True)
class WriteResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    new_ids: list[int] = field(default_factory=list)

    def add(self, other: WriteResult) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.new_ids.extend(other.new_ids)


def content_hash(
    title: str | None, text: str, rating: float | None, reply_text: str | None = None
) -> str:
    payload = json.dumps([title or "", text, rating, reply_text or ""], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def write_mentions(
    session: Session,
    *,
    business_id: int,
    source_id: int,
    items: Sequence[MentionData],
    seen_at: dt.datetime | None = None,
) -> WriteResult:
    """Write one batch inside the caller's transaction. Duplicates within the batch keep the last."""
    seen_at = seen_at or utcnow()
    latest: dict[str, MentionData] = {item.external_id: item for item in items}
    result = WriteResult()
    if not latest:
        return result
    existing = {
        row.external_id: row
        for row in session.execute(
            select(
                Mention.id,
                Mention.external_id,
                Mention.content_hash,
                Mention.revision,
                Mention.title,
                Mention.text,
                Mention.rating,
                Mention.last_seen_at,
                Mention.first_seen_at,
            ).where(Mention.source_id == source_id, Mention.external_id.in_(list(latest)))
        )
    }
    inserts: list[dict[str, Any]] = []
    unchanged_ids: list[int] = []
    for external_id, item in latest.items():
        row = existing.get(external_id)
        if row is None:
            inserts.append(_insert_values(item, business_id, source_id, seen_at))
        elif row.content_hash == item.content_hash:
            unchanged_ids.append(row.id)
        else:
            _revise(session, row, item, seen_at)
            result.updated += 1
    if inserts:
        ids = session.scalars(insert(Mention).returning(Mention.id), inserts).all()
        result.new = len(ids)
        result.new_ids = list(ids)
    if unchanged_ids:
        for chunk in _chunks(unchanged_ids, 500):
            session.execute(
                update(Mention)
                .where(Mention.id.in_(chunk))
                .values(last_seen_at=seen_at, deleted_at=None)
                .execution_options(synchronize_session=False)
            )
        result.unchanged = len(unchanged_ids)
    return result


def _insert_values(
    item: MentionData, business_id: int, source_id: int, seen_at: dt.datetime
) -> dict[str, Any]:
    return {
        "business_id": business_id,
        "source_id": source_id,
        "external_id": item.external_id,
        "url": item.url,
        "author": item.author,
        "rating": item.rating,
        "rating_scale": item.rating_scale,
        "rating_normalised": item.rating_normalised,
        "title": item.title,
        "text": item.text,
        "truncated": item.truncated,
        "language": item.language,
        "is_own": item.is_own,
        "reply_text": item.reply_text,
        "published_at": item.published_at,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "content_hash": item.content_hash,
        "revision": 1,
        "extra": item.extra,
    }


def _revise(session: Session, row: Any, item: MentionData, seen_at: dt.datetime) -> None:
    """Keep the old content as a revision, then overwrite the mention with the new one."""
    session.execute(
        insert(MentionRevision).values(
            mention_id=row.id,
            revision=row.revision,
            title=row.title,
            text=row.text,
            rating=row.rating,
            content_hash=row.content_hash,
            seen_from=row.first_seen_at,
            seen_until=row.last_seen_at,
        )
    )
    values = _insert_values(item, 0, 0, seen_at)
    for key in ("business_id", "source_id", "external_id", "first_seen_at"):
        values.pop(key)
    values["revision"] = row.revision + 1
    values["deleted_at"] = None
    session.execute(update(Mention).where(Mention.id == row.id).values(**values))


def mark_deleted(
    session: Session, *, source_id: int, seen_external_ids: Iterable[str], at: dt.datetime
) -> int:
    """After a full listing: mentions of the source it no longer shows are marked deleted."""
    seen = set(seen_external_ids)
    gone = [
        mention_id
        for mention_id, external_id in session.execute(
            select(Mention.id, Mention.external_id).where(
                Mention.source_id == source_id, Mention.deleted_at.is_(None)
            )
        )
        if external_id not in seen
    ]
    for chunk in _chunks(gone, 500):
        session.execute(update(Mention).where(Mention.id.in_(chunk)).values(deleted_at=at))
    return len(gone)


def _chunks(values: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
