"""Snapshots of the gap report and the claims that came at risk since one (what digests send).

A claim is at risk when its verdict turned to `overstated` since the snapshot, or when its
shortfall (claimed minus perceived, as a share of the scale) rose above `gap.risk_threshold`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from reviewwatch.config import Settings
from reviewwatch.errors import InputError
from reviewwatch.gap.claims import active_claims, business_by_slug
from reviewwatch.gap.compute import compute_gap
from reviewwatch.gap.perceived import Observation
from reviewwatch.gap.stats import Estimate
from reviewwatch.gap.verdict import NOT_ENOUGH, OVERSTATED, ClaimResult
from storage.models import Claim, GapSnapshot

EXCERPT_CHARS = 280


@dataclass(frozen=True, slots=True)
class Quote:
    """A mention that contradicts a claim, quoted as it was written (any language)."""

    mention_id: int
    text: str
    url: str | None
    language: str | None
    source: str
    published_at: dt.datetime

    @property
    def source_type(self) -> str:
        return self.source


@dataclass(frozen=True, slots=True)
class ClaimAtRisk:
    claim: Claim
    description: str
    old_verdict: str | None
    new_verdict: str
    reason: str
    claimed: float
    perceived: Estimate | None
    shortfall: float | None
    evidence: list[Quote] = field(default_factory=list)

    @property
    def mentions(self) -> list[Quote]:
        return self.evidence


def take_snapshot(session: Session, settings: Settings, business_slug: str) -> GapSnapshot:
    """Compute the gap report over the default window and store it (in the caller's transaction)."""
    report = compute_gap(session, settings, business_slug)
    business = business_by_slug(session, business_slug)
    snapshot = GapSnapshot(
        business_id=business.id, taken_at=report.generated_at, report=report.to_dict()
    )
    session.add(snapshot)
    session.flush()
    return snapshot


def claims_at_risk(
    session: Session, settings: Settings, business_slug: str, since_snapshot: GapSnapshot | None
) -> list[ClaimAtRisk]:
    """Claims that turned overstated, or whose shortfall crossed the threshold, since a snapshot."""
    business = business_by_slug(session, business_slug)
    if since_snapshot is not None and since_snapshot.business_id != business.id:
        raise InputError(f"gap snapshot {since_snapshot.id} is not {business_slug!r}'s")
    claimed = active_claims(session, business.id)
    if not claimed:  # nothing claimed, nothing at risk: the gap is not computed for nothing
        return []
    before = _previous(since_snapshot.report if since_snapshot is not None else {})
    claims = {c.claim_key: c for c in claimed}
    threshold = settings.gap.risk_threshold
    risks = []
    for result in compute_gap(session, settings, business_slug, claims=claimed).claims:
        old_verdict, old_shortfall = before.get(result.claim_key, (None, None))
        reason = _reason(result, old_verdict, old_shortfall, threshold)
        if reason is not None and result.claim_key in claims:
            risks.append(
                ClaimAtRisk(
                    claim=claims[result.claim_key],
                    description=result.label,
                    old_verdict=old_verdict,
                    new_verdict=result.verdict,
                    reason=reason,
                    claimed=result.claimed,
                    perceived=result.perceived,
                    shortfall=result.shortfall,
                    evidence=[quote(o) for o in result.against],
                )
            )
    return risks


def _previous(report: dict[str, Any]) -> dict[str, tuple[str | None, float | None]]:
    previous = {}
    for item in report.get("claims") or []:
        if isinstance(item, dict) and isinstance(item.get("claim_key"), str):
            shortfall = item.get("shortfall")
            previous[item["claim_key"]] = (
                item.get("verdict") if isinstance(item.get("verdict"), str) else None,
                float(shortfall) if isinstance(shortfall, (int, float)) else None,
            )
    return previous


def _reason(
    result: ClaimResult, old_verdict: str | None, old_shortfall: float | None, threshold: float
) -> str | None:
    if result.verdict == OVERSTATED and old_verdict != OVERSTATED:
        return f"turned {OVERSTATED}" if old_verdict else OVERSTATED
    if result.verdict == NOT_ENOUGH or result.shortfall is None or result.shortfall <= threshold:
        return None
    if old_shortfall is not None and old_shortfall > threshold:
        return None
    return f"shortfall {result.shortfall:.0%} above the {threshold:.0%} threshold"


def quote(observation: Observation) -> Quote:
    text = " ".join(observation.text.split())
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1].rstrip() + "…"
    return Quote(
        observation.mention_id,
        text,
        observation.url,
        observation.language,
        observation.source_type,
        observation.at,
    )
