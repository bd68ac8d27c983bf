"""The sentiment rollup (migration 0005): recompute dirty days, answer aggregates from it.

Days are those a mention counts at (published, else first seen); labels are those that count
(correction, else rating, else model), and a topic row counts the opinions about the topic (its
own polarity, else the mention's label). Triggers (migration 0008) mark each (business, UTC
day) a score, topic, correction, mention or rating-rule change touches;
`refresh_rollup` claims those marks (DELETE ... RETURNING, so two refreshers never do the same
day) and recomputes the days from the views, inside the caller's transaction. Aggregates whose
filter only names business, topic, sentiment and a period read the rollup; others go live.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, false, func, insert, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from storage.buckets import bucket_expression
from storage.models import Business, RollupDirty, SentimentRollup
from storage.queries import V_MENTIONS, MentionFilter, opinion_selects, period_terms

DAYS_PER_STATEMENT = 200
# Filter fields the rollup can answer (the others need the mentions themselves).
ROLLUP_FIELDS = frozenset({"business", "topic", "sentiment", "since", "until"})
ALL_TOPICS = ""


def rollup_can_answer(flt: MentionFilter) -> bool:
    used = {name for name, value in flt if value not in (None, False)}
    return used <= ROLLUP_FIELDS


def _day(dialect: str, col: Any) -> ColumnElement[Any]:
    return bucket_expression(dialect, "day", col)


def _voice_rows(dialect: str, business_id: int, days: Sequence[dt.date]) -> Any:
    """(day, topic, label, stars) of the customers' voice of one business on some days."""
    v = V_MENTIONS.c
    day = _day(dialect, v.counted_at)
    wanted = [d.isoformat() for d in days] if dialect == "sqlite" else list(days)
    voice = [
        v.business_id == business_id, *period_terms(min(days), max(days)),
        day.in_(wanted), v.label.is_not(None), v.is_own == false(), v.is_private == false(),
        v.duplicate_of_id.is_(None),
    ]
    every = select(literal(ALL_TOPICS).label("topic"), v.label, day.label("day"), v.stars).where(
        *voice
    )
    return union_all(every, *opinion_selects(voice, day.label("day"), v.stars)).subquery("voice")


def _recompute(session: Session, business_id: int, days: Sequence[dt.date]) -> None:
    r = SentimentRollup
    session.execute(delete(r).where(r.business_id == business_id, r.day.in_(list(days))))
    dialect = session.get_bind().dialect.name
    rows = _voice_rows(dialect, business_id, days)
    aggregated = select(
        literal(business_id), rows.c.day, rows.c.topic, rows.c.label, func.count(),
        func.coalesce(func.sum(rows.c.stars), 0.0), func.count(rows.c.stars),
    ).group_by(rows.c.day, rows.c.topic, rows.c.label)
    columns = ["business_id", "day", "topic", "label", "mentions", "stars_sum", "stars_n"]
    session.execute(insert(r).from_select(columns, aggregated))


def refresh_rollup(session: Session, business_ids: Sequence[int] | None = None) -> int:
    """Recompute the dirty days (of these businesses, or all); returns how many days."""
    claim = delete(RollupDirty).returning(RollupDirty.business_id, RollupDirty.day)
    anything = select(RollupDirty.business_id).limit(1)
    if business_ids is not None:
        claim = claim.where(RollupDirty.business_id.in_(list(business_ids)))
        anything = anything.where(RollupDirty.business_id.in_(list(business_ids)))
    # A read first: on SQLite the DELETE takes the store's one write lock (held to the end of
    # the caller's transaction) even when nothing is dirty, serialising every aggregate read.
    if session.execute(anything).first() is None:
        return 0
    dirty: dict[int, list[dt.date]] = defaultdict(list)
    for business_id, day in session.execute(claim):
        dirty[business_id].append(day if isinstance(day, dt.date) else dt.date.fromisoformat(day))
    for business_id, days in dirty.items():
        days.sort()
        for start in range(0, len(days), DAYS_PER_STATEMENT):
            _recompute(session, business_id, days[start : start + DAYS_PER_STATEMENT])
    return sum(len(days) for days in dirty.values())


def rollup_source(session: Session, flt: MentionFilter, *, topics: bool) -> Any:
    """Rollup rows matching `flt` as a subquery (day, topic, label, mentions, stars_sum, stars_n).

    Refreshes the business's dirty days first. `topics`: per-topic rows, else the all-mentions
    rows (restricted to `flt.topic` when given).
    """
    r = SentimentRollup
    business_id = None
    if flt.business:
        business_id = session.scalar(select(Business.id).where(Business.slug == flt.business))
        if business_id is None:
            business_id = -1
    refresh_rollup(session, None if business_id is None else [business_id])
    terms: list[ColumnElement[bool]] = []
    if business_id is not None:
        terms.append(r.business_id == business_id)
    if flt.since:
        terms.append(r.day >= flt.since)
    if flt.until:
        terms.append(r.day <= flt.until)
    if flt.sentiment:
        terms.append(r.label == flt.sentiment)
    if flt.topic and not topics:
        terms.append(r.topic == flt.topic)
    elif topics:
        terms.append(r.topic != ALL_TOPICS)
    else:
        terms.append(r.topic == ALL_TOPICS)
    return (
        select(r.day, r.topic, r.label, r.mentions, r.stars_sum, r.stars_n)
        .where(*terms)
        .subquery("rollup")
    )
