"""Crawl throughput: pages/s, stored items/s and peak memory through the whole pipeline
(parse, normalise, validate, dedupe, batched writes) into SQLite, against a local server that
generates schema.org review pages on the fly (20 reviews a page). Politeness is off.

    .venv/bin/python bench/crawl.py [--pages 5000] [--sources 50] [--per-page 20]

Prints progress as it goes; the last line is one JSON object:
{"pages", "items", "pages_per_s", "items_per_s", "peak_rss_mb"}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TEXTS = [
    "The staff were friendly and the coffee was excellent, we will come back soon.",
    "We waited forty minutes for a table and nobody apologised. Very disappointing.",
    "Prices are a bit high but the quality of the food makes up for it.",
    "Das Personal war unfreundlich und die Tische waren schmutzig.",
    "Service rapide et personnel charmant, je recommande vivement.",
    "Trevlig personal men lite dyrt. Kaffet var gott.",
]


class PageHandler(BaseHTTPRequestHandler):
    """/s<source>/p<n>.html: `per_page` JSON-LD reviews and a rel=next link up to `pages`."""

    protocol_version = "HTTP/1.1"
    pages = 100
    per_page = 20

    def do_GET(self) -> None:  # noqa: N802
        try:
            source, page = self.path.strip("/").removesuffix(".html").split("/p")
            number = int(page)
        except ValueError:
            self.send(404, b"not found")
            return
        reviews = [
            {"@type": "Review", "@id": f"https://bench.example/{source}/{number}/{i}",
             "author": {"@type": "Person", "name": f"Guest {number}-{i}"},
             "datePublished": f"2026-{1 + (number % 12):02d}-{1 + (i % 28):02d}",
             "reviewBody": f"{TEXTS[(number + i) % len(TEXTS)]} ({source} {number}/{i})",
             "reviewRating": {"@type": "Rating", "ratingValue": 1 + (number + i) % 5}}
            for i in range(self.per_page)
        ]
        data = {"@context": "https://schema.org", "@type": "Restaurant", "name": "Bench Bistro",
                "review": reviews}
        link = f'<link rel="next" href="p{number + 1}.html">' if number < self.pages else ""
        body = (f'<!doctype html><html><head><meta charset="utf-8"><title>{source} {number}</title>'
                f'<script type="application/ld+json">{json.dumps(data)}</script>{link}</head>'
                f"<body><h1>Bench Bistro</h1></body></html>").encode()
        self.send(200, body)

    def send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def serve(port_queue: multiprocessing.Queue, pages: int, per_page: int) -> None:
    PageHandler.pages, PageHandler.per_page = pages, per_page
    server = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000, help="review pages in all")
    parser.add_argument("--sources", type=int, default=50, help="listings crawled at once")
    parser.add_argument("--per-page", type=int, default=20)
    args = parser.parse_args()
    per_source = max(1, args.pages // args.sources)

    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(queue, per_source, args.per_page), daemon=True)
    server.start()
    port = queue.get(timeout=30)
    try:
        result = run(port, args.sources, per_source, args.per_page)
    finally:
        server.terminate()
    print(json.dumps(result))


def run(port: int, sources: int, per_source: int, per_page: int) -> dict[str, float]:
    from crawler.settings import CrawlSettings
    from reviewwatch.config import BusinessConfig, Settings, SourceConfig
    from reviewwatch.crawling import crawl_job, source_contexts
    from reviewwatch.sync import sync_settings
    from storage.db import Store

    tmp = Path(tempfile.mkdtemp(prefix="rw-bench-crawl-"))
    settings = Settings(
        data_dir=tmp,
        log_level="WARNING",
        crawl=CrawlSettings(download_delay=0, autothrottle=False, first_crawl_pages=per_source,
                            max_pages=per_source),
        businesses=[BusinessConfig(id="bench", name="Bench Bistro", sources=[
            SourceConfig(type="schema_org", url=f"http://127.0.0.1:{port}/s{n}/p1.html")
            for n in range(sources)
        ])],
    )
    store = Store(settings.resolved_database_url)
    with store.transaction() as session:
        sync_settings(session, settings)
    contexts = source_contexts(store, settings)
    politeness_off = {
        "ROBOTSTXT_OBEY": False, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 32, "RW_SITE_CONCURRENCY": 0,
    }
    job = crawl_job(settings, store, contexts, scrapy_overrides=politeness_off)
    print(f"crawling {sources} listings x {per_source} pages x {per_page} reviews "
          f"from 127.0.0.1:{port} into {settings.resolved_database_url}", flush=True)
    stop = threading.Event()
    started = time.perf_counter()

    def report() -> None:
        while not stop.wait(5):
            rows = job.progress()
            pages, items = sum(r[1] for r in rows), sum(r[2] for r in rows)
            elapsed = time.perf_counter() - started
            print(f"  {elapsed:6.1f} s  {pages:6d} pages  {items:7d} items  "
                  f"{items / elapsed:7.0f} items/s", flush=True)

    thread = threading.Thread(target=report, daemon=True)
    thread.start()
    reports = job.run()
    elapsed = time.perf_counter() - started
    stop.set()
    pages = sum(r.pages for r in reports)
    stored = sum(r.new + r.updated + r.unchanged for r in reports)
    failed = [r for r in reports if r.status != "ok"]
    print(f"done in {elapsed:.1f} s: {pages} pages, {stored} items stored, "
          f"{len(failed)} sources not ok", flush=True)
    store.dispose()
    return {
        "pages": pages,
        "items": stored,
        "pages_per_s": round(pages / elapsed, 1),
        "items_per_s": round(stored / elapsed, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    main()
