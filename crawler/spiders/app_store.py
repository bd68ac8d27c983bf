"""app_store: the Apple App Store customer-reviews JSON feed of an app, per country, newest first.

Options: `app_id` (required), `countries` (default ["us"]). Apple serves at most 10 pages of 50.
The source url is the feed's base (`https://itunes.apple.com/`). Where an entry carries the
developer's response (`developerResponse`: `body`/`content` and `lastModifiedDate`/`updated`),
it is yielded as a `ReplyItem` (it marks the review's follow-up item replied).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from crawler.items import MentionItem, ReplyItem
from crawler.spiders.base import SourceSpider, each
from crawler.text import parse_date

APPLE_MAX_PAGES = 10
PAGE_SIZE = 50


class AppStoreSpider(SourceSpider):
    name = "app_store"

    def first_requests(self) -> Iterable[Request]:
        app_id = self.context.options.get("app_id")
        if not app_id:
            self.tally.error("configuration", "app_store source needs options.app_id")
            return
        for country in self.context.options.get("countries") or ["us"]:
            yield self.page(str(country).lower(), 1)

    def page(self, country: str, number: int) -> Request:
        base = self.context.target.rstrip("/") + "/"
        app_id = self.context.options["app_id"]
        url = f"{base}{country}/rss/customerreviews/page={number}/id={app_id}/sortby=mostrecent/json"
        return self.request(url, self.parse, cb_kwargs={"country": country, "number": number})

    def parse(self, response: Response, country: str, number: int) -> Iterator[Any]:  # type: ignore[override]
        try:
            feed = json.loads(self.page_text(response))["feed"]
        except (ValueError, KeyError, TypeError):
            self.tally.reject("unreadable app store feed")
            return
        entries = [e for e in each(feed.get("entry")) if isinstance(e, dict)]
        self.tally.records += sum(1 for e in entries if "im:rating" in e)
        # The first entry of a page may describe the app itself: it has no rating.
        items = [self.review(e, country) for e in entries if "im:rating" in e]
        kept, go_on = self.keep([i for i in items if i])
        yield from kept
        by_id = {_label(e.get("id")): e for e in entries}
        for item in kept:
            reply = developer_response(by_id.get(item.external_id) or {}, item)
            if reply is not None:
                yield reply
        limit = min(APPLE_MAX_PAGES, self.context.page_limit)
        if go_on and len(entries) >= PAGE_SIZE and number < limit:
            yield self.page(country, number + 1)

    def review(self, entry: dict[str, Any], country: str) -> MentionItem | None:
        ident = _label(entry.get("id"))
        if not ident:
            self.tally.reject("review without id")
            return None
        link = entry.get("link")
        href = link.get("attributes", {}).get("href") if isinstance(link, dict) else None
        return MentionItem(
            external_id=ident,
            text=_label(entry.get("content")) or "",
            url=href,
            author=_label((entry.get("author") or {}).get("name")),
            title=_label(entry.get("title")),
            rating=_float(_label(entry.get("im:rating"))),
            rating_scale=5.0,
            published_at=parse_date(_label(entry.get("updated"))),
            extra={"country": country, "version": _label(entry.get("im:version"))},
        )


def developer_response(entry: dict[str, Any], item: MentionItem) -> ReplyItem | None:
    """The developer's public response to a review, where the feed carries one."""
    response = entry.get("developerResponse") or entry.get("im:developerResponse")
    if not isinstance(response, dict):
        return None
    text = _label(response.get("body")) or _label(response.get("content"))
    if not text:
        return None
    return ReplyItem(
        mention_ref=item.external_id,
        text=text,
        reply_key=_label(response.get("id")) or "reply",
        author=_label((response.get("author") or {}).get("name")) or "developer",
        replied_at=parse_date(
            _label(response.get("lastModifiedDate")) or _label(response.get("updated"))
        ),
        url=item.url,
    )


def _label(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("label")
    return str(value) if value not in (None, "") else None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
