"""Reports for the API (gap reports, the claims chart), computed once per store revision.

A gap report reads every mention of a business's window and the claims chart every rated
mention of a business: hundreds of milliseconds on a large store, and a dashboard asks for the
same ones again and again. A result is kept while the store's revision (storage/revision.py) is
unchanged, for at most `MAX_AGE_S` seconds (a window that ends "now" moves on); the
`MAX_ENTRIES` most recently used are kept. Concurrent requests for one result wait for the one
computation instead of repeating it. Each `serve` worker process has its own cache.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from storage.revision import store_revision

MAX_ENTRIES = 1024
MAX_AGE_S = 300.0


@dataclass(frozen=True, slots=True)
class _Entry:
    revision: tuple[Any, ...]
    made_at: float
    value: Any


class ReportCache:
    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.computed = 0  # how many results were computed rather than reused (for tests)

    def get(self, session: Session, key: Hashable, compute: Callable[[Session], Any]) -> Any:
        """`compute(session)`, or its result kept for `key` at the store's current revision.

        Runs in the request's worker thread, inside its one database step.
        """
        revision = store_revision(session)
        found, value = self._fresh(key, revision)
        if found:
            return value
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:  # one computation per key; the others wait and reuse it
            found, value = self._fresh(key, revision)
            if found:
                return value
            value = compute(session)
            with self._lock:
                self.computed += 1
                self._entries[key] = _Entry(revision, time.monotonic(), value)
                self._entries.move_to_end(key)
                while len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
                self._computing.pop(key, None)
            return value

    def _fresh(self, key: Hashable, revision: tuple[Any, ...]) -> tuple[bool, Any]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.revision != revision:
                return False, None
            if time.monotonic() - entry.made_at > MAX_AGE_S:
                return False, None
            self._entries.move_to_end(key)
            return True, entry.value
