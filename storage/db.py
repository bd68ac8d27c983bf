"""Connecting to the store: engine set-up per backend, sessions, and migrations on first use.

`database_url` (env `REVIEWWATCH_DATABASE_URL`) selects PostgreSQL; otherwise a SQLite file
under `data_dir` is used, in WAL mode with foreign keys on. The pool's size, overflow and wait
come from `database_pool_size`, `database_max_overflow` and `database_pool_timeout_s`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import StoreError


def normalise_url(url: str) -> URL:
    """Parse a database URL, choosing psycopg 3 for PostgreSQL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"invalid database URL {_masked(url)!r}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
        )
    return parsed


def _masked(url: str) -> str:
    """An unparsable URL with whatever follows `user:` up to `@` hidden (it may be a password)."""
    return re.sub(r"(//[^/@:]*:)[^@]*@", r"\1***@", url)


def safe_url(url: URL | str) -> str:
    """The URL with its password hidden, for messages and logs."""
    parsed = url if isinstance(url, URL) else make_url(url)
    return parsed.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """The connection pool: `size` kept open, `overflow` more when busy, `timeout_s` to wait."""

    size: int = 5
    overflow: int = 10
    timeout_s: float = 30.0

    @property
    def capacity(self) -> int:
        """How many connections can be in use at once."""
        return self.size + self.overflow


def make_engine(url: str, pool: PoolOptions | None = None) -> Engine:
    parsed = normalise_url(url)
    pool = pool or PoolOptions()
    sizes = {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": pool.timeout_s}
    if parsed.get_backend_name() == "sqlite":
        in_memory = not parsed.database or parsed.database == ":memory:"
        if not in_memory:
            Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        # An in-memory database lives in one connection (a singleton pool, no sizes).
        engine = create_engine(parsed, connect_args={"timeout": 30}, **({} if in_memory else sizes))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A server's connections are kept once opened, up to size + overflow: QueuePool closes an
    # overflow connection as soon as it is returned to a full pool, so a process busy above
    # `size` (a worker's 64 threads, `serve` under load) opened and closed connections all the
    # time, and PostgreSQL forks a backend for each (3 a second in one scale-bench worker).
    sizes = {"pool_size": pool.capacity, "max_overflow": 0, "pool_timeout": pool.timeout_s}
    return create_engine(
        parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10}, **sizes
    )


def store_exists(url: str) -> bool:
    """Whether a store was created at `url` (a migrated schema), creating nothing to find out."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or not Path(database).is_file():
            return False
    store = Store(url, migrate=False)
    try:
        from storage.migrate import current_revision

        return current_revision(store.engine) is not None
    finally:
        store.dispose()


class Store:
    """The sentiment store: an engine, a session factory, and the schema kept at head."""

    def __init__(self, url: str, *, migrate: bool = True, pool: PoolOptions | None = None) -> None:
        self.url = url
        self.pool = pool or PoolOptions()
        self.engine = make_engine(url, self.pool)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Reads run outside any transaction (see `reading`): the same pool, autocommit.
        self._reads = sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                                   expire_on_commit=False)
        self.check_connection()
        if migrate:
            from storage.migrate import upgrade

            upgrade(self.engine)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def check_connection(self) -> None:
        try:
            with self.engine.connect():
                pass
        except (DBAPIError, SQLAlchemyError) as exc:
            reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
            raise StoreError(f"cannot connect to the store {safe_url(self.url)}: {reason}") from None

    def session(self) -> Session:
        return self._sessions()

    def reading(self) -> Session:
        """A session that only reads: each statement runs on its own, outside a transaction.

        What it sees is what `session()` sees at PostgreSQL's READ COMMITTED, where each statement
        reads what was committed before it began; it locks nothing and must write nothing (a
        write would be committed at once). Why not a transaction: a read session ends with a
        ROLLBACK, and psycopg drops every statement it had prepared on the connection at each
        ROLLBACK, so no statement of a worker's ever stayed prepared and PostgreSQL planned each
        one anew (the views' plans take 0.5-1.6 ms each); the BEGIN and ROLLBACK are two round
        trips more.
        """
        return self._reads()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def table_names(self) -> list[str]:
        return inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        self.engine.dispose()
