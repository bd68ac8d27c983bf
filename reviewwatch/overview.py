"""The overview of one business over a window, per week or month: what the dashboard shows.

Volume per period, the shares positive and negative per period (periods with fewer than
`gap.min_mentions` mentions merged with their neighbours, and flagged uncertain when even the
whole window has too few), the reviewers' own average rating and its 1-5 distribution,
breakdowns by source, language and topic, and the change against the previous window of the same
length. Labels are those that count (an analyst's correction, else the reviewer's rating, else
the model's); a topic's figures count the opinions about it (its own polarity where the model
gave one). Every share has a Wilson 95% interval, a difference Newcombe's interval built from
them. The claims and their verdicts are not computed here: the API adds the gap report's.
Governed by `gap.min_mentions`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from reviewwatch.errors import InputError
from reviewwatch.gap.stats import Z95, wilson
from storage.analytics import sentiment_over_time, topic_aggregates
from storage.breakdowns import VoiceCount, voice_counts
from storage.queries import make_filter

Period = Literal["week", "month"]
LABELS = ("positive", "neutral", "negative")
# A window longer than this many periods is refused: the bars would be thinner than a pixel.
MAX_PERIODS = 400
# The default window: the last 13 weeks or 12 months, the current one included.
DEFAULT_PERIODS = {"week": 13, "month": 12}
# The last period of a window must end before the last day a date can hold.
LAST_DAY = dt.date(9999, 11, 30)


@dataclass(frozen=True, slots=True)
class Window:
    """UTC days, both included; `previous_*` is the window of the same length just before (None
    when it would start before the first day a date can hold)."""

    since: dt.date
    until: dt.date
    previous_since: dt.date | None
    previous_until: dt.date | None

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1


def period_start(period: Period, day: dt.date) -> dt.date:
    """The first day of the ISO week (Monday) or month holding `day`."""
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def next_start(period: Period, start: dt.date) -> dt.date:
    if period == "week":
        return start + dt.timedelta(days=7)
    return dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def window(
    period: Period, since: dt.date | None, until: dt.date | None, today: dt.date
) -> Window:
    """The window asked for; by default the last DEFAULT_PERIODS whole periods up to `today`."""
    until = until or max(today, since or today)
    if since is None:
        try:
            since = period_start(period, until)
            for _ in range(DEFAULT_PERIODS[period] - 1):
                since = period_start(period, since - dt.timedelta(days=1))
        except OverflowError:
            since = dt.date.min
    if since > until:
        raise InputError(f"since ({since}) is after until ({until})")
    if until > LAST_DAY:
        raise InputError(f"until: {until} is past the last day the overview counts ({LAST_DAY})")
    first = period_start(period, since)  # date.min is a Monday: never before it
    if len(period_starts(period, first, until, MAX_PERIODS + 1)) > MAX_PERIODS:
        raise InputError(f"the window holds more than {MAX_PERIODS} {period}s: choose a shorter "
                         "one, or per month")
    length = until - since + dt.timedelta(days=1)
    try:
        return Window(since, until, since - length, since - dt.timedelta(days=1))
    except OverflowError:
        return Window(since, until, None, None)


def period_starts(period: Period, first: dt.date, until: dt.date, limit: int) -> list[dt.date]:
    starts: list[dt.date] = []
    start = first
    while start <= until and len(starts) < limit:
        starts.append(start)
        start = next_start(period, start)
    return starts


def share(successes: int, n: int) -> dict[str, float] | None:
    """A share with its Wilson 95% interval: {value, low, high}; None without a mention."""
    estimate = wilson(successes, n)
    return None if estimate is None else estimate.to_dict()


def difference(
    current: dict[str, float] | None, previous: dict[str, float] | None
) -> dict[str, Any] | None:
    """Current minus previous share with Newcombe's hybrid score interval (from the two Wilson
    intervals); `clear` when the interval leaves out zero."""
    if current is None or previous is None:
        return None
    p1, l1, u1 = current["value"], current["low"], current["high"]
    p2, l2, u2 = previous["value"], previous["low"], previous["high"]
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return _change(d, low, high)


def _change(d: float, low: float, high: float) -> dict[str, Any]:
    return {"difference": round(d, 6), "low": round(low, 6), "high": round(high, 6),
            "clear": low > 0 or high < 0}


def counts_row(key: str, counts: dict[str, int], min_mentions: int) -> dict[str, Any]:
    """A breakdown's row: counts per label, shares with intervals, `uncertain` below the minimum."""
    n = sum(counts.get(label, 0) for label in LABELS)
    return {
        "key": key, "mentions": n, **{label: counts.get(label, 0) for label in LABELS},
        "positive_share": share(counts.get("positive", 0), n),
        "negative_share": share(counts.get("negative", 0), n),
        "uncertain": n < min_mentions,
    }


@dataclass
class _Ratings:
    """The reviewers' own ratings of a set of mentions, as stars on 1..5."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def add(self, normalised: float, count: int) -> None:
        stars = 1.0 + 4.0 * normalised
        self.n += count
        self.total += stars * count
        self.squares += stars * stars * count

    def mean(self) -> dict[str, float] | None:
        """Mean with a normal 95% interval (none below two ratings), clipped to 1..5."""
        if not self.n:
            return None
        mean = self.total / self.n
        if self.n < 2:
            return {"value": round(mean, 6), "low": 1.0, "high": 5.0}
        half = Z95 * math.sqrt(self._variance() / self.n)
        return {"value": round(mean, 6), "low": round(max(1.0, mean - half), 6),
                "high": round(min(5.0, mean + half), 6)}

    def _variance(self) -> float:
        mean = self.total / self.n
        return max(0.0, self.squares / self.n - mean * mean) * self.n / (self.n - 1)

    def minus(self, other: _Ratings) -> dict[str, Any] | None:
        if self.n < 2 or other.n < 2:
            return None
        d = self.total / self.n - other.total / other.n
        half = Z95 * math.sqrt(self._variance() / self.n + other._variance() / other.n)
        return _change(d, d - half, d + half)


def _totals(rows: Iterable[VoiceCount], min_mentions: int) -> tuple[dict[str, Any], _Ratings]:
    counts: dict[str, int] = defaultdict(int)
    ratings = _Ratings()
    for row in rows:
        counts[row.label] += row.mentions
        if row.rating is not None:
            ratings.add(row.rating, row.mentions)
    totals = counts_row("all", counts, min_mentions)
    totals.update(rated_mentions=ratings.n, average_rating=ratings.mean())
    return totals, ratings


def _by(rows: Iterable[VoiceCount], field: str, min_mentions: int) -> list[dict[str, Any]]:
    """Rows per source type or language, most mentions first, with their average rating."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    ratings: dict[str, _Ratings] = defaultdict(_Ratings)
    for row in rows:
        key = getattr(row, field) or "unknown"
        counts[key][row.label] += row.mentions
        if row.rating is not None:
            ratings[key].add(row.rating, row.mentions)
    out = [
        {**counts_row(key, value, min_mentions), "average_rating": ratings[key].mean()}
        for key, value in counts.items()
    ]
    return sorted(out, key=lambda r: (-r["mentions"], r["key"]))


def distribution(rows: Iterable[VoiceCount]) -> list[dict[str, Any]]:
    """Rated mentions per star, 1 to 5 (ratings on other scales normalised, then rounded)."""
    stars = dict.fromkeys(range(1, 6), 0)
    for row in rows:
        if row.rating is not None:
            stars[int(math.floor(1.0 + 4.0 * row.rating + 0.5))] += row.mentions
    n = sum(stars.values())
    return [{"stars": s, "mentions": k, "share": round(k / n, 6) if n else None}
            for s, k in stars.items()]


def merge_thin(periods: Sequence[dict[str, Any]], min_mentions: int) -> list[dict[str, Any]]:
    """Consecutive periods joined until each group holds `min_mentions` (a short tail joins the
    group before it), with the group's shares; a group still short of it is `uncertain`.

    Each period gets the index of its group (`group`), so that a chart draws a merged share flat
    across the periods it covers rather than one 0 % or 100 % per thin period.
    """
    groups: list[list[dict[str, Any]]] = []
    for row in periods:
        if not groups or sum(p["mentions"] for p in groups[-1]) >= min_mentions:
            groups.append([])
        groups[-1].append(row)
    if len(groups) > 1 and sum(p["mentions"] for p in groups[-1]) < min_mentions:
        groups[-2].extend(groups.pop())
    out = []
    for index, members in enumerate(groups):
        counts = {label: sum(p[label] for p in members) for label in LABELS}
        row = counts_row(members[0]["start"], counts, min_mentions)
        for member in members:
            member["group"] = index
        out.append({
            "first": members[0]["start"], "last": members[-1]["end"], "periods": len(members),
            "merged": len(members) > 1, **{k: v for k, v in row.items() if k != "key"},
        })
    return out


def _periods(
    session: Session, business: str, period: Period, win: Window
) -> list[dict[str, Any]]:
    """Every period of the window, those without mentions included (0), from the rollup."""
    flt = make_filter(business=business, since=win.since, until=win.until)
    found = {
        row["bucket"]: row
        for row in sentiment_over_time(session, flt, period).to_dict(orient="records")
    }
    out = []
    for start in period_starts(period, period_start(period, win.since), win.until, MAX_PERIODS):
        end = next_start(period, start) - dt.timedelta(days=1)
        row = found.get(start.isoformat(), {})
        out.append({
            "start": start.isoformat(), "end": end.isoformat(),
            "partial": start < win.since or end > win.until,
            "mentions": int(row.get("mentions", 0)),
            **{label: int(row.get(label, 0)) for label in LABELS},
        })
    return out


def _topics(session: Session, business: str, win: Window, min_mentions: int) -> list[dict[str, Any]]:
    flt = make_filter(business=business, since=win.since, until=win.until)
    rows = []
    for row in topic_aggregates(session, flt).to_dict(orient="records"):
        counts = {label: int(row[label]) for label in LABELS}
        rows.append(counts_row(str(row["topic"]), counts, min_mentions))
    return sorted(rows, key=lambda r: (-r["mentions"], r["key"]))


def compute_overview(
    session: Session, business: str, period: Period, win: Window, min_mentions: int
) -> dict[str, Any]:
    """The overview (JSON-ready) of `business` over `win`, without the claims."""
    previous_since = win.previous_since or win.since
    voice = voice_counts(session, business, previous_since, win.since, win.until)
    current = [row for row in voice if row.current]
    before = [row for row in voice if not row.current]
    totals, ratings = _totals(current, min_mentions)
    previous, previous_ratings = _totals(before, min_mentions)
    periods = _periods(session, business, period, win)
    return {
        "period": period,
        "window": {"since": win.since.isoformat(), "until": win.until.isoformat(),
                   "days": win.days},
        "previous_window": None if win.previous_since is None else {
            "since": win.previous_since.isoformat(),
            "until": (win.previous_until or win.since).isoformat(), "days": win.days},
        "min_mentions": min_mentions,
        "totals": totals,
        "previous": None if win.previous_since is None else previous,
        "change": None if win.previous_since is None else {
            "mentions": totals["mentions"] - previous["mentions"],
            "mentions_ratio": round(totals["mentions"] / previous["mentions"], 6)
            if previous["mentions"] else None,
            "positive_share": difference(totals["positive_share"], previous["positive_share"]),
            "negative_share": difference(totals["negative_share"], previous["negative_share"]),
            "average_rating": ratings.minus(previous_ratings),
        },
        "rating_distribution": distribution(current),
        "share_groups": merge_thin(periods, min_mentions),
        "periods": periods,
        "breakdowns": {
            "source": _by(current, "source_type", min_mentions),
            "language": _by(current, "language", min_mentions),
            "topic": _topics(session, business, win, min_mentions),
        },
    }
