from __future__ import annotations

from sqlalchemy import inspect

from storage.db import Store
from storage.migrate import check, current_revision, downgrade, head_revision, upgrade


def test_upgrade_check_downgrade(database_url: str) -> None:
    store = Store(database_url, migrate=False)
    assert current_revision(store.engine) is None
    upgrade(store.engine)
    assert current_revision(store.engine) == head_revision()
    check(store.engine)  # raises when models and migrations disagree
    tables = set(inspect(store.engine).get_table_names())
    assert {"businesses", "sources", "mentions", "mention_revisions", "scores", "claims",
            "crawl_runs", "digests", "digest_items", "corrections"} <= tables
    downgrade(store.engine, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    upgrade(store.engine)
    assert current_revision(store.engine) == head_revision()
    store.dispose()


def test_store_migrates_on_first_use(database_url: str) -> None:
    store = Store(database_url)
    assert current_revision(store.engine) == head_revision()
    Store(database_url).dispose()  # a second open is a no-op
    store.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.dispose()
