"""schema_org: reviews published as schema.org markup (JSON-LD, microdata, RDFa) on any page.

Options: `next_selector` (CSS selector of the next page's link; default `rel=next`),
`match_item` (unset: a page whose reviews are all about one item is the business's, and on a
page with reviews of several items only those naming the business are kept; true: always by
name; false: never), `max_pages`. Settings: `crawl.first_crawl_pages`, `crawl.max_pages`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response
from parsel import Selector

from crawler.items import MentionItem
from crawler.schema import (
    Found,
    find,
    number,
    published_of,
    rating_on_scale,
    short_types,
    stable_id,
    structured_nodes,
    text_of,
)
from crawler.spiders.base import SourceSpider
from crawler.text import fold, language_code, mentions_any, one_line, parse_date


class SchemaOrgSpider(SourceSpider):
    name = "schema_org"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.other_items: Counter[str] = Counter()  # names of the items whose reviews were left out

    def first_requests(self) -> Iterable[Request]:
        yield self.request(self.context.target, self.parse, cb_kwargs={"page": 1})

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:  # type: ignore[override]
        html = self.page_text(response)
        nodes, malformed = structured_nodes(html, response.url)
        for _ in range(malformed):
            self.tally.reject("malformed structured data")
        reviews, aggregates = find(nodes, "Review"), find(nodes, "AggregateRating")
        self.tally.records += len(reviews)
        strict = self.must_match([*reviews, *aggregates])
        self.record_aggregate(aggregates, strict)
        items = [item for found in reviews if (item := self.review(found, response.url, strict))]
        kept, go_on = self.keep(items)
        yield from kept
        next_url = self.next_page(html, response)
        if go_on and next_url and self.may_request_page(page + 1):
            yield self.request(next_url, self.parse, cb_kwargs={"page": page + 1})

    def must_match(self, found: list[Found]) -> bool:
        """Whether a review must name the business to be kept.

        `options.match_item` decides when set. Otherwise a page whose reviews are all about one
        item (a recipe, a product, a hotel: whatever its name) is the business's, as configured
        by its url; only a page holding reviews of several items is sorted by name.
        """
        option = self.context.options.get("match_item")
        if option is not None:
            return bool(option)
        return len({item_identity(f.item) for f in found}) > 1

    def review(self, found: Found, page_url: str, strict: bool = True) -> MentionItem | None:
        node = found.node
        if strict and not self.is_ours(found.item):
            self.tally.reject("review of another item")
            name = one_line(text_of((found.item or {}).get("name")), 80) or "an unnamed item"
            self.other_items[name] += 1
            return None
        body = text_of(node.get("reviewBody")) or text_of(node.get("description")) or ""
        author = text_of(node.get("author"))
        published = published_of(node)
        rating, scale = rating_on_scale(node.get("reviewRating"))
        ident = text_of(node.get("@id")) or text_of(node.get("url"))
        if not ident:
            # datePublished only, as before dateCreated was read: the ids of stored reviews stay.
            stated = text_of(node.get("datePublished"))
            ident = stable_id(author, stated, None if author and stated else body[:200])
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

    def hints(self) -> list[str]:
        others = self.other_items
        if not others:
            return []
        count = sum(others.values())
        names = ", ".join(f"'{name}'" for name, _ in others.most_common(3))
        stored = self.tally.new + self.tally.updated + self.tally.unchanged
        lead = "nothing stored: " if not stored else ""
        return [
            f"{lead}{count} review{'s' if count != 1 else ''} of another item ({names}) left out: "
            "this page holds reviews of several items and only those naming the business are "
            "kept. If they are the business's, add the item's name to its aliases, or set "
            "options.match_item = false on this source."
        ]

    def record_aggregate(self, found: list[Found], strict: bool = True) -> None:
        for aggregate in found:
            if not strict or self.is_ours(aggregate.item):
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


def item_identity(item: dict[str, Any] | None) -> str | None:
    """What tells the items of a page apart: the name, else the url, else the type."""
    if not item:
        return None  # the page itself
    name = text_of(item.get("name"))
    if name:
        return "name:" + fold(name).strip()
    url = text_of(item.get("url")) or text_of(item.get("@id"))
    if url:
        return "url:" + url
    return "type:" + ",".join(sorted(short_types(item)))
