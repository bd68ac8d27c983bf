"""What every source spider shares: its source context, the run's tally, request failures
counted by reason, decoding that survives a wrong declared charset, incremental paging, dates
from the future kept out of counting and cursors, and the signs of a site that changed.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from scrapy import Request, Spider
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_errors
from twisted.python.failure import Failure

from crawler.context import FIRST_CRAWL_DONE, SourceContext, Tally
from crawler.items import MentionItem, problem
from crawler.text import parse_date
from storage.db import Store

# A published time further ahead of the crawl than this is a site's error (or a trick), not news.
FUTURE_SLACK = dt.timedelta(days=1)
FUTURE_DATE = "date in the future: counted when first seen"
SUSPECT = "no reviews on pages that answered, though earlier runs found some: has the markup changed?"

# Expected network failures: one line each, no traceback (see crawler.runner.quiet_scrapy).
NETWORK_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (CannotResolveHostError, "host not found (DNS)"),
    (twisted_errors.DNSLookupError, "host not found (DNS)"),
    (DownloadConnectionRefusedError, "connection refused"),
    (twisted_errors.ConnectionRefusedError, "connection refused"),
    (ResponseDataLossError, "connection lost"),
    (twisted_errors.ConnectionLost, "connection lost"),
    (twisted_errors.ConnectionDone, "connection closed"),
    (twisted_errors.ConnectError, "cannot connect"),
    (DownloadFailedError, "download failed"),
)


class SourceSpider(Spider):
    """A spider bound to one configured source; subclasses yield `MentionItem`s."""

    name = "source"
    custom_settings: dict[str, Any] = {}
    # Whether every page read should show review records (a review listing, a feed): a run that
    # finds none where earlier runs found some is `suspect`. Timelines read since a cursor are
    # legitimately empty, so they say False.
    expects_records = True

    def __init__(self, context: SourceContext, store: Store | None = None, **kwargs: Any) -> None:
        super().__init__(name=f"{context.type}:{context.source_id}", **kwargs)
        self.context = context
        self.store = store
        self.tally = Tally()
        # The incremental state to keep if this run succeeds (starts as the stored one).
        self.new_state: dict[str, Any] = dict(context.state)
        self.details: dict[str, Any] = {}
        self.run_status: str | None = None  # set by the RunRecorder when the run is recorded
        self.started_at = dt.datetime.now(dt.UTC)
        # Cursor keys (`cb_kwargs["key"]`, e.g. a Mastodon timeline) whose requests failed.
        self.failed_keys: set[str] = set()

    async def start(self) -> AsyncIterator[Any]:
        for request in self.first_requests():
            yield request

    def first_requests(self) -> Iterable[Request]:
        raise NotImplementedError

    # -- requests and failures ------------------------------------------------------------
    def request(self, url: str, callback: Any, **kwargs: Any) -> Request:
        """A request whose failures are counted by reason."""
        kwargs.setdefault("errback", self.on_error)
        return Request(url, callback=eager(callback), **kwargs)

    def may_request_page(self, page_number: int) -> bool:
        return page_number <= self.context.page_limit

    def on_error(self, failure: Failure) -> None:
        reason = failure_reason(failure)
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        key = request.cb_kwargs.get("key") if request is not None else None
        if isinstance(key, str):
            self.failed_keys.add(key)
        self.tally.error(reason, f"{reason}: {url}")
        self.logger.warning("%s: %s (%s)", self.context.label, reason, url)

    # -- the run's outcome -----------------------------------------------------------------
    def progress_state(self) -> dict[str, Any]:
        """The state a partial run keeps: what the pages that were read taught, and the end of
        the first crawl (else a source whose first crawl never fully succeeds repeats it forever).
        Spiders with per-key cursors keep the old cursor of a key whose requests failed."""
        return {**self.new_state, FIRST_CRAWL_DONE: True}

    def suspect(self) -> bool:
        """Pages answered, none held a review record, and earlier runs stored some."""
        return (
            self.expects_records
            and bool(self.context.known_ids)
            and self.tally.pages > 0
            and self.tally.records == 0
        )

    def hints(self) -> list[str]:
        """What the user should know or set after this run (shown under the crawl table)."""
        return []

    # -- responses ----------------------------------------------------------------------
    def page_text(self, response: Response) -> str:
        """The body as text: the declared charset if it decodes cleanly, else UTF-8, else cp1252."""
        self.tally.pages += 1
        declared = getattr(response, "encoding", None) or "utf-8"
        candidates = [declared, "utf-8", "cp1252"]
        if _is_utf8(response.body) and _codec(declared) != "utf-8":
            # A single-byte charset decodes anything, into mojibake: real UTF-8 wins over it.
            candidates.remove("utf-8")
            candidates.insert(0, "utf-8")
        for encoding in candidates:
            try:
                text = response.body.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
            if codecs.lookup(encoding).name != _codec(declared):
                self.tally.note(f"wrong declared encoding ({declared})")
            return text
        self.tally.note(f"undecodable body ({declared})")
        return response.body.decode("utf-8", errors="replace")

    # -- incremental paging ---------------------------------------------------------------
    def keep(self, items: Iterable[MentionItem]) -> tuple[list[MentionItem], bool]:
        """The items to yield from one newest-first page, and whether reading on is worth it.

        On a later crawl a page with nothing new (every id already stored, or nothing newer
        than the last successful run) ends the listing; `--since` drops older items.
        """
        kept: list[MentionItem] = []
        anything_new = False
        since = self.context.since
        # What the last successful run saw as newest (not its clock: sites publish late).
        cutoff = parse_date(self.context.state.get("newest_published"))
        for item in items:
            self.distrust_future(item)
            if since and item.published_at and item.published_at < since:
                self.tally.note("older than --since")
                continue
            kept.append(item)
            if problem(item):
                continue  # it will be rejected: says nothing about what is new
            is_known = item.external_id in self.context.known_ids
            is_old = bool(cutoff and item.published_at and item.published_at <= cutoff)
            anything_new = anything_new or not (is_known or is_old)
        self.note_newest(kept)
        if self.context.first_crawl and not since:
            return kept, bool(kept)
        return kept, anything_new

    def distrust_future(self, item: MentionItem) -> None:
        """A date more than a day ahead of the crawl is kept as a detail, not as the published
        time: the mention counts when first seen, and no cursor moves to the future."""
        if item.published_at is not None and item.published_at > self.started_at + FUTURE_SLACK:
            item.extra = {**item.extra, "claimed_published_at": item.published_at.isoformat()}
            item.published_at = None
            self.tally.note(FUTURE_DATE)

    def note_newest(self, items: Iterable[MentionItem]) -> None:
        dates = [i.published_at for i in items if i.published_at]
        if dates:
            newest = max(dates).isoformat()
            if newest > str(self.new_state.get("newest_published", "")):
                self.new_state["newest_published"] = newest


def failure_reason(failure: Failure) -> str:
    """A short, countable reason for a failed request."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    if isinstance(exc, DownloadTimeoutError) or "Timeout" in type(exc).__name__:
        return "timeout"
    if isinstance(exc, DownloadCancelledError) or "Cancelled" in type(exc).__name__:
        return "response too large"
    network = network_reason(exc)
    if network is not None:
        return network
    if isinstance(exc, IgnoreRequest):
        message = str(exc)
        if "robots.txt" in message:
            return "forbidden by robots.txt"
        if "redirection" in message:
            return "too many redirects"
        return f"ignored: {message[:80]}"
    return type(exc).__name__


def network_reason(exc: BaseException) -> str | None:
    """The reason for an expected network failure (itself or the error it wraps), else None."""
    for candidate in (exc, exc.__cause__):
        for kind, reason in NETWORK_REASONS:
            if isinstance(candidate, kind):
                return reason
    return None


def each(values: Any) -> Iterator[Any]:
    """A JSON value that may be one object or a list of them, as a list's items."""
    if values is None:
        return iter(())
    if isinstance(values, list):
        return iter(values)
    return iter((values,))


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def _is_utf8(body: bytes) -> bool:
    """Valid UTF-8 holding something beyond ASCII (ASCII alone fits every charset)."""
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def eager(callback: Callable[..., Iterable[Any]]) -> Callable[..., list[Any]]:
    """The callback's output as a list: Scrapy inspects the source of every generator
    callback it is handed (to warn about `return` values), a cost paid per page."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> list[Any]:
        return list(callback(*args, **kwargs))

    return run
