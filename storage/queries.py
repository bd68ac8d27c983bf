"""Analysts' queries over the views of migration 0002: filters, pages, streams and DataFrames.

`MentionFilter` is shared by the Python API, `reviewwatch query` and the HTTP API; every filter
reaches SQL as a bound parameter. Corrections override the model through the views.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Float,
    Integer,
    Select,
    String,
    Text,
    and_,
    column,
    exists,
    false,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.orm import Session

from storage.errors import InputError
from storage.sources import SOURCE_TYPES
from storage.models import SENTIMENT_LABELS
from storage.types import MAX_ROW_ID, UTCDateTime

Sentiment = Literal["negative", "neutral", "positive"]
SEARCH_MAX_CHARS = 200

V_MENTIONS = table(
    "v_mentions",
    column("mention_id", Integer),
    column("business_id", Integer),
    column("business", String),
    column("source_id", Integer),
    column("source_type", String),
    column("external_id", String),
    column("url", String),
    column("author", String),
    column("rating", Float),
    column("rating_scale", Float),
    column("rating_normalised", Float),
    column("title", Text),
    column("text", Text),
    column("language", String),
    column("is_own", Boolean),
    column("duplicate_of_id", Integer),
    column("published_at", UTCDateTime()),
    column("first_seen_at", UTCDateTime()),
    column("score_id", Integer),
    column("model_id", String),
    column("model_version", String),
    column("model_label", String),
    column("p_negative", Float),
    column("p_neutral", Float),
    column("p_positive", Float),
    column("stars", Float),
    column("scored_at", UTCDateTime()),
    column("label", String),
    column("corrected", Boolean),
    column("topics_corrected", Boolean),
)
# A mention's topics are the model's (score_topics of its current score) unless an analyst set
# them (v_corrected_topics). Queries join these two directly: SQLite cannot push a join into the
# UNION ALL view v_mention_topics, which stays for analysts' own SQL.
SCORE_TOPICS = table("score_topics", column("score_id", Integer), column("topic", String))
V_CORRECTED_TOPICS = table(
    "v_corrected_topics", column("mention_id", Integer), column("topic", String)
)
# What a listing shows of a mention, in this order.
MENTION_COLUMNS = (
    "mention_id", "business", "source_type", "published_at", "language", "rating",
    "rating_scale", "stars", "label", "model_label", "corrected", "p_negative", "p_neutral",
    "p_positive", "author", "title", "text", "url",
)


class MentionFilter(BaseModel):
    """Which mentions an analyst looks at; every field is optional and they combine with AND."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    business: str | None = Field(default=None, max_length=64, description="Business id (slug).")
    source: str | None = Field(default=None, max_length=32, description="Source type.")
    language: str | None = Field(default=None, max_length=16, description="Language code.")
    topic: str | None = Field(default=None, max_length=64, description="Topic key.")
    sentiment: Sentiment | None = Field(default=None, description="Label, corrections included.")
    min_rating: float | None = Field(default=None, ge=1, le=5, description="Lowest rating, 1..5.")
    max_rating: float | None = Field(default=None, ge=1, le=5, description="Highest rating, 1..5.")
    since: dt.date | None = Field(default=None, description="First day (UTC), inclusive.")
    until: dt.date | None = Field(default=None, description="Last day (UTC), inclusive.")
    search: str | None = Field(
        default=None, max_length=SEARCH_MAX_CHARS, description="Text contained, any case."
    )
    include_own: bool = Field(default=False, description="Include the business's own posts.")
    include_duplicates: bool = Field(default=False, description="Include cross-posted copies.")

    @field_validator("business", "source", "language", "topic", "search", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and any(ord(c) < 32 for c in value):
            # PostgreSQL refuses NUL in text; no key, code or search needs control characters.
            raise ValueError("control characters are not allowed")
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _ranges(self) -> MentionFilter:
        if self.until is not None and self.until >= dt.date.max:
            # The filter counts up to the start of the next day, which 9999-12-31 has not.
            raise ValueError(f"until: the last day that can be given is {dt.date.max - dt.timedelta(days=1)}")
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")
        if self.min_rating and self.max_rating and self.min_rating > self.max_rating:
            raise ValueError(f"min_rating ({self.min_rating}) is above max_rating ({self.max_rating})")
        return self


def make_filter(**values: Any) -> MentionFilter:
    """A MentionFilter from user input; InputError naming each bad field otherwise."""
    try:
        return MentionFilter(**values)
    except ValidationError as exc:
        parts = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(p) for p in error["loc"]) or "filter"
            parts.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
        raise InputError("invalid filter: " + "; ".join(parts)) from None


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def filter_clauses(flt: MentionFilter) -> list[ColumnElement[bool]]:
    """The WHERE terms of a filter over `v_mentions` (all values bound, none interpolated)."""
    v = V_MENTIONS.c
    terms: list[ColumnElement[bool]] = []
    equal = {"business": v.business, "source": v.source_type, "language": v.language}
    for name, col in equal.items():
        value = getattr(flt, name)
        if value is not None:
            terms.append(col == value)
    if flt.sentiment:
        terms.append(v.label == flt.sentiment)
    if flt.topic:
        terms.append(has_topic(flt.topic))
    # Ratings on any scale are compared as 1..5 stars through their normalised value.
    if flt.min_rating is not None:
        terms.append(v.rating_normalised >= (flt.min_rating - 1) / 4)
    if flt.max_rating is not None:
        terms.append(v.rating_normalised <= (flt.max_rating - 1) / 4)
    if flt.since:
        terms.append(v.published_at >= _day_start(flt.since))
    if flt.until:
        terms.append(v.published_at < _day_start(flt.until + dt.timedelta(days=1)))
    if flt.search:
        pattern = f"%{escape_like(flt.search)}%"
        terms.append(or_(v.text.ilike(pattern, escape="\\"), v.title.ilike(pattern, escape="\\")))
    if not flt.include_own:
        terms.append(v.is_own == false())
    if not flt.include_duplicates:
        terms.append(v.duplicate_of_id.is_(None))
    return terms


def has_topic(topic: str) -> ColumnElement[bool]:
    # Aliases: the enclosing query may itself join score_topics (topic aggregates).
    v = V_MENTIONS.c
    st, ct = SCORE_TOPICS.alias("topic_filter").c, V_CORRECTED_TOPICS.alias("topic_fixed").c
    return or_(
        and_(v.topics_corrected == false(),
             exists().where(st.score_id == v.score_id, st.topic == topic)),
        and_(v.topics_corrected == true(),
             exists().where(ct.mention_id == v.mention_id, ct.topic == topic)),
    )


def mentions_query(flt: MentionFilter, columns: Sequence[str] = MENTION_COLUMNS) -> Select[Any]:
    """Mentions matching `flt`, newest first (undated ones last), as a SELECT on `v_mentions`."""
    v = V_MENTIONS.c
    return (
        select(*(v[name] for name in columns))
        .where(*filter_clauses(flt))
        .order_by(v.published_at.desc().nulls_last(), v.mention_id.desc())
    )


def mentions_frame(
    session: Session | Connection, flt: MentionFilter, *, limit: int | None = None
) -> pd.DataFrame:
    """The mentions matching `flt` as a DataFrame (newest first), with their topics."""
    query = mentions_query(flt)
    if limit is not None:
        query = query.limit(limit)
    result = session.execute(query)
    frame = pd.DataFrame.from_records([tuple(r) for r in result], columns=list(MENTION_COLUMNS))
    topics = topics_of(session, [int(i) for i in frame["mention_id"]])
    frame["topics"] = [topics.get(int(i), []) for i in frame["mention_id"]]
    return frame


def iter_mention_chunks(
    connection: Connection, flt: MentionFilter, *, chunk_size: int = 2000, limit: int | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Stream the matching mentions in chunks (a server-side cursor on PostgreSQL)."""
    query = mentions_query(flt)
    if limit is not None:
        query = query.limit(limit)
    result = connection.execution_options(stream_results=True, yield_per=chunk_size).execute(query)
    for rows in result.mappings().partitions():
        chunk = [dict(row) for row in rows]
        topics = topics_of(connection, [row["mention_id"] for row in chunk])
        for row in chunk:
            row["topics"] = topics.get(row["mention_id"], [])
        yield chunk


def topics_of(session: Session | Connection, mention_ids: Sequence[int]) -> dict[int, list[str]]:
    """mention id -> its topics (a correction's, else the current score's), sorted."""
    out: dict[int, list[str]] = {}
    v, st, ct = V_MENTIONS.c, SCORE_TOPICS.c, V_CORRECTED_TOPICS.c
    for start in range(0, len(mention_ids), 500):  # bounded IN lists
        ids = list(mention_ids[start : start + 500])
        model = (
            select(v.mention_id, st.topic)
            .select_from(V_MENTIONS.join(SCORE_TOPICS, st.score_id == v.score_id))
            .where(v.mention_id.in_(ids), v.topics_corrected == false())
        )
        analysts = select(ct.mention_id, ct.topic).where(ct.mention_id.in_(ids))
        for query in (model, analysts):
            for mention_id, topic in session.execute(query):
                out.setdefault(mention_id, []).append(topic)
    return {key: sorted(set(value)) for key, value in out.items()}


@dataclass(frozen=True, slots=True)
class MentionPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(published_at: dt.datetime | None, mention_id: int) -> str:
    payload = json.dumps([published_at.isoformat() if published_at else None, mention_id])
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime | None, int]:
    """The position a cursor names; InputError when it was not made by `encode_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, mention_id = json.loads(raw)
        published = dt.datetime.fromisoformat(when) if when is not None else None
        if not isinstance(mention_id, int) or not 0 <= mention_id <= MAX_ROW_ID:
            raise ValueError  # no row has that id: it cannot have come from a page
        if published and published.tzinfo is None:
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InputError("invalid cursor: pass back the next_cursor of a previous page") from None
    return published, mention_id


def _page_query(flt: MentionFilter, *, dated: bool) -> Select[Any]:
    """Dated mentions newest first, or undated ones; each order walks an index."""
    v = V_MENTIONS.c
    query = select(*(v[name] for name in MENTION_COLUMNS)).where(*filter_clauses(flt))
    if dated:
        return query.where(v.published_at.is_not(None)).order_by(
            v.published_at.desc(), v.mention_id.desc()
        )
    return query.where(v.published_at.is_(None)).order_by(v.mention_id.desc())


def mention_page(
    session: Session, flt: MentionFilter, *, limit: int, cursor: str | None = None
) -> MentionPage:
    """One page of mentions, newest first then undated (keyset: stable while new ones arrive).

    Dated and undated mentions are read by two queries rather than one ORDER BY ... NULLS LAST,
    which PostgreSQL cannot take from the published_at index.
    """
    v = V_MENTIONS.c
    position = decode_cursor(cursor) if cursor else None
    rows: list[dict[str, Any]] = []
    if position is None or position[0] is not None:
        query = _page_query(flt, dated=True)
        if position is not None:
            published, after = position
            query = query.where(or_(
                v.published_at < published,
                and_(v.published_at == published, v.mention_id < after),
            ))
        rows = [dict(row) for row in session.execute(query.limit(limit + 1)).mappings()]
    undated_possible = flt.since is None and flt.until is None
    if len(rows) <= limit and undated_possible:
        query = _page_query(flt, dated=False)
        if position is not None and position[0] is None:
            query = query.where(v.mention_id < position[1])
        more = session.execute(query.limit(limit + 1 - len(rows))).mappings()
        rows += [dict(row) for row in more]
    has_more = len(rows) > limit
    rows = rows[:limit]
    topics = topics_of(session, [row["mention_id"] for row in rows])
    for row in rows:
        row["topics"] = topics.get(row["mention_id"], [])
    last = rows[-1] if rows and has_more else None
    next_cursor = encode_cursor(last["published_at"], last["mention_id"]) if last else None
    return MentionPage(items=rows, next_cursor=next_cursor)


def validate_filter(
    session: Session, flt: MentionFilter, *, known_topics: Sequence[str]
) -> MentionFilter:
    """Refuse (InputError) a filter naming a business, source or topic that does not exist."""
    from storage.models import Business

    if flt.topic and flt.topic not in known_topics:
        raise InputError(f"unknown topic {flt.topic!r} (known: {', '.join(sorted(known_topics))})")
    if flt.business:
        found = session.scalar(select(Business.id).where(Business.slug == flt.business))
        if found is None:
            raise InputError(f"unknown business {flt.business!r}")
    if flt.source:
        if flt.source not in SOURCE_TYPES:
            raise InputError(f"unknown source type {flt.source!r} (known: {', '.join(SOURCE_TYPES)})")
    if flt.sentiment and flt.sentiment not in SENTIMENT_LABELS:  # pragma: no cover - typed
        raise InputError(f"unknown sentiment {flt.sentiment!r}")
    return flt
