"""`/api/v1/overview`: a business's overview per week or month (reviewwatch/overview.py) with its
claims and verdicts from the gap report, as the dashboard shows them.

Computed once per business, period, window and store revision (cache.py), like the gap report
whose claims it carries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from reviewwatch.api.aggregates import _gap_report as gap_report  # the one /gap/{business} keeps
from reviewwatch.api.aggregates import claim_row, reports
from reviewwatch.api.database import StoreGate
from reviewwatch.api.deps import gate
from reviewwatch.api.schemas import ERRORS
from reviewwatch.overview import Period, compute_overview, window

router = APIRouter(prefix="/api/v1", tags=["overview"], responses=ERRORS)


class Interval(BaseModel):
    value: float
    low: float
    high: float


class Change(BaseModel):
    difference: float
    low: float = Field(description="95% interval of the difference (Newcombe for shares).")
    high: float
    clear: bool = Field(description="The interval leaves out zero: a change beyond the noise.")


class Counts(BaseModel):
    mentions: int
    positive: int
    neutral: int
    negative: int
    positive_share: Interval | None = Field(description="Share with its Wilson 95% interval.")
    negative_share: Interval | None
    uncertain: bool = Field(description="Fewer mentions than gap.min_mentions.")


class Totals(Counts):
    key: str
    rated_mentions: int
    average_rating: Interval | None = Field(
        description="The reviewers' own mean rating on 1..5 (other scales normalised), 95% interval."
    )


class Row(Counts):
    key: str
    average_rating: Interval | None = None


class PeriodRow(BaseModel):
    start: dt.date
    end: dt.date
    partial: bool = Field(description="The period reaches outside the window.")
    mentions: int
    positive: int
    neutral: int
    negative: int
    group: int = Field(description="Index of its share group in `share_groups`.")


class ShareGroup(Counts):
    first: dt.date
    last: dt.date
    periods: int
    merged: bool = Field(description="Thin periods joined until the group has gap.min_mentions.")


class Stars(BaseModel):
    stars: int
    mentions: int
    share: float | None


class WindowOut(BaseModel):
    since: dt.date
    until: dt.date
    days: int


class ChangeOut(BaseModel):
    mentions: int
    mentions_ratio: float | None
    positive_share: Change | None
    negative_share: Change | None
    average_rating: Change | None


class Breakdowns(BaseModel):
    source: list[Row]
    language: list[Row]
    topic: list[Row] = Field(description="Opinions about each topic: its own polarity where the "
                             "model gave one, else the mention's label.")


class OverviewOut(BaseModel):
    business: dict[str, str]
    period: Literal["week", "month"]
    window: WindowOut
    previous_window: WindowOut | None
    min_mentions: int
    totals: Totals
    previous: Totals | None
    change: ChangeOut | None
    rating_distribution: list[Stars]
    share_groups: list[ShareGroup]
    periods: list[PeriodRow]
    breakdowns: Breakdowns
    claims: list[dict[str, Any]] = Field(
        description="Each claim as `/api/v1/claims/perceived` gives it: origin, claimed, "
        "perceived with its interval and the verdict of `reviewwatch gap`."
    )


@router.get("/overview", response_model=OverviewOut)
async def overview(
    request: Request,
    business: str = Query(max_length=64, description="Business id (slug)."),
    period: Literal["week", "month"] = Query("week", description="Per ISO week or month (UTC)."),
    since: dt.date | None = Query(None, description="First day (UTC), inclusive; default: the "
                                  "start of the 13th week or 12th month back."),
    until: dt.date | None = Query(None, description="Last day (UTC), inclusive; default: today."),
    store: StoreGate = Depends(gate),
) -> dict[str, Any]:
    """Volume, shares (thin periods merged), ratings, breakdowns, the change against the previous
    window of the same length, and the claims with their verdicts."""
    settings = request.app.state.settings
    if business not in {b.id for b in settings.businesses}:
        raise HTTPException(404, f"unknown business {business!r}")
    span: Period = period
    win = window(span, since, until, dt.datetime.now(dt.UTC).date())  # InputError -> 422
    min_mentions = settings.gap.min_mentions

    def compute(session: Session) -> dict[str, Any]:
        return compute_overview(session, business, span, win, min_mentions)

    key = ("overview", business, span, win.since, win.until)
    figures: dict[str, Any] = await store.run(
        lambda session: reports(request).get(session, key, compute)
    )
    report = await gap_report(request, store, business, win.since, win.until)
    correction = report["method"].get("share_correction")
    described = None if correction is None else correction["description"]
    return {
        **figures,
        "business": {"id": business, "name": settings.business(business).name},
        "claims": [claim_row(claim, described) for claim in report["claims"]],
    }
