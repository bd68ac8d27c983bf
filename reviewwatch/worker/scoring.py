"""Scoring in a worker: the score tasks a process holds at once are scored together.

A worker thread per task would score each business's handful of new mentions alone: the model
then runs batches of 3 or 4 texts, most of its time spent on per-batch overhead. Instead the
score tasks of one process hand their business to this batcher and wait; its thread gathers
what is queued (up to `sentiment.batch_size` × 8 texts), scores it as one run of full batches
with the process's loaded model (`sentiment.batch.scorer_for`: loaded once), and answers each
task with its business's count. A business's score task goes to one process, so two processes
never score the same business's mentions at once; a redelivered task finds only what is still
unscored.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError

from reviewwatch.config import Settings
from storage.db import Store
from storage.models import Business, Mention, Score

log = logging.getLogger(__name__)
GATHER_S = 0.05  # how long a batch waits for more tasks once it has one
TRIES = 3


@dataclass(slots=True)
class _Request:
    slug: str
    answer: Future[int]


class ScoreBatcher:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.max_texts = settings.sentiment.batch_size * 8
        self._queue: queue.Queue[_Request] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Load the model now (a worker taking score tasks does it before taking any)."""
        from sentiment.batch import scorer_for

        settings = self.settings
        scorer_for(settings.sentiment, settings.languages, settings.data_dir)

    def score(self, business_slug: str) -> int:
        """Score the business's mentions without a current score; blocks until they are."""
        self._ensure_thread()
        answer: Future[int] = Future()
        self._queue.put(_Request(business_slug, answer))
        return answer.result()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="scorer", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            batch = [first]
            try:
                while True:
                    batch.append(self._queue.get(timeout=GATHER_S))
                    if len(batch) >= self.max_texts:  # every business has a text at least
                        break
            except queue.Empty:
                pass
            try:
                counts = self._score([r.slug for r in batch])
            except Exception as exc:  # noqa: BLE001 - each waiting task fails with it
                for request in batch:
                    request.answer.set_exception(exc)
                continue
            for request in batch:
                request.answer.set_result(counts.get(request.slug, 0))

    def _score(self, slugs: list[str]) -> dict[str, int]:
        """Each kind of business's mentions (sentiment/kinds.py) scored as one run."""
        by_kind: dict[str | None, list[str]] = {}
        for slug in slugs:
            by_kind.setdefault(self.settings.kind_of(slug), []).append(slug)
        counts: dict[str, int] = {}
        for kind, some in by_kind.items():
            counts.update(self._score_kind(some, kind))
        return counts

    def _score_kind(self, slugs: list[str], kind: str | None) -> dict[str, int]:
        from sentiment.batch import score_mentions, scorer_for, version_of

        settings = self.settings
        scorer = scorer_for(settings.sentiment, settings.languages, settings.data_dir)
        version = version_of(scorer, kind)
        for attempt in range(1, TRIES + 1):
            pending = self.pending(scorer.model_id, version, slugs)
            if not pending:
                return {}
            try:
                score_mentions(self.store, scorer, [m for m, _ in pending], chunk=self.max_texts,
                               business_kind=kind)
            except IntegrityError:
                # Another scorer committed some of these first (a task delivered twice while its
                # first worker still ran): what is left is scored again, the rest reused.
                if attempt == TRIES:
                    raise
                log.info("scores stored concurrently; scoring what is left")
                continue
            counts: dict[str, int] = {}
            for _, slug in pending:
                counts[slug] = counts.get(slug, 0) + 1
            return counts
        return {}

    def pending(self, model_id: str, model_version: str, slugs: list[str]) -> list[tuple[int, str]]:
        """(mention id, business slug) of the live mentions of `slugs` without a current score."""
        current = exists().where(
            and_(
                Score.mention_id == Mention.id,
                Score.is_current.is_(True),
                Score.model_id == model_id,
                Score.model_version == model_version,
                Score.mention_revision == Mention.revision,
            )
        )
        with self.store.reading() as session:
            rows = session.execute(
                select(Mention.id, Business.slug)
                .join(Business, Business.id == Mention.business_id)
                .where(Business.slug.in_(sorted(set(slugs))), Mention.deleted_at.is_(None), ~current)
                .order_by(Mention.id)
            )
            return [(mention_id, slug) for mention_id, slug in rows]
