"""Time buckets in SQL: the first day of a mention's day, week or month on either backend."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Date, cast, func
from sqlalchemy.sql import ColumnElement

Bucket = Literal["day", "week", "month"]


def bucket_expression(dialect: str, bucket: Bucket, col: Any) -> ColumnElement[Any]:
    """The first day of `col`'s bucket, as an ISO date string on SQLite and a DATE elsewhere."""
    if dialect == "sqlite":
        if bucket == "day":
            return func.date(col)
        if bucket == "week":
            return func.date(col, "-6 days", "weekday 1")
        return func.strftime("%Y-%m-01", col)
    return cast(func.date_trunc(bucket, func.timezone("UTC", col)), Date)
