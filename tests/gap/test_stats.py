"""The statistics against hand-computed figures (Wilson intervals, smoothed stars, weights)."""

from __future__ import annotations

import pytest

from reviewwatch.gap import stats


def _rounded(estimate: stats.Estimate | None) -> tuple[float, float, float]:
    assert estimate is not None
    return round(estimate.value, 4), round(estimate.low, 4), round(estimate.high, 4)


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        (8, 10, (0.8, 0.4902, 0.9433)),
        (0, 10, (0.0, 0.0, 0.2775)),
        (10, 10, (1.0, 0.7225, 1.0)),
        (1, 1, (1.0, 0.2065, 1.0)),
        (7, 10, (0.7, 0.3968, 0.8922)),
        (9, 20, (0.45, 0.2582, 0.6579)),
    ],
)
def test_wilson_matches_hand_computed_intervals(
    successes: int, n: int, expected: tuple[float, ...]
) -> None:
    assert _rounded(stats.wilson(successes, n)) == expected


def test_wilson_of_nothing_is_none() -> None:
    assert stats.wilson(0, 0) is None
    assert stats.weighted_share([], []) is None


def test_weighted_share_uses_the_effective_sample_size() -> None:
    # weights 1 and 0.5: share 1/1.5, effective size 1.5^2 / 1.25 = 1.8
    assert stats.effective_size([1.0, 0.5]) == pytest.approx(1.8)
    assert _rounded(stats.weighted_share([True, False], [1.0, 0.5])) == (0.6667, 0.148, 0.9584)


def test_smoothed_mean_adds_prior_pseudo_reviews() -> None:
    # (5*3 + 5+5+4+4+2) / 10 = 3.5; spread (7.25 + 5*(2 + 0.25)) / 10 = 1.85; se = sqrt(1.85/10)
    estimate = stats.smoothed_mean([5, 5, 4, 4, 2], [1.0] * 5, prior=3.0, strength=5.0)
    assert _rounded(estimate) == (3.5, 2.657, 4.343)


def test_smoothed_mean_without_prior_is_the_sample_mean() -> None:
    estimate = stats.smoothed_mean([4, 4, 4], [1.0] * 3, prior=3.0, strength=0.0)
    assert _rounded(estimate) == (4.0, 4.0, 4.0)
    assert stats.smoothed_mean([], [], prior=3.0, strength=0.0) is None


def test_net_sentiment_and_rescaling() -> None:
    assert stats.net_sentiment(8, 2) == pytest.approx(0.6)
    assert stats.net_sentiment(0, 0) is None
    assert stats.rescale_stars(5.0, 10.0) == 10.0
    assert stats.rescale_stars(3.0, 10.0) == 5.5
    assert stats.rescale_stars(1.0, 10.0) == 1.0
