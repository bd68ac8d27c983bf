"""trustpilot: a business's review pages; reviews come from the page's `__NEXT_DATA__` JSON.

Per-review language, 1-5 stars, the business's reply kept apart (`reply_text`) and yielded as a
`ReplyItem` with its own date (it marks the review's follow-up item replied); pages
`?page=N` up to the page limit. Settings: `crawl.first_crawl_pages`, `crawl.max_pages`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from parsel import Selector
from scrapy import Request
from scrapy.http import Response

from crawler.items import MentionItem, ReplyItem
from crawler.spiders.base import SourceSpider
from crawler.text import language_code, parse_date


class TrustpilotSpider(SourceSpider):
    name = "trustpilot"

    def first_requests(self) -> Iterable[Request]:
        yield self.request(self.page_url(1), self.parse, cb_kwargs={"page": 1})

    def page_url(self, page: int) -> str:
        parts = urlsplit(self.context.target)
        query = urlencode({"page": page}) if page > 1 else ""
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:  # type: ignore[override]
        html = self.page_text(response)
        raw = Selector(text=html).xpath('//script[@id="__NEXT_DATA__"]/text()').get()
        try:
            props = json.loads(raw or "")["props"]["pageProps"]
        except (ValueError, KeyError, TypeError):
            self.tally.reject("page without readable __NEXT_DATA__")
            return
        reviews = props.get("reviews") or []
        self.tally.records += len(reviews) if isinstance(reviews, list) else 0
        items = [i for r in reviews if isinstance(r, dict) and (i := self.review(r))]
        kept, go_on = self.keep(items)
        yield from kept
        replies = {str(r.get("id")): r for r in reviews if isinstance(r, dict)}
        for item in kept:
            found = self.reply(replies.get(item.external_id) or {}, item)
            if found is not None:
                yield found
        pagination = (props.get("filters") or {}).get("pagination") or {}
        total = pagination.get("totalPages") or page
        if go_on and page < int(total) and self.may_request_page(page + 1):
            yield self.request(self.page_url(page + 1), self.parse, cb_kwargs={"page": page + 1})

    def review(self, review: dict[str, Any]) -> MentionItem | None:
        ident = review.get("id")
        if not ident:
            self.tally.reject("review without id")
            return None
        dates = review.get("dates") or {}
        reply = review.get("reply") or {}
        consumer = review.get("consumer") or {}
        base = self.context.target.rsplit("/review/", 1)[0]
        return MentionItem(
            external_id=str(ident),
            text=str(review.get("text") or ""),
            url=f"{base}/reviews/{ident}",
            author=consumer.get("displayName"),
            title=review.get("title"),
            rating=_stars(review.get("rating")),
            rating_scale=5.0,
            language=language_code(review.get("language")),
            # An edited review may carry only its updatedDate.
            published_at=parse_date(dates.get("publishedDate") or dates.get("updatedDate")),
            reply_text=reply.get("message") if isinstance(reply, dict) else None,
            extra={"updated": dates.get("updatedDate")} if dates.get("updatedDate") else {},
        )


    def reply(self, review: dict[str, Any], item: MentionItem) -> ReplyItem | None:
        reply = review.get("reply")
        if not isinstance(reply, dict) or not reply.get("message"):
            return None
        return ReplyItem(
            mention_ref=item.external_id,
            text=str(reply["message"]),
            author=self.context.business_slug,
            replied_at=parse_date(reply.get("publishedDate") or reply.get("updatedDate")),
            url=item.url,
        )


def _stars(value: Any) -> float | None:
    try:
        stars = float(value)
    except (TypeError, ValueError):
        return None
    return stars if 1 <= stars <= 5 else None
