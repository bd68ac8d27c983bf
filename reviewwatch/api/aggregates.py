"""`/api/v1/aggregates/*`, `/api/v1/claims/perceived` and `/api/v1/gap/{business}`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal, cast

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.api.auth import Analyst, require_reader
from reviewwatch.api.cache import DEFAULT_WINDOW_MAX_AGE_S, MAX_AGE_S, ReportCache
from reviewwatch.api.database import StoreGate
from reviewwatch.api.deps import Filtered, gate, mention_filter
from reviewwatch.api.schemas import ERRORS, AggregateOut, BusinessOut, Me, records
from storage.analytics import sentiment_over_time, topic_aggregates
from storage.models import Business

if TYPE_CHECKING:
    from reviewwatch.config import Settings

router = APIRouter(prefix="/api/v1", tags=["aggregates"], responses=ERRORS)


@router.get("/me", response_model=Me)
async def me(analyst: Analyst = Depends(require_reader)) -> Me:
    """Who the token belongs to, and whether it may correct."""
    return Me(analyst=analyst.name, can_write=analyst.can_write)


@router.get("/businesses", response_model=list[BusinessOut])
async def businesses(store: StoreGate = Depends(gate)) -> list[BusinessOut]:
    def step(session: Session) -> list[BusinessOut]:
        rows = session.execute(select(Business.slug, Business.name).order_by(Business.slug))
        return [BusinessOut(id=slug, name=name) for slug, name in rows]

    return await store.run(step)


@router.get("/topics", response_model=list[str])
async def topics(request: Request) -> list[str]:
    """The topic keys of the configured taxonomy."""
    return list(request.app.state.settings.sentiment.topics)


@router.get("/aggregates/sentiment", response_model=AggregateOut)
async def sentiment(
    filtered: Filtered = Depends(mention_filter),
    bucket: Literal["day", "week", "month"] = Query("week"),
    store: StoreGate = Depends(gate),
) -> AggregateOut:
    """Sentiment over time: per bucket, counts per label and shares with Wilson 95% intervals."""
    rows = await store.run(
        lambda session: records(sentiment_over_time(session, filtered.checked(session), bucket))
    )
    return AggregateOut(bucket=bucket, rows=rows)


@router.get("/aggregates/topics", response_model=AggregateOut)
async def topic_stats(
    filtered: Filtered = Depends(mention_filter),
    bucket: Literal["day", "week", "month"] | None = Query(None),
    store: StoreGate = Depends(gate),
) -> AggregateOut:
    """Per topic (and bucket, if given): counts per label and shares with Wilson intervals."""
    rows = await store.run(
        lambda session: records(topic_aggregates(session, filtered.checked(session), bucket))
    )
    return AggregateOut(bucket=bucket, rows=rows)


@router.get("/claims/perceived")
async def claims_perceived(
    request: Request,
    filtered: Filtered = Depends(mention_filter),
    store: StoreGate = Depends(gate),
) -> list[dict[str, Any]]:
    """Each claim of a business beside what its customers show, from the gap computation that
    `reviewwatch gap` and `/gap/{business}` use (the same report, kept per store revision): over
    `since`..`until` (default: the last `gap.period_days` days), a survey claim over its own
    period. Other filters do not apply. `channels`: the claim in public beside when asked
    (feedback requests: asked, answered, response rate, share positive, NPS; docs/feedback.md)."""
    flt = filtered.flt
    if not flt.business:
        raise HTTPException(422, "business is required")
    report = await _gap_report(request, store, flt.business, flt.since, flt.until)
    correction = report["method"].get("share_correction")
    described = None if correction is None else correction["description"]
    # A response-time promise is no opinion of customers: the follow-up panel shows it.
    return [claim_row(claim, described) for claim in report["claims"]
            if claim["metric"] != "response_within_hours"]


def claim_row(claim: dict[str, Any], correction: str | None = None) -> dict[str, Any]:
    """A gap report's claim as the dashboard's chart reads it (figures on the claim's scale), with
    how the perceived figure was made (`method`: for a share, the correction; docs/gap.md)."""
    perceived = claim["perceived"] or {}
    rating = claim["metric"] == "average_rating"
    return {
        "claim_key": claim["claim_key"], "metric": claim["metric"],
        "topic": claim["topic"] or "overall", "origin": claim["origin"], "kind": claim["kind"],
        "claimed": claim["claimed"], "scale": (claim["scale"] or 5.0) if rating else None,
        "perceived": perceived.get("value"), "low": perceived.get("low"),
        "high": perceived.get("high"), "mentions": claim["mentions"], "period": claim["period"],
        "window": claim["window"], "verdict": claim["verdict"],
        "method": _method_text(claim["method"], correction), "method_note": claim["method_note"],
        # In public beside when asked (reviewwatch/gap/channels.py): counts and shares only.
        "channels": claim.get("channels"),
    }


def _method_text(method: str | None, correction: str | None) -> str | None:
    if method in (None, "smoothed mean"):
        return method
    if method == "labels":
        return "every mention counted by its rating or an analyst's label"
    if method == "wilson" or correction is None:
        return "labels counted (Wilson interval)"
    return f"rated mentions by their rating, the others by {correction}"


@router.get("/gap/{business}")
async def gap(
    request: Request,
    business: str = Path(max_length=64, description="Business id (slug)."),
    since: dt.date | None = Query(None, description="First day (UTC), inclusive."),
    until: dt.date | None = Query(None, description="Last day (UTC), inclusive."),
    store: StoreGate = Depends(gate),
) -> dict[str, Any]:
    """The gap report of the gap stage (its documented JSON schema), kept per store revision;
    each claim's `channels` shows it in public beside when asked (docs/feedback.md)."""
    if since and until and since > until:
        raise HTTPException(422, f"since ({since}) is after until ({until})")
    return await _gap_report(request, store, business, since, until)


async def _gap_report(
    request: Request, store: StoreGate, business: str, since: dt.date | None,
    until: dt.date | None,
) -> dict[str, Any]:
    """The report over [since, until + 1 day), computed once per store revision (cache.py)."""
    settings = request.app.state.settings
    if business not in {b.id for b in settings.businesses}:
        raise HTTPException(404, f"unknown business {business!r}")
    window = (_start(since), _start(until, days=1))
    result: dict[str, Any] = await store.run(
        lambda session: cached_gap_report(reports(request), session, settings, business, window)
    )
    return result


def cached_gap_report(
    cache: ReportCache,
    session: Session,
    settings: Settings,
    business: str,
    window: tuple[dt.datetime | None, dt.datetime | None],
) -> dict[str, Any]:
    """The gap report's JSON over `window` from `cache`, computed when it holds none fresh: the
    one function the API's requests and the warmer (warm.py) go through, so they share entries.

    The default window (no since, no until) ends when the report is made; on an unchanged store
    a report up to `DEFAULT_WINDOW_MAX_AGE_S` old is kept (its window has moved by at most that
    much of its `gap.period_days`), any other window at most `cache.MAX_AGE_S`."""

    def compute(session: Session) -> dict[str, Any]:
        from reviewwatch.gap import compute_gap

        report: dict[str, Any] = compute_gap(
            session, settings, business, since=window[0], until=window[1]
        ).to_dict()
        return report

    default = window == (None, None)
    return cast(dict[str, Any], cache.get(
        session, ("gap", business, *window), compute,
        max_age_s=DEFAULT_WINDOW_MAX_AGE_S if default else MAX_AGE_S,
    ))


def reports(request: Request) -> ReportCache:
    cache: ReportCache = request.app.state.reports
    return cache


def _start(day: dt.date | None, days: int = 0) -> dt.datetime | None:
    if day is None:
        return None
    try:
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(days=days)
    except OverflowError:  # the day after 9999-12-31
        raise HTTPException(422, f"{day} is past the last day this API counts") from None
