"""A simulated web for the scale-out tests and `bench/scale.py`: one asyncio HTTP server
answering on many loopback addresses (127.0.x.y, each a "host"), with schema.org review pages.

`/biz/<business>/<source>/` is a business's review page on that host: `reviews` reviews in
JSON-LD, and a `rel=next` link to `?page=2` ... up to `pages` pages (from the query of the first
URL: `?pages=2&reviews=3`, or the server's defaults). Review ids are stable, so a crawl done twice
finds the same mentions. `/robots.txt` allows everything. A path under `/slow/` answers after
`slow_s` seconds (a crawl a test can interrupt).

Every request is logged as (monotonic time, host, path) in memory (`hits`), and to a file when
`log_path` is given: the access log `bench/scale.py` checks the politeness budgets against.
Run it as a process: `python -m tests.scale.simweb --addresses FILE --port P --log FILE`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROBOTS = b"User-agent: *\nAllow: /\n"
SENTENCES = (
    "The staff were friendly and the service was quick.",
    "We waited far too long and nobody apologised.",
    "Great value for money, we will come back.",
    "The room was dirty and the bathroom smelled.",
    "Average experience, nothing special to report.",
    "Rude manager, cold food, never again.",
)


def review_page(host: str, path: str, page: int, pages: int, reviews: int) -> bytes:
    parts = [p for p in path.split("/") if p]
    business = parts[1] if len(parts) > 1 else "unknown"
    base = f"http://{host}/{'/'.join(parts)}/"
    items = []
    for i in range(reviews):
        n = (page - 1) * reviews + i
        items.append({
            "@type": "Review",
            "@id": f"{base}#r{page}-{i}",
            "author": {"@type": "Person", "name": f"Reviewer {n}"},
            "datePublished": f"2026-11-{1 + n % 28:02d}",
            "inLanguage": "en",
            "name": f"Visit {n}",
            "reviewBody": f"{SENTENCES[(n + len(business)) % len(SENTENCES)]} ({business}, visit {n})",
            "reviewRating": {"@type": "Rating", "ratingValue": 1 + (n * 7 + len(business)) % 5,
                             "bestRating": 5},
        })
    data = {"@context": "https://schema.org", "@type": "LocalBusiness", "name": business,
            "review": items}
    link = (f'<link rel="next" href="{base}?page={page + 1}&amp;pages={pages}&amp;reviews={reviews}">'
            if page < pages else "")
    html = (f'<!doctype html><html><head><meta charset="utf-8"><title>{business}</title>{link}'
            f'</head><body><h1>{business}</h1><script type="application/ld+json">'
            f"{json.dumps(data)}</script></body></html>")
    return html.encode()


@dataclass
class SimWeb:
    addresses: Sequence[str]
    port: int
    pages: int = 1
    reviews: int = 3
    slow_s: float = 5.0
    log_path: Path | None = None
    hits: list[tuple[float, str, str]] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _servers: list[asyncio.base_events.Server] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, target, _ = request_line.split(" ", 2)
                host = next((h.split(":", 1)[1].strip() for h in header_lines
                             if h.lower().startswith("host:")), "")
                now = time.monotonic()
                parts = urlsplit(target)
                self.hits.append((now, host, parts.path))
                status, body, kind = await self.respond(host, parts.path, parts.query)
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                    f"Connection: keep-alive\r\n\r\n".encode() + (body if method != "HEAD" else b"")
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def respond(self, host: str, path: str, query: str) -> tuple[str, bytes, str]:
        if path == "/robots.txt":
            return "200 OK", ROBOTS, "text/plain"
        if path.startswith("/slow/"):
            await asyncio.sleep(self.slow_s)
            path = path[len("/slow"):]
        if path.startswith("/biz/"):
            q = parse_qs(query)
            page = int((q.get("page") or ["1"])[0])
            pages = int((q.get("pages") or [self.pages])[0])
            reviews = int((q.get("reviews") or [self.reviews])[0])
            if page > pages:
                return "404 Not Found", b"no such page", "text/plain"
            return "200 OK", review_page(host, path, page, pages, reviews), "text/html; charset=utf-8"
        return "404 Not Found", b"not found", "text/plain"

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for address in self.addresses:
            self._servers.append(
                await asyncio.start_server(self.handle, address, self.port, backlog=1024)
            )

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        self.write_log()

    def write_log(self) -> None:
        if self.log_path is not None:
            with self.log_path.open("w", encoding="utf-8") as out:
                for t, host, path in self.hits:
                    out.write(f"{t:.6f} {host} {path}\n")

    def hosts_hit(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for t, host, path in list(self.hits):
            out.setdefault(host, []).append(t)
        return out


@contextmanager
def running(web: SimWeb) -> Iterator[SimWeb]:
    """Serve from a thread for the `with` block."""
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(web.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="simweb", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the simulated web did not start")
    try:
        yield web
    finally:
        asyncio.run_coroutine_threadsafe(web.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def loopback_addresses(count: int, start: int = 2) -> list[str]:
    """`count` addresses 127.0.x.y (x from 1), skipping .0 and .255."""
    out = []
    n = start
    while len(out) < count:
        x, y = divmod(n, 254)
        out.append(f"127.0.{x + 1}.{y + 1}")
        n += 1
    return out


def rate_ratio(times: Sequence[float], delay_s: float, window_delays: int = 10) -> float:
    """Most requests started in any window of `window_delays` × delay, over the most the
    politeness allows in it (one per delay: window_delays + 1 with the window's two ends)."""
    if delay_s <= 0 or len(times) < 2:
        return 0.0
    ordered = sorted(times)
    window = window_delays * delay_s
    allowed = window_delays + 1
    most, j = 0, 0
    for i, t in enumerate(ordered):
        while ordered[i] - ordered[j] > window:
            j += 1
        most = max(most, i - j + 1)
    return most / allowed


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=Path, required=True, help="a file: one address a line")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pages", type=int, default=1)
    parser.add_argument("--reviews", type=int, default=3)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args(argv)
    addresses = args.addresses.read_text().split()
    web = SimWeb(addresses, args.port, pages=args.pages, reviews=args.reviews, log_path=args.log)

    async def run() -> None:
        await web.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print("ready", flush=True)
        await stop.wait()
        await web.close()

    asyncio.run(run())


if __name__ == "__main__":
    main()
