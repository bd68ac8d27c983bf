"""`response_within_hours` claims ("we answer every review within 24 hours") against the share
of negative mentions the business answered within that many hours, like every other claim.

A claim row holds the promised share in `value` (1.0 for "every") and the hours in `scale`. The
perceived figure is the share of the window's negative mentions with a first response within
the hours (95% Wilson interval, `responses.py`); the verdict is the gap stage's own (`decide`):
supported when the promise lies inside the interval, overstated above it, and not enough
evidence below `gap.min_mentions` negative mentions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from reviewwatch.config import GapSettings
from reviewwatch.gap.responses import Answered, ResponseFigures, figures
from reviewwatch.gap.periods import period_start
from reviewwatch.gap.perceived import month_key, week_key
from reviewwatch.gap.stats import Estimate
from reviewwatch.gap.verdict import ClaimResult, Comparison, Slice, TrendPoint, decide
from storage.models import Claim

METRIC = "response_within_hours"
DEFAULT_HOURS = 24.0


def hours_of(claim: Claim) -> float:
    return float(claim.scale) if claim.scale and claim.scale > 0 else DEFAULT_HOURS


def describe(claim: Claim) -> str:
    share = "every" if claim.value >= 1.0 else f"{claim.value:.0%} of"
    return f"{claim.origin}: answers {share} negative mention within {hours_of(claim):g} h"


def compare(claim: Claim, found: ResponseFigures, settings: GapSettings) -> Comparison:
    _inside, share = found.within(hours_of(claim))
    gap = None if share is None else Estimate(
        claim.value - share.value, claim.value - share.high, claim.value - share.low)
    return Comparison(
        found.negative_mentions, share, gap,
        decide(claim.value, share, found.negative_mentions, settings.min_mentions),
        f"answered within {hours_of(claim):g} h (Wilson interval)", None,
    )


def evaluate_response_claim(
    claim: Claim,
    answered: Sequence[Answered],
    settings: GapSettings,
    *,
    window: tuple[dt.datetime | None, dt.datetime],
    granularity: str,
    now: dt.datetime,
) -> ClaimResult:
    overall = compare(claim, figures(answered), settings)
    period = week_key if granularity == "week" else month_key
    since, until = window
    return ClaimResult(
        claim_key=claim.claim_key, origin=claim.origin, kind=claim.kind, metric=claim.metric,
        topic=None, scale=hours_of(claim), claimed=claim.value, label=describe(claim),
        period=claim.period, stated_at=claim.stated_at, evidence_url=claim.evidence_url,
        evidence_text=claim.evidence_text, since=since, until=until,
        mentions=overall.mentions, perceived=overall.perceived, gap=overall.gap,
        shortfall=None if overall.gap is None else overall.gap.value,
        verdict=overall.verdict,
        status="future" if since is not None and since > now else (
            "in progress" if until > now else "complete"),
        method=overall.method,
        trend=[TrendPoint(key, period_start(key), compare(claim, figures(group), settings))
               for key, group in _grouped(answered, lambda a: period(a.at))],
        by_source=[Slice(key, compare(claim, figures(group), settings))
                   for key, group in _grouped(answered, lambda a: a.source_type)],
        # no labels are counted: the follow-up items of negative mentions are
    )


def _grouped(answered: Sequence[Answered], key: object) -> list[tuple[str, list[Answered]]]:
    assert callable(key)
    groups: dict[str, list[Answered]] = {}
    for a in answered:
        groups.setdefault(str(key(a)), []).append(a)
    return sorted(groups.items())
