"""What one worker process keeps for its life: settings, store, crawl engine, heartbeat.

The crawl engine (one Scrapy reactor for every crawl of the process) starts with the first
crawl task; the sentiment model loads with the first scoring task and stays loaded
(`sentiment.batch.scorer_for`, a per-process cache). A heartbeat thread keeps the stages this
process runs leased (`cycle_stages.heartbeat_at`), records the process in `workers_seen`, writes
the requests per host it made to `host_activity` and refreshes the metrics' queue lengths.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from reviewwatch.config import Settings
from storage.activity import HostCounts, add_host_activity
from storage.cycles import heartbeat
from storage.db import Store
from storage.models import WorkerSeen, utcnow

if TYPE_CHECKING:
    from crawler.engine import CrawlEngine
    from reviewwatch.worker.scoring import ScoreBatcher

log = logging.getLogger(__name__)
QUEUE_REFRESH_S = 15.0
# CPython's collector thresholds in a worker (its defaults: 700, 10, 10). A worker's crawls build
# and drop a Scrapy crawler per source (a copy of the settings, an engine, middlewares): graphs
# that live a few seconds, long enough under the defaults to reach the oldest generation, where
# only full collections over the whole heap (the model, the imports: about 600 000 objects) free
# them, a fifth of the worker's CPU. Larger young generations let most of them die young: on
# `bench/scale.py --only 1 --businesses 1000`, 14-19 % less worker CPU for 100 MB more memory
# (docs/operations.md, "Where a worker's CPU goes").
WORKER_GC_THRESHOLDS = (10_000, 20, 10)


class WorkerRuntime:
    def __init__(self, settings: Settings, store: Store, *, queues: list[str], concurrency: int,
                 publish: Callable[[str, int], None], name: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.queues = queues
        self.concurrency = concurrency
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.lease = dt.timedelta(seconds=settings.workers.stage_lease_s)
        self.started_at = utcnow()
        self._engine: CrawlEngine | None = None
        self._engine_lock = threading.Lock()
        self._running: dict[int, str] = {}
        self._lock = threading.Lock()
        self.tasks_done = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.publish = publish  # (stage, cycle id): the next stage's task to the broker
        self._scorer: ScoreBatcher | None = None
        # Business id -> slug, for the stage tasks (`tasks.load_cycle`): read once per business.
        self.slugs: dict[int, str] = {}

    # -- stages this process runs ---------------------------------------------------------
    def running(self, stage_id: int, stage: str) -> None:
        with self._lock:
            self._running[stage_id] = stage

    def done(self, stage_id: int) -> None:
        with self._lock:
            self._running.pop(stage_id, None)
            self.tasks_done += 1

    def running_ids(self) -> list[int]:
        with self._lock:
            return list(self._running)

    # -- scoring -------------------------------------------------------------------------
    def scorer(self) -> ScoreBatcher:
        with self._engine_lock:
            if self._scorer is None:
                from reviewwatch.worker.scoring import ScoreBatcher

                self._scorer = ScoreBatcher(self.store, self.settings)
            return self._scorer

    # -- the crawl engine -----------------------------------------------------------------
    def crawl_engine(self) -> CrawlEngine:
        with self._engine_lock:
            if self._engine is None:
                from crawler.engine import CrawlEngine

                workers = self.settings.workers
                self._engine = CrawlEngine(
                    self.settings.crawl,
                    self.store,
                    log_level=self.settings.log_level,
                    host_budget_url=workers.host_budget_url,
                    host_budget_prefix=workers.queue_prefix,
                ).start()
            return self._engine

    # -- heartbeat ------------------------------------------------------------------------
    def start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._beat, name="worker-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.beat_once()
        if self._engine is not None:
            self._engine.stop()

    def _beat(self) -> None:
        every = max(1.0, self.lease.total_seconds() / 4)
        last_queues = 0.0
        while not self._stop.wait(every):
            try:
                self.beat_once()
            except Exception:  # noqa: BLE001 - the next beat tries again
                log.exception("worker heartbeat failed")
            now = time.monotonic()
            if now - last_queues >= QUEUE_REFRESH_S:
                last_queues = now
                self.refresh_queue_metrics()

    def beat_once(self) -> None:
        from crawler.hostlimit import HOST_STATS
        from reviewwatch.worker import metrics

        now = utcnow()
        with self.store.transaction() as session:
            heartbeat(session, self.running_ids(), self.name)
            seen = session.get(WorkerSeen, self.name)
            if seen is None:
                seen = WorkerSeen(name=self.name, hostname=socket.gethostname()[:200],
                                  pid=os.getpid(), started_at=self.started_at)
                session.add(seen)
            seen.queues = ",".join(self.queues)[:200]
            seen.concurrency = self.concurrency
            seen.seen_at = now
            seen.tasks_done = self.tasks_done
        hosts = HOST_STATS.drain() if self._engine is not None else {}
        if not hosts:
            return
        hour = now.replace(minute=0, second=0, microsecond=0)
        with self.store.transaction() as session:
            add_host_activity(session, hour, [
                HostCounts(host, t.requests, t.gaps, t.gap_sum_s, t.min_gap_s)
                for host, t in hosts.items()
            ])
        for host, tally in hosts.items():
            metrics.HOST_REQUESTS.labels(host).inc(tally.requests)
            if tally.min_gap_s is not None:
                metrics.HOST_MIN_GAP.labels(host).set(tally.min_gap_s)

    def refresh_queue_metrics(self) -> None:
        from reviewwatch.worker import metrics
        from reviewwatch.worker.broker import queue_depths

        try:
            depths = queue_depths(self.settings)
        except Exception as exc:  # noqa: BLE001 - the broker may be restarting
            log.debug("queue lengths not read: %s", exc)
            return
        for stage, depth in depths.items():
            if depth is not None:
                metrics.QUEUE_MESSAGES.labels(stage).set(depth)
        metrics.STAGES_RUNNING.set(len(self.running_ids()))


_RUNTIME: WorkerRuntime | None = None


def set_runtime(runtime: WorkerRuntime | None) -> None:
    global _RUNTIME
    _RUNTIME = runtime


def current() -> WorkerRuntime:
    if _RUNTIME is None:
        raise RuntimeError("no worker runtime in this process (start it with `reviewwatch worker`)")
    return _RUNTIME
