"""`/api/v1/benchmark`: a business beside the competitors it names (gap/benchmark.py).

The figures are the `benchmark` section of the business's gap report, the same report (and
cache entry) `/api/v1/gap/{business}` serves, so the two always agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from reviewwatch.api.aggregates import _gap_report as gap_report  # one report, one cache
from reviewwatch.api.database import StoreGate
from reviewwatch.api.deps import gate
from reviewwatch.api.schemas import ERRORS
from reviewwatch.gap.benchmark_line import headline

router = APIRouter(prefix="/api/v1", tags=["aggregates"], responses=ERRORS)

Verdict = Literal["higher", "lower", "similar", "not comparable"]


class EstimateOut(BaseModel):
    value: float
    low: float
    high: float


class ComparisonOut(BaseModel):
    difference: EstimateOut | None = Field(
        description="The business minus the other, with its 95% interval; null when not comparable."
    )
    verdict: Verdict = Field(
        description="higher or lower: the interval excludes 0; similar: it holds 0; not "
        "comparable: fewer than min_mentions mentions on a side."
    )


class ComparisonsOut(BaseModel):
    positive_share: ComparisonOut
    negative_share: ComparisonOut
    mean_stars: ComparisonOut


class SideOut(BaseModel):
    mentions: int
    positive_share: EstimateOut | None
    negative_share: EstimateOut | None
    mean_stars: EstimateOut | None
    comparable: bool = Field(description="false: fewer than min_mentions mentions.")


class CompetitorOut(SideOut):
    slug: str
    name: str
    comparisons: ComparisonsOut


class MedianOut(BaseModel):
    competitors_counted: int = Field(description="Competitors with min_mentions mentions or more.")
    positive_share: EstimateOut | None
    negative_share: EstimateOut | None
    mean_stars: EstimateOut | None
    comparable: bool
    comparisons: ComparisonsOut


class ScopeOut(BaseModel):
    key: str = Field(description="overall, or a topic key (opinions about the topic).")
    business: SideOut
    competitors: list[CompetitorOut]
    median: MedianOut


class NamedOut(BaseModel):
    slug: str
    name: str


class BenchmarkBody(BaseModel):
    competitors: list[NamedOut]
    min_mentions: int
    confidence: float
    interval_against_competitor: str
    interval_against_median: str
    scopes: list[ScopeOut]


class WindowOut(BaseModel):
    since: str | None
    until: str


class BenchmarkOut(BaseModel):
    business: NamedOut
    window: WindowOut
    benchmark: BenchmarkBody | None = Field(
        description="null when the business names no competitors (`competitors` in its "
        "configuration)."
    )
    line: str | None = Field(
        description="The benchmark in one line, as the digest says it: the topic whose share "
        "positive differs most from the competitors' median; null when nothing is comparable."
    )


@router.get("/benchmark", response_model=BenchmarkOut)
async def benchmark(
    request: Request,
    business: str = Query(max_length=64, description="Business id (slug)."),
    since: dt.date | None = Query(None, description="First day (UTC), inclusive."),
    until: dt.date | None = Query(None, description="Last day (UTC), inclusive."),
    store: StoreGate = Depends(gate),
) -> dict[str, Any]:
    """The business's perceived figures per topic and overall beside each competitor's and the
    competitors' median, with 95% intervals and where the difference exceeds the uncertainty;
    over `since`..`until` (default: the last `gap.period_days` days), as its gap report."""
    if since and until and since > until:
        raise HTTPException(422, f"since ({since}) is after until ({until})")
    report = await gap_report(request, store, business, since, until)
    return {
        "business": report["business"],
        "window": {"since": report["window"]["since"], "until": report["window"]["until"]},
        "benchmark": report.get("benchmark"),
        "line": headline(report["benchmark"]) if report.get("benchmark") else None,
    }
