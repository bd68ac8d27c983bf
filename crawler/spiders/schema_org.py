"""schema_org: reviews published as schema.org markup (JSON-LD, microdata, RDFa) on any page.

Options: `next_selector` (CSS selector of the next page's link; default `rel=next`),
`match_item` (default true: a review of another item than the business is rejected),
`max_pages`. Settings: `crawl.first_crawl_pages`, `crawl.max_pages`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response
from parsel import Selector

from crawler.items import MentionItem
from crawler.schema import Found, find, number, rating_on_scale, stable_id, structured_nodes, text_of
from crawler.spiders.base import SourceSpider
from crawler.text import language_code, mentions_any, parse_date


class SchemaOrgSpider(SourceSpider):
    name = "schema_org"

    def first_requests(self) -> Iterable[Request]:
        yield self.request(self.context.target, self.parse, cb_kwargs={"page": 1})

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:  # type: ignore[override]
        html = self.page_text(response)
        nodes, malformed = structured_nodes(html, response.url)
        for _ in range(malformed):
            self.tally.reject("malformed structured data")
        self.record_aggregate(find(nodes, "AggregateRating"))
        items = [item for found in find(nodes, "Review") if (item := self.review(found, response.url))]
        kept, go_on = self.keep(items)
        yield from kept
        next_url = self.next_page(html, response)
        if go_on and next_url and self.may_request_page(page + 1):
            yield self.request(next_url, self.parse, cb_kwargs={"page": page + 1})

    def review(self, found: Found, page_url: str) -> MentionItem | None:
        node = found.node
        if self.context.options.get("match_item", True) and not self.is_ours(found.item):
            self.tally.reject("review of another item")
            return None
        body = text_of(node.get("reviewBody")) or text_of(node.get("description")) or ""
        author = text_of(node.get("author"))
        published = text_of(node.get("datePublished"))
        rating, scale = rating_on_scale(node.get("reviewRating"))
        ident = text_of(node.get("@id")) or text_of(node.get("url"))
        if not ident:
            ident = stable_id(author, published, None if author and published else body[:200])
        return MentionItem(
            external_id=ident,
            text=body,
            url=text_of(node.get("url")) or page_url,
            author=author,
            title=text_of(node.get("name")) or text_of(node.get("headline")),
            rating=rating,
            rating_scale=scale,
            language=language_code(text_of(node.get("inLanguage"))),
            published_at=parse_date(published),
        )

    def is_ours(self, item: dict[str, Any] | None) -> bool:
        """Whether the reviewed item is the business: by its name, else by its url's host."""
        if not item:
            return True  # the page is configured for the business; nothing says otherwise
        keywords = self.context.keywords
        name = text_of(item.get("name"))
        if name:
            # The item must name the business: another item called "Bistro" is not "Bistro Nord".
            return mentions_any(name, keywords)
        url = text_of(item.get("url")) or text_of(item.get("@id"))
        if url and url.startswith(("http://", "https://")):
            hosts = {urlsplit(u).netloc for u in (self.context.website, self.context.target) if u}
            return urlsplit(url).netloc in hosts
        return True

    def record_aggregate(self, found: list[Found]) -> None:
        for aggregate in found:
            if self.is_ours(aggregate.item):
                value, scale = rating_on_scale(aggregate.node)
                count = number(aggregate.node.get("reviewCount") or aggregate.node.get("ratingCount"))
                if value is not None:
                    self.details["aggregate_rating"] = {"value": value, "scale": scale, "count": count}
                    self.new_state["aggregate_rating"] = self.details["aggregate_rating"]
                return

    def next_page(self, html: str, response: Response) -> str | None:
        selector = Selector(text=html)
        custom = self.context.options.get("next_selector")
        if custom:
            href = selector.css(str(custom)).xpath("@href").get()
        else:
            href = selector.xpath('//link[@rel="next"]/@href | //a[@rel="next"]/@href').get()
        return response.urljoin(href) if href else None
