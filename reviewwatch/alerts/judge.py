"""Judging counts: a spike is more negative mentions than the bound, and at least the minimum;
the spikes of one check become as few emails as say them all.

Shared by the store's check (`detect.py`) and the benchmark on generated histories
(bench/alerts.py), so both run the same rule. Settings: `alerts.level`, `alerts.min_count`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reviewwatch.alerts.model import Prediction, WeekdayPattern, predict


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
) -> Verdict:
    """Whether `observed` negative mentions in the last 24 hours are a spike for this history
    (`pattern`: the weekday pattern of all the business's mentions, `model.weekday_effects`).

    Below the minimum count nothing is fitted: no alert can follow, whatever the history.
    """
    if observed < min_count:
        return Verdict(observed, None, False)
    prediction = predict(history, weekdays, weekday_now, level, pattern)
    return Verdict(observed, prediction, observed > prediction.bound)


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
