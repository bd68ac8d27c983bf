"""Judging one count: a spike is more negative mentions than the bound, and at least the minimum.

Shared by the store's check (`detect.py`) and the benchmark on generated histories
(bench/alerts.py), so both run the same rule. Settings: `alerts.level`, `alerts.min_count`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reviewwatch.alerts.model import Prediction, predict


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
) -> Verdict:
    """Whether `observed` negative mentions in the last 24 hours are a spike for this history.

    Below the minimum count nothing is fitted: no alert can follow, whatever the history.
    """
    if observed < min_count:
        return Verdict(observed, None, False)
    prediction = predict(history, weekdays, weekday_now, level)
    return Verdict(observed, prediction, observed > prediction.bound)
