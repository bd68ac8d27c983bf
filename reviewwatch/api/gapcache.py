"""Gap reports for the API, computed once per (business, window, store revision).

A gap report reads every mention of a business's window (hundreds of milliseconds on a large
store) and a dashboard asks for the same one again and again. A report is kept while the store's
revision (storage/revision.py) is unchanged, for at most `MAX_AGE_S` seconds (a window that ends
"now" moves on), and the `MAX_ENTRIES` most recent are kept. Concurrent requests for one report
wait for the one computation instead of repeating it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from reviewwatch.config import Settings
from storage.revision import store_revision

MAX_ENTRIES = 512
MAX_AGE_S = 300.0
Key = tuple[str, dt.datetime | None, dt.datetime | None]


@dataclass(frozen=True, slots=True)
class _Entry:
    revision: tuple[Any, ...]
    made_at: float
    report: dict[str, Any]


class GapCache:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Key, threading.Lock] = {}
        self.computed = 0  # how many reports were computed rather than reused (for tests)

    def report(
        self, session: Session, business: str, since: dt.datetime | None, until: dt.datetime | None
    ) -> dict[str, Any]:
        """The gap report's dict for the window, computed or reused (runs in a worker thread)."""
        key = (business, since, until)
        revision = store_revision(session)
        cached = self._fresh(key, revision)
        if cached is not None:
            return cached
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:  # one computation per key; the others wait and reuse it
            cached = self._fresh(key, revision)
            if cached is not None:
                return cached
            from reviewwatch.gap import compute_gap

            result: dict[str, Any] = compute_gap(
                session, self._settings, business, since=since, until=until
            ).to_dict()
            with self._lock:
                self.computed += 1
                self._entries[key] = _Entry(revision, time.monotonic(), result)
                self._entries.move_to_end(key)
                while len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
                self._computing.pop(key, None)
            return result

    def _fresh(self, key: Key, revision: tuple[Any, ...]) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.revision != revision:
                return None
            if time.monotonic() - entry.made_at > MAX_AGE_S:
                return None
            self._entries.move_to_end(key)
            return entry.report
