"""robots.txt read once per host and process, for every crawler of a long-lived crawl process.

Scrapy's RobotsTxtMiddleware keeps its parsers per crawler, and the crawl engine runs a crawler
per source: without this, each business's crawl would fetch the platform's robots.txt again,
spending that host's politeness budget on it. The parsers (or the fetch in flight, which other
crawlers await) live in one process-wide table and expire after `ROBOTS_TTL_S` (a day, the
longest RFC 9309 lets a crawler cache it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, MutableMapping
from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

ROBOTS_TTL_S = 86_400.0


class ExpiringTable(MutableMapping[str, Any]):
    """A dict whose entries vanish `ttl_s` after they were last set."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._items: dict[str, tuple[float, Any]] = {}

    def __getitem__(self, key: str) -> Any:
        stamp, value = self._items[key]
        if time.monotonic() - stamp > self.ttl_s:
            del self._items[key]
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._items[key] = (time.monotonic(), value)

    def __delitem__(self, key: str) -> None:
        del self._items[key]

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)


# netloc -> parser, None (no usable robots.txt: all allowed), or the Deferred of a fetch.
_PARSERS = ExpiringTable(ROBOTS_TTL_S)


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's middleware with the process-wide table in place of its per-crawler one."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._parsers = _PARSERS  # type: ignore[assignment]
