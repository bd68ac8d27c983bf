"""The stage tasks' work: crawl → score → snapshot of one cycle, and its digest at send time.

Each task carries only a cycle id. `run_stage` asks the store whether this delivery runs the
stage (`storage.cycles.begin_stage`): a stage already finished is skipped and its successor
published (a message delivered twice redoes nothing); a stage another live worker holds is
retried after that worker's lease; a stage whose worker was lost is run again. The work itself is
idempotent where it cannot be transactional:

- crawl: mentions are keyed (source, external id) and rewritten only when their content changed;
  the lost attempt's crawl runs still marked running are closed as failed;
- score: only mentions without a current score of the model are scored; a chunk that another
  scorer committed first is retried and then reuses that score (one current score per mention);
- snapshot: taken in the transaction that marks the stage done: exactly once;
- digest: stored before it is sent, sent again with the same Message-ID if the worker died in
  between (at-least-once); a recipient gets no second digest in one cycle.

A worker that takes the next stage's tasks runs it itself when it finishes a stage (crawl →
score → snapshot in one task, and the digest too when its time has come already), recording it
as started in the transaction that finishes the stage before; see `run_started` and `publish_next` for how
a worker killed meanwhile is recovered. A digest not due yet is enqueued by the scheduler at its
time.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reviewwatch.worker import metrics
from reviewwatch.worker.runtime import WorkerRuntime, current
from storage.cycles import (
    FINISHED,
    STAGES,
    StageStart,
    begin_stage,
    cycle_states,
    finish_stage,
    stage_state,
    start_stage_here,
)
from storage.models import Business, CrawlRun, CycleRun, CycleStage, Digest, Source, utcnow

log = logging.getLogger(__name__)
NEXT = {"crawl": "score", "score": "snapshot"}


@dataclass(frozen=True, slots=True)
class Cycle:
    id: int
    business_id: int
    slug: str
    created_at: dt.datetime
    due_at: dt.datetime
    send_digest: bool


def run_stage(task: Any, cycle_id: int, stage: str) -> str:
    rt = current()
    started = time.monotonic()
    with rt.store.transaction() as session:
        # Read first and held (the session keeps rows only while they are referenced), so
        # begin_stage's own read of it is answered from the session.
        run = session.get(CycleRun, cycle_id)
        # A stage the previous one publishes (score, snapshot) has no row on its first delivery.
        start = begin_stage(session, cycle_id, stage, rt.name, rt.lease,
                            row_expected=stage not in NEXT.values())
        cycle = load_cycle(rt, session, run) if run is not None and start.decision == "run" else None
    if start.decision == "unknown":
        metrics.TASKS.labels(stage, "unknown").inc()
        log.warning("cycle %s: not in the store; %s dropped", cycle_id, stage)
        return "unknown cycle"
    if start.decision == "busy":
        metrics.TASKS.labels(stage, "busy").inc()
        wait = _busy_wait(start, rt)
        log.info("cycle %s: %s is running on another worker; retrying in %.0f s", cycle_id, stage, wait)
        raise task.retry(countdown=wait)
    if start.decision == "finished":
        metrics.TASKS.labels(stage, "finished").inc()
        publish_next(rt, cycle_id, stage)
        return "already finished"
    assert start.stage_id is not None and cycle is not None
    detail, chained = run_started(rt, cycle, stage, start, started)
    while chained is not None:  # the next stages this worker took on itself
        stage, start = chained
        more, chained = run_started(rt, cycle, stage, start, time.monotonic())
        detail += f"; {stage}: {more}"
    return detail


def run_started(rt: WorkerRuntime, cycle: Cycle, stage: str, start: StageStart,
                started: float) -> tuple[str, tuple[str, StageStart] | None]:
    """Run a stage this worker has started, record its outcome, and pass the cycle on: the next
    stage is taken on here, in this task (returned to run), when this worker takes that stage's
    tasks and nobody has started it, else published.

    Taking it on here spares a message through the broker and the next task's start (a
    transaction of four statements) per stage. A worker killed while running it is recovered
    as if it had been published: this task's message is acknowledged only when the chain
    returns, so the broker delivers it again; that delivery finds its own stage finished and
    publishes the first unfinished one (`publish_next`), which runs once its lease shows the
    killed worker gone.
    """
    assert start.stage_id is not None
    if start.attempts > 1:
        log.warning("cycle %s (%s): %s delivered again (attempt %d): its worker was lost",
                    cycle.id, cycle.slug, stage, start.attempts)
    rt.running(start.stage_id, stage)
    states = None
    chained = None
    try:
        if stage == "snapshot":  # it records its outcome (and may start the digest) itself
            ok, detail, digest = take_snapshot_then(rt, cycle, start)
            chained = ("digest", digest) if digest is not None else None
        else:
            ok, detail = STAGE_WORK[stage](rt, cycle, start)
    except Exception as exc:  # noqa: BLE001 - recorded on the stage; the chain goes on
        log.exception("cycle %s (%s): %s failed", cycle.id, cycle.slug, stage)
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    finally:
        rt.done(start.stage_id)
    if stage != "snapshot":
        following = NEXT.get(stage)
        with rt.store.transaction() as session:
            states = finish_stage(session, start.stage_id, ok, detail)
            if following is not None and following in rt.queues and following not in states:
                stage_id = start_stage_here(session, cycle.id, following, rt.name)
                if stage_id is not None:
                    chained = (following, StageStart("run", stage_id, 1))
    metrics.TASK_SECONDS.labels(stage).observe(time.monotonic() - started)
    metrics.TASKS.labels(stage, "ok" if ok else "failed").inc()
    (log.info if ok else log.warning)("%s: %s: %s", cycle.slug, stage, detail)
    if chained is None:
        publish_next(rt, cycle.id, stage, states)
    return detail, chained


def _busy_wait(start: StageStart, rt: WorkerRuntime) -> float:
    if start.lease_ends is None:
        return rt.lease.total_seconds()
    return max(1.0, (start.lease_ends - utcnow()).total_seconds() + 1.0)


def publish_next(rt: WorkerRuntime, cycle_id: int, stage: str,
                 states: dict[str, str] | None = None) -> None:
    """Publish the first stage after `stage` that has not finished (a duplicate message is
    harmless); a digest not started yet is left to the scheduler, which enqueues it at its time.
    `states`: the cycle's stage states as `finish_stage` just read them (else they are read).

    The first unfinished one, not merely the next: a worker that ran the following stages itself
    (`run_started`) and died in one of them left it running, with no message for it; this task,
    delivered again, publishes it, and it runs once the dead worker's lease has run out.
    """
    if stage not in NEXT:
        return
    if states is None:
        with rt.store.reading() as session:
            states = cycle_states(session, cycle_id)
    for following in STAGES[STAGES.index(stage) + 1:]:
        state = states.get(following)
        if state in FINISHED:
            continue
        if following == "digest" and state is None:
            return
        rt.publish(following, cycle_id)
        return


def load_cycle(rt: WorkerRuntime, session: Session, run: CycleRun) -> Cycle:
    """The cycle of the row, with its business's slug (kept by the runtime: a business's id
    never changes hands)."""
    slug = rt.slugs.get(run.business_id)
    if slug is None:
        slug = rt.slugs[run.business_id] = session.execute(
            select(Business.slug).where(Business.id == run.business_id)
        ).scalar_one()
    return Cycle(run.id, run.business_id, slug, run.created_at, run.due_at, run.send_digest)


# -- the stages ---------------------------------------------------------------------------
def crawl_stage(rt: WorkerRuntime, cycle: Cycle, start: StageStart) -> tuple[bool, str]:
    from reviewwatch.crawling import source_contexts

    if start.attempts > 1:
        closed = close_abandoned_runs(rt, cycle)
        if closed:
            log.warning("%s: %d crawl runs of the lost attempt closed as failed", cycle.slug, closed)
    contexts = source_contexts(rt.store, rt.settings, business=cycle.slug)
    if not contexts:
        return True, "no active source"
    reports = rt.crawl_engine().crawl(contexts, timeout=rt.settings.schedule.crawl_timeout_s)
    new = sum(r.new for r in reports)
    updated = sum(r.updated for r in reports)
    unchanged = sum(r.unchanged for r in reports)
    metrics.ITEMS.labels("new").inc(new)
    metrics.ITEMS.labels("updated").inc(updated)
    metrics.ITEMS.labels("unchanged").inc(unchanged)
    failed = [r for r in reports if r.status == "failed"]
    detail = (f"{len(reports)} sources, {sum(r.pages for r in reports)} pages: {new} new, "
              f"{updated} updated, {unchanged} unchanged, {len(failed)} failed")
    return not failed, detail


def close_abandoned_runs(rt: WorkerRuntime, cycle: Cycle) -> int:
    """Crawl runs the lost attempt left running: failed, so the digest names the retry."""
    with rt.store.transaction() as session:
        source_ids = select(Source.id).where(Source.business_id == cycle.business_id)
        result = session.execute(
            update(CrawlRun)
            .where(CrawlRun.source_id.in_(source_ids), CrawlRun.status == "running",
                   CrawlRun.started_at >= cycle.created_at)
            .values(status="failed", finished_at=utcnow(),
                    error_summary="the worker running this crawl was lost; crawled again")
        )
        return int(getattr(result, "rowcount", 0) or 0)


def score_stage(rt: WorkerRuntime, cycle: Cycle, start: StageStart) -> tuple[bool, str]:
    """Scored with the other score tasks this process holds (`scoring.py`), model loaded once."""
    from reviewwatch.alerts.deliver import check_after_crawl
    from reviewwatch.followup.stage import open_followups

    scored = rt.scorer().score(cycle.slug)
    metrics.SCORES.inc(scored)
    # idempotent: a redelivered task opens nothing twice
    open_followups(rt.store, cycle.slug, business_id=cycle.business_id)
    found = check_after_crawl(  # scored: now countable
        rt.store, rt.settings, cycle.slug, business_id=cycle.business_id).summary()
    return True, f"{scored} scored" + (f"; {found}" if found else "")


def take_snapshot_then(rt: WorkerRuntime, cycle: Cycle, start: StageStart
                       ) -> tuple[bool, str, StageStart | None]:
    """The snapshot stage: the snapshot and the stage's outcome in one transaction (one snapshot
    per cycle), and the digest started in it when it is due already (a cycle that ran late, a
    burst of them) and this worker takes digest tasks: the digest's start, to run it at once,
    instead of waiting for the scheduler's next tick to find it ready and publish it. A digest
    not yet due is left to the scheduler, at its time."""
    from reviewwatch.digest.gapinfo import take_snapshot

    assert start.stage_id is not None
    try:
        with rt.store.transaction() as session:
            row = session.scalars(
                select(CycleStage).where(CycleStage.id == start.stage_id).with_for_update()
            ).one()
            if row.state in FINISHED:
                return row.ok is not False, row.detail or "already taken", None
            snapshot_id = take_snapshot(session, rt.settings, cycle.slug)
            detail = f"snapshot {snapshot_id}"
            states = finish_stage(session, start.stage_id, True, detail)
            digest = None
            if "digest" in rt.queues and "digest" not in states and utcnow() >= cycle.due_at:
                stage_id = start_stage_here(session, cycle.id, "digest", rt.name)
                digest = StageStart("run", stage_id, 1) if stage_id is not None else None
            return True, detail, digest
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        with rt.store.transaction() as session:
            finish_stage(session, start.stage_id, False, detail)
        raise


def digest_stage(rt: WorkerRuntime, cycle: Cycle, start: StageStart) -> tuple[bool, str]:
    from reviewwatch.digest.deliver import send_digests

    if not cycle.send_digest:
        business = rt.settings.business(cycle.slug)
        return True, f"weekly digest: not today (sent on {business.digest.weekday})"
    short = name_shortfall(rt, cycle)
    if start.attempts > 1:
        released = release_lost_leases(rt, cycle)
        if released:
            log.warning("%s: %d digests the lost worker had claimed are sent now", cycle.slug, released)
    run = send_digests(rt.store, rt.settings, cycle.slug, created_since=cycle.created_at,
                       business_id=cycle.business_id)
    detail = (f"{run.count('sent')} sent, {run.count('pending')} pending, "
              f"{run.count('waiting')} waiting" + (f"; {short}" if short else ""))
    return run.count("pending") == 0, detail


def release_lost_leases(rt: WorkerRuntime, cycle: Cycle) -> int:
    """Digests of this cycle that the lost worker had claimed for sending (a lease, no failure
    recorded): due now, so this delivery sends them (same Message-ID) instead of the retry job
    after the lease. Only called once the stage's own lease showed that worker gone."""
    now = utcnow()
    with rt.store.transaction() as session:
        result = session.execute(
            update(Digest)
            .where(Digest.business_id == cycle.business_id, Digest.status == "pending",
                   Digest.created_at >= cycle.created_at, Digest.last_error.is_(None),
                   Digest.next_attempt_at > now)
            .values(next_attempt_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def name_shortfall(rt: WorkerRuntime, cycle: Cycle) -> str:
    """Sources not crawled when the digest is due get a failed crawl run the digest shows."""
    with rt.store.reading() as session:
        crawl = stage_state(session, cycle.id, "crawl")
    if crawl in FINISHED:
        return ""
    reason = (f"not crawled before the digest was due "
              f"({'its crawl was still running' if crawl == 'running' else 'its crawl was still queued'})")
    now = utcnow()
    with rt.store.transaction() as session:
        sources = session.scalars(
            select(Source).where(Source.business_id == cycle.business_id, Source.active.is_(True))
        ).all()
        named = 0
        for source in sources:
            finished = session.scalar(
                select(CrawlRun.id).where(
                    CrawlRun.source_id == source.id, CrawlRun.started_at >= cycle.created_at,
                    CrawlRun.status != "running",
                ).limit(1)
            )
            if finished is None:
                session.add(CrawlRun(source_id=source.id, started_at=now, finished_at=now,
                                     status="failed", error_summary=reason,
                                     details={"reason": "late", "cycle": cycle.id}))
                named += 1
    return f"{named} sources {reason}" if named else ""


# The snapshot stage is `take_snapshot_then`: it records its own outcome (see `run_started`).
STAGE_WORK: dict[str, Callable[[WorkerRuntime, Cycle, StageStart], tuple[bool, str]]] = {
    "crawl": crawl_stage,
    "score": score_stage,
    "digest": digest_stage,
}


def retry_pending_digests() -> str:
    from reviewwatch.digest.deliver import retry_due
    from reviewwatch.alerts.deliver import retry_due_alerts

    rt = current()
    outcomes = retry_due(rt.store, rt.settings)
    alerts = retry_due_alerts(rt.store, rt.settings)
    return (f"{sum(o.status == 'sent' for o in outcomes)} of {len(outcomes)} pending digests sent, "
            f"{sum(o.status == 'sent' for o in alerts)} of {len(alerts)} pending alerts")
