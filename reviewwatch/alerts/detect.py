"""Find a business's spikes now: its negative mentions of the last 24 hours, overall and per topic,
judged against its own history (`model.py`), leaving out topics already alerted today.

"Today" is the business's local date: at most one alert per business, topic and day (the
`alerts` table's unique key enforces it when two checks race). Settings: `[alerts]`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.alerts.history import OVERALL, negative_history
from reviewwatch.alerts.judge import judge
from reviewwatch.config import AlertSettings
from storage.models import Alert, Business


@dataclass(frozen=True, slots=True)
class Spike:
    business_id: int
    topic: str  # "" for all mentions
    alert_day: dt.date
    window_start: dt.datetime
    window_end: dt.datetime
    observed: int
    expected: float
    bound: float
    method: str
    mention_ids: list[int]  # the negative mentions of the window, newest first

    @property
    def overall(self) -> bool:
        return self.topic == OVERALL


def find_spikes(
    session: Session, settings: AlertSettings, business: Business, now: dt.datetime
) -> list[Spike]:
    """The spikes of the last 24 hours not yet alerted today: overall first, then by topic."""
    history = negative_history(session, business.id, business.timezone, now, settings.history_days)
    day = alert_day(business, now)
    alerted = set(
        session.scalars(
            select(Alert.topic).where(Alert.business_id == business.id, Alert.alert_day == day)
        )
    )
    spikes = []
    for topic in sorted(history.series):  # "" (overall) sorts first
        series = history.series[topic]
        if topic in alerted:
            continue
        verdict = judge(
            series.counts[0], series.counts[1:], history.weekdays[1:], history.weekdays[0],
            level=settings.level, min_count=settings.min_count,
        )
        if not verdict.spike or verdict.prediction is None:
            continue
        spikes.append(Spike(
            business_id=business.id,
            topic=topic,
            alert_day=day,
            window_start=history.start,
            window_end=history.end,
            observed=verdict.observed,
            expected=verdict.prediction.expected,
            bound=verdict.prediction.bound,
            method=f"{verdict.prediction.method}; bound: {settings.level} quantile, "
            f"at least {settings.min_count}",
            mention_ids=list(series.recent),
        ))
    return spikes


def alert_day(business: Business, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(business.timezone or "UTC")).date()
