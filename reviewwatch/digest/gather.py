"""Collect what a digest shows from the store: its mentions by topic, crawl failures, the gap.

Everything is read from the store, so a retried digest shows the same mentions as the first
attempt (its items are fixed when it is created).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reviewwatch.config import DigestConfig, Settings
from reviewwatch.digest.compose import DigestContent, FailureView, MentionView, TopicGroup
from reviewwatch.digest.gapinfo import GapSection, gap_section
from reviewwatch.digest.select import NO_TOPIC, Selected
from reviewwatch.digest.text import body_text, excerpt, one_line, safe_link
from storage.models import Business, CrawlRun, Digest, Source
from storage.sources import FEEDBACK

# crawl_runs statuses the digest reports (besides any run that counted errors); `suspect`: the
# pages answered without any review although earlier runs found some (a changed markup?).
FAILED_STATUSES = ("failed", "error", "errors", "partial", "timeout", "suspect")
MAX_FAILURES = 50


def build_content(
    session: Session,
    settings: Settings,
    business: Business,
    selected: list[Selected],
    *,
    since: dt.datetime | None,
    until: dt.datetime,
    gap: GapSection,
) -> DigestContent:
    config = digest_config(settings, business.slug)
    tz = ZoneInfo(business.timezone or "UTC")
    return DigestContent(
        business_name=business.name,
        groups=group_by_topic(selected, config, tz),
        feedback=told_first(selected, config, tz),
        gap=gap,
        failures=crawl_failures(session, business.id, since, until, tz),
        since=_local(since, tz, "%Y-%m-%d %H:%M %Z") if since else None,
    )


def gap_for(
    session: Session,
    settings: Settings,
    business: Business,
    snapshot_id: int | None,
    previous: Digest | None,
) -> GapSection:
    since_snapshot = previous.gap_snapshot_id if previous is not None else None
    return gap_section(session, settings, business, snapshot_id, since_snapshot)


def digest_config(settings: Settings, slug: str) -> DigestConfig:
    """The business's digest settings; the defaults if it has left the configuration."""
    for business in settings.businesses:
        if business.id == slug:
            return business.digest
    return DigestConfig()


def previous_digest(
    session: Session, business_id: int, recipient: str, before_id: int | None = None
) -> Digest | None:
    """The latest digest to this recipient created before `before_id` (or at all)."""
    query = select(Digest).where(Digest.business_id == business_id, Digest.recipient == recipient)
    if before_id is not None:
        query = query.where(Digest.id < before_id)
    return session.scalar(query.order_by(Digest.id.desc()).limit(1))


def group_by_topic(
    selected: list[Selected], config: DigestConfig, tz: ZoneInfo
) -> list[TopicGroup]:
    """Public mentions grouped under the topics they are negative about (one may be in several
    groups): largest groups first, "other" last. Answers to feedback requests are `told_first`."""
    groups: dict[str, list[MentionView]] = defaultdict(list)
    for item in selected:
        if item.source_type == FEEDBACK:
            continue
        view = mention_view(item, config, tz)
        for topic in item.topics:
            groups[topic].append(view)
    order = sorted(groups, key=lambda t: (t == NO_TOPIC, -len(groups[t]), t))
    return [TopicGroup(topic=one_line(t, 64), mentions=groups[t]) for t in order]


def told_first(selected: list[Selected], config: DigestConfig, tz: ZoneInfo) -> list[MentionView]:
    """The new negative answers to feedback requests, newest first: the digest lists them before
    anything else (a customer told the owner before telling the world)."""
    told = [item for item in selected if item.source_type == FEEDBACK]
    told.sort(key=lambda i: (i.mention.published_at or i.mention.first_seen_at, i.mention.id),
              reverse=True)
    return [mention_view(item, config, tz) for item in told]


def mention_view(item: Selected, config: DigestConfig, tz: ZoneInfo) -> MentionView:
    mention = item.mention
    text, cut = excerpt(body_text(mention.text), config.excerpt_chars)
    when = mention.published_at or mention.first_seen_at
    return MentionView(
        source=one_line(item.source_type, 32),
        date=_local(when, tz, "%Y-%m-%d"),
        rating=_rating(mention.rating, mention.rating_scale),
        language=one_line(mention.language, 16) or "unknown",
        author=one_line(mention.author, 100),
        title=one_line(mention.title, 300),
        text=text,
        excerpted=cut or mention.truncated,
        url=safe_link(mention.url),
    )


def crawl_failures(
    session: Session,
    business_id: int,
    since: dt.datetime | None,
    until: dt.datetime,
    tz: ZoneInfo,
) -> list[FailureView]:
    """Crawl runs of the business that failed or counted errors in (since, until]."""
    query = (
        select(CrawlRun, Source.type, Source.target)
        .join(Source, Source.id == CrawlRun.source_id)
        .where(
            Source.business_id == business_id,
            CrawlRun.started_at <= until,
            or_(CrawlRun.status.in_(FAILED_STATUSES), CrawlRun.errors > 0),
        )
        .order_by(CrawlRun.started_at, CrawlRun.id)
        .limit(MAX_FAILURES)
    )
    if since is not None:
        query = query.where(CrawlRun.started_at > since)
    return [
        FailureView(
            source=one_line(source_type, 32),
            target=one_line(target, 200),
            when=_local(run.started_at, tz, "%Y-%m-%d %H:%M %Z"),
            status=one_line(run.status, 16) + (f", {run.errors} errors" if run.errors else ""),
            summary=one_line(run.error_summary, 300),
        )
        for run, source_type, target in session.execute(query)
    ]


def _rating(rating: float | None, scale: float | None) -> str | None:
    if rating is None:
        return None
    return f"{rating:g}/{scale:g}" if scale else f"{rating:g}"


def _local(when: dt.datetime, tz: ZoneInfo, fmt: str) -> str:
    return when.astimezone(tz).strftime(fmt)
