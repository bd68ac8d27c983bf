"""A long-lived crawl engine: one Twisted reactor in a thread of this process, many crawls.

`CrawlJob` (runner.py) owns the reactor of its process and can run once, so the cycle used to
start a process per business: 1.6 s each, and the per-site politeness state and robots.txt lost
between businesses. A worker process instead starts one `CrawlEngine`: its reactor runs in a
daemon thread for the life of the process, and any thread may hand it a business's sources
(`engine.crawl(contexts)`), which it crawls concurrently with every other business's sources
in flight. Everything per process stays warm: the per-site politeness slots
(`middlewares.SharedPolitenessMiddleware`), the robots.txt cache (`robots.py`), Scrapy's
per-host download slots of each crawler, the store's connection pool.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
import pickle
import threading
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner, Crawler
from scrapy.settings import Settings

from crawler.context import SourceContext, Tally
from crawler.pipelines import StorePipeline
from crawler.recorder import RunRecorder
from crawler.runner import SourceReport, quiet_scrapy, report
from crawler.settings import CrawlSettings, scrapy_settings
from crawler.spiders import SPIDERS
from crawler.spiders.base import SourceSpider
from crawler.store import finish_run
from storage.db import Store

log = logging.getLogger(__name__)
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# Threads writing crawls to the store (fewer than the store's pool of 15 connections).
STORE_THREADS = 12


class QuickCopySettings(Settings):
    """Settings whose copy (one per crawler: two per business) is a pickle round trip, about
    5× faster than Scrapy's deepcopy, which took a tenth of a crawl worker's time."""

    def copy(self) -> QuickCopySettings:
        try:
            copied: QuickCopySettings = pickle.loads(pickle.dumps(self))
        except (pickle.PicklingError, TypeError, AttributeError):
            return super().copy()  # type: ignore[return-value]
        return copied


class OffloadedStorePipeline(StorePipeline):
    """The store writes of a spider in a worker thread: a crawl process with hundreds of crawls
    in flight must not stop its event loop for each database round trip (a loaded database
    would make every other crawl wait, and their timeouts run meanwhile)."""

    def open_spider(self) -> None:
        super().open_spider()
        self._lock = asyncio.Lock()  # the writers are not thread-safe: one call at a time

    async def process_item(self, item: Any) -> Any:  # type: ignore[override]
        async with self._lock:
            await asyncio.to_thread(super().process_item, item)
        return item

    async def close_spider(self) -> None:  # type: ignore[override]
        async with self._lock:
            await asyncio.to_thread(super().close_spider)


class OffloadedRunRecorder(RunRecorder):
    """The crawl run's record (begin, finish) written from a worker thread."""

    async def spider_opened(self, spider: SourceSpider) -> None:  # type: ignore[override]
        await asyncio.to_thread(super().spider_opened, spider)

    async def spider_closed(self, spider: SourceSpider, reason: str) -> None:  # type: ignore[override]
        await asyncio.to_thread(super().spider_closed, spider, reason)


class EngineError(RuntimeError):
    """The engine could not start, or was stopped."""


class CrawlEngine:
    """The reactor thread and a crawler runner; `crawl()` is thread-safe and blocks its caller."""

    def __init__(
        self,
        crawl: CrawlSettings,
        store: Store,
        scrapy_overrides: dict[str, Any] | None = None,
        *,
        log_level: str = "INFO",
        host_budget_url: str | None = None,
        host_budget_prefix: str = "reviewwatch",
    ) -> None:
        self.crawl_settings = crawl
        self.store = store
        self.log_level = log_level
        values = scrapy_settings(crawl, log_level)
        middlewares = dict(values["DOWNLOADER_MIDDLEWARES"])
        # robots.txt once per host and process; politeness booked in the shared budget if any.
        middlewares["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] = None
        middlewares["crawler.robots.SharedRobotsTxtMiddleware"] = 100
        politeness = middlewares.pop("crawler.middlewares.SharedPolitenessMiddleware", 990)
        middlewares["crawler.middlewares.SharedPolitenessMiddleware"] = None
        middlewares["crawler.hostlimit.SharedHostBudgetMiddleware"] = politeness
        values["DOWNLOADER_MIDDLEWARES"] = middlewares
        # Store writes off the event loop (a thread pool of STORE_THREADS).
        pipelines = dict(values["ITEM_PIPELINES"])
        order = pipelines.pop("crawler.pipelines.StorePipeline", 400)
        pipelines["crawler.engine.OffloadedStorePipeline"] = order
        values["ITEM_PIPELINES"] = pipelines
        extensions = dict(values["EXTENSIONS"])
        order = extensions.pop("crawler.recorder.RunRecorder", 10)
        extensions["crawler.recorder.RunRecorder"] = None
        extensions["crawler.engine.OffloadedRunRecorder"] = order
        values["EXTENSIONS"] = extensions
        values["RW_HOST_BUDGET_URL"] = host_budget_url or ""
        values["RW_HOST_BUDGET_PREFIX"] = host_budget_prefix
        self.values = {**values, **(scrapy_overrides or {})}
        self.values["TWISTED_REACTOR"] = ASYNCIO_REACTOR
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: AsyncCrawlerRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._lock = threading.Lock()

    # -- life cycle --------------------------------------------------------------------
    def start(self) -> CrawlEngine:
        with self._lock:
            if self._thread is not None:
                return self
            self._thread = threading.Thread(target=self._serve, name="crawl-reactor", daemon=True)
            self._thread.start()
        self._ready.wait(30)
        if self._failed is not None or self._loop is None:
            raise EngineError(f"the crawl reactor did not start: {self._failed}")
        return self

    def _serve(self) -> None:
        try:
            from scrapy.utils.reactor import install_reactor

            install_reactor(ASYNCIO_REACTOR)
            from twisted.internet import reactor

            self._loop = asyncio.get_event_loop()
            self._loop.set_default_executor(
                concurrent.futures.ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="crawl-store")
            )
            quiet_scrapy(self.log_level)
            self._runner = AsyncCrawlerRunner(QuickCopySettings(self.values))
        except BaseException as exc:  # noqa: BLE001 - reported to the thread that started it
            self._failed = exc
            self._ready.set()
            return
        core: Any = reactor  # twisted's interfaces type the module poorly
        core.callWhenRunning(self._ready.set)
        core.run(installSignalHandlers=False)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the crawls in flight (each records its run as failed) and the reactor."""
        loop, runner = self._loop, self._runner
        if loop is None or runner is None or self._thread is None:
            return

        async def _stop() -> None:
            await runner.stop()

        try:
            asyncio.run_coroutine_threadsafe(_stop(), loop).result(timeout)
        except (concurrent.futures.TimeoutError, RuntimeError):
            log.warning("crawls still running after %.0f s: stopping the reactor anyway", timeout)
        from twisted.internet import reactor

        core: Any = reactor
        core.callFromThread(core.stop)
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- crawling ----------------------------------------------------------------------
    def crawl(self, contexts: list[SourceContext], timeout: float | None = None) -> list[SourceReport]:
        """Crawl these sources (one crawler each, concurrently); block until all are recorded.

        After `timeout` seconds the crawlers still running are stopped: each records its run
        as failed, and the reports say so.
        """
        if self._loop is None or not self.running:
            raise EngineError("the crawl engine is not running")
        future = asyncio.run_coroutine_threadsafe(self._crawl(contexts, timeout), self._loop)
        return future.result()

    async def _crawl(
        self, contexts: list[SourceContext], timeout: float | None
    ) -> list[SourceReport]:
        assert self._runner is not None
        started: list[tuple[SourceContext, Crawler]] = []
        unsupported: list[SourceReport] = []
        tasks = []
        for context in contexts:
            spider_class = SPIDERS.get(context.type)
            if spider_class is None:
                unsupported.append(self._failed_report(context, f"no spider for source type {context.type}"))
                continue
            crawler = self._runner.create_crawler(spider_class)
            started.append((context, crawler))
            tasks.append(self._runner.crawl(crawler, context=context, store=self.store))
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout)
            if pending:
                log.warning("%d crawlers still running after %s s: stopping them", len(pending), timeout)
                await asyncio.gather(
                    *(crawler.stop_async() for _, crawler in started if crawler.crawling),
                    return_exceptions=True,
                )
                await asyncio.wait(pending, timeout=30)
        return [self._report(context, crawler) for context, crawler in started] + unsupported

    def _report(self, context: SourceContext, crawler: Crawler) -> SourceReport:
        spider = getattr(crawler, "spider", None)
        status = getattr(spider, "run_status", None)
        tally = getattr(spider, "tally", None)
        if status is None or tally is None:
            return self._failed_report(context, "crawler did not start", tally)
        return report(context, status, tally)

    def _failed_report(
        self, context: SourceContext, reason: str, tally: Tally | None = None
    ) -> SourceReport:
        tally = tally or Tally()
        tally.error(reason)
        finish_run(self.store, run_id=None, context=context, started=dt.datetime.now(dt.UTC),
                   status="failed", tally=tally, details={}, new_state=context.state)
        return report(context, "failed", tally)
