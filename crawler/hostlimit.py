"""One politeness budget per host shared by every crawl process (Redis), and what each host saw.

`SharedPolitenessMiddleware` keeps `crawl.download_delay` between requests to a site within one
process. Several worker processes (on one machine or several) each keep their own, so together
they would send a host N times its allowed rate. `SharedHostBudgetMiddleware` books each
request's start in Redis instead: a Lua script, atomic in Redis, hands out start times at least
`delay` apart per host (the generic cell rate algorithm with a burst of one; the delay is the
larger of `crawl.download_delay` and the delay AutoThrottle has reached for that host in this
process), and the caller sleeps until its time. A `Retry-After` or an exhausted
`X-RateLimit-Remaining` pushes the host's next start for every process at once.

The budget holds sub-second delays exactly, which a fixed or moving window counter (the `limits`
package) cannot: its windows are whole seconds, so "1 per 0.05 s" can only be "20 per second",
a burst of 20. Booking rather than testing also means a process never polls: it knows how long
to wait.

`HOST_STATS` counts each host's requests in this process and the gaps observed between request
starts (across every process when the budget is shared): workers report them to the store.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.middlewares import SharedPolitenessMiddleware, _reset_time, retry_after_seconds

log = logging.getLogger(__name__)

# KEYS[1]: the host's next free start (seconds, float, Redis server time); ARGV[1]: the delay.
# Returns the seconds the caller waits before its request starts.
_BOOK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local delay = tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, free)
redis.call('SET', KEYS[1], string.format('%.6f', start + delay), 'PX', math.ceil((start - now + delay) * 1000) + 60000)
return string.format('%.6f', start - now)
"""
# KEYS[1]: the host's next free start; ARGV[1]: seconds from now before which nothing starts.
_PUSH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > free then
  redis.call('SET', KEYS[1], string.format('%.6f', until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 60000)
end
return 1
"""
# KEYS[1]: the host's last actual start; ARGV[1]: the delay. A start that came late (a busy event
# loop) must not crowd the next one: when the last actual start is less than the delay ago, the
# caller waits the rest ("w<seconds>"); otherwise its start is recorded and the gap since the
# previous one returned ("g<seconds>", or "g" for a host's first request).
_STARTED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local delay = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if last >= 0 and now - last < delay then
  return 'w' .. string.format('%.6f', delay - (now - last))
end
redis.call('SET', KEYS[1], string.format('%.6f', now), 'EX', 86400)
if last >= 0 then return 'g' .. string.format('%.6f', now - last) end
return 'g'
"""


@dataclass(slots=True)
class HostTally:
    requests: int = 0
    gaps: int = 0
    gap_sum_s: float = 0.0
    min_gap_s: float | None = None
    last_start: float | None = None  # this process's, when no shared budget observes them


class HostStats:
    """Requests and observed gaps per host since the last `drain()`; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[str, HostTally] = {}

    def started(self, host: str, gap_s: float | None) -> None:
        with self._lock:
            tally = self._hosts.setdefault(host, HostTally())
            tally.requests += 1
            if gap_s is None and tally.last_start is not None:
                gap_s = time.monotonic() - tally.last_start
            tally.last_start = time.monotonic()
            if gap_s is not None:
                tally.gaps += 1
                tally.gap_sum_s += gap_s
                tally.min_gap_s = gap_s if tally.min_gap_s is None else min(tally.min_gap_s, gap_s)

    def drain(self) -> dict[str, HostTally]:
        """The counts since the last drain (each host's last start is kept, to measure gaps)."""
        with self._lock:
            out = {}
            for host, tally in self._hosts.items():
                if tally.requests:
                    out[host] = HostTally(tally.requests, tally.gaps, tally.gap_sum_s, tally.min_gap_s)
                self._hosts[host] = HostTally(last_start=tally.last_start)
            return out


HOST_STATS = HostStats()


class HostBudget:
    """The Redis side: book a start, push a host back, note an actual start."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as aioredis

        self.url = url
        self.prefix = prefix
        self.client: Any = aioredis.Redis.from_url(url, socket_timeout=10)
        self._book = self.client.register_script(_BOOK)
        self._push = self.client.register_script(_PUSH)
        self._started = self.client.register_script(_STARTED)

    def _key(self, kind: str, host: str) -> str:
        return f"{self.prefix}:host:{kind}:{host}"

    async def book(self, host: str, delay_s: float) -> float:
        return float(await self._book(keys=[self._key("free", host)], args=[f"{delay_s:.6f}"]))

    async def push(self, host: str, wait_s: float) -> None:
        await self._push(keys=[self._key("free", host)], args=[f"{wait_s:.6f}"])

    async def started(self, host: str, delay_s: float) -> float | None:
        """Record this request's start (waiting while the last start is too recent): the gap
        since the host's previous request start, across every process."""
        while True:
            answer = await self._started(keys=[self._key("last", host)], args=[f"{delay_s:.6f}"])
            text = answer.decode() if isinstance(answer, bytes) else str(answer)
            if text.startswith("w"):
                await asyncio.sleep(float(text[1:]))
                continue
            return float(text[1:]) if len(text) > 1 else None


# One client per process and URL: every crawler of a worker process shares it (and the reactor's
# event loop it is bound to).
_BUDGETS: dict[tuple[str, str], HostBudget] = {}


class SharedHostBudgetMiddleware(SharedPolitenessMiddleware):
    """The process's per-site slots (concurrency), then a start booked in the shared budget."""

    def __init__(self, concurrency: int, delay: float, budget: HostBudget | None,
                 crawler: Crawler | None = None, max_wait_s: float = 120.0) -> None:
        super().__init__(concurrency, delay)
        self.budget = budget
        self.crawler = crawler
        self.max_wait_s = max_wait_s

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        url = s.get("RW_HOST_BUDGET_URL")
        budget = None
        if url:
            key = (url, s.get("RW_HOST_BUDGET_PREFIX", "reviewwatch"))
            if key not in _BUDGETS:
                _BUDGETS[key] = HostBudget(*key)
            budget = _BUDGETS[key]
        return cls(s.getint("RW_SITE_CONCURRENCY"), s.getfloat("DOWNLOAD_DELAY"), budget, crawler,
                   s.getfloat("RW_RETRY_MAX_WAIT_S", 120.0))

    def host_delay(self, request: Request) -> float:
        """The configured delay, or the larger one AutoThrottle reached for this host here."""
        delay = self.delay
        engine = getattr(self.crawler, "engine", None)
        downloader = getattr(engine, "downloader", None)
        if downloader is not None:
            try:
                key, slot = downloader._get_slot(request)
                delay = max(delay, float(getattr(slot, "delay", 0.0)))
            except Exception:  # noqa: BLE001 - Scrapy internals: the configured delay stands
                pass
        return delay

    async def process_request(self, request: Request) -> None:  # type: ignore[override]
        host = urlsplit(request.url).netloc
        if self.budget is None:
            await super().process_request(request)
            HOST_STATS.started(host, None)
            return
        limiter = self.limiter(request)
        await limiter.slots.acquire()
        request.meta["rw_site_slot"] = True
        try:
            delay = self.host_delay(request)
            wait = await self.budget.book(host, delay)
            if wait > 0:
                await asyncio.sleep(wait)
            gap = await self.budget.started(host, delay)
        except Exception:
            self.release(request)
            raise
        limiter.last_start = time.monotonic()
        HOST_STATS.started(host, gap)

    async def process_response(self, request: Request, response: Response) -> Response:  # type: ignore[override]
        self.release(request)
        if self.budget is not None:
            wait = _server_wait(response)
            if wait:
                await self.budget.push(urlsplit(request.url).netloc, min(wait, self.max_wait_s))
        return response


def _server_wait(response: Response) -> float | None:
    """Seconds the server asked every client to wait: Retry-After on 429/503, or a spent quota."""
    if response.status in (429, 503):
        return retry_after_seconds(response.headers.get(b"Retry-After"))
    remaining = response.headers.get(b"X-RateLimit-Remaining")
    if remaining is not None and remaining.strip() in (b"0", b"0.0"):
        return max(0.0, _reset_time(response.headers.get(b"X-RateLimit-Reset")) - time.time())
    return None
