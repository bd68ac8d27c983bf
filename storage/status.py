"""Per business and source: the last crawl run and what is stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from storage.models import Business, CrawlRun, Mention, Score, Source


@dataclass(frozen=True, slots=True)
class SourceStatus:
    business: str
    source_type: str
    target: str
    active: bool
    mentions: int
    scored: int
    last_status: str | None
    last_started: dt.datetime | None
    last_new: int | None
    last_errors: int | None


def source_status(session: Session) -> list[SourceStatus]:
    mentions = (
        select(Mention.source_id, func.count().label("n"))
        .where(Mention.deleted_at.is_(None))
        .group_by(Mention.source_id)
        .subquery()
    )
    scored = (
        select(Mention.source_id, func.count().label("n"))
        .join(Score, and_(Score.mention_id == Mention.id, Score.is_current.is_(True)))
        .group_by(Mention.source_id)
        .subquery()
    )
    last_run = (
        select(CrawlRun.source_id, func.max(CrawlRun.id).label("run_id"))
        .group_by(CrawlRun.source_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Business.slug,
            Source.type,
            Source.target,
            Source.active,
            func.coalesce(mentions.c.n, 0),
            func.coalesce(scored.c.n, 0),
            CrawlRun.status,
            CrawlRun.started_at,
            CrawlRun.new,
            CrawlRun.errors,
        )
        .join(Source, Source.business_id == Business.id)
        .outerjoin(mentions, mentions.c.source_id == Source.id)
        .outerjoin(scored, scored.c.source_id == Source.id)
        .outerjoin(last_run, last_run.c.source_id == Source.id)
        .outerjoin(CrawlRun, CrawlRun.id == last_run.c.run_id)
        .order_by(Business.slug, Source.type, Source.target)
    )
    return [SourceStatus(*row) for row in rows]
