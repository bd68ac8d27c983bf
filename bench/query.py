"""Analysts' queries at scale: p50/p95 through the Python API and the HTTP API, per backend.

Generates (or reuses, when it already holds --rows mentions) a store on SQLite
(.bench/query-sqlite-v2.db) and on PostgreSQL (schema `bench_query` of --pg-url), see
bench/query_data.py, then times, on random businesses and periods:
  filtered_page  one page of 50 mentions: business + 90-day period + negative
  topic_weekly   weekly topic aggregates of a business over the last year
  text_search    one page of 50 mentions containing a word, across every business
  gap            reviewwatch.gap.compute_gap for a business (its default period)
  overview       the overview's figures of a business, 13 weeks (HTTP: with its claims)
Prints figures as it goes and ONE JSON object on the last line of stdout.

    .venv/bin/python bench/query.py [--rows 1000000] [--repeat 30] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

import query_data as qd  # noqa: E402
from reviewwatch.config import Settings  # noqa: E402
from storage.db import Store  # noqa: E402
from storage.models import Business, Mention, Source  # noqa: E402

BENCH_DIR = REPO / ".bench"
PG_SCHEMA = "bench_query_v2"  # v2: ids in crawl order, rollup
TOKEN = "bench:bench-token"
PAGE = 50


def log(message: str) -> None:
    print(message, flush=True)


def store_url(backend: str, pg_url: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{BENCH_DIR / 'query-sqlite-v2.db'}"
    return f"{pg_url}?options=-csearch_path%3D{PG_SCHEMA}"


def reset(backend: str, pg_url: str) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            (BENCH_DIR / f"query-sqlite-v2.db{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(pg_url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    admin.dispose()


def stored_rows(url: str) -> int:
    try:
        store = Store(url)
    except Exception:  # noqa: BLE001 - a missing schema or a broken file: rebuild
        return -1
    with store.session() as session:
        count = session.scalar(select(func.count()).select_from(Mention)) or 0
    store.dispose()
    return count


def prepare(backend: str, rows: int, pg_url: str, settings: Settings) -> Store:
    """A store with exactly `rows` generated mentions, reusing an existing one."""
    from reviewwatch.sync import sync_settings

    BENCH_DIR.mkdir(exist_ok=True)
    url = store_url(backend, pg_url)
    if stored_rows(url) == rows:
        log(f"{backend}: reusing the store with {rows} mentions")
        store = Store(url)
        refresh(backend, store)
        return store
    reset(backend, pg_url)
    store = Store(url)
    with store.transaction() as session:
        sync_settings(session, settings)
        sources: dict[str, list[tuple[int, str]]] = {}
        for business_slug, source_id, source_type in session.execute(
            select(Business.slug, Source.id, Source.type).join(Source).order_by(Source.id)
        ):
            sources.setdefault(business_slug, []).append((source_id, source_type))
    order = [t for t, _ in qd.SOURCES]
    sources = {k: sorted(v, key=lambda s: order.index(s[1])) for k, v in sources.items()}
    started, done = time.perf_counter(), [0]

    def progress(n: int) -> None:
        done[0] += n
        rate = done[0] / (time.perf_counter() - started)
        log(f"{backend}: generated {done[0]}/{rows} mentions ({rate:,.0f}/s)")

    raw = store.engine.raw_connection()
    try:
        loader = qd.load_sqlite if backend == "sqlite" else qd.load_postgresql
        loader(raw.driver_connection, qd.generate(rows, sources), progress)
    finally:
        raw.close()
    log(f"{backend}: mentions loaded in {time.perf_counter() - started:.1f}s")
    refresh(backend, store)
    return store


def refresh(backend: str, store: Store) -> None:
    """Build the rollup of every dirty day (what the first aggregate read would do)."""
    from storage.rollup import refresh_rollup

    started = time.perf_counter()
    with store.transaction() as session:
        days = refresh_rollup(session)
    if days:
        log(f"{backend}: rollup of {days} business-days built in "
            f"{time.perf_counter() - started:.1f}s")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2)}


def timed(name: str, fn: Callable[[dict[str, Any]], Any], cases: list[dict[str, Any]]) -> dict:
    for case in cases[:2]:  # warm caches and the plan cache
        fn(case)
    samples = []
    for case in cases:
        start = time.perf_counter()
        fn(case)
        samples.append((time.perf_counter() - start) * 1000)
    figures = percentiles(samples)
    log(f"  {name}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms")
    return figures


def make_cases(repeat: int, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(repeat):
        since = qd.END.date() - dt.timedelta(days=rng.randrange(90, qd.SPAN_DAYS))
        cases.append({"business": qd.slug(rng.randrange(qd.BUSINESSES)), "since": since,
                      "until": since + dt.timedelta(days=89)})
    return cases


def python_queries(store: Store, settings: Settings) -> dict[str, Callable[[dict], Any]]:
    from storage.analytics import topic_aggregates
    from storage.queries import MentionFilter, mention_page

    year_ago = qd.END.date() - dt.timedelta(days=365)

    def run(fn: Callable[..., Any]) -> Callable[[dict], Any]:
        def call(case: dict) -> Any:
            with store.session() as session:
                return fn(session, case)
        return call

    queries = {
        "filtered_page": run(lambda s, c: mention_page(s, MentionFilter(
            business=c["business"], since=c["since"], until=c["until"], sentiment="negative"),
            limit=PAGE)),
        "topic_weekly": run(lambda s, c: topic_aggregates(
            s, MentionFilter(business=c["business"], since=year_ago), "week")),
        "text_search": run(lambda s, c: mention_page(
            s, MentionFilter(search=qd.SEARCH_WORD.upper()), limit=PAGE)),
    }
    try:
        from reviewwatch.gap import compute_gap
    except ImportError:
        return queries
    now = dt.datetime.combine(qd.END.date(), dt.time(), tzinfo=dt.UTC)
    queries["gap"] = run(lambda s, c: compute_gap(s, settings, c["business"], until=now))
    try:
        from reviewwatch.overview import compute_overview, window
    except ImportError:
        return queries
    # The overview's own figures (13 weeks and the 13 before), not kept: what a cache miss costs
    # beside the gap report's claims.
    queries["overview"] = run(lambda s, c: compute_overview(
        s, c["business"], "week", window("week", None, c["until"], c["until"]),
        settings.gap.min_mentions))
    return queries


def http_queries(base: str) -> dict[str, Callable[[dict], Any]]:
    import httpx

    client = httpx.Client(base_url=base, headers={"Authorization": "Bearer bench-token"},
                          timeout=60)
    year_ago = (qd.END.date() - dt.timedelta(days=365)).isoformat()

    def get(path: Callable[[dict], str], params: Callable[[dict], dict]) -> Callable[[dict], Any]:
        def call(case: dict) -> Any:
            response = client.get(path(case), params=params(case))
            response.raise_for_status()
            return response.content
        return call

    return {
        "filtered_page": get(lambda c: "/api/v1/mentions", lambda c: {
            "business": c["business"], "since": c["since"].isoformat(),
            "until": c["until"].isoformat(), "sentiment": "negative", "limit": PAGE}),
        "topic_weekly": get(lambda c: "/api/v1/aggregates/topics", lambda c: {
            "business": c["business"], "since": year_ago, "bucket": "week"}),
        "text_search": get(lambda c: "/api/v1/mentions", lambda c: {
            "search": qd.SEARCH_WORD.upper(), "limit": PAGE}),
        "gap": get(lambda c: f"/api/v1/gap/{c['business']}", lambda c: {
            "until": (qd.END.date() - dt.timedelta(days=1)).isoformat()}),
        # each case a new window: computed, the gap report of its claims included
        "overview": get(lambda c: "/api/v1/overview", lambda c: {
            "business": c["business"], "until": c["until"].isoformat()}),
    }


def serve(store: Store, settings: Settings) -> tuple[str, Callable[[], None]]:
    import uvicorn

    from reviewwatch.api import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


def bench_backend(backend: str, args: argparse.Namespace, settings: Settings) -> dict:
    store = prepare(backend, args.rows, args.pg_url, settings)
    cases = make_cases(args.repeat)
    out: dict[str, dict[str, float]] = {}
    log(f"{backend}: Python API")
    for name, fn in python_queries(store, settings).items():
        out[name] = timed(name, fn, cases)
    log(f"{backend}: HTTP API")
    base, stop = serve(store, settings)
    try:
        for name, fn in http_queries(base).items():
            if name not in out:
                continue
            figures = timed(name, fn, cases)
            out[name].update({f"http_{k}": v for k, v in figures.items()})
    finally:
        stop()
        store.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://@127.0.0.1:5432/test")
    parser.add_argument("--prepare-only", action="store_true", help="Build the stores and stop.")
    args = parser.parse_args()
    settings = qd.bench_settings(api={"read_tokens": [TOKEN]})
    result: dict[str, Any] = {"rows": args.rows}
    for backend in [b for b in args.backends.split(",") if b]:
        if args.prepare_only:
            prepare(backend, args.rows, args.pg_url, settings).dispose()
            continue
        result[backend] = bench_backend(backend, args, settings)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
