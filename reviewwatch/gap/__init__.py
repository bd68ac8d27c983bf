"""Claimed versus perceived: the gap between what a business claims and what customers say.

Public API (other stages code against these names): `compute_gap`, `take_snapshot`,
`claims_at_risk`, `GapReport`, `ClaimAtRisk`. Governed by the `[gap]` settings.
"""

from __future__ import annotations

from reviewwatch.gap.compute import compute_gap
from reviewwatch.gap.report import GapReport
from reviewwatch.gap.risk import ClaimAtRisk, Quote, claims_at_risk, take_snapshot

__all__ = ["ClaimAtRisk", "GapReport", "Quote", "claims_at_risk", "compute_gap", "take_snapshot"]
