"""Bring the store in line with the configuration: businesses, their sources, declared claims,
and the rule that turns a rating into a label (`gap.rating_labels`, read by the views).

Removing a source or claim from the configuration deactivates it; nothing stored is deleted.
Rows are created with INSERT ... ON CONFLICT DO NOTHING, then read back: two processes syncing
at once (schedulers and workers starting together on an empty store) both succeed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.config import BusinessConfig, ClaimConfig, Settings, SourceConfig
from storage.labels import store_rule
from storage.models import Business, Claim, Source
from storage.upsert import insert_ignore


@dataclass(frozen=True, slots=True)
class SyncResult:
    businesses: int
    sources: int
    claims: int


def sync_settings(session: Session, settings: Settings) -> SyncResult:
    store_rule(session, settings.gap.rating_labels.rule())
    sources = claims = 0
    for config in settings.businesses:
        business = sync_business(session, config)
        sources += len(config.sources)
        claims += len(sync_declared_claims(session, business, config.claims))
    return SyncResult(len(settings.businesses), sources, claims)


def sync_business(session: Session, config: BusinessConfig) -> Business:
    business = session.scalar(select(Business).where(Business.slug == config.id))
    if business is None:
        insert_ignore(
            session,
            Business,
            {"slug": config.id, "name": config.name, "timezone": config.timezone},
            conflict_on=["slug"],
        )
        business = session.scalars(select(Business).where(Business.slug == config.id)).one()
    business.name = config.name
    business.website = config.website
    business.timezone = config.timezone
    session.flush()
    wanted: dict[tuple[str, str], SourceConfig] = {(s.type, s.target): s for s in config.sources}
    stored: dict[tuple[str, str], Source] = {
        (s.type, s.target): s
        for s in session.scalars(select(Source).where(Source.business_id == business.id))
    }
    for key, source_config in wanted.items():
        source = stored.get(key)
        if source is None:
            insert_ignore(
                session,
                Source,
                {"business_id": business.id, "type": key[0], "target": key[1], "state": {},
                 "options": {}},
                conflict_on=["business_id", "type", "target"],
            )
            source = session.scalars(
                select(Source).where(
                    Source.business_id == business.id, Source.type == key[0], Source.target == key[1]
                )
            ).one()
        source.options = dict(source_config.options)
        source.active = True
    for key, source in stored.items():
        if key not in wanted:
            source.active = False
    session.flush()
    return business


def declared_claim_key(claim: ClaimConfig, metric: str) -> str:
    kind = f"predicted:{claim.predicted_for}" if claim.predicted_for else "claim"
    return f"declared:{metric}:{claim.topic or '*'}:{kind}:{claim.stated_at.isoformat()}"


def sync_declared_claims(
    session: Session, business: Business, claims: list[ClaimConfig]
) -> list[Claim]:
    stored = {
        c.claim_key: c
        for c in session.scalars(
            select(Claim).where(Claim.business_id == business.id, Claim.origin == "declared")
        )
    }
    kept: list[Claim] = []
    for config in claims:
        for metric, value, scale in _figures(config):
            key = declared_claim_key(config, metric)
            claim = stored.pop(key, None)
            if claim is None:
                claim = _claim_row(session, business, key, config, metric, value)
            claim.metric = metric
            claim.topic = config.topic
            claim.value = value
            claim.scale = scale
            claim.kind = "prediction" if config.predicted_for else "claim"
            claim.period = config.predicted_for
            claim.stated_at = dt.datetime.combine(config.stated_at, dt.time(), dt.UTC)
            claim.active = True
            kept.append(claim)
    for claim in stored.values():
        claim.active = False
    session.flush()
    return kept


def _claim_row(
    session: Session, business: Business, key: str, config: ClaimConfig, metric: str, value: float
) -> Claim:
    stated = dt.datetime.combine(config.stated_at, dt.time(), dt.UTC)
    insert_ignore(
        session,
        Claim,
        {"business_id": business.id, "claim_key": key, "origin": "declared", "metric": metric,
         "value": value, "kind": "claim", "stated_at": stated, "active": True},
        conflict_on=["business_id", "claim_key"],
    )
    return session.scalars(
        select(Claim).where(Claim.business_id == business.id, Claim.claim_key == key)
    ).one()


def _figures(claim: ClaimConfig) -> list[tuple[str, float, float | None]]:
    figures: list[tuple[str, float, float | None]] = []
    if claim.positive_share is not None:
        figures.append(("positive_share", claim.positive_share, None))
    if claim.average_rating is not None:
        figures.append(("average_rating", claim.average_rating, claim.rating_scale))
    if claim.response_within_hours is not None:  # the promised share, the hours as its scale
        figures.append(("response_within_hours", claim.response_share, claim.response_within_hours))
    return figures
