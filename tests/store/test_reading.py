"""Store.reading(): read sessions outside a transaction, which keep the connection's prepared
statements (psycopg drops them all at a ROLLBACK, and a read session ended with one)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from storage.db import PoolOptions, Store
from storage.models import Business


def test_a_read_sees_what_was_committed_before_it(database_url: str) -> None:
    store = Store(database_url)
    try:
        with store.reading() as session:
            assert session.scalars(select(Business.slug)).all() == []
        with store.transaction() as session:
            session.add(Business(slug="cafe", name="Café", created_at=dt.datetime.now(dt.UTC)))
        with store.reading() as session:
            assert session.scalars(select(Business.slug)).all() == ["cafe"]
    finally:
        store.dispose()


def test_reads_keep_the_statements_postgresql_has_prepared(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements are PostgreSQL's")
    Store(database_url).dispose()  # migrated
    store = Store(database_url, migrate=False, pool=PoolOptions(size=1, overflow=0))  # one connection
    try:
        query = select(Business.id).where(Business.slug == "cafe")
        for _ in range(8):  # psycopg prepares a statement at its fifth execution
            with store.reading() as session:
                session.execute(query).all()
            with store.transaction() as session:  # a committed transaction keeps them too
                session.execute(query).all()
        with store.engine.connect() as connection:
            prepared = connection.execute(text(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%businesses.slug%'"
            )).scalar_one()
        assert prepared == 1
    finally:
        store.dispose()
