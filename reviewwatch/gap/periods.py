"""Time windows of the gap stage: claim periods, the report's window and the trends' granularity.

A claim's period is "2026-12", "2026-W50" or, for a survey, "2026-01-01..2026-03-31"; the report's
window comes from `gap.period_days`, `--period 30d` or `--since DATE`.

Periods are in UTC; a window is half-open, [start, end).
"""

from __future__ import annotations

import datetime as dt
import re

from reviewwatch.errors import InputError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
_SPAN = re.compile(r"^(\d+)\s*([dwmy])$")
_SPAN_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
# Windows longer than this are charted per month rather than per week.
WEEKLY_TREND_MAX_DAYS = 120


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def parse_period(text: str) -> tuple[dt.datetime, dt.datetime]:
    """A claim's period as a [start, end) window; raise InputError when it is not understood."""
    text = text.strip()
    try:
        if match := _MONTH.match(text):
            year, month = int(match[1]), int(match[2])
            start = dt.date(year, month, 1)
            end = dt.date(year + (month == 12), month % 12 + 1, 1)
            return midnight(start), midnight(end)
        if match := _WEEK.match(text):
            start = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
            return midnight(start), midnight(start + dt.timedelta(days=7))
        if match := _RANGE.match(text):
            first, last = dt.date.fromisoformat(match[1]), dt.date.fromisoformat(match[2])
            if last < first:
                raise ValueError("the period ends before it starts")
            return midnight(first), midnight(last + dt.timedelta(days=1))
    except ValueError as exc:
        raise InputError(f"period {text!r}: {exc}") from None
    raise InputError(f"period {text!r}: use YYYY-MM, YYYY-Www or YYYY-MM-DD..YYYY-MM-DD")


def parse_span(text: str) -> dt.timedelta:
    """`30d`, `6w`, `3m` (30 days each) or `1y` (365 days)."""
    match = _SPAN.match(text.strip().lower())
    if not match or int(match[1]) <= 0:
        raise InputError(
            f"period {text!r}: use a number of days, weeks, months or years: 30d, 6w, 3m, 1y"
        )
    return dt.timedelta(days=int(match[1]) * _SPAN_DAYS[match[2]])


def parse_date(text: str) -> dt.datetime:
    """A date (midnight UTC) or a timestamp (UTC unless it names its offset)."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"date {text!r}: use YYYY-MM-DD or an ISO timestamp") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def trend_granularity(since: dt.datetime | None, until: dt.datetime) -> str:
    if since is None or (until - since).days > WEEKLY_TREND_MAX_DAYS:
        return "month"
    return "week"


def period_start(key: str) -> dt.datetime:
    """The start of a trend period key ("2026-W05" or "2026-01")."""
    return parse_period(key)[0]
