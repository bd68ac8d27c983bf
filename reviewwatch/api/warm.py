"""Gap reports computed ahead: the default window's report of every business, in the background
of `reviewwatch serve`.

A gap report read cold costs a request 0.3 s for a business with a few hundred mentions in its
window and about 3 s for one with 14 000 (bench/query.py's store, 2-core machine), and every
dashboard opens on the default window (`/gap/{business}` and `/claims/perceived` without
`since`/`until`). So one process of a server computes those reports ahead, into the cache its
requests read (cache.py, shared through files by the server's workers): after start, and again
whenever the store's revision has changed (a crawl, a score, a correction) or a report has aged
past `cache.DEFAULT_WINDOW_MAX_AGE_S`. A request for a report the warmer is computing waits for
that one computation rather than starting its own (cache.py's per-key lock).

One warmer per server: the first worker to take `warmer.lock` in the cache directory without
waiting; the others serve only. The warmer works one report at a time in a daemon thread and
checks every `api.warm_every_s` seconds (0 turns it off). Each pass writes `warm.json` beside
the cache (when, how many reports, how long they took), which `bench/api_load.py` reads.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import statistics
import threading
import time
from pathlib import Path
from typing import IO

from reviewwatch.api.aggregates import cached_gap_report
from reviewwatch.api.cache import DEFAULT_WINDOW_MAX_AGE_S, ReportCache
from reviewwatch.config import Settings
from storage.db import Store
from storage.revision import store_revision

log = logging.getLogger(__name__)
STATUS_FILE = "warm.json"
LOCK_FILE = "warmer.lock"


class Warmer:
    """Keeps the default window's gap report of every business fresh in `cache`."""

    def __init__(
        self, settings: Settings, store: Store, cache: ReportCache, directory: Path
    ) -> None:
        self._settings = settings
        self._store = store
        self._cache = cache
        self._directory = directory
        self._stop = threading.Event()
        self._lock_file: IO[str] | None = None
        self._thread: threading.Thread | None = None
        self.passes = 0  # complete passes (for tests)

    def start(self) -> bool:
        """Start warming unless another process of this server already does; True if started."""
        every = self._settings.api.warm_every_s
        if every <= 0 or not self._settings.businesses:
            return False
        self._directory.mkdir(parents=True, exist_ok=True)
        handle = open(self._directory / LOCK_FILE, "w")  # noqa: SIM115  held while warming
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False  # another worker of this server warms
        self._lock_file = handle
        self._thread = threading.Thread(target=self._run, args=(every,), name="warm-reports",
                                        daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock: another server may warm
            self._lock_file = None

    def _run(self, every: float) -> None:
        last_revision: tuple[object, ...] | None = None
        last_pass = 0.0
        while not self._stop.is_set():
            try:
                with self._store.session() as session:
                    revision = store_revision(session)
                aged = time.monotonic() - last_pass > _DEFAULT_AGE_MARGIN
                if revision != last_revision or aged:
                    self._pass()
                    last_revision, last_pass = revision, time.monotonic()
            except Exception:  # noqa: BLE001  a failed pass is retried; the requests still compute
                log.exception("warming the gap reports failed; retrying in %.0f s", every)
            self._stop.wait(every)

    def _pass(self) -> None:
        """One report per business, each a no-op when the cache already holds it fresh."""
        started, times = time.time(), []
        computed_before = self._cache.computed
        for business in self._settings.businesses:
            if self._stop.is_set():
                return
            t0 = time.perf_counter()
            with self._store.session() as session:
                cached_gap_report(self._cache, session, self._settings, business.id, (None, None))
            times.append(time.perf_counter() - t0)
        computed = self._cache.computed - computed_before
        self.passes += 1
        status = {
            "pid": os.getpid(),
            "passes": self.passes,
            "started_at": started,
            "finished_at": time.time(),
            "seconds": round(time.time() - started, 3),
            "businesses": len(times),
            "computed": computed,
            "report_seconds_p50": round(statistics.median(times), 3) if times else None,
            "report_seconds_max": round(max(times), 3) if times else None,
        }
        path = self._directory / STATUS_FILE
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(status), encoding="utf-8")
        os.replace(temporary, path)
        if computed:
            log.info("warmed %d gap reports of %d businesses in %.1f s", computed, len(times),
                     status["seconds"])


# A pass runs again before the default window's reports age out of the cache.
_DEFAULT_AGE_MARGIN = 0.9 * DEFAULT_WINDOW_MAX_AGE_S
