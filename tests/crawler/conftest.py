"""A real HTTP server on an ephemeral port serving recorded pages (tests/crawler/site/) plus
misbehaving routes, and a helper that runs one crawl in a child process (`python -m crawler`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.demo_site import SiteServer, StaticHandler, serve
from tests.conftest import REPO

SITE = Path(__file__).resolve().parent / "site"
BIG_BODY = 50 * 1024 * 1024
LATIN1_PAGE = (
    '<html><head><meta charset="utf-8"></head><body><script type="application/ld+json">'
    '{"@type": "Review", "@id": "https://shop.example/r/latin1", "author": "Zoé",'
    ' "reviewBody": "Très bon café, un peu cher.", "reviewRating": {"ratingValue": 4}}'
    "</script></body></html>"
).encode("cp1252")


class RecordedSite(SiteServer):
    hits: list[tuple[str, float]]
    statuses: list[dict]
    release: threading.Event
    lock: threading.Lock
    in_flight: int
    most_in_flight: int
    agents: set[str]


class RecordedHandler(StaticHandler):
    """Recorded pages, and the bad behaviour a crawler meets in the wild under /bad/."""

    server: RecordedSite

    def do_GET(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        self.server.hits.append((self.path, time.monotonic()))
        route = ROUTES.get(path)
        if route is not None:
            route(self)
        elif path.startswith("/measured/"):
            measured(self)
        elif path.startswith("/social/api/v1/timelines/tag/"):
            mastodon_timeline(self)
        else:
            super().do_GET()

    def do_POST(self) -> None:  # noqa: N802
        """Reddit's token endpoint: client credentials in, a bearer token out."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        self.server.hits.append((self.path, time.monotonic()))
        expected = "Basic " + base64.b64encode(b"app-id:app-secret").decode()
        if self.path != "/reddit/api/v1/access_token" or self.headers.get("Authorization") != expected:
            self.reply(401, b'{"error": 401}', "application/json")
        elif body != "grant_type=client_credentials":
            self.reply(400, b'{"error": "unsupported_grant_type"}', "application/json")
        else:
            self.reply(200, b'{"access_token": "tok-1", "token_type": "bearer"}', "application/json")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def reddit_search(handler: RecordedHandler) -> None:
    if handler.headers.get("Authorization") != "Bearer tok-1":
        handler.reply(401, b'{"error": 401}', "application/json")
        return
    posts = [
        # A link post: its title is all the text it has.
        {"name": "t3_c", "title": "Bistro Nord opens a second place on Main Street", "selftext": "",
         "author": "u3", "created_utc": 1790001000.0, "permalink": "/r/food/comments/c/z/",
         "subreddit": "food", "url": "https://news.example/bistro-nord-main-street"},
        {"name": "t3_b", "title": "Bistro Nord was great", "selftext": "Friendly staff & fast.",
         "author": "u1", "created_utc": 1790000000.0, "permalink": "/r/food/comments/b/x/", "subreddit": "food"},
        {"name": "t3_a", "title": "Best pizza?", "selftext": "Anyone?", "author": "u2",
         "created_utc": 1789990000.0, "permalink": "/r/food/comments/a/y/", "subreddit": "food"},
    ]
    listing = {"kind": "Listing", "data": {"after": None, "children": [{"kind": "t3", "data": p} for p in posts]}}
    handler.reply(200, json.dumps(listing).encode(), "application/json",
                  {"X-Ratelimit-Remaining": "99", "X-Ratelimit-Reset": "300"})


def measured(handler: RecordedHandler) -> None:
    """A page that takes 0.2 s, counting the requests in flight at once and the User-Agents."""
    server = handler.server
    with server.lock:
        server.in_flight += 1
        server.most_in_flight = max(server.most_in_flight, server.in_flight)
        server.agents.add(handler.headers.get("User-Agent", ""))
    threading.Event().wait(0.2)
    with server.lock:
        server.in_flight -= 1
    handler.reply(200, (SITE / "shop/reviews-3.html").read_bytes(), "text/html; charset=utf-8")


def too_many(handler: RecordedHandler) -> None:
    earlier = [p for p, _ in handler.server.hits if p == handler.path]
    if len(earlier) == 1:
        handler.reply(429, b"slow down", "text/plain", {"Retry-After": "1"})
    else:
        handler.reply(200, (SITE / "shop/reviews-3.html").read_bytes(), "text/html; charset=utf-8")


def stall(handler: RecordedHandler) -> None:
    handler.server.release.wait(5)  # longer than the crawl's timeout
    handler.reply(200, b"<html>late</html>", "text/html")


def big(handler: RecordedHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(BIG_BODY))
    handler.end_headers()
    chunk = b"x" * 65536
    try:
        for _ in range(BIG_BODY // len(chunk)):
            handler.wfile.write(chunk)
    except OSError:
        pass  # the crawler hung up, as it should


def big_unannounced(handler: RecordedHandler) -> None:
    """50 MB with no Content-Length: only counting the bytes as they come can stop it."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.close_connection = True
    chunk = b"y" * 65536
    try:
        for _ in range(BIG_BODY // len(chunk)):
            handler.wfile.write(chunk)
    except OSError:
        pass


ROUTES: dict[str, Callable[[RecordedHandler], None]] = {
    "/reddit-api/r/food/search": reddit_search,
    "/bad/big-unannounced": big_unannounced,
    "/bad/utf8-as-latin1": lambda h: h.reply(
        200, LATIN1_PAGE.decode("cp1252").replace("latin1", "utf8").encode("utf-8"),
        "text/html; charset=iso-8859-1"),
    "/bad/429": too_many,
    "/bad/500": lambda h: h.reply(500, b"oops", "text/plain"),
    "/bad/loop": lambda h: h.reply(302, b"", "text/plain", {"Location": "/bad/loop"}),
    "/bad/slow": stall,
    "/bad/big": big,
    "/bad/latin1": lambda h: h.reply(200, LATIN1_PAGE, "text/html; charset=utf-8"),
}


def mastodon_timeline(handler: RecordedHandler) -> None:
    """The tag timeline API: newest first, since_id / max_id, two per page, a Link header,
    and a spent rate limit (X-RateLimit-Remaining: 0) resetting one second later."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
    statuses = [s for s in handler.server.statuses
                if int(s["id"]) > int(query.get("since_id", 0))
                and int(s["id"]) < int(query.get("max_id", 10**18))]
    page = statuses[:2]
    headers = {"X-RateLimit-Remaining": "0",
               "X-RateLimit-Reset": (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat()}
    if len(statuses) > 2:
        base = urlsplit(handler.path).path
        headers["Link"] = f'<{handler.server.base_url.rstrip("/")}{base}?limit=40&max_id={page[-1]["id"]}>; rel="next"'
    handler.reply(200, json.dumps(page).encode(), "application/json", headers)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[RecordedSite]:
    """A copy of the recorded site (tests may edit it) served on an ephemeral port."""
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    with serve(root, "127.0.0.1", 0, RecordedHandler) as server:
        server.hits = []
        server.statuses = []
        server.release = threading.Event()
        server.lock = threading.Lock()
        server.in_flight = server.most_in_flight = 0
        server.agents = set()
        try:
            yield server  # type: ignore[misc]
        finally:
            server.release.set()


TEST_CRAWL: dict[str, object] = {
    "contact": "tests@reviewwatch.invalid",
    "download_delay": 0,
    "autothrottle": False,
    "concurrent_per_domain": 2,
    "timeout_s": 1,
    "retries": 1,
    "retry_backoff_s": 0.1,
    "retry_max_wait_s": 3,
    "max_response_bytes": 1_000_000,
    "max_redirects": 3,
    "first_crawl_pages": 5,
}


def write_crawl_config(
    tmp_path: Path, database_url: str, sources: str, name: str = "crawl.toml", **crawl: object
) -> Path:
    """A configuration with one business, Bistro Nord, and the given [[businesses.sources]]."""
    values = {**TEST_CRAWL, **crawl}
    body = (
        f"data_dir = {json.dumps(str(tmp_path / 'data'))}\n"
        f"database_url = {json.dumps(database_url)}\n"
        'log_level = "WARNING"\n[crawl]\n'
        + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
        + '[[businesses]]\nid = "bistro"\nname = "Bistro Nord"\naliases = ["bistronord"]\n'
        + sources
    )
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def run_crawl(
    config: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """One crawl in a child process, as the scheduler runs it (Twisted's reactor can't restart)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWWATCH_")} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "crawler", "--config", str(config), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


def source(kind: str, url: str, options: str = "") -> str:
    line = f'  [[businesses.sources]]\n  type = "{kind}"\n  url = "{url}"\n'
    return line + (f"  options = {options}\n" if options else "")
