"""own_site: the business's own website: the rating markup it publishes about itself and the
service claims its pages make, stored as claims with origin `own_site` and their evidence.

Follows links within the site (same host, under the configured url) up to
`crawl.own_site_max_pages`; claim levels come from `gap.own_site_levels`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urldefrag, urlsplit

from parsel import Selector
from scrapy import Request
from scrapy.http import Response

from crawler.claims import find_claims
from crawler.response_claims import find_response_promises
from crawler.items import ClaimItem
from crawler.schema import find, number, rating_on_scale, structured_nodes
from crawler.spiders.base import SourceSpider
from crawler.text import clean_text, html_to_text

_SKIP = (".jpg", ".jpeg", ".png", ".gif", ".svg", ".pdf", ".css", ".js", ".zip", ".webp")


class OwnSiteSpider(SourceSpider):
    name = "own_site"
    expects_records = False  # claims, not reviews: a page without one is ordinary

    def first_requests(self) -> Iterable[Request]:
        self.visited: set[str] = set()
        yield self.visit(self.context.target)

    def visit(self, url: str) -> Request:
        self.visited.add(url)
        return self.request(url, self.parse)

    def parse(self, response: Response) -> Iterator[Any]:  # type: ignore[override]
        html = self.page_text(response)
        yield from self.rating_claims(html, response.url)
        body = Selector(text=html).xpath("//body").get() or html
        for found in find_claims(clean_text(html_to_text(body)), self.context.own_site_levels):
            yield ClaimItem(
                claim_key=claim_key(response.url, found.sentence, found.topic),
                metric="positive_share",
                value=found.value,
                topic=found.topic,
                level=found.level,
                evidence_url=response.url,
                evidence_text=found.sentence,
            )
        for promise in find_response_promises(clean_text(html_to_text(body))):
            yield ClaimItem(  # "we answer every review within 24 hours": the hours as its scale
                claim_key=claim_key(response.url, promise.sentence, "response_within_hours"),
                metric="response_within_hours",
                value=promise.share,
                scale=promise.hours,
                level="explicit",
                evidence_url=response.url,
                evidence_text=promise.sentence,
            )
        yield from self.links(html, response)

    def rating_claims(self, html: str, url: str) -> Iterator[ClaimItem]:
        nodes, malformed = structured_nodes(html, url)
        for _ in range(malformed):
            self.tally.reject("malformed structured data")
        for aggregate in find(nodes, "AggregateRating"):
            value, scale = rating_on_scale(aggregate.node)
            if value is None:
                continue
            count = number(aggregate.node.get("reviewCount") or aggregate.node.get("ratingCount"))
            about = (aggregate.item or {}).get("name") or self.context.business_slug
            evidence = f"{about}: rated {value:g}/{scale:g}" + (
                f" from {count:g} reviews" if count else ""
            )
            yield ClaimItem(
                claim_key=claim_key(url, "aggregateRating", None),
                metric="average_rating",
                value=value,
                scale=scale,
                evidence_url=url,
                evidence_text=evidence,
            )

    def links(self, html: str, response: Response) -> Iterator[Request]:
        root = urlsplit(self.context.target)
        for href in Selector(text=html).xpath("//a/@href").getall():
            url = urldefrag(response.urljoin(href.strip()))[0]
            parts = urlsplit(url)
            if (
                parts.netloc != root.netloc
                or not parts.path.startswith(root.path)
                or parts.path.lower().endswith(_SKIP)
                or url in self.visited
            ):
                continue
            if len(self.visited) >= self.context.crawl.own_site_max_pages:
                self.details["incomplete"] = True  # unread pages: keep the claims found before
                continue
            yield self.visit(url)


def claim_key(url: str, sentence: str, topic: str | None) -> str:
    """Stable across re-crawls: the page, the sentence and the topic it claims."""
    digest = hashlib.sha256(f"{url}\x1f{sentence}\x1f{topic or '*'}".encode()).hexdigest()
    return f"own_site:{digest[:40]}"
