"""RunRecorder: records every crawl run of a source in `crawl_runs` (a failed one too), keeps
the progress of a partial run and, on success only, moves `last_success_at`.

Status: `failed` when nothing could be read or the crawl did not finish, `partial` when some
requests failed, `suspect` when the pages answered but held no review record although earlier
runs stored some (the site changed its markup?), `ok` otherwise.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Self

from scrapy import Request, signals
from sqlalchemy.exc import SQLAlchemyError
from scrapy.crawler import Crawler
from twisted.python.failure import Failure

from crawler.spiders.base import SUSPECT, SourceSpider
from crawler.store import begin_run, finish_run
from storage.errors import StoreError

log = logging.getLogger(__name__)


class RunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = None
        self.started: dt.datetime | None = None
        self.status: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(recorder.spider_error, signal=signals.spider_error)
        crawler.signals.connect(recorder.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(recorder.item_error, signal=signals.item_error)
        return recorder

    def spider_opened(self, spider: SourceSpider) -> None:
        assert spider.store is not None
        self.started = dt.datetime.now(dt.UTC)
        try:
            self.run_id, self.started = begin_run(spider.store, spider.context.source_id)
        except (SQLAlchemyError, StoreError) as exc:
            spider.tally.error("store unavailable", f"crawl run not recorded at start: {exc}")

    def spider_error(self, failure: Failure, response: Any, spider: SourceSpider) -> None:
        name = type(failure.value).__name__
        spider.tally.error(f"parse error ({name})", f"{name} on {getattr(response, 'url', '?')}: "
                           f"{failure.getErrorMessage()}")

    def item_error(self, item: Any, response: Any, spider: SourceSpider, failure: Failure) -> None:
        """A pipeline failed on an item (not a DropItem): counted, the crawl goes on."""
        name = type(failure.value).__name__
        spider.tally.error(f"pipeline error ({name})", f"{name}: {failure.getErrorMessage()}")

    def request_dropped(self, request: Request, spider: SourceSpider) -> None:
        """The scheduler refused a request it had already seen: after a redirect, that is a loop."""
        if request.meta.get("redirect_times"):
            spider.tally.error("redirect loop", f"redirect loop: {request.url}")
        else:
            spider.tally.note("page already read")

    def spider_closed(self, spider: SourceSpider, reason: str) -> None:
        tally = spider.tally
        if reason != "finished" or tally.pages == 0:
            status = "failed"
            if reason != "finished":
                tally.error(f"crawl stopped ({reason})")
        else:
            status = "partial" if tally.errors else "ok"
            if status == "ok" and spider.suspect():
                status = "suspect"
                tally.note(SUSPECT)
        spider.details["hints"] = spider.hints()
        self.status = status
        spider.run_status = status
        assert spider.store is not None
        try:
            finish_run(
                spider.store,
                run_id=self.run_id,
                context=spider.context,
                started=self.started or dt.datetime.now(dt.UTC),
                status=status,
                tally=tally,
                details=spider.details,
                new_state=spider.new_state if status == "ok" else spider.progress_state(),
            )
        except (SQLAlchemyError, StoreError) as exc:
            # Unrecorded is failed: the process exits non-zero and its caller records that.
            spider.run_status = "failed"
            log.error("%s: the crawl run could not be recorded: %s", spider.context.label, exc)
        log.debug("%s: %s, %s", spider.context.label, status, tally)
