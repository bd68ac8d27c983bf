"""repair dates from the future: mentions count when first seen, cursors come back to the present

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

A review dated 2999-01-01 used to be stored as published then, and the source's cursor
(`sources.state.newest_published`) moved to 2999, so every later review looked old and each
crawl read one page. The crawler no longer trusts a published time more than a day after the
crawl (crawler/spiders/base.py); this repairs what was stored before:

- a mention published more than a day after it was first seen gets `published_at` NULL (it
  counts at its first-seen time) and keeps the claimed date as `extra.claimed_published_at`;
- a cursor newer than the newest trusted published time of its source's mentions goes back to
  that time (or is removed when the source has none).

Data only: the schema is unchanged, so downgrading changes nothing (the claimed dates stay in
`extra`, where they can be read back).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SLACK = dt.timedelta(days=1)  # as crawler.spiders.base.FUTURE_SLACK
CURSOR = "newest_published"

mentions = sa.table(
    "mentions",
    sa.column("id", sa.Integer),
    sa.column("source_id", sa.Integer),
    sa.column("published_at", UTCDateTime()),
    sa.column("first_seen_at", UTCDateTime()),
    sa.column("extra", sa.JSON),
)
sources = sa.table("sources", sa.column("id", sa.Integer), sa.column("state", sa.JSON))


def upgrade() -> None:
    connection = op.get_bind()
    untrust_future_mentions(connection)
    repair_cursors(connection)


def untrust_future_mentions(connection: Any) -> int:
    # Published after first seen is rare (a clock skew, a future date): few rows to look at.
    candidates = connection.execute(
        sa.select(mentions.c.id, mentions.c.published_at, mentions.c.first_seen_at,
                  mentions.c.extra)
        .where(mentions.c.published_at > mentions.c.first_seen_at)
    ).all()
    repaired = 0
    for mention_id, published, first_seen, extra in candidates:
        if published <= first_seen + SLACK:
            continue
        details = {**(extra or {}), "claimed_published_at": published.isoformat()}
        connection.execute(
            sa.update(mentions)
            .where(mentions.c.id == mention_id)
            .values(published_at=None, extra=details)
        )
        repaired += 1
    return repaired


def repair_cursors(connection: Any) -> int:
    newest = dict(
        connection.execute(
            sa.select(mentions.c.source_id, sa.func.max(mentions.c.published_at))
            .group_by(mentions.c.source_id)
        ).all()
    )
    repaired = 0
    for source_id, state in connection.execute(sa.select(sources.c.id, sources.c.state)).all():
        cursor = _parse((state or {}).get(CURSOR))
        if cursor is None:
            continue
        trusted = newest.get(source_id)
        trusted = trusted if trusted is None or trusted.tzinfo else trusted.replace(tzinfo=dt.UTC)
        if trusted is not None and cursor <= trusted:
            continue
        new_state = {k: v for k, v in state.items() if k != CURSOR}
        if trusted is not None:
            new_state[CURSOR] = trusted.isoformat()
        connection.execute(sa.update(sources).where(sources.c.id == source_id).values(state=new_state))
        repaired += 1
    return repaired


def _parse(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def downgrade() -> None:
    """Nothing to undo in the schema; the repaired data is kept."""
