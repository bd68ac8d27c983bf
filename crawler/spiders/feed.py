"""feed: RSS and Atom feeds (news, alerts, blog comments) read with feedparser; an entry is
kept only when it names the business (its name or an alias).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

import feedparser
from scrapy import Request
from scrapy.http import Response

from crawler.items import MentionItem
from crawler.schema import stable_id
from crawler.spiders.base import SourceSpider
from crawler.text import html_to_text, language_code, mentions_any


class FeedSpider(SourceSpider):
    name = "feed"

    def first_requests(self) -> Iterable[Request]:
        yield self.request(self.context.target, self.parse)

    def parse(self, response: Response) -> Iterator[Any]:  # type: ignore[override]
        self.tally.pages += 1
        parsed = feedparser.parse(
            response.body, response_headers={"content-type": _header(response, b"Content-Type")}
        )
        if not parsed.entries and parsed.get("bozo"):
            self.tally.reject("unreadable feed")
            return
        self.tally.records += len(parsed.entries)
        feed_language = language_code(parsed.feed.get("language"))
        items = []
        for entry in parsed.entries:
            item = self.entry(entry, feed_language, response.url)
            if not mentions_any(html_to_text(f"{item.title or ''}\n{item.text}"),
                                self.context.keywords):
                self.tally.note("feed entry not about the business")
                continue
            items.append(item)
        kept, _ = self.keep(items)
        yield from kept

    def entry(self, entry: Any, feed_language: str | None, feed_url: str) -> MentionItem:
        content = entry.get("content") or []
        body = content[0].get("value", "") if content else entry.get("summary", "")
        language = language_code(content[0].get("language")) if content else None
        # The same order as schema.org's datePublished, dateCreated, dateModified.
        published = (entry.get("published_parsed") or entry.get("created_parsed")
                     or entry.get("updated_parsed"))
        link = entry.get("link")
        return MentionItem(
            external_id=entry.get("id") or link or stable_id(entry.get("title"), body[:200]),
            text=body or "",
            url=link or feed_url,
            author=entry.get("author"),
            title=entry.get("title"),
            html=True,
            language=language or feed_language,
            published_at=(
                dt.datetime.fromtimestamp(calendar.timegm(published), dt.UTC) if published else None
            ),
        )


def _header(response: Response, name: bytes) -> str:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else ""
