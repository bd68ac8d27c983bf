"""A real HTTP server for the bundled demo web site (examples/demo_site/) on 127.0.0.1:8765.

`demo_site()` serves it from a thread for as long as the `with` block runs. URLs map to files
the way the recorded sites need: `/a/b?q=1` is served from `a/b@q=1[.html|.json|.xml]` when
it exists, else from `a/b`, `a/b.html`, `a/b.json`, `a/b.xml` or `a/b/index.html` (so the
Mastodon API path `/mastodon/api/v1/timelines/tag/rapidride` is the file `... /rapidride.json`).
A file may hold dates relative to the moment it is served, written `@@now-<minutes>@@`: they
are served as ISO 8601 UTC times (the demo's burst of reviews is always in the last 24 hours).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEMO_ROOT = Path(__file__).resolve().parent.parent / "examples" / "demo_site"
DEMO_HOST = "127.0.0.1"
DEMO_PORT = 8765
SUFFIXES = ("", ".html", ".json", ".xml", "/index.html")
RELATIVE_DATE = re.compile(rb"@@now-(\d{1,7})@@")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


def resolve(root: Path, raw_path: str) -> Path | None:
    """The file a request path (with its query) is served from, never outside `root`."""
    parts = urlsplit(raw_path)
    path = unquote(parts.path).lstrip("/")
    stems = [f"{path}@{unquote(parts.query)}", path] if parts.query else [path]
    base = root.resolve()
    for stem in stems:
        for suffix in SUFFIXES:
            candidate = (base / (stem.rstrip("/") + suffix if stem else "index.html")).resolve()
            if candidate.is_file() and candidate.is_relative_to(base):
                return candidate
    return None


def relative_dates(body: bytes, now: dt.datetime) -> bytes:
    """`@@now-<minutes>@@` replaced by that many minutes before `now` (ISO 8601, UTC)."""
    def at(match: re.Match[bytes]) -> bytes:
        when = now - dt.timedelta(minutes=int(match.group(1)))
        return when.astimezone(dt.UTC).isoformat(timespec="seconds").encode()

    return RELATIVE_DATE.sub(at, body)


def content_type(path: Path) -> str:
    if path.name.startswith("robots"):
        return CONTENT_TYPES[".txt"]
    return CONTENT_TYPES.get(path.suffix, "application/octet-stream")


class StaticHandler(BaseHTTPRequestHandler):
    """Serves files from the server's `root` by the mapping above; 404 otherwise."""

    server: SiteServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = resolve(self.server.root, self.path)
        if path is None:
            self.reply(404, b"not found", "text/plain; charset=utf-8")
            return
        body = relative_dates(path.read_bytes(), dt.datetime.now(dt.UTC))
        self.reply(200, body, content_type(path))

    def reply(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # the crawler's own report says what was fetched


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__((host, port), handler)
        self.root = root

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a crawler giving up on a slow or huge response) is no error."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}/"


@contextmanager
def serve(
    root: Path,
    host: str = DEMO_HOST,
    port: int = 0,
    handler: type[BaseHTTPRequestHandler] = StaticHandler,
) -> Iterator[SiteServer]:
    """Serve `root` from a thread; port 0 picks a free one (see `server.base_url`)."""
    server = SiteServer(root, host, port, handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def demo_site(port: int = DEMO_PORT) -> Iterator[str]:
    """The demo web site on http://127.0.0.1:8765/ (what examples/demo.toml points at)."""
    with serve(DEMO_ROOT, DEMO_HOST, port) as server:
        yield server.base_url


if __name__ == "__main__":
    with demo_site() as url:
        print(f"serving {DEMO_ROOT} on {url} (Ctrl-C stops)")
        threading.Event().wait()
