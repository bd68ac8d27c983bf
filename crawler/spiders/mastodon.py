"""mastodon: public posts on a configured instance: tag timelines and accounts' statuses.

Options: `hashtags` (list), `accounts` (list of acct names), `own_account` (the business's
own acct: its posts are kept as `is_own`, and its replies (`in_reply_to_id`) are also yielded as
`ReplyItem`s naming the status they answer: they mark its follow-up item replied). Boosts are skipped; HTML content becomes text in
the normalise pipeline. Incremental by `since_id` per timeline, kept in `Source.state`; the
instance's X-RateLimit-* headers are honoured by `crawler.middlewares.RateLimitMiddleware`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

from scrapy import Request
from scrapy.http import Response

from crawler.items import MentionItem, ReplyItem
from crawler.spiders.base import SourceSpider
from crawler.text import language_code, parse_date

PAGE_SIZE = 40
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class MastodonSpider(SourceSpider):
    name = "mastodon"
    expects_records = False  # a timeline read since its cursor is often empty

    @property
    def base(self) -> str:
        target = self.context.target
        if target.startswith("@"):  # handle = "@user@instance": that account on its instance
            return f"https://{target.rsplit('@', 1)[-1]}/"
        return target.rstrip("/") + "/"

    def first_requests(self) -> Iterable[Request]:
        options = dict(self.context.options)
        if self.context.target.startswith("@") and not options.get("accounts"):
            options["accounts"] = [self.context.target.split("@")[1]]
        for tag in options.get("hashtags") or []:
            tag = str(tag).lstrip("#")
            yield self.timeline(f"tag:{tag}", f"api/v1/timelines/tag/{quote(tag)}")
        accounts = list(options.get("accounts") or [])
        if options.get("own_account"):
            accounts.append(options["own_account"])
        for acct in accounts:
            url = f"{self.base}api/v1/accounts/lookup?{urlencode({'acct': acct})}"
            yield self.request(url, self.parse_account, cb_kwargs={"acct": str(acct)})

    def timeline(self, key: str, path: str, **extra: str) -> Request:
        params = {"limit": str(PAGE_SIZE), **extra}
        since = self.since_id(key)
        if since:
            params["since_id"] = since
        url = f"{self.base}{path}?{urlencode(params)}"
        return self.request(url, self.parse_statuses, cb_kwargs={"key": key, "page": 1})

    def since_id(self, key: str) -> str | None:
        value = (self.context.state.get("since_id") or {}).get(key)
        return str(value) if value else None

    def parse_account(self, response: Response, acct: str) -> Iterator[Request]:
        try:
            account_id = json.loads(self.page_text(response))["id"]
        except (ValueError, KeyError, TypeError):
            self.tally.reject("unreadable account")
            return
        yield self.timeline(
            f"account:{acct}", f"api/v1/accounts/{quote(str(account_id))}/statuses",
            exclude_reblogs="true",
        )

    def parse_statuses(self, response: Response, key: str, page: int) -> Iterator[Any]:
        try:
            statuses = json.loads(self.page_text(response))
        except ValueError:
            self.tally.reject("unreadable statuses")
            return
        if not isinstance(statuses, list):
            self.tally.reject("unreadable statuses")
            return
        self.tally.records += len(statuses)
        since = self.since_id(key)
        own = key == f"account:{self.context.options.get('own_account')}"
        items: list[MentionItem] = []
        replies: list[ReplyItem] = []
        for status in statuses:
            if not isinstance(status, dict) or not status.get("id"):
                self.tally.reject("status without id")
            elif status.get("reblog"):
                self.tally.note("boost skipped")
            elif since and _older_or_same(str(status["id"]), since):
                continue
            else:
                items.append(self.status(status, own))
                self.advance(key, str(status["id"]))
                if own and status.get("in_reply_to_id"):
                    replies.append(self.reply(status))
        kept, go_on = self.keep(items)
        yield from kept
        yield from replies
        next_url = _next_link(response)
        if go_on and items and next_url and self.may_request_page(page + 1):
            yield self.request(next_url, self.parse_statuses, cb_kwargs={"key": key, "page": page + 1})

    def progress_state(self) -> dict[str, Any]:
        """A timeline whose reading failed keeps its old cursor: its unread posts come next time."""
        state = super().progress_state()
        old = dict(self.context.state.get("since_id") or {})
        cursors = dict(state.get("since_id") or {})
        for key in self.failed_keys:
            if key in old:
                cursors[key] = old[key]
            else:
                cursors.pop(key, None)
        state["since_id"] = cursors
        return state

    def advance(self, key: str, status_id: str) -> None:
        cursors = dict(self.new_state.get("since_id") or {})
        current = cursors.get(key)
        if not current or not _older_or_same(status_id, str(current)):
            cursors[key] = status_id
        self.new_state["since_id"] = cursors

    def status(self, status: dict[str, Any], own: bool) -> MentionItem:
        account = status.get("account") or {}
        text = status.get("content") or ""
        if status.get("spoiler_text"):
            text = f"{status['spoiler_text']}\n\n{text}"
        return MentionItem(
            external_id=str(status.get("uri") or status["id"]),
            text=text,
            url=status.get("url") or status.get("uri"),
            author=account.get("acct") or account.get("display_name"),
            language=language_code(status.get("language")),
            published_at=parse_date(status.get("created_at")),
            is_own=own,
            html=True,
            extra={"status_id": str(status["id"]), "edited_at": status.get("edited_at")},
        )


    def reply(self, status: dict[str, Any]) -> ReplyItem:
        account = status.get("account") or {}
        return ReplyItem(
            mention_ref=str(status["in_reply_to_id"]),
            match_on="status_id",
            text=status.get("content") or "",
            reply_key=str(status.get("uri") or status["id"]),
            author=account.get("acct") or self.context.options.get("own_account"),
            replied_at=parse_date(status.get("created_at")),
            url=status.get("url") or status.get("uri"),
            html=True,
        )


def _older_or_same(status_id: str, other: str) -> bool:
    """Mastodon ids are time-ordered integers (as strings)."""
    if status_id.isdigit() and other.isdigit():
        return int(status_id) <= int(other)
    return status_id <= other


def _next_link(response: Response) -> str | None:
    header = response.headers.get(b"Link")
    match = _NEXT.search(header.decode("latin-1")) if header else None
    return match.group(1) if match else None
