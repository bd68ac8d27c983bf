"""The business beside its competitors: perceived figures per topic and overall, and where they
differ by more than the uncertainty.

A business names its competitors in the configuration (`competitors = ["slug", ...]`); each is a
monitored business of the same configuration. Every figure is the gap's own (perceived.py and
shares.py: the same counted mentions, labels, corrected shares and smoothed mean stars over the
report's window), so a competitor's figures are those of its own gap report.

- Against one competitor: the difference's 95% interval is Newcomb's square-and-add (MOVER)
  interval built from the two figures' own intervals; with labels counted (Wilson intervals) it
  is statsmodels' `confint_proportions_2indep(method="newcomb")`.
- Against the competitors' median: a percentile bootstrap. Each replicate resamples the mentions
  within the business and within each competitor (the replicates of the shares' own bootstrap,
  quantify.py) and takes the median of the competitors' shares.
- Fewer than `gap.min_mentions` mentions on either side: `not comparable`, no verdict.

Governed by `gap.min_mentions` and the settings the gap's figures use.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.config import Settings
from reviewwatch.gap import perceived as pc
from reviewwatch.gap import quantify, shares
from reviewwatch.gap.stats import Z95, Estimate
from storage.models import Business

METRICS: Final = ("positive_share", "negative_share", "mean_stars")
SHARES: Final = {"positive_share": "positive", "negative_share": "negative"}
OVERALL: Final = "overall"
HIGHER, LOWER, SIMILAR, NOT_COMPARABLE = "higher", "lower", "similar", "not comparable"
CONFIDENCE: Final = 0.95
PAIR_METHOD: Final = "Newcomb's square-and-add of the two 95% intervals (MOVER)"
MEDIAN_METHOD: Final = (
    f"a percentile bootstrap, {quantify.REPLICATES} replicates, mentions resampled within each "
    "business"
)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Side:
    """One business's figures in one scope, and their bootstrap replicates per metric."""

    mentions: int
    figures: Mapping[str, Estimate | None]
    replicates: Mapping[str, FloatArray | None] = field(default_factory=dict, repr=False)

    def comparable(self, min_mentions: int) -> bool:
        return self.mentions >= min_mentions

    def to_dict(self, min_mentions: int) -> dict[str, Any]:
        return {
            "mentions": self.mentions,
            **{m: _est(self.figures.get(m)) for m in METRICS},
            "comparable": self.comparable(min_mentions),
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """business − other on one metric: the difference with its interval, and the verdict."""

    difference: Estimate | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {"difference": _est(self.difference), "verdict": self.verdict}


@dataclass(frozen=True, slots=True)
class Rival:
    slug: str
    name: str
    side: Side
    comparisons: Mapping[str, Comparison]


@dataclass(frozen=True, slots=True)
class Median:
    """The competitors' median of each metric, over those with enough mentions in the scope."""

    counted: int
    figures: Mapping[str, Estimate | None]
    comparisons: Mapping[str, Comparison]


@dataclass(frozen=True, slots=True)
class Scope:
    key: str  # "overall" or a topic key
    business: Side
    rivals: list[Rival]
    median: Median

    def to_dict(self, min_mentions: int) -> dict[str, Any]:
        return {
            "key": self.key,
            "business": self.business.to_dict(min_mentions),
            "competitors": [
                {
                    "slug": r.slug,
                    "name": r.name,
                    **r.side.to_dict(min_mentions),
                    "comparisons": {m: c.to_dict() for m, c in r.comparisons.items()},
                }
                for r in self.rivals
            ],
            "median": {
                "competitors_counted": self.median.counted,
                **{m: _est(self.median.figures.get(m)) for m in METRICS},
                "comparable": self.median.counted > 0 and self.business.comparable(min_mentions),
                "comparisons": {m: c.to_dict() for m, c in self.median.comparisons.items()},
            },
        }


@dataclass(frozen=True, slots=True)
class Benchmark:
    competitors: list[tuple[str, str]]  # (slug, name)
    min_mentions: int
    scopes: list[Scope]

    def to_dict(self) -> dict[str, Any]:
        return {
            "competitors": [{"slug": s, "name": n} for s, n in self.competitors],
            "min_mentions": self.min_mentions,
            "confidence": CONFIDENCE,
            "interval_against_competitor": PAIR_METHOD,
            "interval_against_median": MEDIAN_METHOD,
            "scopes": [s.to_dict(self.min_mentions) for s in self.scopes],
        }

    def scope(self, key: str) -> Scope | None:
        return next((s for s in self.scopes if s.key == key), None)


def _est(estimate: Estimate | None) -> dict[str, float] | None:
    return None if estimate is None else estimate.to_dict()


# ---- computation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Observed:
    """What the gap counts for one business in the window: observations, weights, corrector."""

    slug: str
    name: str
    observations: list[pc.Observation]
    weights: list[float]
    corrector: quantify.Corrector | None


# compute.share_corrector: the report's corrector of a set of observations (passed in, since
# compute.py imports this module).
CorrectorOf = Callable[[Sequence[pc.Observation], str, int], "quantify.Corrector | None"]


def observe(
    session: Session, settings: Settings, business: Business, since: dt.datetime | None,
    until: dt.datetime, corrector_of: CorrectorOf,
) -> Observed:
    """A business's counted mentions and its report's corrector, as compute_gap makes them."""
    gs = settings.gap
    observations, _ = pc.load_observations(session, business.id, since, until)
    weights = pc.recency_weights(observations, until, gs.recency_half_life_days)
    corrector = corrector_of(observations, gs.share_method, gs.share_min_labelled)
    return Observed(business.slug, business.name, observations, weights, corrector)


def competitors_of(settings: Settings, slug: str) -> list[str]:
    """The competitors the configuration names for `slug` (none when it is not configured)."""
    for business in settings.businesses:
        if business.id == slug:
            return list(business.competitors)
    return []


def compute_benchmark(
    session: Session,
    settings: Settings,
    own: Observed,
    since: dt.datetime | None,
    until: dt.datetime,
    corrector_of: CorrectorOf,
) -> Benchmark | None:
    """The business (`own`, as its report counted it) beside each configured competitor."""
    slugs = competitors_of(settings, own.slug)
    if not slugs:
        return None
    stored = {b.slug: b for b in session.scalars(select(Business).where(Business.slug.in_(slugs)))}
    # A competitor configured but never synced or crawled counts as a business with no mentions.
    rivals = [
        observe(session, settings, stored[s], since, until, corrector_of)
        if s in stored
        else Observed(s, s, [], [], None)
        for s in slugs
    ]
    own_scopes, rival_scopes = _scoped(own, settings), [_scoped(r, settings) for r in rivals]
    keys = [OVERALL] + sorted(
        {k for scoped in [own_scopes, *rival_scopes] for k in scoped} - {OVERALL}
    )
    minimum = settings.gap.min_mentions
    return Benchmark(
        competitors=[(r.slug, r.name) for r in rivals],
        min_mentions=minimum,
        scopes=[
            _scope(key, own_scopes.get(key, EMPTY), [
                (r, scoped.get(key, EMPTY)) for r, scoped in zip(rivals, rival_scopes, strict=True)
            ], minimum)
            for key in keys
        ],
    )


EMPTY: Final = Side(0, dict.fromkeys(METRICS), dict.fromkeys(METRICS))


def _scoped(observed: Observed, settings: Settings) -> dict[str, Side]:
    """Overall and per topic (opinions about the topic, as the gap's topic breakdown counts)."""
    groups = {OVERALL: (observed.observations, observed.weights)}
    groups |= pc.group(
        observed.observations, observed.weights, pc.GROUPINGS["topic"], per_topic=True
    )
    return {
        key: _side(observed, members, weights, settings, seed=zlib.crc32(f"{observed.slug}:{key}".encode()))
        for key, (members, weights) in groups.items()
        if members
    }


def _side(
    observed: Observed,
    members: Sequence[pc.Observation],
    weights: Sequence[float],
    settings: Settings,
    seed: int,
) -> Side:
    correct: pc.ShareEstimator | None = None
    if observed.corrector is not None:
        correct = partial(shares.shares_of, corrector=observed.corrector)
    figures = pc.aggregate(members, weights, settings.gap, correct)
    share_copies = _share_replicates(members, weights, observed.corrector, seed)
    estimates: dict[str, Estimate | None] = {
        "positive_share": figures.positive_share,
        "negative_share": figures.negative_share,
        "mean_stars": figures.mean_stars,
    }
    replicates: dict[str, FloatArray | None] = {
        "positive_share": share_copies[:, quantify.LABELS.index("positive")],
        "negative_share": share_copies[:, quantify.LABELS.index("negative")],
        "mean_stars": _normal_replicates(figures.mean_stars, seed),
    }
    return Side(figures.mentions, estimates, replicates)


def _share_replicates(
    members: Sequence[pc.Observation],
    weights: Sequence[float],
    corrector: quantify.Corrector | None,
    seed: int,
) -> FloatArray:
    """Bootstrap replicates of the three shares (B, 3), from the same estimate as the figures:
    the corrected shares' own bootstrap, or (labels counted) the labels resampled."""
    if corrector is not None:
        return quantify.replicate_shares(
            corrector,
            [None if (k := shares.known_label(o)) is None else quantify.LABELS.index(k) for o in members],
            np.array([shares.probabilities(o) for o in members], dtype=float),
            weights,
            lengths=[len(o.text) for o in members],
            seed=seed,
        )
    onehot = np.array([[o.label == label for label in quantify.LABELS] for o in members], dtype=float)
    w = np.asarray(weights, dtype=float)
    n = len(members)
    draws = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=quantify.REPLICATES)
    mass = (draws * w[None, :]) @ onehot
    copies: FloatArray = mass / np.maximum(mass.sum(axis=1, keepdims=True), 1e-12)
    return copies


def _normal_replicates(estimate: Estimate | None, seed: int) -> FloatArray | None:
    """Mean stars' replicates from its normal-approximation interval (the gap's own)."""
    if estimate is None:
        return None
    se = max(estimate.value - estimate.low, estimate.high - estimate.value) / Z95
    drawn: FloatArray = np.random.default_rng(seed + 7).normal(estimate.value, se, quantify.REPLICATES)
    return drawn


def _scope(
    key: str, business: Side, rivals: Sequence[tuple[Observed, Side]], minimum: int
) -> Scope:
    return Scope(
        key=key,
        business=business,
        rivals=[
            Rival(r.slug, r.name, side, {m: compare_pair(business, side, m, minimum) for m in METRICS})
            for r, side in rivals
        ],
        median=_median(business, [side for _, side in rivals], minimum),
    )


def compare_pair(business: Side, other: Side, metric: str, minimum: int) -> Comparison:
    a, b = business.figures.get(metric), other.figures.get(metric)
    if a is None or b is None or not (business.comparable(minimum) and other.comparable(minimum)):
        return Comparison(None, NOT_COMPARABLE)
    difference = newcomb(a, b)
    return Comparison(difference, verdict(difference))


def newcomb(a: Estimate, b: Estimate) -> Estimate:
    """a − b with Newcomb's square-and-add (MOVER) 95% interval from each one's own interval."""
    d = a.value - b.value
    low = d - math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2)
    high = d + math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2)
    return Estimate(d, low, high)


def verdict(difference: Estimate) -> str:
    if difference.low > 0:
        return HIGHER
    if difference.high < 0:
        return LOWER
    return SIMILAR


def _median(business: Side, rivals: Sequence[Side], minimum: int) -> Median:
    counted = [side for side in rivals if side.comparable(minimum)]
    figures: dict[str, Estimate | None] = {}
    comparisons: dict[str, Comparison] = {}
    for metric in METRICS:
        usable = [s for s in counted if s.figures.get(metric) is not None]
        figures[metric] = _median_estimate(usable, metric)
        comparisons[metric] = _against_median(business, usable, metric, minimum)
    return Median(len(counted), figures, comparisons)


def _median_estimate(sides: Sequence[Side], metric: str) -> Estimate | None:
    if not sides:
        return None
    value = float(np.median([_value(s, metric) for s in sides]))
    copies = _median_copies(sides, metric)
    low, high = _percentiles(copies)
    return Estimate(value, min(low, value), max(high, value))


def _against_median(
    business: Side, sides: Sequence[Side], metric: str, minimum: int
) -> Comparison:
    own = business.figures.get(metric)
    own_copies = business.replicates.get(metric)
    if own is None or own_copies is None or not sides or not business.comparable(minimum):
        return Comparison(None, NOT_COMPARABLE)
    value = own.value - float(np.median([_value(s, metric) for s in sides]))
    low, high = _percentiles(own_copies - _median_copies(sides, metric))
    difference = Estimate(value, min(low, value), max(high, value))
    return Comparison(difference, verdict(difference))


def _value(side: Side, metric: str) -> float:
    estimate = side.figures[metric]
    assert estimate is not None
    return estimate.value


def _median_copies(sides: Sequence[Side], metric: str) -> FloatArray:
    stacked = np.stack([_copies(s, metric) for s in sides])
    median: FloatArray = np.nanmedian(stacked, axis=0)
    return median


def _copies(side: Side, metric: str) -> FloatArray:
    copies = side.replicates.get(metric)
    assert copies is not None
    return copies


def _percentiles(copies: FloatArray) -> tuple[float, float]:
    low, high = np.nanquantile(copies, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return float(low), float(high)
