"""One crawl, in this process: the sources to read, one Scrapy crawler per source, their reports.

Twisted's reactor cannot restart, so a process runs at most one `CrawlJob`; the scheduler
starts `reviewwatch crawl` (or `python -m crawler`) as a child process for each crawl.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.context import SourceContext, Tally, short_target
from crawler.settings import CrawlSettings, scrapy_settings
from crawler.spiders import SPIDERS
from crawler.spiders.base import network_reason
from crawler.store import finish_run
from storage.db import Store
from storage.errors import InputError
from storage.models import Business, Mention, Source
from storage.sources import SOURCE_TYPES


@dataclass(frozen=True, slots=True)
class SourceReport:
    business: str
    type: str
    target: str
    status: str
    pages: int
    new: int
    updated: int
    unchanged: int
    invalid: int
    errors: int
    summary: str | None
    label: str = ""  # business/type and a short target: two sources of one type told apart
    hints: tuple[str, ...] = ()  # what happened and what to set, in words


def load_contexts(
    store: Store,
    crawl: CrawlSettings,
    *,
    keywords: Mapping[str, list[str]],
    own_site_levels: Mapping[str, float],
    business: str | None = None,
    source_type: str | None = None,
    since: dt.datetime | None = None,
) -> list[SourceContext]:
    """The active sources to crawl, with what the store knows about each.

    `keywords` maps a business's slug to the names a post must mention to be about it; a business
    the configuration no longer names is matched by its stored name.
    """
    if source_type is not None and source_type not in SOURCE_TYPES:
        raise InputError(f"unknown source type {source_type!r} (known: {', '.join(SOURCE_TYPES)})")
    query = (
        select(Source, Business)
        .join(Business, Business.id == Source.business_id)
        .where(Source.active.is_(True))
        .order_by(Business.slug, Source.id)
    )
    if business is not None:
        query = query.where(Business.slug == business)
    if source_type is not None:
        query = query.where(Source.type == source_type)
    contexts = []
    with store.reading() as session:
        rows = session.execute(query).all()
        known_ids = _known_ids(session, [source.id for source, _ in rows])
        for source, owner in rows:
            contexts.append(
                SourceContext(
                    business_id=owner.id,
                    business_slug=owner.slug,
                    keywords=list(keywords.get(owner.slug) or [owner.name]),
                    website=owner.website,
                    source_id=source.id,
                    type=source.type,
                    target=source.target,
                    options=dict(source.options or {}),
                    state=dict(source.state or {}),
                    last_success_at=source.last_success_at,
                    known_ids=frozenset(known_ids.get(source.id, ())),
                    crawl=crawl,
                    own_site_levels=dict(own_site_levels),
                    since=since,
                )
            )
    return contexts


def _known_ids(session: Session, source_ids: list[int], chunk: int = 500) -> dict[int, list[str]]:
    """The external ids stored per source: one query per `chunk` sources, not one per source."""
    known: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(source_ids), chunk):
        part = source_ids[start : start + chunk]
        for source_id, external_id in session.execute(
            select(Mention.source_id, Mention.external_id).where(Mention.source_id.in_(part))
        ):
            known[source_id].append(external_id)
    return known


class CrawlJob:
    """Runs every source's spider concurrently in one CrawlerProcess; blocks until all are done."""

    def __init__(
        self,
        crawl: CrawlSettings,
        store: Store,
        contexts: list[SourceContext],
        scrapy_overrides: dict[str, Any] | None = None,
        *,
        log_level: str = "INFO",
    ) -> None:
        self.crawl = crawl
        self.log_level = log_level
        self.store = store
        self.contexts = contexts
        self.overrides = scrapy_overrides or {}
        self.crawlers: list[tuple[SourceContext, Crawler]] = []
        self.unsupported: list[SourceReport] = []

    def run(self) -> list[SourceReport]:
        quiet_scrapy(self.log_level)
        values = {**scrapy_settings(self.crawl, self.log_level), **self.overrides}
        if self.log_level != "DEBUG":
            # Scrapy logs its versions and settings at INFO while it sets up its own logging.
            logging.disable(logging.INFO)
        try:
            process = CrawlerProcess(settings=values)
        finally:
            logging.disable(logging.NOTSET)
        quiet_scrapy(self.log_level)
        for context in self.contexts:
            spider_class = SPIDERS.get(context.type)
            if spider_class is None:
                self.unsupported.append(self.record_unsupported(context))
                continue
            crawler = process.create_crawler(spider_class)
            self.crawlers.append((context, crawler))
            process.crawl(crawler, context=context, store=self.store)
        if self.crawlers:
            process.start(stop_after_crawl=True)
        return self.reports()

    def record_unsupported(self, context: SourceContext) -> SourceReport:
        tally = Tally()
        tally.error(f"no spider for source type {context.type}")
        finish_run(self.store, run_id=None, context=context, started=dt.datetime.now(dt.UTC),
                   status="failed", tally=tally, details={}, new_state=context.state)
        return report(context, "failed", tally)

    def progress(self) -> list[tuple[str, int, int, str | None]]:
        """(source label, pages, items, run status once finished) of each crawler, read from
        another thread."""
        rows = []
        for context, crawler in self.crawlers:
            spider = crawler.spider
            tally = getattr(spider, "tally", None)
            status = getattr(spider, "run_status", None)
            rows.append((context.label, tally.pages if tally else 0, tally.items if tally else 0,
                         status))
        return rows

    def reports(self) -> list[SourceReport]:
        out = []
        for context, crawler in self.crawlers:
            spider = crawler.spider
            status = getattr(spider, "run_status", None)
            tally = getattr(spider, "tally", None)
            if status is None or tally is None:
                tally = tally or Tally()
                tally.error("crawler did not start")
                finish_run(self.store, run_id=None, context=context,
                           started=dt.datetime.now(dt.UTC), status="failed", tally=tally,
                           details={}, new_state=context.state)
                status = "failed"
            details = getattr(spider, "details", None) or {}
            out.append(report(context, status, tally, details.get("hints") or ()))
        return out + self.unsupported


def report(
    context: SourceContext, status: str, tally: Tally, hints: Any = ()
) -> SourceReport:
    return SourceReport(
        business=context.business_slug,
        type=context.type,
        target=context.target,
        status=status,
        pages=tally.pages,
        new=tally.new,
        updated=tally.updated,
        unchanged=tally.unchanged,
        invalid=tally.invalid,
        errors=tally.errors,
        summary=tally.summary(),
        label=f"{context.business_slug}/{context.type} {short_target(context.target)}",
        hints=tuple(str(h) for h in hints),
    )


def quiet_scrapy(level: str) -> None:
    """Scrapy's INFO lines (stats dumps, enabled components) are noise in a user's terminal."""
    logging.getLogger().setLevel(level)  # Scrapy resets the root logger's level
    if level != "DEBUG":
        for name in ("scrapy", "py.warnings", "filelock", "readability"):
            logging.getLogger(name).setLevel(logging.WARNING)
    robots = logging.getLogger("scrapy.downloadermiddlewares.robotstxt")
    if not any(isinstance(f, ExpectedNetworkErrors) for f in robots.filters):
        robots.addFilter(ExpectedNetworkErrors())


class ExpectedNetworkErrors(logging.Filter):
    """Drops robots.txt's traceback for an expected network failure (an unknown host, a refused
    connection): the page's own request fails the same way and is reported once, in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return error is None or network_reason(error) is None
