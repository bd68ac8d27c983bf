"""INSERT ... ON CONFLICT DO NOTHING on both backends: a row that another process inserted first
is left alone, where a plain INSERT would fail on the unique key (two schedulers starting
together on an empty store both syncing the configuration; two claiming one cycle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def insert_ignore(
    session: Session,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    conflict_on: Sequence[str],
) -> bool:
    """Insert one row unless its unique key `conflict_on` is taken; True if this call inserted it.

    Column defaults (timestamps, empty JSON) apply as for an ORM insert.
    """
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict_on))
        # A row comes back only if this statement inserted it (rowcount is not reliable here:
        # psycopg reports -1 when SQLAlchemy adds RETURNING of its own).
        .returning(*table.primary_key.columns)
    )
    result = cast(CursorResult[Any], session.execute(statement))
    return result.first() is not None
