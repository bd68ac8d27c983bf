"""Collect what a digest shows from the store: its mentions (numbered, newest first), their
topics, crawl failures, the gap; worded in the recipient's language (`locale.py`).

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
from reviewwatch.digest.compose import DigestContent, FailureView, MentionView, TopicCount
from reviewwatch.digest.gapinfo import GapSection, gap_section
from reviewwatch.digest.gaptext import gap_view
from reviewwatch.digest.locale import DEFAULT_LANGUAGE, Texts, owner_language, source_name
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
    language: str = DEFAULT_LANGUAGE,
    recipient: str | None = None,
) -> DigestContent:
    """What one recipient's digest shows, in their language: each mention once and numbered
    (answers to feedback requests first, then the public mentions, newest first)."""
    from reviewwatch.digest.followup import followup_views

    config = digest_config(settings, business.slug)
    tz = ZoneInfo(business.timezone or "UTC")
    t = Texts(language)
    ordered = newest_first(selected)
    told = [item for item in ordered if item.source_type == FEEDBACK]
    public = [item for item in ordered if item.source_type != FEEDBACK]
    views = [mention_view(n, item, config, tz, t) for n, item in enumerate(told + public, 1)]
    numbers = {item.mention.id: n for n, item in enumerate(told + public, 1)}
    return DigestContent(
        business_name=business.name,
        mentions=views[len(told) :],
        gap=gap_view(gap, t, numbers),
        failures=crawl_failures(session, business.id, since, until, tz, t),
        since=t.datetime(since.astimezone(tz)) if since else None,
        feedback=views[: len(told)],
        topics=topic_counts(told + public, t),
        language=t.language,
        followup=followup_views(
            session, settings, [item.mention.id for item in selected], recipient, until, t, tz,
            business.name,
        ) if recipient else {},
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


def recipient_language(settings: Settings, slug: str, recipient: str) -> str:
    """The language the owner `recipient` of business `slug` reads (English if not configured)."""
    config = next((b for b in settings.businesses if b.id == slug), None)
    return owner_language(config, recipient)


def previous_digest(
    session: Session, business_id: int, recipient: str, before_id: int | None = None
) -> Digest | None:
    """The latest digest to this recipient created before `before_id` (or at all)."""
    query = select(Digest).where(Digest.business_id == business_id, Digest.recipient == recipient)
    if before_id is not None:
        query = query.where(Digest.id < before_id)
    return session.scalar(query.order_by(Digest.id.desc()).limit(1))


def newest_first(selected: list[Selected]) -> list[Selected]:
    return sorted(
        selected,
        key=lambda s: (s.mention.published_at or s.mention.first_seen_at, s.mention.id),
        reverse=True,
    )


def topic_counts(ordered: list[Selected], t: Texts) -> list[TopicCount]:
    """Each topic in words with the numbers of the mentions negative about it: largest first,
    "other" last (a mention negative about two topics counts in both)."""
    numbers: dict[str, list[int]] = defaultdict(list)
    for n, item in enumerate(ordered, 1):
        for topic in item.topics:
            numbers[topic].append(n)
    if set(numbers) <= {NO_TOPIC}:
        return []  # no topic to tell apart: the list says nothing the mentions do not
    order = sorted(numbers, key=lambda k: (k == NO_TOPIC, -len(numbers[k]), t.topic(k)))
    return [TopicCount(one_line(t.topic(key), 64), numbers[key]) for key in order]


def mention_view(
    number: int, item: Selected, config: DigestConfig, tz: ZoneInfo, t: Texts
) -> MentionView:
    mention = item.mention
    text, cut = excerpt(body_text(mention.text), config.excerpt_chars)
    when = mention.published_at or mention.first_seen_at
    url = safe_link(mention.url)
    source = (
        t("private_feedback")
        if item.source_type == FEEDBACK
        else source_name(item.source_type, url)
    )
    return MentionView(
        number=number,
        source=one_line(source, 100),
        date=t.date(when.astimezone(tz)),
        rating=_rating(mention.rating, mention.rating_scale, t),
        language=one_line(t.language_name(mention.language), 40),
        author=one_line(mention.author, 100),
        title=one_line(mention.title, 300),
        text=text,
        excerpted=cut or mention.truncated,
        url=url,
        topics=[one_line(t.topic(topic), 64) for topic in item.topics if topic != NO_TOPIC],
        mention_id=mention.id,
    )


def crawl_failures(
    session: Session,
    business_id: int,
    since: dt.datetime | None,
    until: dt.datetime,
    tz: ZoneInfo,
    t: Texts,
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
            source=one_line(source_name(source_type, None, target), 100),
            target=one_line(target, 200),
            when=t.datetime(run.started_at.astimezone(tz)),
            status=_status(run.status, t)
            + (", " + t.plural("errors", run.errors) if run.errors else ""),
            summary=one_line(run.error_summary, 300),
        )
        for run, source_type, target in session.execute(query)
    ]


def _status(status: str, t: Texts) -> str:
    """A crawl run's status in words; one the catalogue does not know, as stored."""
    return t(f"status_{status}") if status in FAILED_STATUSES else one_line(status, 16)


def _rating(rating: float | None, scale: float | None, t: Texts) -> str | None:
    if rating is None:
        return None
    return t.rating(rating, scale)
