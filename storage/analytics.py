"""Aggregates for analysts: sentiment over time and per topic, with Wilson 95% intervals.

Buckets are UTC days, ISO weeks (starting Monday) or months of the time a mention counts at
(published, else first seen), computed in SQL per backend. The filters are those of
`storage.queries.MentionFilter`; the label that counts is a correction's, else the rating's,
else the model's (`storage.labels`). Per-topic figures count opinions: each topic's own polarity
where the model gave one, else the mention's label.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from sqlalchemy import (
    Date,
    DateTime,
    case,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from storage.buckets import Bucket, bucket_expression
from storage.rollup import rollup_can_answer, rollup_source
from storage.queries import (
    V_MENTIONS,
    MentionFilter,
    filter_clauses,
    opinion_rows,
)

Z_95 = 1.959964
COUNT_COLUMNS = ("mentions", "positive", "neutral", "negative")


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion; (None, None) when there is no observation."""
    if n <= 0:
        return None, None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _counts(source: Any = None) -> list[ColumnElement[Any]]:
    cols = (source if source is not None else V_MENTIONS).c
    return [
        func.count().label("mentions"),
        *(
            func.sum(case((cols.label == name, 1), else_=0)).label(name)
            for name in ("positive", "neutral", "negative")
        ),
        func.avg(cols.stars).label("avg_stars"),
    ]


def _with_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Add positive/negative shares and their Wilson intervals to a frame of counts."""
    for name in COUNT_COLUMNS:
        frame[name] = frame[name].fillna(0).astype(int)
    for label in ("positive", "negative"):
        shares, lows, highs = [], [], []
        for k, n in zip(frame[label], frame["mentions"], strict=True):
            low, high = wilson(int(k), int(n))
            shares.append(k / n if n else None)
            lows.append(low)
            highs.append(high)
        frame[f"{label}_share"] = shares
        frame[f"{label}_low"] = lows
        frame[f"{label}_high"] = highs
    return frame


def _frame(session: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    rows = [tuple(r) for r in session.execute(query)]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    if "bucket" in frame:
        frame["bucket"] = frame["bucket"].map(lambda d: None if d is None else str(d)[:10])
    return _with_shares(frame)


def _scored(flt: MentionFilter) -> list[ColumnElement[bool]]:
    """The filter, over counted mentions (scored or corrected; dated or first seen)."""
    v = V_MENTIONS.c
    return [*filter_clauses(flt), v.label.is_not(None)]


def _opinions(flt: MentionFilter, *, about: str | None = None) -> Any:
    """(topic, label, counted_at, stars) of the opinions the filter selects.

    `about`: only the opinions about that topic, the sentiment filter applying to them (the
    rollup's topic rows); otherwise the sentiment filter applies to each opinion's label, except
    that a topic filter keeps the mentions whose opinion about that topic has that sentiment.
    """
    v = V_MENTIONS.c
    mentions = flt.model_copy(update={"topic": None, "sentiment": None}) if about else flt
    if not about and not flt.topic:
        mentions = flt.model_copy(update={"sentiment": None})
    rows = opinion_rows(_scored(mentions), v.counted_at, v.stars, topic=about)
    if flt.sentiment and (about or not flt.topic):
        return select(rows).where(rows.c.label == flt.sentiment).subquery("opinions_with")
    return rows


def _rollup_counts(rows: Any) -> list[ColumnElement[Any]]:
    return [
        func.sum(rows.c.mentions).label("mentions"),
        *(
            func.sum(case((rows.c.label == name, rows.c.mentions), else_=0)).label(name)
            for name in ("positive", "neutral", "negative")
        ),
        (func.sum(rows.c.stars_sum) / func.nullif(func.sum(rows.c.stars_n), 0)).label("avg_stars"),
    ]


def _day_bucket(dialect: str, bucket: Bucket, day: Any) -> ColumnElement[Any]:
    """The bucket of a DATE column (the rollup's day)."""
    if dialect == "sqlite":
        return bucket_expression(dialect, bucket, day)
    return cast(func.date_trunc(bucket, cast(day, DateTime)), Date)


def sentiment_over_time(session: Session, flt: MentionFilter, bucket: Bucket = "day") -> pd.DataFrame:
    """Per bucket: counts per label, average stars, positive/negative shares with intervals."""
    dialect = session.get_bind().dialect.name
    columns = ["bucket", *COUNT_COLUMNS, "avg_stars"]
    if rollup_can_answer(flt):
        rows = rollup_source(session, flt, topics=False)
        key = _day_bucket(dialect, bucket, rows.c.day).label("bucket")
        query = select(key, *_rollup_counts(rows)).group_by(key).order_by(key)
        return _frame(session, query, columns)
    if flt.topic:  # the opinions about that topic, as the rollup's topic rows count them
        rows = _opinions(flt, about=flt.topic)
        key = bucket_expression(dialect, bucket, rows.c.counted_at).label("bucket")
        query = select(key, *_counts(rows)).group_by(key).order_by(key)
        return _frame(session, query, columns)
    v = V_MENTIONS.c
    key = bucket_expression(dialect, bucket, v.counted_at).label("bucket")
    query = select(key, *_counts()).where(*_scored(flt)).group_by(key).order_by(key)
    return _frame(session, query, columns)


def topic_aggregates(
    session: Session, flt: MentionFilter, bucket: Bucket | None = None
) -> pd.DataFrame:
    """Per topic (and bucket, if given): opinions per label, average stars, shares with intervals."""
    dialect = session.get_bind().dialect.name
    names = ["topic", "bucket"] if bucket else ["topic"]
    # With a topic filter the other topics of those mentions count too: only live rows know.
    if rollup_can_answer(flt) and flt.topic is None:
        rollup = rollup_source(session, flt, topics=True)
        keys: list[Any] = [rollup.c.topic]
        if bucket:
            keys.append(_day_bucket(dialect, bucket, rollup.c.day).label("bucket"))
        query = select(*keys, *_rollup_counts(rollup)).group_by(*keys).order_by(*keys)
        return _frame(session, query, [*names, *COUNT_COLUMNS, "avg_stars"])
    rows = _opinions(flt)
    keys = [rows.c.topic]
    if bucket:
        keys.append(bucket_expression(dialect, bucket, rows.c.counted_at).label("bucket"))
    query = select(*keys, *_counts(rows)).group_by(*keys).order_by(*keys)
    return _frame(session, query, [*names, *COUNT_COLUMNS, "avg_stars"])


def sentiment_over_time_total(session: Session, flt: MentionFilter) -> dict[str, Any]:
    """Counts per label over the whole filter (no buckets); with a topic, of its opinions."""
    if rollup_can_answer(flt):
        rows = rollup_source(session, flt, topics=False)
        row = session.execute(select(*_rollup_counts(rows))).one()
    elif flt.topic:
        opinions = _opinions(flt, about=flt.topic)
        row = session.execute(select(*_counts(opinions))).one()
    else:
        row = session.execute(select(*_counts()).where(*_scored(flt))).one()
    return {name: (row[i] or 0) for i, name in enumerate(COUNT_COLUMNS)}


def daily_sentiment(session: Session, business: str | None = None) -> pd.DataFrame:
    """The view `v_daily_sentiment` (optionally one business) as a DataFrame."""
    return _view_frame(session, "v_daily_sentiment", business, "day")


def topic_weekly(session: Session, business: str | None = None) -> pd.DataFrame:
    """The view `v_topic_weekly` (optionally one business) as a DataFrame."""
    return _view_frame(session, "v_topic_weekly", business, "week")


def _view_frame(session: Session, name: str, business: str | None, order: str) -> pd.DataFrame:
    # `name` and `order` are constants of this module; the business is a bound parameter.
    where = "WHERE business = :business" if business is not None else ""
    query = text(f"SELECT * FROM {name} {where} ORDER BY business, {order}")
    result = session.execute(query, {"business": business} if business is not None else {})
    frame = pd.DataFrame.from_records([tuple(r) for r in result], columns=list(result.keys()))
    frame[order] = frame[order].map(lambda d: str(d)[:10])
    return frame
