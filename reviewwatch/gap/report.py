"""The gap report: a dataclass whose `to_dict()` is the stable JSON schema in `gap.schema.json`.

`SCHEMA_VERSION` changes only when a field changes meaning or disappears; new fields may be added.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from reviewwatch.gap import quantify
from reviewwatch.gap.benchmark import Benchmark
from reviewwatch.gap.perceived import Perceived
from reviewwatch.gap.responses import ResponseReport, report_of
from reviewwatch.gap.summary import summary_entries
from reviewwatch.gap.topic_quality import TopicQualityReport
from reviewwatch.gap.verdict import ClaimResult
from storage.labels import RatingRule

# 2: labels that count (rating, then model), topic claims against topic opinions, undated
# mentions counted at first seen; `label_sources` and `method.rating_labels` added.
# 3: shares corrected for the model's errors (bootstrap intervals), `neutral_share`,
# `share_method` and the method's `share_correction`; claims state their `method`.
# 4: `summary` (one line per claim), breakdowns' small groups folded into "other" (`folded`).
# 4: `responses` (follow-up of negative mentions: response rate, time to first response) and
# claims of metric `response_within_hours`.
# 4: `benchmark`, the business beside its competitors (benchmark.py); null without competitors.
# 4: each claim's `channels`, public beside asked (reviewwatch/gap/channels.py).
# 4: `method.topic_quality`, how well the model detects each topic (topic_quality.py).
SCHEMA_VERSION = 4
CONFIDENCE = 0.95
BREAKDOWNS = ("topic", "source", "language", "week", "month")


@dataclass(frozen=True, slots=True)
class Group:
    """The perceived figures of one topic, source type, language or period."""

    key: str
    perceived: Perceived
    folded: tuple[str, ...] = ()  # for the "other" group: the keys folded into it (fold.py)

    def to_dict(self) -> dict[str, Any]:
        extra = {"folded": list(self.folded)} if self.folded else {}
        return {"key": self.key, **self.perceived.to_dict(), **extra}


@dataclass(frozen=True, slots=True)
class ShareCorrection:
    """How the report's shares were corrected for the model's errors (quantify.py)."""

    setting: str
    method: str
    calibration: str
    calibration_n: int
    description: str
    reliable: bool
    note: str | None
    replicates: int = quantify.REPLICATES

    @classmethod
    def of(cls, corrector: quantify.Corrector, setting: str) -> ShareCorrection:
        return cls(
            setting,
            corrector.method,
            corrector.calibration.source,
            corrector.calibration.size,
            corrector.describe(),
            corrector.reliable,
            corrector.note,
            int(corrector.replicate_rates.shape[0]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "method": self.method,
            "library": quantify.LIBRARY,
            "calibration": self.calibration,
            "calibration_n": self.calibration_n,
            "description": self.description,
            "replicates": self.replicates,
            "reliable": self.reliable,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Method:
    min_mentions: int
    prior_strength: float
    prior_stars: float
    recency_half_life_days: float | None
    risk_threshold: float
    rating_labels: RatingRule = field(default_factory=RatingRule)
    share_correction: ShareCorrection | None = None
    topic_quality: TopicQualityReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "confidence": CONFIDENCE,
            "share_interval": "wilson" if self.share_correction is None else "bootstrap",
            "stars_interval": "normal",
            "min_mentions": self.min_mentions,
            "prior_strength": self.prior_strength,
            "prior_stars": self.prior_stars,
            "recency_half_life_days": self.recency_half_life_days,
            "risk_threshold": self.risk_threshold,
            "rating_labels": self.rating_labels.to_dict(),
            "share_correction": None
            if self.share_correction is None
            else self.share_correction.to_dict(),
            "topic_quality": None if self.topic_quality is None else self.topic_quality.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class GapReport:
    business_slug: str
    business_name: str
    generated_at: dt.datetime
    since: dt.datetime | None
    until: dt.datetime
    granularity: str
    method: Method
    overall: Perceived
    unscored: int
    breakdowns: dict[str, list[Group]] = field(default_factory=dict)
    claims: list[ClaimResult] = field(default_factory=list)
    calibration: list[ClaimResult] = field(default_factory=list)
    responses: ResponseReport | None = None
    benchmark: Benchmark | None = None

    def to_dict(self) -> dict[str, Any]:
        claims = [c.to_dict() for c in self.claims]
        return {
            "schema_version": SCHEMA_VERSION,
            "business": {"slug": self.business_slug, "name": self.business_name},
            "generated_at": self.generated_at.isoformat(),
            "window": {
                "since": None if self.since is None else self.since.isoformat(),
                "until": self.until.isoformat(),
                "granularity": self.granularity,
            },
            "method": self.method.to_dict(),
            "overall": self.overall.to_dict(),
            "unscored_mentions": self.unscored,
            "breakdowns": {
                name: [g.to_dict() for g in self.breakdowns.get(name, [])] for name in BREAKDOWNS
            },
            "summary": summary_entries(claims),
            "claims": claims,
            "calibration": [c.to_dict() for c in self.calibration],
            "responses": self._responses(),
            "benchmark": None if self.benchmark is None else self.benchmark.to_dict(),
        }

    def _responses(self) -> dict[str, Any]:
        return (self.responses or report_of([])).to_dict()

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def json_schema() -> dict[str, Any]:
    """The report's JSON Schema (draft 2020-12), as shipped in the package."""
    text = (
        resources.files("reviewwatch.gap").joinpath("gap.schema.json").read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema
