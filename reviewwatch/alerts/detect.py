"""Find a business's spikes now: its negative mentions of the last 24 hours, overall and per topic,
judged against its own history (`model.py`), leaving out topics already alerted today. Topics
that spike with the whole business are told in its alert (`judge.alerts_from`).

"Today" is the business's local date: at most one alert per business, topic and day (the
`alerts` table's unique key enforces it when two checks race). Settings: `[alerts]`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.alerts.history import OVERALL, negative_history
from reviewwatch.alerts.judge import Verdict, alerts_from, judge_windows
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
    # Topics that spiked with the whole business, told in the same email:
    # {"topic", "observed", "expected", "bound"} each.
    topics: list[dict[str, Any]] = field(default_factory=list)

    @property
    def overall(self) -> bool:
        return self.topic == OVERALL


def find_spikes(
    session: Session, settings: AlertSettings, business: Business, now: dt.datetime
) -> list[Spike]:
    """The spikes of the last 24 hours not yet alerted today: overall first, then by topic."""
    history = negative_history(session, business.id, business.timezone, now, settings.history_days)
    day = alert_day(business, now)
    alerted: set[str] = set()
    for topic, folded in session.execute(
        select(Alert.topic, Alert.topics).where(
            Alert.business_id == business.id, Alert.alert_day == day
        )
    ):
        alerted.add(topic)
        alerted.update(str(t["topic"]) for t in folded or [])  # told in that email already
    topics = sorted(topic for topic in history.series if topic not in alerted)
    verdicts = judge_windows(
        {topic: history.series[topic].counts[0] for topic in topics},
        {topic: history.series[topic].counts[1:] for topic in topics},
        history.volumes[0], history.volumes[1:], history.weekdays[0], history.weekdays[1:],
        settings,
    )
    spikes = []
    for topic, folded in alerts_from(verdicts, OVERALL):
        prediction = verdicts[topic].prediction
        assert prediction is not None  # a spike was predicted
        spikes.append(Spike(
            business_id=business.id,
            topic=topic,
            alert_day=day,
            window_start=history.start,
            window_end=history.end,
            observed=verdicts[topic].observed,
            expected=prediction.expected,
            bound=prediction.bound,
            method=f"{prediction.method}; bound: {settings.level} quantile, "
            f"at least {settings.min_count}",
            mention_ids=list(history.series[topic].recent),
            topics=[_figures(t, verdicts[t]) for t in folded],
        ))
    return spikes


def _figures(topic: str, verdict: Verdict) -> dict[str, Any]:
    assert verdict.prediction is not None
    return {"topic": topic, "observed": verdict.observed,
            "expected": round(verdict.prediction.expected, 3), "bound": verdict.prediction.bound}


def alert_day(business: Business, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(business.timezone or "UTC")).date()
