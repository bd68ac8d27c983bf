"""Judging counts: a spike is more negative mentions than the bound, and at least the minimum;
the spikes of one check become as few emails as say them all.

Shared by the store's check (`detect.py`) and the benchmark on generated histories
(bench/alerts.py), so both run the same rule: `judge_windows` takes the window counts of one
business, overall and per topic. Settings: `alerts.method`, `alerts.level`, `alerts.min_count`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from reviewwatch.alerts.model import Prediction, WeekdayPattern, predict, predict_share, weekday_effects
from reviewwatch.config import AlertSettings


@dataclass(frozen=True, slots=True)
class Verdict:
    observed: int
    prediction: Prediction | None  # None: below the minimum count, nothing fitted
    spike: bool


def judge(
    observed: int,
    history: Sequence[int],
    weekdays: Sequence[int],
    weekday_now: int,
    *,
    level: float,
    min_count: int,
    pattern: WeekdayPattern | None = None,
    volumes: Sequence[int] | None = None,
    volume_now: int | None = None,
    surge_level: float = 0.0,
) -> Verdict:
    """Whether `observed` negative mentions in the last 24 hours are a spike for this history.

    With `volumes` (all mentions of each history window) and `volume_now` (of the last 24
    hours), the negatives are judged as a share of all mentions (`model.predict_share`);
    without, as a count (`model.predict`; `pattern`: the weekday pattern of all the business's
    mentions, `model.weekday_effects`). Below the minimum count nothing is fitted: no alert can
    follow, whatever the history.

    The share alone cannot see complaints that pile up with every other kind of mention (ten
    times the mentions at the usual share is ten times the complaints): with `surge_level` > 0
    the count model at that stricter level is a backstop, and its prediction is the one told.
    """
    if observed < min_count:
        return Verdict(observed, None, False)
    if volumes is not None and volume_now is not None:
        # The negatives are among the window's mentions, however the two were counted.
        prediction = predict_share(history, volumes, max(volume_now, observed), level)
        if observed <= prediction.bound and surge_level > 0:
            surge = predict(history, weekdays, weekday_now, surge_level, pattern)
            if observed > surge.bound:
                return Verdict(observed, replace(surge, method=f"a surge of all mentions; {surge.method}"), True)
    else:
        prediction = predict(history, weekdays, weekday_now, level, pattern)
    return Verdict(observed, prediction, observed > prediction.bound)


def judge_windows(
    now: Mapping[str, int],
    history: Mapping[str, Sequence[int]],
    volume_now: int,
    volumes: Sequence[int],
    weekday_now: int,
    weekdays: Sequence[int],
    settings: AlertSettings,
) -> dict[str, Verdict]:
    """The verdict on each series (overall and per topic) of one business's check: `now[topic]`
    negative mentions in the last 24 hours against `history[topic]`, the counts of the windows
    before it, `volume_now` and `volumes` all mentions of the same windows, `weekdays` theirs."""
    share = settings.method == "share"
    surge_level = settings.surge_level if share else 0.0
    judged = any(count >= settings.min_count for count in now.values())
    # The count model's weekday pattern, fitted only when some count reaches the minimum.
    pattern = weekday_effects(volumes, weekdays) if judged and (not share or surge_level) else None
    return {
        topic: judge(
            count, history[topic], weekdays, weekday_now, level=settings.level,
            min_count=settings.min_count, pattern=pattern,
            volumes=volumes if share else None, volume_now=volume_now if share else None,
            surge_level=surge_level,
        )
        for topic, count in now.items()
    }


def alerts_from(verdicts: Mapping[str, Verdict], overall: str) -> list[tuple[str, list[str]]]:
    """(topic, topics folded into it) of each alert one check makes from its verdicts.

    When the business as a whole spikes, the topics that spike with it are told in the same
    email (a burst of crash reports is one event, not four): one alert. Otherwise each topic
    that spikes is an alert of its own, the rise being visible on that topic alone.
    """
    spiking = [topic for topic, verdict in verdicts.items() if verdict.spike]
    topics = sorted(t for t in spiking if t != overall)
    if overall in spiking:
        return [(overall, topics)]
    return [(topic, []) for topic in topics]
