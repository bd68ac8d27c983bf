"""Analysts' queries over the views (migrations 0002, 0003, 0008): filters, pages, streams, frames.

`MentionFilter` is shared by the Python API, `reviewwatch query` and the HTTP API; every filter
reaches SQL as a bound parameter. A mention's label is the one that counts (`storage.labels`:
correction, else rating, else model); a mention is in a period by its published time, else its
first-seen time; with a topic, the sentiment filter is about the opinion on that topic.
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
    func,
    null,
    or_,
    select,
    table,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from storage.errors import InputError
from storage.sources import FEEDBACK, SOURCE_TYPES
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
    column("is_private", Boolean),
    column("duplicate_of_id", Integer),
    column("published_at", UTCDateTime()),
    column("first_seen_at", UTCDateTime()),
    # when the mention counts: published_at, else first_seen_at (migration 0008)
    column("counted_at", UTCDateTime()),
    column("score_id", Integer),
    column("model_id", String),
    column("model_version", String),
    column("model_label", String),
    column("p_negative", Float),
    column("p_neutral", Float),
    column("p_positive", Float),
    column("stars", Float),
    column("scored_at", UTCDateTime()),
    column("rating_label", String),
    column("label", String),
    column("label_source", String),
    column("corrected", Boolean),
    column("topics_corrected", Boolean),
)
# A mention's topics are the model's (score_topics of its current score) unless an analyst set
# them (v_corrected_topics). Queries join these two directly: SQLite cannot push a join into the
# UNION ALL view v_mention_topics, which stays for analysts' own SQL.
SCORE_TOPICS = table(
    "score_topics", column("score_id", Integer), column("topic", String),
    column("sentiment", String),
)
V_CORRECTED_TOPICS = table(
    "v_corrected_topics", column("mention_id", Integer), column("topic", String)
)
# What a listing shows of a mention, in this order.
MENTION_COLUMNS = (
    "mention_id", "business", "source_type", "published_at", "language", "rating",
    "rating_scale", "stars", "label", "model_label", "rating_label", "label_source", "corrected",
    "p_negative", "p_neutral",
    "p_positive", "author", "title", "text", "url",
)


class MentionFilter(BaseModel):
    """Which mentions an analyst looks at; every field is optional and they combine with AND."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    business: str | None = Field(default=None, max_length=64, description="Business id (slug).")
    source: str | None = Field(default=None, max_length=32, description="Source type.")
    language: str | None = Field(default=None, max_length=16, description="Language code.")
    topic: str | None = Field(default=None, max_length=64, description="Topic key.")
    sentiment: Sentiment | None = Field(
        default=None,
        description="The label that counts (correction, else rating, else model); with a topic, "
        "the opinion about that topic.",
    )
    min_rating: float | None = Field(default=None, ge=1, le=5, description="Lowest rating, 1..5.")
    max_rating: float | None = Field(default=None, ge=1, le=5, description="Highest rating, 1..5.")
    since: dt.date | None = Field(default=None, description="First day (UTC), inclusive.")
    until: dt.date | None = Field(default=None, description="Last day (UTC), inclusive.")
    search: str | None = Field(
        default=None, max_length=SEARCH_MAX_CHARS, description="Text contained, any case."
    )
    include_own: bool = Field(default=False, description="Include the business's own posts.")
    include_duplicates: bool = Field(default=False, description="Include cross-posted copies.")
    disagree: bool = Field(
        default=False, description="Only rated mentions whose rating and model label differ."
    )

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


def filter_clauses(flt: MentionFilter, *, dated: bool | None = None) -> list[ColumnElement[bool]]:
    """The WHERE terms of a filter over `v_mentions` (all values bound, none interpolated).

    `dated`: the caller reads only dated (True) or only undated (False) mentions, so the period
    can be matched on one indexed column; None: both (the counted time, either column).
    """
    v = V_MENTIONS.c
    terms: list[ColumnElement[bool]] = []
    equal = {"business": v.business, "source": v.source_type, "language": v.language}
    for name, col in equal.items():
        value = getattr(flt, name)
        if value is not None:
            terms.append(col == value)
    if flt.topic:
        terms.append(has_topic(flt.topic, flt.sentiment))
    elif flt.sentiment:
        terms.append(v.label == flt.sentiment)
    if flt.disagree:
        terms += [v.rating_label.is_not(None), v.model_label.is_not(None),
                  v.rating_label != v.model_label]
    # Ratings on any scale are compared as 1..5 stars through their normalised value.
    if flt.min_rating is not None:
        terms.append(v.rating_normalised >= (flt.min_rating - 1) / 4)
    if flt.max_rating is not None:
        terms.append(v.rating_normalised <= (flt.max_rating - 1) / 4)
    terms += period_terms(flt.since, flt.until, dated=dated)
    if flt.search:
        pattern = f"%{escape_like(flt.search)}%"
        terms.append(or_(v.text.ilike(pattern, escape="\\"), v.title.ilike(pattern, escape="\\")))
    if not flt.include_own:
        terms.append(v.is_own == false())
    # Answers to feedback requests are private: listed only when that source is asked for.
    if flt.source != FEEDBACK:
        terms.append(v.is_private == false())
    if not flt.include_duplicates:
        terms.append(v.duplicate_of_id.is_(None))
    return terms


def period_terms(
    since: dt.date | None, until: dt.date | None, *, dated: bool | None = None
) -> list[ColumnElement[bool]]:
    """Mentions counted in the UTC days [since, until]: by published time, else first-seen time.

    Written on the two columns rather than on `counted_at`, so that each branch walks an index.
    """
    v = V_MENTIONS.c
    if since is None and until is None:
        return []

    def within(col: Any) -> ColumnElement[bool]:
        parts = []
        if since is not None:
            parts.append(col >= _day_start(since))
        if until is not None:
            parts.append(col < _day_start(until + dt.timedelta(days=1)))
        return and_(*parts)

    published = and_(v.published_at.is_not(None), within(v.published_at))
    first_seen = and_(v.published_at.is_(None), within(v.first_seen_at))
    if dated is True:
        return [published]
    if dated is False:
        return [first_seen]
    return [or_(published, first_seen)]


def has_topic(topic: str, sentiment: str | None = None) -> ColumnElement[bool]:
    """The mention talks about `topic` (with this opinion about it, when `sentiment` is given)."""
    # Aliases: the enclosing query may itself join score_topics (topic aggregates).
    v = V_MENTIONS.c
    st, ct = SCORE_TOPICS.alias("topic_filter").c, V_CORRECTED_TOPICS.alias("topic_fixed").c
    model = exists().where(st.score_id == v.score_id, st.topic == topic)
    fixed: ColumnElement[bool] = exists().where(ct.mention_id == v.mention_id, ct.topic == topic)
    if sentiment is not None:
        # the topic's own polarity, else the mention's label (an analyst's topics have none)
        model = model.where(func.coalesce(st.sentiment, v.label) == sentiment)
        fixed = and_(fixed, v.label == sentiment)
    return or_(
        and_(v.topics_corrected == false(), model),
        and_(v.topics_corrected == true(), fixed),
    )


def opinion_selects(
    terms: Sequence[ColumnElement[bool]], *columns: Any, topic: str | None = None
) -> tuple[Select[Any], Select[Any]]:
    """Each opinion of the mentions matching `terms`, as (topic, label, *columns) rows of two
    SELECTs to be united.

    An opinion is a topic of a mention with the label that counts for it: the topic's own
    polarity (`score_topics.sentiment`) when the model gave one, else the mention's label. The
    model's topics, unless an analyst's replace them: two index-driven branches.
    """
    v, st, ct = V_MENTIONS.c, SCORE_TOPICS.c, V_CORRECTED_TOPICS.c
    model_terms = [*terms, v.topics_corrected == false()]
    fixed_terms = list(terms)
    if topic is not None:
        model_terms.append(st.topic == topic)
        fixed_terms.append(ct.topic == topic)
    model = (
        select(st.topic.label("topic"), func.coalesce(st.sentiment, v.label).label("label"),
               *columns)
        .select_from(V_MENTIONS.join(SCORE_TOPICS, st.score_id == v.score_id))
        .where(*model_terms)
    )
    fixed = (
        select(ct.topic.label("topic"), v.label.label("label"), *columns)
        .select_from(V_MENTIONS.join(V_CORRECTED_TOPICS, ct.mention_id == v.mention_id))
        .where(*fixed_terms)
    )
    return model, fixed


def opinion_rows(
    terms: Sequence[ColumnElement[bool]], *columns: Any, topic: str | None = None
) -> Any:
    """The opinions of `opinion_selects` as one subquery (topic, label, *columns)."""
    return union_all(*opinion_selects(terms, *columns, topic=topic)).subquery("opinions")


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
    opinions = topic_opinions(session, [int(i) for i in frame["mention_id"]])
    frame["topics"] = [sorted(opinions.get(int(i), {})) for i in frame["mention_id"]]
    frame["topic_sentiment"] = [_own(opinions.get(int(i), {})) for i in frame["mention_id"]]
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
        add_topics(connection, chunk)
        yield chunk


def add_topics(session: Session | Connection, rows: list[dict[str, Any]]) -> None:
    """Give each mention row its `topics` (sorted) and `topic_sentiment` (the model's opinion
    about each topic, where it gave one)."""
    opinions = topic_opinions(session, [row["mention_id"] for row in rows])
    for row in rows:
        found = opinions.get(row["mention_id"], {})
        row["topics"] = sorted(found)
        row["topic_sentiment"] = _own(found)


def _own(opinions: dict[str, str | None]) -> dict[str, str]:
    return {topic: label for topic, label in sorted(opinions.items()) if label is not None}


def topic_opinions(
    session: Session | Connection, mention_ids: Sequence[int]
) -> dict[int, dict[str, str | None]]:
    """mention id -> {topic: its own polarity or None} (a correction's topics, else the current
    score's; an analyst's topics carry no polarity of their own)."""
    out: dict[int, dict[str, str | None]] = {}
    v, st, ct = V_MENTIONS.c, SCORE_TOPICS.c, V_CORRECTED_TOPICS.c
    for start in range(0, len(mention_ids), 500):  # bounded IN lists
        ids = list(mention_ids[start : start + 500])
        model = (
            select(v.mention_id, st.topic, st.sentiment)
            .select_from(V_MENTIONS.join(SCORE_TOPICS, st.score_id == v.score_id))
            .where(v.mention_id.in_(ids), v.topics_corrected == false())
        )
        analysts = select(ct.mention_id, ct.topic, null()).where(ct.mention_id.in_(ids))
        for query in (model, analysts):
            for mention_id, topic, sentiment in session.execute(query):
                out.setdefault(mention_id, {})[topic] = sentiment
    return out


def topics_of(session: Session | Connection, mention_ids: Sequence[int]) -> dict[int, list[str]]:
    """mention id -> its topics (a correction's, else the current score's), sorted."""
    return {key: sorted(value) for key, value in topic_opinions(session, mention_ids).items()}


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
    query = select(*(v[name] for name in MENTION_COLUMNS)).where(
        *filter_clauses(flt, dated=dated)
    )
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
    # An undated mention is in a period by its first-seen time, so it may match any filter.
    if len(rows) <= limit:
        query = _page_query(flt, dated=False)
        if position is not None and position[0] is None:
            query = query.where(v.mention_id < position[1])
        more = session.execute(query.limit(limit + 1 - len(rows))).mappings()
        rows += [dict(row) for row in more]
    has_more = len(rows) > limit
    rows = rows[:limit]
    add_topics(session, rows)
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
