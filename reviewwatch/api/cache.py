"""Reports for the API (the gap report, which the claims chart reads too), computed once per
store revision.

A gap report reads every mention of a business's window: hundreds of milliseconds to seconds on
a large store, and a dashboard asks for the same ones again and again. A result is kept while the store's revision (storage/revision.py) is
unchanged, for at most `MAX_AGE_S` seconds (a window that ends "now" moves on); the
`MAX_ENTRIES` most recently used are kept. Concurrent requests for one result wait for the one
computation instead of repeating it. With a `directory` (what `serve` gives: `data_dir`/cache/api)
the results are also kept on disk, so the workers of one `serve` share them, one computing while
the others wait (a file lock), and a restarted server finds them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from storage.revision import store_revision

MAX_ENTRIES = 1024
MAX_AGE_S = 300.0
# A report over the default window (the last `gap.period_days` days, ending when it is made) on
# an unchanged store: an hour moves a 90-day window by 0.05 %, while new data changes the
# revision at once. Kept this long so that the warmer (warm.py) need not redo every report
# every five minutes on an idle store.
DEFAULT_WINDOW_MAX_AGE_S = 3600.0


@dataclass(frozen=True, slots=True)
class _Entry:
    revision: tuple[Any, ...]
    made_at: float
    value: Any


class ReportCache:
    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.computed = 0  # how many results were computed rather than reused (for tests)

    def get(
        self,
        session: Session,
        key: Hashable,
        compute: Callable[[Session], Any],
        max_age_s: float = MAX_AGE_S,
    ) -> Any:
        """`compute(session)`, or its result kept for `key` at the store's current revision and
        made at most `max_age_s` ago.

        Runs in the request's worker thread, inside its one database step.
        """
        revision = store_revision(session)
        found, value = self._fresh(key, revision, max_age_s)
        if found:
            return value
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:  # one computation per key; the others wait and reuse it
            found, value = self._fresh(key, revision, max_age_s)
            if found:
                return value

            def run() -> Any:
                with self._lock:
                    self.computed += 1
                return compute(session)

            value = (run() if self._directory is None
                     else self._shared(key, revision, run, max_age_s))
            with self._lock:
                self._entries[key] = _Entry(revision, time.monotonic(), value)
                self._entries.move_to_end(key)
                while len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
                self._computing.pop(key, None)
            return value

    def _fresh(
        self, key: Hashable, revision: tuple[Any, ...], max_age_s: float
    ) -> tuple[bool, Any]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.revision != revision:
                return False, None
            if time.monotonic() - entry.made_at > max_age_s:
                return False, None
            self._entries.move_to_end(key)
            return True, entry.value

    def _shared(
        self,
        key: Hashable,
        revision: tuple[Any, ...],
        compute: Callable[[], Any],
        max_age_s: float,
    ) -> Any:
        """The result from disk if another process made it at this revision, else computed and
        written there; one process computes a key at a time."""
        assert self._directory is not None
        name = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        path = self._directory / f"{name}.json"
        stamp = json.dumps(revision, default=str)
        with open(self._directory / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            try:
                kept = json.loads(path.read_text(encoding="utf-8"))
                fresh = time.time() - float(kept["made_at"]) <= max_age_s
                if kept["revision"] == stamp and fresh:
                    return kept["value"]
            except (OSError, ValueError, KeyError, TypeError):
                pass  # absent, half-written by a crash or from another version: compute it
            value = compute()
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(
                {"revision": stamp, "made_at": time.time(), "value": value}, default=str
            ), encoding="utf-8")
            os.replace(temporary, path)  # readers see the old file or the new one, whole
            return value
