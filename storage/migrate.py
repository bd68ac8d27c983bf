"""Alembic, driven from code: upgrade, downgrade and the current revision of a store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# pg_advisory_lock key held while migrating: schedulers and workers starting together on an empty
# PostgreSQL store migrate one at a time (the others then find it at head).
MIGRATION_LOCK_KEY = 0x5257_0011
# Tables that live in the same database but belong to someone else (APScheduler's job store).
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and current_revision(engine) == head_revision():
        return
    with migration_lock(engine):
        if revision == "head" and current_revision(engine) == head_revision():
            return  # another process migrated it while this one waited
        command.upgrade(alembic_config(engine), revision)


def migration_lock(engine: Engine) -> AbstractContextManager[None]:
    """On PostgreSQL, one migrating process at a time; SQLite: no lock."""
    return advisory_lock(engine, MIGRATION_LOCK_KEY)


@contextmanager
def advisory_lock(engine: Engine, key: int) -> Iterator[None]:
    """A PostgreSQL session advisory lock held for the block (other processes wait); on SQLite,
    which serialises its writers itself, nothing."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)


def check(engine: Engine) -> None:
    """Raise if the models and the migrated schema differ (alembic check)."""
    command.check(alembic_config(engine))
