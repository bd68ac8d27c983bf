"""Migration 0009 on both backends: mentions dated in the future count when first seen (the
claimed date kept), and a cursor poisoned by one comes back to the newest trusted date."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from storage.db import Store
from storage.migrate import alembic_config, upgrade
from storage.types import UTCDateTime

T = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)


def _table(name: str, *columns: sa.ColumnClause) -> sa.TableClause:
    return sa.table(name, *columns)


businesses = _table("businesses", sa.column("id"), sa.column("slug"), sa.column("name"),
                    sa.column("timezone"), sa.column("created_at", UTCDateTime()),
                    sa.column("updated_at", UTCDateTime()))
sources = _table("sources", sa.column("id"), sa.column("business_id"), sa.column("type"),
                 sa.column("target"), sa.column("options", sa.JSON), sa.column("state", sa.JSON),
                 sa.column("active"), sa.column("created_at", UTCDateTime()))
mentions = _table("mentions", sa.column("id"), sa.column("business_id"), sa.column("source_id"),
                  sa.column("external_id"), sa.column("text"), sa.column("truncated"),
                  sa.column("is_own"), sa.column("published_at", UTCDateTime()),
                  sa.column("first_seen_at", UTCDateTime()), sa.column("last_seen_at", UTCDateTime()),
                  sa.column("content_hash"), sa.column("revision"), sa.column("extra", sa.JSON))


def test_future_dates_and_cursors_are_repaired(database_url: str) -> None:
    store = Store(database_url, migrate=False)
    before = ScriptDirectory.from_config(alembic_config()).get_revision("0009").down_revision
    upgrade(store.engine, str(before))
    with store.engine.begin() as connection:
        connection.execute(sa.insert(businesses).values(id=1, slug="b", name="B", timezone="UTC",
                                                        created_at=T, updated_at=T))
        for source_id, state in ((1, {"newest_published": "2999-01-01T00:00:00+00:00", "x": 1}),
                                 (2, {"newest_published": "2026-09-30T00:00:00+00:00"}),
                                 (3, {"newest_published": "2999-01-01T00:00:00+00:00"})):
            connection.execute(sa.insert(sources).values(
                id=source_id, business_id=1, type="schema_org", target=f"https://s{source_id}.example/",
                options={}, state=state, active=True, created_at=T))
        rows = [
            (1, 1, dt.datetime(2999, 1, 1, tzinfo=dt.UTC), {"a": 1}),
            (2, 1, dt.datetime(2026, 9, 28, tzinfo=dt.UTC), {}),
            (3, 1, T + dt.timedelta(hours=20), {}),  # a few hours ahead: a clock, trusted
            (4, 2, dt.datetime(2026, 9, 30, tzinfo=dt.UTC), {}),
            (5, 3, dt.datetime(2999, 1, 1, tzinfo=dt.UTC), {}),
        ]
        for mention_id, source_id, published, extra in rows:
            connection.execute(sa.insert(mentions).values(
                id=mention_id, business_id=1, source_id=source_id, external_id=str(mention_id),
                text="t", truncated=False, is_own=False, published_at=published, first_seen_at=T,
                last_seen_at=T, content_hash="h", revision=1, extra=extra))
    upgrade(store.engine)
    with store.engine.connect() as connection:
        got = {row.id: (row.published_at, row.extra) for row in connection.execute(
            sa.select(mentions.c.id, mentions.c.published_at, mentions.c.extra))}
        states = dict(connection.execute(sa.select(sources.c.id, sources.c.state)).all())
    store.dispose()
    assert got[1] == (None, {"a": 1, "claimed_published_at": "2999-01-01T00:00:00+00:00"})
    assert got[2] == (dt.datetime(2026, 9, 28, tzinfo=dt.UTC), {})
    assert got[3] == (T + dt.timedelta(hours=20), {})
    assert got[5][0] is None
    assert states == {
        1: {"newest_published": (T + dt.timedelta(hours=20)).isoformat(), "x": 1},
        2: {"newest_published": "2026-09-30T00:00:00+00:00"},  # in the past: left alone
        3: {},  # no trusted date left: no cursor, the next crawl reads as far as it may
    }
