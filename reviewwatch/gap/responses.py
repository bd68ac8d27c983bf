"""Response figures: how many negative mentions the business answered, and how fast.

Over the follow-up items of mentions that still count as negative (`followup_items.negative`),
public and feedback alike, dated by when the mention counts (published, else first seen) within
a window: the response rate (items with a first response / items, 95% Wilson interval) and the
time to first response in hours (median and 90th percentile of the answered items, linear
interpolation between closest ranks). Per source type and per period (the gap report's week or
month). A dismissed item without a reply counts as not answered: dismissing is no answer.
`within(hours)` is the share answered within that many hours, for `response_within_hours` claims.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviewwatch.gap.perceived import month_key, week_key
from reviewwatch.gap.stats import Estimate, wilson
from storage.models import FOLLOWUP_STATES, FollowupItem, Mention, Source

METHOD = ("negative mentions (public and feedback) of the window; response rate with a 95% "
          "Wilson interval; hours from the mention to its first reply (the crawler's or the "
          "owner's), median and 90th percentile (linear interpolation)")


@dataclass(frozen=True, slots=True)
class Answered:
    """One negative mention's follow-up: when it counts, where, its state, hours to a reply."""

    at: dt.datetime
    source_type: str
    state: str
    hours: float | None  # None: not answered


@dataclass(frozen=True, slots=True)
class ResponseFigures:
    negative_mentions: int
    replied: int
    response_rate: Estimate | None
    median_hours: float | None
    p90_hours: float | None
    states: dict[str, int]
    hours: tuple[float, ...] = ()

    def within(self, limit_hours: float) -> tuple[int, Estimate | None]:
        """How many were answered within `limit_hours`, and that share of all, with its interval."""
        inside = sum(1 for h in self.hours if h <= limit_hours)
        return inside, wilson(inside, self.negative_mentions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "negative_mentions": self.negative_mentions,
            "replied": self.replied,
            "response_rate": None if self.response_rate is None else self.response_rate.to_dict(),
            "median_hours": _round(self.median_hours),
            "p90_hours": _round(self.p90_hours),
            "states": dict(self.states),
        }


@dataclass(frozen=True, slots=True)
class ResponseGroup:
    key: str
    figures: ResponseFigures

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, **self.figures.to_dict()}


@dataclass(frozen=True, slots=True)
class ResponseReport:
    overall: ResponseFigures
    granularity: str
    by_source: list[ResponseGroup] = field(default_factory=list)
    by_period: list[ResponseGroup] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.overall.to_dict(),
            "granularity": self.granularity,
            "by_source": [g.to_dict() for g in self.by_source],
            "by_period": [g.to_dict() for g in self.by_period],
            "method": METHOD,
        }


def load_answered(
    session: Session, business_id: int, since: dt.datetime | None, until: dt.datetime
) -> list[Answered]:
    counted = func.coalesce(Mention.published_at, Mention.first_seen_at)
    query = (
        select(counted.label("at"), Source.type, FollowupItem.state, FollowupItem.first_response_at)
        .join(Mention, Mention.id == FollowupItem.mention_id)
        .join(Source, Source.id == Mention.source_id)
        .where(FollowupItem.business_id == business_id, FollowupItem.negative.is_(True),
               counted < until)
    )
    if since is not None:
        query = query.where(counted >= since)
    found = []
    for at, source_type, state, first in session.execute(query):
        hours = None
        if first is not None:
            # a reply dated before its review (clocks, time zones) is an immediate one
            hours = max(0.0, (first - at).total_seconds() / 3600.0)
        found.append(Answered(at, source_type, state, hours))
    return found


def figures(answered: Sequence[Answered]) -> ResponseFigures:
    hours = sorted(a.hours for a in answered if a.hours is not None)
    states = dict.fromkeys(FOLLOWUP_STATES, 0)
    for a in answered:
        states[a.state] = states.get(a.state, 0) + 1
    return ResponseFigures(
        negative_mentions=len(answered),
        replied=len(hours),
        response_rate=wilson(len(hours), len(answered)),
        median_hours=percentile(hours, 0.5),
        p90_hours=percentile(hours, 0.9),
        states=states,
        hours=tuple(hours),
    )


def response_report(
    session: Session, business_id: int, since: dt.datetime | None, until: dt.datetime,
    granularity: str = "month",
) -> ResponseReport:
    return report_of(load_answered(session, business_id, since, until), granularity)


def report_of(answered: Sequence[Answered], granularity: str = "month") -> ResponseReport:
    period: Callable[[dt.datetime], str] = week_key if granularity == "week" else month_key
    return ResponseReport(
        overall=figures(answered),
        granularity=granularity,
        by_source=_groups(answered, lambda a: a.source_type),
        by_period=_groups(answered, lambda a: period(a.at)),
    )


def _groups(answered: Sequence[Answered], key: Callable[[Answered], str]) -> list[ResponseGroup]:
    members: dict[str, list[Answered]] = {}
    for a in answered:
        members.setdefault(key(a), []).append(a)
    return [ResponseGroup(k, figures(members[k])) for k in sorted(members)]


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """The q-quantile of sorted values, interpolating linearly between closest ranks."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
