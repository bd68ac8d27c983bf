"""`/api/v1/aggregates/*`, `/api/v1/claims/perceived` and `/api/v1/gap/{business}`."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.api.auth import Analyst, require_reader
from reviewwatch.api.deps import get_session, mention_filter
from reviewwatch.api.schemas import AggregateOut, BusinessOut, Me, records
from storage.analytics import sentiment_over_time, topic_aggregates
from storage.models import Business
from storage.queries import MentionFilter

router = APIRouter(prefix="/api/v1", tags=["aggregates"])


@router.get("/me", response_model=Me)
def me(analyst: Analyst = Depends(require_reader)) -> Me:
    """Who the token belongs to, and whether it may correct."""
    return Me(analyst=analyst.name, can_write=analyst.can_write)


@router.get("/businesses", response_model=list[BusinessOut])
def businesses(
    session: Session = Depends(get_session)
) -> list[BusinessOut]:
    rows = session.execute(select(Business.slug, Business.name).order_by(Business.slug))
    return [BusinessOut(id=slug, name=name) for slug, name in rows]


@router.get("/topics", response_model=list[str])
def topics(request: Request) -> list[str]:
    """The topic keys of the configured taxonomy."""
    return list(request.app.state.settings.sentiment.topics)


@router.get("/aggregates/sentiment", response_model=AggregateOut)
def sentiment(
    flt: MentionFilter = Depends(mention_filter),
    bucket: Literal["day", "week", "month"] = Query("week"),
    session: Session = Depends(get_session),
) -> AggregateOut:
    """Sentiment over time: per bucket, counts per label and shares with Wilson 95% intervals."""
    rows = records(sentiment_over_time(session, flt, bucket))
    session.commit()  # keeps the rollup days this read refreshed
    return AggregateOut(bucket=bucket, rows=rows)


@router.get("/aggregates/topics", response_model=AggregateOut)
def topic_stats(
    flt: MentionFilter = Depends(mention_filter),
    bucket: Literal["day", "week", "month"] | None = Query(None),
    session: Session = Depends(get_session),
) -> AggregateOut:
    """Per topic (and bucket, if given): counts per label and shares with Wilson intervals."""
    rows = records(topic_aggregates(session, flt, bucket))
    session.commit()  # keeps the rollup days this read refreshed
    return AggregateOut(bucket=bucket, rows=rows)


@router.get("/claims/perceived")
def claims_perceived(
    request: Request,
    flt: MentionFilter = Depends(mention_filter),
    session: Session = Depends(get_session),
) -> list[dict[str, Any]]:
    """Each claim of a business beside what its customers show, from the gap computation that
    `reviewwatch gap` and `/gap/{business}` use: over `since`..`until` (default: the last
    `gap.period_days` days), a survey claim over its own period. Other filters do not apply."""
    from reviewwatch.gap import compute_gap

    if not flt.business:
        raise HTTPException(422, "business is required")
    settings = request.app.state.settings
    if flt.business not in {b.id for b in settings.businesses}:
        raise HTTPException(404, f"unknown business {flt.business!r}")
    report = compute_gap(session, settings, flt.business, since=_start(flt.since),
                         until=_start(flt.until, days=1))
    correction = report.method.share_correction
    described = None if correction is None else correction.description
    return [claim_row(claim.to_dict(), described) for claim in report.claims]


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
def gap(
    request: Request,
    business: str,
    since: dt.date | None = Query(None, description="First day (UTC), inclusive."),
    until: dt.date | None = Query(None, description="Last day (UTC), inclusive."),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """The gap report of the gap stage (its documented JSON schema)."""
    try:
        from reviewwatch.gap import compute_gap
    except ImportError:
        raise HTTPException(503, "the gap stage is not installed") from None
    settings = request.app.state.settings
    if business not in {b.id for b in settings.businesses}:
        raise HTTPException(404, f"unknown business {business!r}")
    if since and until and since > until:
        raise HTTPException(422, f"since ({since}) is after until ({until})")
    report = compute_gap(
        session, settings, business, since=_start(since), until=_start(until, days=1)
    )
    result: dict[str, Any] = report.to_dict()
    return result


def _start(day: dt.date | None, days: int = 0) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(days=days)
