"""The daemon: APScheduler 3.x runs each business's cycle at its local time, plus digest retries.

Without a broker, jobs live in the project's database (table `apscheduler_jobs`, APScheduler's
own), with stable ids `cycle:<business id>`, `coalesce=True`, `max_instances=1` and
`misfire_grace_time` from `schedule.misfire_grace_s`. A restart keeps a job whose trigger is
unchanged (so a run missed while the daemon was down still happens once, within the grace time)
and never duplicates one.
SIGTERM and SIGINT stop the daemon after the running stage of any running cycle.
Settings: `businesses[].digest.{frequency,send_at,weekday}`, `businesses[].timezone`, `schedule`.

Several daemons may run against one store (for availability): a cycle runs only in the daemon
that claims its run key (business, local date) in `cycle_runs`; the others skip it.

With a broker (`workers.broker_url`) the daemon runs no stage itself: one job, `cycles:plan`,
every `schedule.plan_every_s`, claims the coming cycles with their planned crawl start and
enqueues the stages that are due (`reviewwatch.worker.dispatch`); `reviewwatch worker`s run them.

Its two jobs (plan, retry) are intervals kept in memory, not in `apscheduler_jobs`: nothing of
them needs to outlive a restart (what is claimed and due lives in `cycle_runs`), APScheduler 3
does not support one job store shared by several schedulers (its FAQ), which is what daemons
run for availability would do, and a stored job cost every tick a read and a write of its row.

`reviewwatch schedule` is this module's `command`: the scheduler sits above the application, so it
joins the application's command line through the `reviewwatch.commands` entry point group
(pyproject.toml) rather than being imported by it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from zoneinfo import ZoneInfo

import click
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sqlalchemy import select

from reviewwatch.config import BusinessConfig, Settings
from reviewwatch.context import AppContext
from storage.cycles import claim_cycle, finish_cycle
from storage.db import Store
from storage.migrate import advisory_lock
from storage.models import Business

log = logging.getLogger("reviewwatch.scheduler")
JOB_TABLE = "apscheduler_jobs"
CYCLE_PREFIX = "cycle:"
RETRY_JOB = "digests:retry"
PLAN_JOB = "cycles:plan"
# pg_advisory_lock key held while a daemon creates and reconciles its jobs.
START_LOCK_KEY = 0x5257_0012
# Textual references: the job store keeps a function's name and the business id, never settings.
CYCLE_FUNC = "scheduler:cycle_job"
RETRY_FUNC = "scheduler:retry_job"
PLAN_FUNC = "scheduler:plan_job"
WORKERS = 4
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order

Runner = Callable[[str, Callable[[], bool]], object]


@dataclass(slots=True)
class JobSync:
    added: list[str] = field(default_factory=list)
    rescheduled: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def cycle_trigger(business: BusinessConfig) -> CronTrigger:
    """Every day at `send_at`, in the business's own time zone (a weekly digest too: crawling,
    scoring and the gap snapshot stay daily; `digest_due` says on which days the digest goes)."""
    at = business.digest.send_at
    return CronTrigger(
        hour=at.hour, minute=at.minute, second=at.second, timezone=ZoneInfo(business.timezone)
    )


def digest_due(business: BusinessConfig, now: dt.datetime) -> bool:
    """Whether the cycle running at `now` sends the digest: daily, or on `weekday` if weekly.

    The day is that of the latest `send_at` at or before `now` in the business's time zone, so
    a cycle that runs late (within the misfire grace), past midnight, still counts for its day.
    """
    if business.digest.frequency == "daily":
        return True
    at = business.digest.send_at
    local = now.astimezone(ZoneInfo(business.timezone))
    slot = local - dt.timedelta(hours=at.hour, minutes=at.minute, seconds=at.second)
    return WEEKDAYS[slot.weekday()] == business.digest.weekday


class _Scheduler(BackgroundScheduler):
    def _process_jobs(self) -> float | None:
        # APScheduler 3 wakes its loop once more on shutdown and would then "run" due jobs on the
        # shut-down executor: the submission fails but the job is moved to its next time, so the
        # run would be lost. Only a running scheduler processes jobs.
        if self.state != STATE_RUNNING:
            return None
        wait: float | None = super()._process_jobs()
        return wait


def make_scheduler(store: Store, settings: Settings) -> BackgroundScheduler:
    jobstore = (MemoryJobStore() if settings.workers.broker_url  # see the module docstring
                else SQLAlchemyJobStore(engine=store.engine, tablename=JOB_TABLE))
    return _Scheduler(
        jobstores={"default": jobstore},
        executors={"default": ThreadPoolExecutor(max_workers=WORKERS)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.schedule.misfire_grace_s,
        },
        timezone="UTC",
    )


def sync_jobs(scheduler: BackgroundScheduler, settings: Settings) -> JobSync:
    """Make the stored jobs match the configuration: one cycle per business, one retry job."""
    sync = JobSync()
    wanted: dict[str, tuple[str, BaseTrigger, list[str]]] = {}
    if settings.workers.broker_url:
        wanted[PLAN_JOB] = (PLAN_FUNC, IntervalTrigger(seconds=settings.schedule.plan_every_s), [])
    else:
        wanted.update({
            f"{CYCLE_PREFIX}{b.id}": (CYCLE_FUNC, cycle_trigger(b), [b.id])
            for b in settings.businesses
        })
    wanted[RETRY_JOB] = (RETRY_FUNC, IntervalTrigger(seconds=settings.schedule.retry_every_s), [])
    for job_id, (func, trigger, args) in wanted.items():
        job = scheduler.get_job(job_id)
        if job is not None and _same(job, func, trigger, args):
            if job.misfire_grace_time != settings.schedule.misfire_grace_s:
                job.modify(misfire_grace_time=settings.schedule.misfire_grace_s)
            sync.kept.append(job_id)
            continue
        scheduler.add_job(func, trigger, args=args, id=job_id, name=job_id, replace_existing=True)
        (sync.added if job is None else sync.rescheduled).append(job_id)
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            job.remove()
            sync.removed.append(job.id)
    return sync


def _same(job: Job, func: str, trigger: BaseTrigger, args: list[str]) -> bool:
    return job.func_ref == func and _key(job.trigger) == _key(trigger) and list(job.args) == args


def _key(trigger: BaseTrigger) -> str:
    # An interval trigger's repr holds its start date (its creation time): compare the interval.
    if isinstance(trigger, IntervalTrigger):
        return f"interval {trigger.interval}"
    return repr(trigger)


# The running daemon, for the job functions (APScheduler calls them by name).
_daemon: Daemon | None = None


def cycle_job(business_slug: str) -> None:
    daemon = _current()
    if daemon.stopping.is_set():
        return
    cycle_id = claim_cycle_now(daemon, business_slug)
    if cycle_id is None:
        return
    status = "failed"
    try:
        result = daemon.runner(business_slug, daemon.stopping.is_set)
        if getattr(result, "stopped", False):
            status = "stopped"
        elif getattr(result, "ok", True):
            status = "done"
    finally:
        with daemon.store.transaction() as session:
            finish_cycle(session, cycle_id, status)


def claim_cycle_now(daemon: Daemon, business_slug: str) -> int | None:
    """Claim the cycle a run starting now belongs to; None when another daemon has it."""
    from reviewwatch.plan import current_slot

    business = daemon.settings.business(business_slug)
    slot = current_slot(business, dt.datetime.now(dt.UTC))
    with daemon.store.transaction() as session:
        business_id = session.scalar(select(Business.id).where(Business.slug == business_slug))
        if business_id is None:  # a store the configuration was never synced into
            from reviewwatch.sync import sync_business

            business_id = sync_business(session, business).id
        cycle_id = claim_cycle(
            session,
            business_id=business_id,
            cycle_date=slot.cycle_date,
            due_at=slot.due_at,
            claimed_by=daemon.name,
            crawl_at=dt.datetime.now(dt.UTC),
            send_digest=digest_due(business, dt.datetime.now(dt.UTC)),
            status="running",
        )
    if cycle_id is None:
        log.info("%s: the cycle of %s is claimed by another scheduler; not run here",
                 business_slug, slot.cycle_date)
    return cycle_id


def plan_job() -> None:
    """With a broker: claim the coming cycles and enqueue what is due (never waits for work)."""
    from reviewwatch.worker.dispatch import tick

    daemon = _current()
    if daemon.stopping.is_set() or daemon.publish is None:
        return
    tick(daemon.store, daemon.settings, daemon.publish, claimed_by=daemon.name)


def retry_job() -> None:
    from reviewwatch.alerts.deliver import retry_due_alerts
    from reviewwatch.digest.deliver import retry_due

    daemon = _current()
    if daemon.stopping.is_set():
        return
    if daemon.publish is not None:
        # With a broker, a digest worker retries (the SMTP relay is the workers' to reach).
        from reviewwatch.worker.app import publish_retry

        publish_retry(daemon.settings)
        return
    retry_due(daemon.store, daemon.settings)
    retry_due_alerts(daemon.store, daemon.settings)


def _current() -> Daemon:
    if _daemon is None:
        raise RuntimeError("no scheduler daemon is running in this process")
    return _daemon


def default_runner(settings: Settings, store: Store) -> Runner:
    def run(business_slug: str, should_stop: Callable[[], bool]) -> object:
        from reviewwatch.cycle import run_cycle

        business = settings.business(business_slug)
        return run_cycle(
            settings,
            business_slug,
            store=store,
            should_stop=should_stop,
            send_digest=digest_due(business, dt.datetime.now(dt.UTC)),
        )

    return run


class Daemon:
    """The scheduler with its store; `serve()` runs in the foreground until a signal stops it."""

    def __init__(self, settings: Settings, store: Store, runner: Runner | None = None) -> None:
        self.settings = settings
        self.store = store
        self.runner = runner or default_runner(settings, store)
        self.stopping = threading.Event()
        self.scheduler = make_scheduler(store, settings)
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.publish: Callable[[str, int], None] | None = None
        if settings.workers.broker_url:
            from reviewwatch.worker.app import publisher

            self.publish = publisher(settings)

    def start(self) -> JobSync:
        global _daemon
        _daemon = self
        # Paused while the jobs are reconciled, so nothing fires from a half-updated store; one
        # daemon at a time: APScheduler creates its table and adds the jobs without expecting
        # another process to do the same at that moment.
        with advisory_lock(self.store.engine, START_LOCK_KEY):
            self.scheduler.start(paused=True)
            sync = sync_jobs(self.scheduler, self.settings)
        self.scheduler.resume()
        for job in self.scheduler.get_jobs():
            log.info("job %s: next run %s", job.id, job.next_run_time)
        return sync

    def request_stop(self) -> None:
        self.stopping.set()

    def shutdown(self) -> None:
        """Stop firing jobs; wait for running cycles to finish their current stage."""
        global _daemon
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if _daemon is self:
            _daemon = None

    def serve(self) -> None:
        """Run until SIGTERM or SIGINT, then stop cleanly."""

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("%s received: stopping after the running step", signal.Signals(signum).name)
            self.stopping.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            sync = self.start()
            log.info(
                "scheduler started: %d jobs (added %d, rescheduled %d, kept %d, removed %d)",
                len(self.scheduler.get_jobs()),
                len(sync.added),
                len(sync.rescheduled),
                len(sync.kept),
                len(sync.removed),
            )
            self.stopping.wait()
        finally:
            self.shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("scheduler stopped")


@click.command("schedule")
@click.pass_obj
def command(app: AppContext) -> None:
    """Run each business's cycle at its digest time until SIGTERM or Ctrl-C."""
    if not app.settings.businesses:
        click.echo("note: no businesses configured; only digest retries are scheduled", err=True)
    Daemon(app.settings, app.store()).serve()
