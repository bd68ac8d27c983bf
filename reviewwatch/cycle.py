"""One cycle of a business: crawl (a child process), score what is new, take a gap snapshot, send.

Each stage reads and writes the store only, so a stage that fails leaves the others working
on what is stored: a failed crawl is recorded in crawl_runs and reported in the digest, and
scoring and the digest still run. Settings: `schedule.crawl_timeout_s`, the business's digest.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from reviewwatch.alerts.deliver import AlertRun, check_after_crawl
from reviewwatch.config import Settings
from reviewwatch.digest.deliver import DigestRun, send_digests
from reviewwatch.digest.preview import preview_digests
from reviewwatch.digest.send import Transport
from storage.db import Store
from storage.models import Business, CrawlRun, Source, utcnow

log = logging.getLogger(__name__)
STAGES = ("crawl", "score", "snapshot", "digest")
OUTPUT_TAIL_LINES = 20
# Scoring loads a model and uses every core: one business at a time.
_SCORING = threading.Lock()
# One crawl process at a time per daemon: businesses reviewed on the same platform would
# otherwise each send it crawl.concurrent_per_domain requests at once.
_CRAWLING = threading.Lock()

CrawlCommand = Callable[[Settings, str], Sequence[str]]
Scorer = Callable[[Store, Settings, str], int]


@dataclass(frozen=True, slots=True)
class StageResult:
    name: str
    ok: bool
    detail: str


@dataclass(slots=True)
class CycleResult:
    business: str
    stages: list[StageResult] = field(default_factory=list)
    digest: DigestRun | None = None
    alerts: AlertRun | None = None  # the spike check after the crawl (and its scoring)
    stopped: bool = False  # a stop was requested: the later stages did not run

    @property
    def ok(self) -> bool:
        return not self.stopped and all(stage.ok for stage in self.stages)

    def stage(self, name: str) -> StageResult | None:
        return next((s for s in self.stages if s.name == name), None)


def crawl_command(settings: Settings, business_slug: str) -> list[str]:
    """`reviewwatch crawl` for one business, in a fresh interpreter (Scrapy's reactor can't restart)."""
    argv = [sys.executable, "-m", "reviewwatch"]
    if settings.source_file is not None:
        argv += ["--config", str(settings.source_file)]
    return [*argv, "crawl", "--business", business_slug]


def run_cycle(
    settings: Settings,
    business_slug: str,
    *,
    dry_run: bool = False,
    outbox: Path | None = None,
    store: Store | None = None,
    crawl: CrawlCommand = crawl_command,
    score: Scorer | None = None,
    transport: Transport | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    send_digest: bool = True,
) -> CycleResult:
    """Run the four stages for one business; a failing stage is reported and the next one runs.

    `send_digest=False` (a weekly digest's other days) skips only the digest stage.
    """
    business = settings.business(business_slug)  # unknown: a ConfigError, before any work
    own_store = store is None
    store = store or open_store(settings)
    result = CycleResult(business_slug)
    stages: dict[str, Callable[[], tuple[bool, str]]] = {
        "crawl": lambda: run_crawl(store, settings, business_slug, crawl(settings, business_slug)),
        "score": lambda: _score_then_alert(
            result, store, settings, business_slug, score or score_new, dry_run, outbox, transport
        ),
        "snapshot": lambda: (True, f"snapshot {take_snapshot(store, settings, business_slug)}"),
        "digest": lambda: (
            _digest(result, store, settings, business_slug, dry_run, outbox, transport)
            if send_digest
            else (True, f"weekly digest: not today (sent on {business.digest.weekday})")
        ),
    }
    try:
        for name in STAGES:
            if should_stop():
                result.stopped = True
                log.info("%s: stop requested; %s and later stages skipped", business_slug, name)
                break
            result.stages.append(_run_stage(business_slug, name, stages[name]))
    finally:
        if own_store:
            store.dispose()
    return result


def open_store(settings: Settings) -> Store:
    """The store, migrated and in step with the configuration."""
    from reviewwatch.sync import sync_settings

    store = Store(settings.resolved_database_url, pool=settings.pool_options)
    with store.transaction() as session:
        sync_settings(session, settings)
    return store


def run_crawl(
    store: Store, settings: Settings, business_slug: str, argv: Sequence[str]
) -> tuple[bool, str]:
    """Run the crawl process; a non-zero exit or a timeout is recorded as a failed crawl run."""
    with _CRAWLING:
        return _run_crawl(store, settings, business_slug, argv)


def _run_crawl(
    store: Store, settings: Settings, business_slug: str, argv: Sequence[str]
) -> tuple[bool, str]:
    started = utcnow()
    timeout = settings.schedule.crawl_timeout_s
    log.info("%s: crawling: %s", business_slug, " ".join(argv))
    try:
        # A session of its own: Ctrl-C on the daemon lets the running crawl finish its step.
        done = subprocess.run(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
            start_new_session=True,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        reason = f"crawl process stopped after {timeout} s"
        record_crawl_failure(store, business_slug, started, reason, _tail(exc.output))
        return False, reason
    except OSError as exc:
        reason = f"crawl process could not start: {exc}"
        record_crawl_failure(store, business_slug, started, reason, "")
        return False, reason
    if done.returncode != 0:
        reason = f"crawl process exited with status {done.returncode}"
        tail = _tail(done.stdout)
        log.warning("%s: %s:\n%s", business_slug, reason, tail)
        record_crawl_failure(store, business_slug, started, reason, tail)
        return False, reason
    log.debug("%s: crawl output:\n%s", business_slug, _tail(done.stdout))
    return True, "crawl process exited with status 0"


def record_crawl_failure(
    store: Store, business_slug: str, started: dt.datetime, reason: str, output: str
) -> int:
    """Mark the business's crawl runs since `started` failed; add a failed run for sources without one."""
    now = utcnow()
    summary = f"{reason}: {output.strip().splitlines()[-1]}" if output.strip() else reason
    recorded = 0
    with store.transaction() as session:
        sources = session.scalars(
            select(Source)
            .join(Business)
            .where(Business.slug == business_slug, Source.active.is_(True))
        ).all()
        for source in sources:
            runs = session.scalars(
                select(CrawlRun).where(
                    CrawlRun.source_id == source.id, CrawlRun.started_at >= started
                )
            ).all()
            for run in runs:
                if run.status == "running":  # the process died under it
                    run.status, run.finished_at, run.error_summary = "failed", now, summary[:2000]
                    recorded += 1
            if not runs:
                session.add(
                    CrawlRun(
                        source_id=source.id,
                        started_at=started,
                        finished_at=now,
                        status="failed",
                        error_summary=summary[:2000],
                        details={"reason": reason, "output": output[-4000:]},
                    )
                )
                recorded += 1
    return recorded


def score_new(store: Store, settings: Settings, business_slug: str) -> int:
    """Score the business's stored mentions that have no current score (the scoring stage's API)."""
    from sentiment.batch import score_pending

    with _SCORING:
        return score_pending(
            store, settings.sentiment, languages=settings.languages, data_dir=settings.data_dir,
            business_slug=business_slug, business_kind=settings.kind_of(business_slug),
        )


def take_snapshot(store: Store, settings: Settings, business_slug: str) -> int:
    from reviewwatch.digest.gapinfo import take_snapshot as snapshot

    with store.transaction() as session:
        return snapshot(session, settings, business_slug)


def default_outbox(settings: Settings) -> Path:
    return settings.data_dir / "outbox"


def _score_then_alert(
    result: CycleResult,
    store: Store,
    settings: Settings,
    business_slug: str,
    score: Scorer,
    dry_run: bool,
    outbox: Path | None,
    transport: Transport | None,
) -> tuple[bool, str]:
    """Score what the crawl brought, then check for spikes at once: a new mention counts (and
    can alert) once it is scored, and the owners should not wait for the digest."""
    from reviewwatch.followup.stage import open_followups

    scored = score(store, settings, business_slug)
    open_followups(store, business_slug)  # each newly negative mention gets its follow-up item
    folder = (outbox or default_outbox(settings)) if dry_run else None
    result.alerts = check_after_crawl(
        store, settings, business_slug, dry_run=dry_run, outbox=folder, transport=transport
    )
    found = result.alerts.summary()
    return True, f"{scored} scored" + (f"; {found}" if found else "")


def _digest(
    result: CycleResult,
    store: Store,
    settings: Settings,
    business_slug: str,
    dry_run: bool,
    outbox: Path | None,
    transport: Transport | None,
) -> tuple[bool, str]:
    if dry_run:
        folder = outbox or default_outbox(settings)
        result.digest = preview_digests(store, settings, business_slug, folder)
        return True, f"{result.digest.count('written')} written to {folder}"
    result.digest = send_digests(store, settings, business_slug, transport=transport)
    run = result.digest
    detail = (
        f"{run.count('sent')} sent, {run.count('pending')} pending, {run.count('waiting')} waiting"
    )
    return run.unsent == 0, detail  # a digest backing off is not delivered either


def _run_stage(slug: str, name: str, stage: Callable[[], tuple[bool, str]]) -> StageResult:
    try:
        ok, detail = stage()
    except Exception as exc:  # noqa: BLE001 - one stage failing must not stop the next
        log.exception("%s: %s failed", slug, name)
        return StageResult(name, False, f"{type(exc).__name__}: {exc}")
    (log.info if ok else log.warning)("%s: %s: %s", slug, name, detail)
    return StageResult(name, ok, detail)


def _tail(output: str | bytes | None) -> str:
    if output is None:
        return ""
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
    return "\n".join(text.rstrip().splitlines()[-OUTPUT_TAIL_LINES:])
