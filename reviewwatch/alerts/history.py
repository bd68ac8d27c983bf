"""A business's negative mentions in 24-hour windows ending now: overall and per topic, from the store.

Window 0 is the last 24 hours; windows 1..`days` the ones before it, so each compares like with
like whatever the hour of the check. A mention counts as the gap and the digest count it
(`storage.labels`): not the business's own, not private, not a duplicate, scored or labelled by
an analyst, at its published time (else first seen), and negative by the label that counts (a
correction, else the reviewer's rating, else the model). Per topic, an opinion counts by the
topic's own polarity (`score_topics.sentiment`) where the model gave one, else the mention's
label (`storage.queries.opinion_selects`). A window's weekday is that of its middle in the
business's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, literal, or_, select, union_all
from sqlalchemy.orm import Session

from storage.queries import V_MENTIONS, opinion_selects

WINDOW = dt.timedelta(hours=24)
OVERALL = ""  # the topic key of "all mentions" (as in the rollup)


@dataclass(slots=True)
class Series:
    """Negative counts of one topic (or overall): `counts[0]` is the last 24 hours."""

    counts: list[int]
    # The negative mentions of the last 24 hours, newest first.
    recent: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class History:
    start: dt.datetime  # of window 0
    end: dt.datetime
    weekdays: list[int]  # of each window, 0 = Monday
    series: dict[str, Series]
    # All counted mentions of each window, whatever their label: the weekday pattern of the
    # business's volume (model.weekday_effects), several times better measured than negatives'.
    volumes: list[int] = field(default_factory=list)

    @property
    def days(self) -> int:
        return len(self.weekdays) - 1


def negative_history(
    session: Session, business_id: int, timezone: str, now: dt.datetime, days: int
) -> History:
    """Window counts of the business's negative mentions, overall and per topic, until `now`."""
    first = now - WINDOW * (days + 1)
    terms = _counted(business_id, first, now)
    v = V_MENTIONS.c
    volumes = [0] * (days + 1)
    rows: list[tuple[str, int, dt.datetime]] = []
    # One statement: every counted mention (the volumes; the negative ones, the overall series)
    # and the negative opinions per topic, united (three queries read these rows before).
    every = select(literal(OVERALL).label("topic"), v.label, v.mention_id, v.counted_at).where(
        *terms
    )
    united = union_all(every, *opinion_selects(terms, v.mention_id, v.counted_at)).subquery()
    u = united.c
    for topic, label, mention_id, at in session.execute(
        select(u.topic, u.label, u.mention_id, u.counted_at).where(
            or_(u.topic == OVERALL, u.label == "negative")
        )
    ):
        if topic == OVERALL:
            index = int((now - at) / WINDOW)
            if 0 <= index <= days:
                volumes[index] += 1
        if label == "negative":
            rows.append((topic, mention_id, at))
    series: dict[str, Series] = defaultdict(lambda: Series([0] * (days + 1)))
    series[OVERALL]  # always present, even when empty
    for topic, mention_id, at in sorted(rows, key=lambda r: (r[2], r[1]), reverse=True):
        index = int((now - at) / WINDOW)
        if 0 <= index <= days:
            series[topic].counts[index] += 1
            if index == 0:
                series[topic].recent.append(mention_id)
    tz = ZoneInfo(timezone)
    weekdays = [((now - WINDOW * (k + 0.5)).astimezone(tz)).weekday() for k in range(days + 1)]
    return History(now - WINDOW, now, weekdays, dict(series), volumes)


def _counted(business_id: int, start: dt.datetime, end: dt.datetime) -> list[ColumnElement[bool]]:
    """The customers' voice of one business counted in [start, end), on indexed columns."""
    v = V_MENTIONS.c

    def within(col: ColumnElement[dt.datetime]) -> ColumnElement[bool]:
        return and_(col >= start, col < end)

    return [
        v.business_id == business_id,
        or_(
            and_(v.published_at.is_not(None), within(v.published_at)),
            and_(v.published_at.is_(None), within(v.first_seen_at)),
        ),
        v.label.is_not(None),
        v.is_own == false(),
        v.is_private == false(),
        v.duplicate_of_id.is_(None),
    ]
