"""The crawler driven by the application's configuration: which sources, with which settings.

The crawler knows nothing of `Settings`; this module hands it the plain values it needs (the crawl
section, each business's keywords, the own-site claim levels of the gap section).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from reviewwatch.config import Settings
from storage.db import Store

if TYPE_CHECKING:  # Scrapy loads only when a crawl is run
    from crawler.context import SourceContext
    from crawler.runner import CrawlJob


def source_contexts(
    store: Store,
    settings: Settings,
    *,
    business: str | None = None,
    source_type: str | None = None,
    since: dt.datetime | None = None,
) -> list[SourceContext]:
    """The active sources to crawl (an unknown business id is a ConfigError)."""
    from crawler.runner import load_contexts

    if business is not None:
        settings.business(business)
    return load_contexts(
        store,
        settings.crawl,
        keywords={b.id: b.keywords for b in settings.businesses},
        own_site_levels=settings.gap.own_site_levels,
        business=business,
        source_type=source_type,
        since=since,
    )


def crawl_job(
    settings: Settings,
    store: Store,
    contexts: list[SourceContext],
    scrapy_overrides: dict[str, Any] | None = None,
) -> CrawlJob:
    from crawler.runner import CrawlJob

    return CrawlJob(settings.crawl, store, contexts, scrapy_overrides, log_level=settings.log_level)
