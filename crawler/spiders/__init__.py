"""One spider per source type; `SPIDERS` maps a source's `type` to its spider class."""

from __future__ import annotations

from crawler.spiders.app_store import AppStoreSpider
from crawler.spiders.base import SourceSpider
from crawler.spiders.feed import FeedSpider
from crawler.spiders.mastodon import MastodonSpider
from crawler.spiders.own_site import OwnSiteSpider
from crawler.spiders.reddit import RedditSpider
from crawler.spiders.schema_org import SchemaOrgSpider
from crawler.spiders.trustpilot import TrustpilotSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    spider.name: spider
    for spider in (
        SchemaOrgSpider,
        TrustpilotSpider,
        MastodonSpider,
        FeedSpider,
        AppStoreSpider,
        OwnSiteSpider,
        RedditSpider,
    )
}
