"""`compute_gap`: the business's claims against what its customers said in a window.

Governed by the `[gap]` settings: `period_days` (default window), `min_mentions` (also the
size below which a breakdown's groups are folded into "other"),
`prior_strength`, `prior_stars`, `recency_half_life_days`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import replace
from functools import partial

from sqlalchemy.orm import Session

from reviewwatch.config import GapSettings, Settings
from reviewwatch.errors import InputError
from reviewwatch.gap import perceived as pc
from reviewwatch.gap import channels, quantify, shares
from reviewwatch.gap.benchmark import Observed, compute_benchmark
from reviewwatch.gap.claims import active_claims, business_by_slug
from reviewwatch.gap.fold import OTHER, fold_small
from reviewwatch.gap.periods import parse_period, trend_granularity
from reviewwatch.gap import response_claim
from reviewwatch.gap import topic_quality as tq
from reviewwatch.gap.responses import load_answered, report_of
from reviewwatch.gap.report import BREAKDOWNS, GapReport, Group, Method, ShareCorrection
from reviewwatch.gap.verdict import ClaimResult, evaluate
from storage.labels import stored_rule
from storage.models import Claim, utcnow

Window = tuple[dt.datetime | None, dt.datetime]


def compute_gap(
    session: Session,
    settings: Settings,
    business_slug: str,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    claims: list[Claim] | None = None,
) -> GapReport:
    """The gap report over [since, until): by default the last `gap.period_days` days.
    `claims`: the business's active claims when the caller has just read them."""
    gs = settings.gap
    now = utcnow()
    until = until or now
    since = since if since is not None else until - dt.timedelta(days=gs.period_days)
    if since >= until:
        raise InputError(f"the window starts ({since:%Y-%m-%d}) after it ends ({until:%Y-%m-%d})")
    business = business_by_slug(session, business_slug)
    granularity = trend_granularity(since, until)
    cache: dict[Window, tuple[list[pc.Observation], list[float], int]] = {}

    def observed(window: Window) -> tuple[list[pc.Observation], list[float], int]:
        if window not in cache:
            observations, unscored = pc.load_observations(session, business.id, *window)
            weights = pc.recency_weights(observations, window[1], gs.recency_half_life_days)
            cache[window] = (observations, weights, unscored)
        return cache[window]

    observations, weights, unscored = observed((since, until))
    quality = tq.topic_quality(settings.sentiment, settings.kind_of(business.slug))
    corrector = share_corrector(observations, gs.share_method, gs.share_min_labelled)
    correct: pc.ShareEstimator | None = None
    if corrector is not None:
        correct = partial(shares.shares_of, corrector=corrector)
    answers = channels.AnswerCache(session, business.id)
    results: list[ClaimResult] = []
    calibration: list[ClaimResult] = []
    answered = load_answered(session, business.id, since, until)
    for claim in (claims if claims is not None else active_claims(session, business.id)):
        window = claim_window(claim, (since, until))
        if claim.metric == response_claim.METRIC:  # answered, not said: the follow-up items
            found = answered if window == (since, until) else load_answered(
                session, business.id, *window)
            results.append(response_claim.evaluate_response_claim(
                claim, found, gs, window=window, granularity=granularity, now=now))
            continue
        claim_obs, claim_weights, _ = observed(window)
        result = evaluate(
            claim,
            claim_obs,
            claim_weights,
            gs,
            window=window,
            granularity=granularity,
            now=now,
            correct=correct,
        )
        result = replace(result, channels=channels.claim_channels(
            result.metric, result.topic, (result.mentions, result.perceived, result.method),
            claim_obs, claim_weights, gs, correct, answers.of(window),
        ))
        result = with_topic_note(result, quality)
        (calibration if claim.kind == "prediction" else results).append(result)
    claimed_topics = {c.topic for c in results + calibration if c.topic}
    breakdowns = {
        name: breakdown(observations, weights, name, gs, correct, claimed_topics)
        for name in BREAKDOWNS
    }
    return GapReport(
        business_slug=business.slug,
        business_name=business.name,
        generated_at=now,
        since=since,
        until=until,
        granularity=granularity,
        method=Method(
            gs.min_mentions,
            gs.prior_strength,
            gs.prior_stars,
            gs.recency_half_life_days,
            gs.risk_threshold,
            stored_rule(session),
            None if corrector is None else ShareCorrection.of(corrector, gs.share_method),
            quality,
        ),
        overall=pc.aggregate(observations, weights, gs, correct),
        unscored=unscored,
        breakdowns=breakdowns,
        claims=results,
        calibration=calibration,
        responses=report_of(answered, granularity),
        benchmark=compute_benchmark(
            session, settings, Observed(business.slug, business.name, observations, weights,
                                        corrector), since, until, share_corrector),
    )


def breakdown(
    observations: Sequence[pc.Observation],
    weights: Sequence[float],
    name: str,
    gs: GapSettings,
    correct: pc.ShareEstimator | None,
    claimed_topics: Collection[str] = (),
) -> list[Group]:
    """The perceived figures per topic, source, language or period; groups with fewer than
    `min_mentions` mentions are folded into one "other" group (fold.py), except the topics
    that claims are about."""
    groups, folded = fold_small(
        pc.group(observations, weights, pc.GROUPINGS[name], per_topic=name == "topic"),
        gs.min_mentions,
        keep=claimed_topics if name == "topic" else (),
    )
    return [
        Group(
            key,
            pc.aggregate(members, member_weights, gs, correct),
            tuple(folded) if key == OTHER and folded else (),
        )
        for key, (members, member_weights) in groups.items()
    ]


def with_topic_note(result: ClaimResult, quality: tq.TopicQualityReport) -> ClaimResult:
    """A topic claim on a topic the model detects weakly (or was never measured on) says so."""
    if not result.topic:
        return result
    note = tq.method_note(quality.of(result.topic))
    if note is None:
        return result
    return replace(result, method_note="; ".join(filter(None, (result.method_note, note))))


def share_corrector(
    observations: Sequence[pc.Observation], method: str, min_labelled: int
) -> quantify.Corrector | None:
    """One corrector per report, calibrated on the window's labelled mentions when there are
    enough of them (shares.py); None with `gap.share_method = "counts"` (labels counted)."""
    if method == shares.COUNTS:
        return None
    return shares.corrector(observations, method, min_labelled)


def claim_window(claim: Claim, report_window: Window) -> Window:
    """Predictions and survey results are about their own period; other claims, the report's."""
    if claim.period and (claim.kind == "prediction" or claim.origin == "survey"):
        try:
            return parse_period(claim.period)
        except InputError:
            return report_window  # a period we cannot read: compare with the report's window
    return report_window
