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
class Evidence:
    text: str
    url: str | None
    language: str | None
    source: str | None


@dataclass(frozen=True, slots=True)
class RiskView:
    claim: str
    old_verdict: str | None
    new_verdict: str
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class GapSection:
    summary: list[str] = field(default_factory=list)
    at_risk: list[RiskView] = field(default_factory=list)
    note: str | None = None
    benchmark: str | None = None  # the business beside its competitors, in one line


def take_snapshot(session: Session, settings: Settings, business_slug: str) -> int:
    """Store the gap report as it is now; return the snapshot's id."""
    from reviewwatch.gap import take_snapshot as gap_take_snapshot

    snapshot = gap_take_snapshot(session, settings, business_slug)
    session.flush()
    return snapshot.id


def latest_snapshot_id(session: Session, business_id: int) -> int | None:
    query = (
        select(GapSnapshot.id)
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
    summary = summary_lines(snapshot.report) if snapshot is not None else []
    benchmark = benchmark_line(snapshot.report) if snapshot is not None else None
    try:
        from reviewwatch.gap import claims_at_risk

        risks = claims_at_risk(session, settings, business.slug, since)
    except Exception as exc:  # noqa: BLE001 - the digest still goes out without this section
        log.warning("%s: claims at risk unavailable: %s", business.slug, exc)
        return GapSection(
            summary, [], "The comparison with the claims could not be computed.", benchmark
        )
    note = None if snapshot is not None else "No gap snapshot has been taken yet."
    return GapSection(summary, [_risk_view(risk) for risk in risks], note, benchmark)


def summary_lines(report: dict[str, Any]) -> list[str]:
    """A stored gap report in a few lines: overall sentiment, then each claim and its verdict."""
    lines = []
    overall = report.get("overall")
    if isinstance(overall, dict) and overall.get("mentions"):
        line = f"{overall['mentions']} mentions in the period"
        share = _value(overall.get("positive_share"))
        if share is not None:
            line += f", {share:.0%} positive"
        stars = _value(overall.get("mean_stars"))
        if stars is not None:
            line += f", {stars:.1f} stars on average"
        lines.append(line)
    for item in report.get("claims") or []:
        if isinstance(item, dict):
            lines.append(_claim_line(item))
    return lines


def benchmark_line(report: dict[str, Any]) -> str | None:
    """A stored gap report's benchmark in one line (gap/benchmark.py); None without competitors."""
    from reviewwatch.gap.benchmark_line import headline

    benchmark = report.get("benchmark")
    if not isinstance(benchmark, dict):
        return None
    line = headline(benchmark)
    if line is None:
        return f"fewer than {benchmark.get('min_mentions')} mentions on every side, nothing to compare yet"
    return one_line(line, 300)


def _claim_line(item: dict[str, Any]) -> str:
    text = one_line(str(item.get("label") or item.get("metric") or "claim"), 200)
    perceived = item.get("perceived")
    value = _value(perceived)
    if value is not None and isinstance(perceived, dict):
        low, high = _value(perceived.get("low")), _value(perceived.get("high"))
        text += f": perceived {_figure(item, value)}"
        if low is not None and high is not None:
            text += f" ({_figure(item, low)} to {_figure(item, high)})"
    if isinstance(item.get("mentions"), int):
        count = item["mentions"]
        text += f" over {count} mention{'' if count == 1 else 's'}"
    if item.get("verdict"):
        text += f": {one_line(str(item['verdict']), 40)}"
    return text


def _value(estimate: Any) -> float | None:
    if isinstance(estimate, dict):
        estimate = estimate.get("value")
    return float(estimate) if isinstance(estimate, (int, float)) else None


def _figure(item: dict[str, Any], value: float) -> str:
    if item.get("metric") == "average_rating":
        scale = item.get("scale")
        return f"{value:.1f}/{scale:g}" if isinstance(scale, (int, float)) else f"{value:.1f}"
    return f"{value:.0%}"


def _risk_view(risk: ClaimAtRisk) -> RiskView:
    evidence = [
        Evidence(
            text=excerpt(body_text(quote.text), EVIDENCE_CHARS)[0],
            url=safe_link(quote.url),
            language=one_line(quote.language, 16) or None,
            source=one_line(quote.source, 100) or None,
        )
        for quote in risk.evidence[:MAX_EVIDENCE]
    ]
    return RiskView(
        claim=one_line(risk.description, 200),
        old_verdict=risk.old_verdict,
        new_verdict=one_line(
            risk.new_verdict
            if risk.reason in ("", risk.new_verdict)
            else f"{risk.new_verdict} ({risk.reason})",
            200,
        ),
        evidence=evidence,
    )
