"""What the business claims: its active claims from the store, and the survey CSV import.

Declared claims come from the configuration (reviewwatch.sync), own_site claims from the crawler;
survey results are imported here. CSAT and NPS become a claimed positive share:
CSAT (percent satisfied, 0..100) / 100; NPS (-100..100) as (NPS + 100) / 200, i.e. the promoters
plus half the passives.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import cast
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.errors import InputError
from reviewwatch.gap.periods import midnight
from storage.memo import per_transaction
from storage.models import Business, Claim

REQUIRED_COLUMNS = ("period_start", "period_end", "metric", "value")
OPTIONAL_COLUMNS = ("topic", "responses")
SURVEY_METRICS = ("csat", "nps", "positive_share")
MAX_ROWS = 100_000
MAX_PROBLEMS_SHOWN = 50
REMOVABLE_ORIGINS = ("survey",)
_TOPIC = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def business_by_slug(session: Session, slug: str) -> Business:
    """The business's row, read once per transaction (a gap report asks for it several times;
    storage/memo.py)."""
    business = per_transaction(session, _BUSINESSES_KEY).get(slug)
    if business is None:
        business = session.scalar(select(Business).where(Business.slug == slug))
        if business is None:
            raise InputError(f"unknown business {slug!r} (is it in the configuration?)")
        per_transaction(session, _BUSINESSES_KEY)[slug] = business  # the read began one if none was
    return cast(Business, business)


_BUSINESSES_KEY = "reviewwatch.gap.businesses"


def remember_business(session: Session, business: Business) -> None:
    """Let `business_by_slug` answer from a row the caller has just read (by its id)."""
    if session.get_transaction() is not None:
        per_transaction(session, _BUSINESSES_KEY)[business.slug] = business


def active_claims(session: Session, business_id: int) -> list[Claim]:
    query = (
        select(Claim)
        .where(Claim.business_id == business_id, Claim.active.is_(True))
        .order_by(Claim.kind, Claim.origin, Claim.metric, Claim.topic, Claim.claim_key)
    )
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class SurveyRow:
    line: int
    start: dt.date
    end: dt.date
    metric: str
    value: float
    topic: str | None
    responses: int | None

    @property
    def claim_key(self) -> str:
        return f"survey:{self.metric}:{self.topic or '*'}:{self.start}..{self.end}"

    @property
    def positive_share(self) -> float:
        if self.metric == "csat":
            return self.value / 100.0
        if self.metric == "nps":
            return (self.value + 100.0) / 200.0
        return self.value

    def evidence(self) -> str:
        figure = {
            "csat": f"CSAT {self.value:g}% satisfied",
            "nps": f"NPS {self.value:+g}",
            "positive_share": f"positive share {self.value:g}",
        }[self.metric]
        responses = f" ({self.responses} responses)" if self.responses is not None else ""
        return (
            f"survey {self.start}..{self.end}: {figure}{responses}; "
            f"claimed positive share {self.positive_share:.4g}"
        )


@dataclass(frozen=True, slots=True)
class ImportResult:
    new: int
    updated: int


def read_survey(path: Path, known_topics: Collection[str] | None = None) -> list[SurveyRow]:
    """Parse and validate the whole file; every bad line is reported at once in one InputError.

    `known_topics` (the configured taxonomy) refuses a topic no mention can ever be scored on.
    """
    try:
        content = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"{path} line 1: missing column(s) {', '.join(missing)} "
            f"(expected {','.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})"
        )
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise InputError(f"{path} line 1: unknown column(s) {', '.join(unknown)}")
    reader.fieldnames = header
    rows: list[SurveyRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if len(rows) + len(problems) >= MAX_ROWS:
                raise InputError(f"{path} line {line}: more than {MAX_ROWS} rows")
            if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
                continue  # a blank line
            try:
                row = _parse_row(record, line, known_topics)
            except InputError as exc:
                problems.append(str(exc))
                continue
            if row.claim_key in seen:
                problems.append(
                    f"line {line}: same period, metric and topic as line {seen[row.claim_key]}"
                )
                continue
            seen[row.claim_key] = line
            rows.append(row)
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    if problems:
        raise InputError(_problems(path, problems))
    if not rows:
        raise InputError(f"{path}: no survey rows")
    return rows


def _problems(path: Path, problems: list[str]) -> str:
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    lines = [f"{path}: {len(problems)} bad line{'s' if len(problems) != 1 else ''}, "
             "nothing imported:", *(f"  {problem}" for problem in shown)]
    if more:
        lines.append(f"  ... and {more} more")
    return "\n".join(lines)


def _parse_row(
    record: dict[str, str | None], line: int, known_topics: Collection[str] | None = None
) -> SurveyRow:
    if None in record:  # more cells than columns
        raise InputError(f"line {line}: more values than columns")
    cell = {k: (v or "").strip() for k, v in record.items()}
    try:
        start = dt.date.fromisoformat(cell["period_start"])
        end = dt.date.fromisoformat(cell["period_end"])
    except ValueError:
        raise InputError(
            f"line {line}: period_start and period_end must be dates (YYYY-MM-DD)"
        ) from None
    if end < start:
        raise InputError(f"line {line}: period_end {end} is before period_start {start}")
    metric = cell["metric"].lower()
    if metric not in SURVEY_METRICS:
        raise InputError(
            f"line {line}: metric {cell['metric']!r} is not one of {', '.join(SURVEY_METRICS)}"
        )
    value = _number(cell["value"], line, "value")
    low, high = {"csat": (0.0, 100.0), "nps": (-100.0, 100.0), "positive_share": (0.0, 1.0)}[metric]
    if not low <= value <= high:
        raise InputError(f"line {line}: {metric} value {value:g} is outside {low:g}..{high:g}")
    if _looks_like_a_fraction(metric, value):
        raise InputError(
            f"line {line}: {metric} value {value:g} looks like a fraction, but {metric} is in "
            f"percent ({low:g}..{high:g}): write {value * 100:g} for {value * 100:g} %, or use "
            "metric positive_share for a share from 0 to 1"
        )
    topic = cell.get("topic") or None
    if topic is not None and not _TOPIC.match(topic):
        raise InputError(
            f"line {line}: topic {topic[:80]!r} must be a topic name such as wait_time"
        )
    if topic is not None and known_topics is not None and topic not in known_topics:
        close = difflib.get_close_matches(topic, list(known_topics), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InputError(
            f"line {line}: unknown topic {topic!r}: {hint}known topics: "
            f"{', '.join(sorted(known_topics))}"
        )
    responses = None
    if cell.get("responses"):
        count = _number(cell["responses"], line, "responses")
        if count < 0 or count != int(count):
            raise InputError(f"line {line}: responses must be a whole number")
        responses = int(count)
    return SurveyRow(line, start, end, metric, value, topic, responses)


def _looks_like_a_fraction(metric: str, value: float) -> bool:
    """CSAT 0.9 or NPS 0.45 is a share written where percent points are expected: 0.9 % satisfied
    is not what a survey reports. 0 and whole points (NPS 1, -1) are taken as written."""
    if metric == "csat":
        return 0 < value <= 1
    if metric == "nps":
        return 0 < abs(value) < 1
    return False


def _number(text: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"line {line}: {column} {text[:40]!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"line {line}: {column} must be a finite number")
    return value


def remove_claim(session: Session, business: Business, claim_key: str) -> Claim:
    """Deactivate one imported claim by its key (`claims list` shows keys). Declared claims live
    in the configuration and own-site claims are found again by the next crawl: neither is
    removed here. Nothing is deleted: importing the same line again brings the claim back."""
    claim = session.scalar(
        select(Claim).where(Claim.business_id == business.id, Claim.claim_key == claim_key)
    )
    if claim is None or not claim.active:
        raise InputError(
            f"{business.slug} has no active claim {claim_key!r} (see `reviewwatch claims list`)"
        )
    if claim.origin == "declared":
        raise InputError(
            f"{claim_key!r} is declared in the configuration: remove it from "
            f"[[businesses.claims]] of {business.slug}"
        )
    if claim.origin not in REMOVABLE_ORIGINS:
        raise InputError(
            f"{claim_key!r} was found on the business's own site ({claim.evidence_url}); "
            "the next crawl finds it again while the site says it"
        )
    claim.active = False
    return claim


def import_survey(session: Session, business: Business, rows: list[SurveyRow]) -> ImportResult:
    """Write validated rows as survey claims in the caller's transaction; re-importing updates."""
    stored = {
        c.claim_key: c
        for c in session.scalars(
            select(Claim).where(Claim.business_id == business.id, Claim.origin == "survey")
        )
    }
    new = updated = 0
    for row in rows:
        claim = stored.get(row.claim_key)
        if claim is None:
            claim = Claim(business_id=business.id, claim_key=row.claim_key, origin="survey")
            session.add(claim)
            stored[row.claim_key] = claim
            new += 1
        else:
            updated += 1
        claim.metric = "positive_share"
        claim.topic = row.topic
        claim.value = row.positive_share
        claim.scale = None
        claim.kind = "claim"
        claim.period = f"{row.start}..{row.end}"
        claim.evidence_text = row.evidence()
        claim.stated_at = midnight(row.end)
        claim.active = True
    session.flush()
    return ImportResult(new, updated)
