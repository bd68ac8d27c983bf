"""The count model and the rule alone (no store): what the bound does with typical histories."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from crawler.demo_site import relative_dates
from reviewwatch.alerts.judge import judge
from reviewwatch.alerts.model import predict, upper_bound, weekday_effects

WEEKDAYS = [k % 7 for k in range(28)]


def test_an_empty_history_predicts_nothing_and_the_minimum_count_decides() -> None:
    assert judge(4, [0] * 28, WEEKDAYS, 0, level=0.999, min_count=5).spike is False
    verdict = judge(5, [0] * 28, WEEKDAYS, 0, level=0.999, min_count=5)
    assert verdict.spike and verdict.prediction is not None and verdict.prediction.bound == 0


def test_the_weekday_factor_is_kept_only_when_the_weekdays_differ() -> None:
    rng = np.random.default_rng(7)
    flat = rng.poisson(20, 28).tolist()
    assert "(mean)" in predict(flat, WEEKDAYS, 5, 0.999).method
    # Saturdays and Sundays bring four times the weekdays' complaints.
    weekly = [int(rng.poisson(60 if w >= 5 else 15)) for w in WEEKDAYS]
    saturday, tuesday = predict(weekly, WEEKDAYS, 5, 0.999), predict(weekly, WEEKDAYS, 1, 0.999)
    assert "(weekday)" in saturday.method
    assert saturday.expected > 3 * tuesday.expected
    # 45 complaints are a spike on a Tuesday and an ordinary Saturday.
    assert judge(45, weekly, WEEKDAYS, 1, level=0.999, min_count=5).spike
    assert not judge(45, weekly, WEEKDAYS, 5, level=0.999, min_count=5).spike


def test_a_small_business_is_judged_against_the_weekday_pattern_of_all_its_mentions() -> None:
    # A café: 30 mentions on Saturdays and Sundays, 4 on weekdays; one in ten negative. Its 28
    # days hold too few complaints to show the weekly cycle on their own.
    rng = np.random.default_rng(11)
    volumes = [int(rng.poisson(30 if w >= 5 else 4)) for w in WEEKDAYS]
    negatives = [int(rng.binomial(v, 0.1)) for v in volumes]
    pattern = weekday_effects(volumes, WEEKDAYS)
    assert pattern is not None
    assert pattern.effects[5] - pattern.effects[1] > 1.5  # log scale: Saturday >> Tuesday
    assert (pattern.variance > 0).all()
    alone = predict(negatives, WEEKDAYS, 1, 0.999)
    assert "(mean)" in alone.method  # the negatives alone cannot carry a weekday factor
    tuesday = predict(negatives, WEEKDAYS, 1, 0.999, pattern)
    saturday = predict(negatives, WEEKDAYS, 5, 0.999, pattern)
    assert "weekday pattern of all mentions" in tuesday.method
    assert tuesday.expected < 0.5 * alone.expected < saturday.expected
    # Six complaints on a Tuesday (about one expected) are a spike; the week's average hid it.
    assert judge(6, negatives, WEEKDAYS, 1, level=0.999, min_count=5, pattern=pattern).spike
    assert not judge(6, negatives, WEEKDAYS, 1, level=0.999, min_count=5).spike
    # ...and six on a Saturday are not.
    assert not judge(6, negatives, WEEKDAYS, 5, level=0.999, min_count=5, pattern=pattern).spike


def test_volumes_without_a_weekly_cycle_give_no_pattern() -> None:
    rng = np.random.default_rng(3)
    assert weekday_effects(rng.poisson(30, 28).tolist(), WEEKDAYS) is None
    assert weekday_effects([0] * 28, WEEKDAYS) is None


def test_the_bound_widens_with_overdispersion() -> None:
    assert upper_bound(10, 10, 0.999) == pytest.approx(21)  # Poisson(10)
    assert upper_bound(10, 40, 0.999) > 30
    assert upper_bound(0, 0, 0.999) == 0


def test_the_demo_site_serves_dates_relative_to_now() -> None:
    now = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
    body = relative_dates(b'{"updated": {"label": "@@now-90@@"}}', now)
    assert body == b'{"updated": {"label": "2026-12-06T10:30:00+00:00"}}'
