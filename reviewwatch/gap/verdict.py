"""One claim against what customers say: claimed minus perceived, its interval, and the verdict.

`supported`: the claim lies inside the perceived 95% interval; `overstated`: above its upper
bound; `understated`: below its lower bound; `not enough evidence`: fewer than `gap.min_mentions`
mentions (or none that measure the claim's metric). A claim about a topic is compared with the
opinions about that topic (`perceived.about_topic`); `label_sources` says which labels counted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviewwatch.config import GapSettings
from reviewwatch.gap import perceived as pc
from reviewwatch.gap.fold import fold_small
from reviewwatch.gap.periods import period_start
from reviewwatch.gap.stats import Estimate
from storage.ratings import rescale_stars
from storage.models import Claim

if TYPE_CHECKING:
    from reviewwatch.gap.channels import Channels

SUPPORTED, OVERSTATED, UNDERSTATED, NOT_ENOUGH = (
    "supported",
    "overstated",
    "understated",
    "not enough evidence",
)
VERDICTS = (SUPPORTED, OVERSTATED, UNDERSTATED, NOT_ENOUGH)
METRICS = ("positive_share", "average_rating")
MAX_AGAINST = 5


@dataclass(frozen=True, slots=True)
class Comparison:
    """A claim against one set of mentions: the perceived figure, the gap and the verdict."""

    mentions: int
    perceived: Estimate | None
    gap: Estimate | None
    verdict: str
    # How the perceived figure was estimated (a share's method, see shares.py), and any caveat.
    method: str | None = None
    method_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mentions": self.mentions,
            "perceived": None if self.perceived is None else self.perceived.to_dict(),
            "gap": None if self.gap is None else self.gap.to_dict(),
            "verdict": self.verdict,
        }


@dataclass(frozen=True, slots=True)
class TrendPoint:
    period: str
    start: dt.datetime
    comparison: Comparison

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "start": self.start.isoformat(), **self.comparison.to_dict()}


@dataclass(frozen=True, slots=True)
class Slice:
    """The claim against one source type's or one language's mentions."""

    key: str
    comparison: Comparison

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, **self.comparison.to_dict()}


@dataclass(frozen=True, slots=True)
class ClaimResult:
    claim_key: str
    origin: str
    kind: str
    metric: str
    topic: str | None
    scale: float | None
    claimed: float
    label: str
    period: str | None
    stated_at: dt.datetime
    evidence_url: str | None
    evidence_text: str | None
    since: dt.datetime | None
    until: dt.datetime
    mentions: int
    perceived: Estimate | None
    gap: Estimate | None
    shortfall: float | None
    verdict: str
    status: str
    note: str | None = None
    method: str | None = None
    method_note: str | None = None
    trend: list[TrendPoint] = field(default_factory=list)
    by_source: list[Slice] = field(default_factory=list)
    by_language: list[Slice] = field(default_factory=list)
    # How many of the labels counted came from each source: correction, rating, model, or topic
    # (the opinion's own polarity; a topic claim's mention without one counts by its label).
    label_sources: Mapping[str, int] = field(default_factory=dict)
    # The newest mentions that speak against the claim, for quoting; not part of the JSON.
    against: tuple[pc.Observation, ...] = ()
    # Public beside asked (reviewwatch/gap/channels.py); set by compute_gap.
    channels: Channels | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim_key": self.claim_key,
            "origin": self.origin,
            "kind": self.kind,
            "metric": self.metric,
            "topic": self.topic,
            "scale": self.scale,
            "claimed": round(self.claimed, 6),
            "label": self.label,
            "period": self.period,
            "stated_at": self.stated_at.isoformat(),
            "evidence_url": self.evidence_url,
            "evidence_text": self.evidence_text,
            "window": {"since": _iso(self.since), "until": self.until.isoformat()},
            "mentions": self.mentions,
            "perceived": None if self.perceived is None else self.perceived.to_dict(),
            "gap": None if self.gap is None else self.gap.to_dict(),
            "shortfall": None if self.shortfall is None else round(self.shortfall, 6),
            "verdict": self.verdict,
            "status": self.status,
            "note": self.note,
            "method": self.method,
            "method_note": self.method_note,
            "trend": [point.to_dict() for point in self.trend],
            "by_source": [s.to_dict() for s in self.by_source],
            "by_language": [s.to_dict() for s in self.by_language],
            "label_sources": dict(sorted(self.label_sources.items())),
            "channels": None if self.channels is None else self.channels.to_dict(),
        }


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def decide(claimed: float, perceived: Estimate | None, mentions: int, min_mentions: int) -> str:
    if perceived is None or mentions < min_mentions:
        return NOT_ENOUGH
    if claimed > perceived.high:
        return OVERSTATED
    if claimed < perceived.low:
        return UNDERSTATED
    return SUPPORTED


def claim_scale(claim: Claim) -> float:
    return claim.scale if claim.scale and claim.scale > 1 else 5.0


def measure(claim: Claim, perceived: pc.Perceived) -> tuple[Estimate | None, int]:
    """The perceived figure a claim is compared with (on the claim's scale) and its sample size."""
    if claim.metric == "positive_share":
        return perceived.positive_share, perceived.mentions
    if claim.metric == "average_rating" and perceived.mean_stars is not None:
        scale, stars = claim_scale(claim), perceived.mean_stars
        return Estimate(*(rescale_stars(x, scale) for x in (stars.value, stars.low, stars.high))), (
            perceived.rated_mentions
        )
    return None, perceived.rated_mentions if claim.metric == "average_rating" else 0


def describe(claim: Claim) -> str:
    if claim.metric == "positive_share":
        text = f"{claim.value:.0%} positive"
    elif claim.metric == "average_rating":
        text = f"average {claim.value:g}/{claim_scale(claim):g}"
    else:
        text = f"{claim.metric} {claim.value:g}"
    if claim.topic:
        text += f" on {claim.topic}"
    if claim.kind == "prediction" and claim.period:
        text += f" predicted for {claim.period}"
    return f"{claim.origin}: {text}"


def speaks_against(claim: Claim, observation: pc.Observation) -> bool:
    if observation.label == "negative":
        return True
    return (
        claim.metric == "average_rating"
        and observation.stars is not None
        and observation.stars <= 2.0
    )


def evaluate(
    claim: Claim,
    observations: Sequence[pc.Observation],
    weights: Sequence[float],
    settings: GapSettings,
    *,
    window: tuple[dt.datetime | None, dt.datetime],
    granularity: str,
    now: dt.datetime,
    correct: pc.ShareEstimator | None = None,
) -> ClaimResult:
    if claim.topic:
        topic = claim.topic
        pairs = [
            (pc.about_topic(o, topic), w)
            for o, w in zip(observations, weights, strict=True)
            if topic in o.topics
        ]
        observations, weights = [o for o, _ in pairs], [w for _, w in pairs]
    overall = compare(claim, observations, weights, settings, correct)
    shortfall = None
    if overall.gap is not None:
        unit = 1.0 if claim.metric == "positive_share" else claim_scale(claim) - 1.0
        shortfall = overall.gap.value / unit
    against = sorted(
        (o for o in observations if speaks_against(claim, o)),
        key=lambda o: (o.at, o.mention_id),
        reverse=True,
    )[:MAX_AGAINST]
    since, until = window
    return ClaimResult(
        claim_key=claim.claim_key,
        origin=claim.origin,
        kind=claim.kind,
        metric=claim.metric,
        topic=claim.topic,
        scale=claim.scale,
        claimed=claim.value,
        label=describe(claim),
        period=claim.period,
        stated_at=claim.stated_at,
        evidence_url=claim.evidence_url,
        evidence_text=claim.evidence_text,
        since=since,
        until=until,
        mentions=overall.mentions,
        perceived=overall.perceived,
        gap=overall.gap,
        shortfall=shortfall,
        verdict=overall.verdict,
        status=_status(since, until, now),
        note=None
        if claim.metric in METRICS
        else f"metric {claim.metric!r} cannot be measured from mentions",
        method=overall.method,
        method_note=overall.method_note,
        trend=[
            TrendPoint(key, period_start(key), comparison)
            for key, comparison in _slices(
                claim, observations, weights, settings, granularity, correct
            )
        ],
        by_source=[
            Slice(*pair)
            for pair in _slices(claim, observations, weights, settings, "source", correct)
        ],
        by_language=[
            Slice(*pair)
            for pair in _slices(claim, observations, weights, settings, "language", correct)
        ],
        label_sources=Counter(o.label_source for o in observations),
        against=tuple(against),
    )


def _status(since: dt.datetime | None, until: dt.datetime, now: dt.datetime) -> str:
    if since is not None and since > now:
        return "future"
    return "in progress" if until > now else "complete"


def compare(
    claim: Claim,
    observations: Sequence[pc.Observation],
    weights: Sequence[float],
    settings: GapSettings,
    correct: pc.ShareEstimator | None = None,
) -> Comparison:
    # only a share needs the (bootstrapped) correction
    share = correct if claim.metric == "positive_share" else None
    perceived = pc.aggregate(observations, weights, settings, share)
    estimate, size = measure(claim, perceived)
    gap = None
    if estimate is not None:
        gap = Estimate(
            claim.value - estimate.value, claim.value - estimate.high, claim.value - estimate.low
        )
    method, note = _method(claim, perceived)
    return Comparison(
        size,
        estimate,
        gap,
        decide(claim.value, estimate, size, settings.min_mentions),
        method,
        note,
    )


def _method(claim: Claim, perceived: pc.Perceived) -> tuple[str | None, str | None]:
    if claim.metric == "positive_share" and perceived.mentions:
        return perceived.share_method, perceived.share_note
    if claim.metric == "average_rating" and perceived.mean_stars is not None:
        return "smoothed mean", None
    return None, None


# The claim's slices whose small groups are folded into "other" (fold.py).
FOLDED_SLICES = ("source", "language")


def _slices(
    claim: Claim,
    observations: Sequence[pc.Observation],
    weights: Sequence[float],
    settings: GapSettings,
    grouping: str,
    correct: pc.ShareEstimator | None = None,
) -> list[tuple[str, Comparison]]:
    groups = pc.group(observations, weights, pc.GROUPINGS[grouping])
    if grouping in FOLDED_SLICES:  # not the trend's periods: a chart needs each in its place
        groups, _folded = fold_small(groups, settings.min_mentions)
    return [
        (key, compare(claim, members, member_weights, settings, correct))
        for key, (members, member_weights) in groups.items()
    ]
