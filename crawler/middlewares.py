"""Downloader middlewares: retries with exponential backoff honouring `Retry-After`, waits for
a server's announced rate limit (`X-RateLimit-Remaining` / `X-RateLimit-Reset`), and one
politeness budget per site shared by every crawler of the process.

Settings: `crawl.retries`, `crawl.retry_backoff_s`, `crawl.retry_max_wait_s`,
`crawl.concurrent_per_domain`, `crawl.download_delay`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Self
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError, NotConfigured
from scrapy.http import Response
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from crawler.spiders.base import failure_reason
from crawler.text import parse_date

log = logging.getLogger(__name__)
# An unknown host is not a passing failure: DNSLookupError is an OSError, which Scrapy retries.
NOT_RETRIED = (CannotResolveHostError, DNSLookupError)


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        when = parse_date(text)
        if when is None:
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, but waiting before each retry: backoff_s * 2**n or the Retry-After asked."""

    def __init__(self, settings, backoff_s: float, max_wait_s: float) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings)
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        mw = cls(s, s.getfloat("RW_RETRY_BACKOFF_S"), s.getfloat("RW_RETRY_MAX_WAIT_S"))
        mw.crawler = crawler
        return mw

    def wait_for(self, request: Request, response: Response | None) -> float:
        attempt = int(request.meta.get("retry_times", 0))
        wait = self.backoff_s * (2**attempt)
        if response is not None:
            asked = retry_after_seconds(response.headers.get(b"Retry-After"))
            if asked is not None:
                wait = asked
        return min(wait, self.max_wait_s)

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        wait = self.wait_for(request, response)
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        self._note(f"retried after HTTP {response.status}")
        if wait > 0:
            log.info("retrying %s in %.1f s (HTTP %s)", request.url, wait, response.status)
            await asyncio.sleep(wait)
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        if (
            request.meta.get("dont_retry")
            or not isinstance(exception, self.exceptions_to_retry)
            or isinstance(exception, NOT_RETRIED)
        ):
            return None
        wait = self.wait_for(request, None)
        retry = self._retry(request, exception)
        if retry is not None:
            self._note(f"retried after {failure_reason(Failure(exception))}")
            if wait > 0:
                await asyncio.sleep(wait)
        return retry

    def _note(self, reason: str) -> None:
        """A retry is reported in the run's reasons (not an error: the retry may succeed)."""
        tally = getattr(getattr(self.crawler, "spider", None), "tally", None)
        if tally is not None:
            tally.note(reason)


class RateLimitMiddleware:
    """When a host says its quota is spent, later requests to it wait until its reset time."""

    def __init__(self, max_wait_s: float) -> None:
        if max_wait_s <= 0:
            raise NotConfigured  # crawl.retry_max_wait_s = 0: no waiting
        self.max_wait_s = max_wait_s
        self.not_before: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getfloat("RW_RETRY_MAX_WAIT_S"))

    async def process_request(self, request: Request) -> None:
        until = self.not_before.get(urlsplit(request.url).netloc, 0.0)
        wait = min(until - time.time(), self.max_wait_s)
        if wait > 0:
            log.info("rate limit reached: waiting %.1f s before %s", wait, request.url)
            await asyncio.sleep(wait)

    def process_response(self, request: Request, response: Response) -> Response:
        remaining = _number(response.headers.get(b"X-RateLimit-Remaining"))
        if remaining is not None and remaining <= 0:
            reset = response.headers.get(b"X-RateLimit-Reset")
            self.not_before[urlsplit(request.url).netloc] = _reset_time(reset)
        return response


def _number(value: bytes | None) -> float | None:
    try:
        return float(value.decode("latin-1")) if value else None
    except ValueError:
        return None


def _reset_time(value: bytes | None) -> float:
    """Mastodon sends an ISO time; other APIs epoch seconds or seconds to wait."""
    now = time.time()
    if not value:
        return now + 60
    text = value.decode("latin-1").strip()
    number = _number(value)
    if number is not None:
        return number if number > 1e9 else now + number
    when = parse_date(text)
    return when.timestamp() if when else now + 60




class SiteLimiter:
    """Requests in flight to one site and the time the last one started, across crawlers."""

    def __init__(self, concurrency: int) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.last_start = 0.0


# One process runs one crawl: its crawlers (one per source) share these, so two businesses on
# the same review platform still get `concurrent_per_domain` requests at a time between them.
_LIMITERS: dict[str, SiteLimiter] = {}


class SharedPolitenessMiddleware:
    """Holds a site's slot from just before the download until its response or failure."""

    def __init__(self, concurrency: int, delay: float) -> None:
        if concurrency <= 0:
            raise NotConfigured  # politeness off (the benchmark)
        self.concurrency = concurrency
        self.delay = delay

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        return cls(s.getint("RW_SITE_CONCURRENCY"), s.getfloat("DOWNLOAD_DELAY"))

    def limiter(self, request: Request) -> SiteLimiter:
        site = urlsplit(request.url).netloc
        if site not in _LIMITERS:
            _LIMITERS[site] = SiteLimiter(self.concurrency)
        return _LIMITERS[site]

    async def process_request(self, request: Request) -> None:
        limiter = self.limiter(request)
        await limiter.slots.acquire()
        request.meta["rw_site_slot"] = True
        wait = limiter.last_start + self.delay - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        limiter.last_start = time.monotonic()

    def release(self, request: Request) -> None:
        if request.meta.pop("rw_site_slot", False):
            self.limiter(request).slots.release()

    def process_response(self, request: Request, response: Response) -> Response:
        self.release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self.release(request)
