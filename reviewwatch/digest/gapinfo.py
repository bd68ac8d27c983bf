"""The digest's view of the gap stage (`reviewwatch.gap`): the one module that depends on it.

It takes the cycle's snapshot and turns a stored snapshot plus `claims_at_risk` into what the
templates show. When the gap stage cannot run, the digest says so instead of failing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.config import Settings
from reviewwatch.digest.text import body_text, excerpt, one_line, safe_link
from storage.models import Business, GapSnapshot

if TYPE_CHECKING:
    from reviewwatch.gap import ClaimAtRisk

log = logging.getLogger(__name__)
MAX_EVIDENCE = 3
EVIDENCE_CHARS = 400


@dataclass(frozen=True, slots=True)
class ClaimRef:
    """What a claim says, in parts, so that the digest can word it in the owner's language."""

    origin: str
    metric: str
    claimed: float
    scale: float | None = None
    topic: str | None = None
    kind: str = "claim"
    period: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimLine:
    """One claim of the snapshot against what customers perceive (a summary line)."""

    claim: ClaimRef
    verdict: str
    mentions: int
    perceived: tuple[float, float, float] | None  # value, low, high on the claim's scale


@dataclass(frozen=True, slots=True)
class Overall:
    mentions: int
    positive_share: float | None
    mean_stars: float | None


@dataclass(frozen=True, slots=True)
class Evidence:
    mention_id: int | None
    text: str
    url: str | None
    language: str | None
    source: str | None


@dataclass(frozen=True, slots=True)
class RiskView:
    claim: ClaimRef
    old_verdict: str | None
    new_verdict: str
    shortfall: float | None = None  # set when the shortfall crossing the threshold is the reason
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BenchmarkFacts:
    """The business beside its competitors' median in the scope the one line is about
    (gap/benchmark_line.py `pick`), for the digest to word in the owner's language."""

    scope: str  # "overall" or a topic key
    own: float  # the business's share positive
    median: float  # the competitors' median share positive
    verdict: str  # "higher", "lower" or "similar"


@dataclass(frozen=True, slots=True)
class NothingToCompare:
    """Competitors named, yet no scope has `min_mentions` mentions on every side."""

    min_mentions: int


@dataclass(frozen=True, slots=True)
class GapSection:
    overall: Overall | None = None
    claims: list[ClaimLine] = field(default_factory=list)
    at_risk: list[RiskView] = field(default_factory=list)
    note: str | None = None  # a catalogue key: "gap_failed", "no_snapshot"
    risk_threshold: float = 0.15
    # the business beside its competitors (None: it names none, or no snapshot)
    benchmark: BenchmarkFacts | NothingToCompare | None = None


def take_snapshot(session: Session, settings: Settings, business_slug: str) -> int:
    """Store the gap report as it is now; return the snapshot's id."""
    from reviewwatch.gap import take_snapshot as gap_take_snapshot

    snapshot = gap_take_snapshot(session, settings, business_slug)
    session.flush()
    return snapshot.id


def latest_snapshot_id(session: Session, business_id: int) -> int | None:
    snapshot = latest_snapshot(session, business_id)
    return snapshot.id if snapshot is not None else None


def latest_snapshot(session: Session, business_id: int) -> GapSnapshot | None:
    """The business's newest snapshot, read whole: a caller that holds it gets it again from the
    session (`session.get`) without a second read."""
    query = (
        select(GapSnapshot)
        .where(GapSnapshot.business_id == business_id)
        .order_by(GapSnapshot.taken_at.desc(), GapSnapshot.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def gap_section(
    session: Session,
    settings: Settings,
    business: Business,
    snapshot_id: int | None,
    since_snapshot_id: int | None,
) -> GapSection:
    """The gap summary of `snapshot_id` and the claims at risk since `since_snapshot_id`."""
    snapshot = session.get(GapSnapshot, snapshot_id) if snapshot_id is not None else None
    since = session.get(GapSnapshot, since_snapshot_id) if since_snapshot_id is not None else None
    report = snapshot.report if snapshot is not None else {}
    overall, claims = overall_of(report), claim_lines(report)
    threshold = settings.gap.risk_threshold
    benchmark = benchmark_of(report) if snapshot is not None else None
    try:
        from reviewwatch.gap import claims_at_risk

        risks = claims_at_risk(session, settings, business.slug, since)
    except Exception as exc:  # noqa: BLE001 - the digest still goes out without this section
        log.warning("%s: claims at risk unavailable: %s", business.slug, exc)
        return GapSection(overall, claims, [], "gap_failed", threshold, benchmark)
    note = None if snapshot is not None else "no_snapshot"
    return GapSection(overall, claims, [_risk_view(risk) for risk in risks], note, threshold, benchmark)


def overall_of(report: dict[str, Any]) -> Overall | None:
    overall = report.get("overall")
    if not isinstance(overall, dict) or not isinstance(overall.get("mentions"), int):
        return None
    if not overall["mentions"]:
        return None
    return Overall(
        overall["mentions"],
        _value(overall.get("positive_share")),
        _value(overall.get("mean_stars")),
    )


def claim_lines(report: dict[str, Any]) -> list[ClaimLine]:
    """Each claim of a stored report and its verdict (a stored report is read defensively)."""
    lines = []
    for item in report.get("claims") or []:
        if not isinstance(item, dict) or _value(item.get("claimed")) is None:
            continue
        perceived = item.get("perceived")
        figures = None
        if isinstance(perceived, dict):
            value, low, high = (_value(perceived.get(k)) for k in ("value", "low", "high"))
            if value is not None and low is not None and high is not None:
                figures = (value, low, high)
        lines.append(
            ClaimLine(
                claim=ClaimRef(
                    origin=one_line(str(item.get("origin") or "declared"), 16),
                    metric=one_line(str(item.get("metric") or ""), 32),
                    claimed=float(item["claimed"]),
                    scale=_value(item.get("scale")),
                    topic=one_line(item.get("topic"), 64) or None,
                    kind=str(item.get("kind") or "claim"),
                    period=one_line(item.get("period"), 32) or None,
                ),
                verdict=one_line(str(item.get("verdict") or ""), 40),
                mentions=item["mentions"] if isinstance(item.get("mentions"), int) else 0,
                perceived=figures,
            )
        )
    return lines


def benchmark_of(report: dict[str, Any]) -> BenchmarkFacts | NothingToCompare | None:
    """A stored gap report's benchmark, as its one line says it (gap/benchmark_line.py); None
    without competitors (or a stored benchmark the digest cannot read)."""
    from reviewwatch.gap.benchmark_line import pick

    benchmark = report.get("benchmark")
    if not isinstance(benchmark, dict):
        return None
    line = pick(benchmark)
    if line is None:
        minimum = benchmark.get("min_mentions")
        return NothingToCompare(minimum) if isinstance(minimum, int) else None
    return BenchmarkFacts(one_line(line.key, 64), line.own, line.median, one_line(line.verdict, 40))


def _value(estimate: Any) -> float | None:
    if isinstance(estimate, dict):
        estimate = estimate.get("value")
    if isinstance(estimate, bool):
        return None
    return float(estimate) if isinstance(estimate, (int, float)) else None


def _risk_view(risk: ClaimAtRisk) -> RiskView:
    from reviewwatch.gap.verdict import claim_scale

    claim = risk.claim
    evidence = [
        Evidence(
            mention_id=quote.mention_id,
            text=excerpt(body_text(quote.text), EVIDENCE_CHARS)[0],
            url=safe_link(quote.url),
            language=one_line(quote.language, 16) or None,
            source=one_line(quote.source, 100) or None,
        )
        for quote in risk.evidence[:MAX_EVIDENCE]
    ]
    return RiskView(
        claim=ClaimRef(
            origin=claim.origin,
            metric=claim.metric,
            claimed=claim.value,
            scale=claim_scale(claim) if claim.metric == "average_rating" else None,
            topic=claim.topic,
            kind=claim.kind,
            period=claim.period,
        ),
        old_verdict=risk.old_verdict,
        new_verdict=risk.new_verdict,
        shortfall=risk.shortfall if risk.reason.startswith("shortfall") else None,
        evidence=evidence,
    )
