"""reddit: posts that name the business, from Reddit's search API with application-only OAuth.

The source's `query` is the search; options: `subreddit` (search only there), `auth_url` and
`api_url` (Reddit's by default). Credentials: `crawl.reddit_client_id` and
`crawl.reddit_client_secret` (environment only). Newest first, paginated by `after`; a post is
kept only when its title or text names the business. Reddit's X-Ratelimit-* headers are
honoured by `crawler.middlewares.RateLimitMiddleware`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

from scrapy import FormRequest, Request
from scrapy.http import Response

from crawler.items import MentionItem
from crawler.spiders.base import SourceSpider, eager
from crawler.text import mentions_any

AUTH_URL = "https://www.reddit.com/api/v1/access_token"
API_URL = "https://oauth.reddit.com/"
PAGE_SIZE = 100


class RedditSpider(SourceSpider):
    name = "reddit"
    token = ""

    def first_requests(self) -> Iterable[Request]:
        crawl = self.context.crawl
        if not crawl.reddit_client_id or not crawl.reddit_client_secret:
            self.tally.error(
                "configuration",
                "reddit needs REVIEWWATCH_CRAWL__REDDIT_CLIENT_ID and "
                "REVIEWWATCH_CRAWL__REDDIT_CLIENT_SECRET",
            )
            return
        pair = f"{crawl.reddit_client_id}:{crawl.reddit_client_secret.get_secret_value()}"
        yield FormRequest(
            self.context.options.get("auth_url", AUTH_URL),
            formdata={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()},
            callback=eager(self.parse_token),
            errback=self.on_error,
            dont_filter=True,
        )

    def parse_token(self, response: Response) -> Iterator[Request]:
        try:
            self.token = str(json.loads(self.page_text(response))["access_token"])
        except (ValueError, KeyError, TypeError):
            self.tally.error("reddit authentication", "no access_token in Reddit's answer")
            return
        yield self.search(None, 1)

    def search(self, after: str | None, page: int) -> Request:
        api = str(self.context.options.get("api_url", API_URL)).rstrip("/") + "/"
        subreddit = self.context.options.get("subreddit")
        path = f"r/{quote(str(subreddit))}/search" if subreddit else "search"
        params = {"q": self.context.target, "sort": "new", "limit": str(PAGE_SIZE), "type": "link",
                  "raw_json": "1"}
        if subreddit:
            params["restrict_sr"] = "1"
        if after:
            params["after"] = after
        return self.request(f"{api}{path}?{urlencode(params)}", self.parse_listing,
                            headers={"Authorization": f"Bearer {self.token}"},
                            cb_kwargs={"page": page})

    def parse_listing(self, response: Response, page: int) -> Iterator[Any]:
        try:
            listing = json.loads(self.page_text(response))["data"]
        except (ValueError, KeyError, TypeError):
            self.tally.reject("unreadable listing")
            return
        items = []
        children = listing.get("children") or []
        self.tally.records += len(children) if isinstance(children, list) else 0
        for child in children:
            post = child.get("data") if isinstance(child, dict) else None
            if not isinstance(post, dict) or not post.get("name"):
                self.tally.reject("post without id")
                continue
            item = self.post(post)
            if mentions_any(f"{item.title or ''}\n{item.text}", self.context.keywords):
                items.append(item)
            else:
                self.tally.note("post not about the business")
        kept, go_on = self.keep(items)
        yield from kept
        after = listing.get("after")
        if go_on and after and self.may_request_page(page + 1):
            yield self.search(str(after), page + 1)

    def post(self, post: dict[str, Any]) -> MentionItem:
        created = post.get("created_utc")
        permalink = post.get("permalink")
        return MentionItem(
            external_id=str(post["name"]),
            text=str(post.get("selftext") or ""),
            url=f"https://www.reddit.com{permalink}" if permalink else post.get("url"),
            author=post.get("author"),
            title=post.get("title"),
            published_at=(
                dt.datetime.fromtimestamp(float(created), dt.UTC)
                if isinstance(created, (int, float)) else None
            ),
            extra={"subreddit": post.get("subreddit"), "score": post.get("score")},
        )
