"""Small-sample statistics of the gap stage: Wilson intervals, smoothed mean stars, net sentiment.

Governed by `gap.prior_strength` and `gap.prior_stars` (the smoothing prior). Every interval is 95%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Re-exported: the gap's statistics read stars on a claim's own scale.
from storage.ratings import rescale_stars as rescale_stars

Z95 = 1.959963984540054
# The prior's pseudo-reviews are spread like a uniform 1..5-star rating: variance 2.
PRIOR_STARS_VARIANCE = 2.0


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its 95% interval."""

    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {
            "value": round(self.value, 6),
            "low": round(self.low, 6),
            "high": round(self.high, 6),
        }

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high


def effective_size(weights: Sequence[float]) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2: n when every weight is equal."""
    total = sum(weights)
    squares = sum(w * w for w in weights)
    return (total * total) / squares if squares > 0 else 0.0


def wilson(successes: float, n: float, z: float = Z95) -> Estimate | None:
    """The Wilson score interval of a proportion; `n` may be an effective (weighted) size."""
    if n <= 0:
        return None
    p = min(1.0, max(0.0, successes / n))
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denominator
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half))


def weighted_share(flags: Sequence[bool], weights: Sequence[float]) -> Estimate | None:
    """Weighted share of true flags, with a Wilson interval at the effective sample size."""
    total = sum(weights)
    if total <= 0:
        return None
    share = sum(w for f, w in zip(flags, weights, strict=True) if f) / total
    n_eff = effective_size(weights)
    return wilson(share * n_eff, n_eff)


def smoothed_mean(
    values: Sequence[float],
    weights: Sequence[float],
    *,
    prior: float,
    strength: float,
    low: float = 1.0,
    high: float = 5.0,
    z: float = Z95,
) -> Estimate | None:
    """Mean stars as if `strength` pseudo-reviews centred on `prior` had been added.

    The pseudo-reviews carry the spread of a uniform 1..5 rating, so the interval stays honest for
    a handful of identical ratings; the interval is the normal approximation, clipped to the scale.
    """
    total = sum(weights)
    if total + strength <= 0:
        return None
    mean = (strength * prior + sum(v * w for v, w in zip(values, weights, strict=True))) / (
        strength + total
    )
    squares = sum(w * (v - mean) ** 2 for v, w in zip(values, weights, strict=True))
    squares += strength * (PRIOR_STARS_VARIANCE + (prior - mean) ** 2)
    variance = squares / (strength + total)
    size = strength + (effective_size(weights) if total > 0 else 0.0)
    half = z * math.sqrt(variance / size)
    return Estimate(mean, max(low, mean - half), min(high, mean + half))


def net_sentiment(positive: float, negative: float) -> float | None:
    """(pos - neg) / (pos + neg): from -1 (all negative) to 1; None when nobody took a side."""
    if positive + negative <= 0:
        return None
    return (positive - negative) / (positive + negative)
