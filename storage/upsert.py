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
    key = [column.name for column in table.primary_key.columns]
    return bool(insert_ignore_many(session, model, [values], conflict_on, returning=key))


def insert_ignore_many(
    session: Session,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    conflict_on: Sequence[str],
    returning: Sequence[str],
    chunk: int = 500,
) -> list[tuple[Any, ...]]:
    """`insert_ignore` for many rows, one statement per `chunk` rows (not one per row): the
    `returning` columns of the rows this call inserted; a row whose key was taken is left alone.

    The rows must name the same columns (one multi-row VALUES list).
    """
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), chunk):
        statement = (
            insert(table)
            .values([dict(row) for row in rows[start : start + chunk]])
            .on_conflict_do_nothing(index_elements=list(conflict_on))
            .returning(*(table.c[name] for name in returning))
        )
        # A row comes back only if this statement inserted it (rowcount is not reliable here:
        # psycopg reports -1 when SQLAlchemy adds RETURNING of its own).
        result = cast(CursorResult[Any], session.execute(statement))
        out.extend(tuple(row) for row in result)
    return out
