"""`reviewwatch crawl`: one crawl of the configured sources, in this process (one per process).

Shows progress per source, then a table per source (its url or handle, status, pages, new,
updated, unchanged, invalid, errors), the reasons counted and what to set when something was
left out. Exit status 1 when a source's run failed (it is recorded in crawl_runs); `partial`
and `suspect` runs are reported, exit status 0.
"""

from __future__ import annotations

import datetime as dt
import threading

import click
from rich.markup import escape
from rich.progress import Progress, TaskID
from rich.table import Table

from crawler.context import short_target
from reviewwatch.config import CRAWLED_SOURCE_TYPES
from reviewwatch.context import AppContext
from reviewwatch.crawling import crawl_job, source_contexts
from reviewwatch.terminal import console as make_console, safe_text

# The mark a finished source's progress bar ends with, by the status of its run.
MARKS = {"ok": "✓", "partial": "! partial", "suspect": "? suspect", "failed": "✗ failed"}


@click.command("crawl")
@click.option("--business", "business_id", default=None, help="Only this business (its id).")
@click.option("--source", "source_type", type=click.Choice(CRAWLED_SOURCE_TYPES), default=None,
              help="Only sources of this type.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Keep only mentions published on or after this date (UTC).")
@click.pass_obj
def command(
    app: AppContext, business_id: str | None, source_type: str | None, since: dt.datetime | None
) -> None:
    """Crawl the configured sources once and store what is new or changed."""
    settings = app.settings
    store = app.store()
    contexts = source_contexts(
        store, settings, business=business_id, source_type=source_type,
        since=since.replace(tzinfo=dt.UTC) if since else None,
    )
    console = make_console()
    if not contexts:
        console.print("nothing to crawl: no active source matches")
        return
    job = crawl_job(settings, store, contexts)
    with _progress(job):
        reports = job.run()
    table = Table(title="crawl")
    left = {"business", "source", "target", "status"}
    for column in ("business", "source", "target", "status", "pages", "new", "updated",
                   "unchanged", "invalid", "errors"):
        table.add_column(column, justify="left" if column in left else "right",
                         overflow="fold" if column == "target" else "ellipsis")
    for r in reports:
        table.add_row(r.business, r.type, safe_text(short_target(r.target)), r.status,
                      str(r.pages), str(r.new), str(r.updated), str(r.unchanged), str(r.invalid),
                      str(r.errors))
    console.print(table)
    for r in reports:
        # Crawled names and urls may carry terminal escapes: shown as text, never obeyed.
        if r.summary:
            console.print(safe_text(f"{r.label}: {r.summary}"), highlight=False)
        for hint in r.hints:
            console.print(safe_text(f"{r.label}: {hint}"), highlight=False)
    if any(r.status == "failed" for r in reports):
        raise SystemExit(1)


class _progress:
    """A progress bar per source, refreshed from the crawlers' tallies by a small thread."""

    def __init__(self, job: object) -> None:
        self.job = job
        self.stop = threading.Event()
        self.bars = Progress(console=make_console(stderr=True), transient=False)
        self.tasks: dict[str, TaskID] = {}
        self.thread = threading.Thread(target=self.loop, name="crawl-progress", daemon=True)

    def __enter__(self) -> None:
        self.bars.start()
        self.thread.start()

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.refresh()
        self.bars.stop()

    def loop(self) -> None:
        while not self.stop.wait(0.25):
            self.refresh()

    def refresh(self) -> None:
        for label, pages, items, status in self.job.progress():  # type: ignore[attr-defined]
            task = self.tasks.get(label)
            if task is None:
                task = self.tasks[label] = self.bars.add_task(escape(label), total=None)
            done = status is not None
            mark = f" {MARKS.get(status, status)}" if status is not None else ""
            self.bars.update(
                task,
                description=escape(f"{label}: {pages} pages, {items} items{mark}"),
                completed=1 if done else 0,
                total=1 if done else None,
            )
