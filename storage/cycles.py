"""Each business's daily cycle under a unique run key, and its stages as queued work.

A cycle is claimed by inserting its row (business, local date) with ON CONFLICT DO NOTHING: of
several schedulers, exactly one inserts it, and only that one starts the cycle. A stage is
enqueued the same way (one row per cycle and stage), so only one scheduler publishes its task.

A worker starts a stage with `begin_stage`: a stage already finished is not run again (a task
delivered twice continues the chain without redoing the work); a stage another worker is still
running (its heartbeat younger than the lease) is left to it; a stage whose worker stopped
beating (killed mid-task, its task redelivered by the broker) is taken over and counted as a
second attempt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from storage.models import CycleRun, CycleStage, utcnow
from storage.upsert import insert_ignore_many

STAGES = ("crawl", "score", "snapshot", "digest")
FINISHED = ("done", "failed")
StartDecision = Literal["run", "finished", "busy", "unknown"]


@dataclass(frozen=True, slots=True)
class StageStart:
    decision: StartDecision
    stage_id: int | None = None
    attempts: int = 0
    # For "busy": when the other worker's lease runs out (retry after it).
    lease_ends: dt.datetime | None = None


def claim_cycle(
    session: Session,
    *,
    business_id: int,
    cycle_date: dt.date,
    due_at: dt.datetime,
    claimed_by: str,
    crawl_at: dt.datetime | None = None,
    send_digest: bool = True,
    status: str = "planned",
) -> int | None:
    """Claim the run key (business, local date): the cycle's id if this call claimed it, else None."""
    claim = CycleClaim(business_id, cycle_date, due_at, crawl_at, send_digest)
    return claim_cycles(session, [claim], claimed_by, status).get((business_id, cycle_date))


@dataclass(frozen=True, slots=True)
class CycleClaim:
    """One cycle to claim with `claim_cycles` (the arguments of `claim_cycle`)."""

    business_id: int
    cycle_date: dt.date
    due_at: dt.datetime
    crawl_at: dt.datetime | None = None
    send_digest: bool = True


def claim_cycles(
    session: Session, claims: Sequence[CycleClaim], claimed_by: str, status: str = "planned"
) -> dict[tuple[int, dt.date], int]:
    """`claim_cycle` for many cycles in a few statements (a day's first tick claims thousands):
    {(business id, cycle date): cycle id} of the run keys this call claimed; the others were
    claimed already (by another scheduler) and are left alone."""
    now = utcnow()
    rows = [
        {"business_id": c.business_id, "cycle_date": c.cycle_date, "due_at": c.due_at,
         "crawl_at": c.crawl_at, "send_digest": c.send_digest, "status": status,
         "claimed_by": claimed_by[:200], "created_at": now}
        for c in claims
    ]
    inserted = insert_ignore_many(session, CycleRun, rows, ["business_id", "cycle_date"],
                                  returning=["business_id", "cycle_date", "id"])
    return {(business_id, day): cycle_id for business_id, day, cycle_id in inserted}


def claimed_keys(session: Session, cycle_dates: Iterable[dt.date]) -> set[tuple[int, dt.date]]:
    """(business id, cycle date) of the cycles already claimed on these dates."""
    dates = sorted(set(cycle_dates))
    if not dates:
        return set()
    rows = session.execute(
        select(CycleRun.business_id, CycleRun.cycle_date).where(CycleRun.cycle_date.in_(dates))
    )
    return {(business_id, day) for business_id, day in rows}


def finish_cycle(session: Session, cycle_id: int, status: str) -> None:
    session.execute(
        update(CycleRun)
        .where(CycleRun.id == cycle_id)
        .values(status=status, finished_at=utcnow())
    )


def enqueue_stage(session: Session, cycle_id: int, stage: str, now: dt.datetime | None = None) -> bool:
    """Record the stage as enqueued; True if this call did (and so must publish its task)."""
    return bool(enqueue_stages(session, [cycle_id], stage, now))


def enqueue_stages(
    session: Session, cycle_ids: Sequence[int], stage: str, now: dt.datetime | None = None
) -> list[int]:
    """`enqueue_stage` for many cycles in a few statements: the ids of the cycles whose stage this
    call recorded (and so must publish), in the order given."""
    if not cycle_ids:
        return []
    when = now or utcnow()
    rows = [{"cycle_id": cycle_id, "stage": stage, "state": "enqueued", "attempts": 0,
             "enqueued_at": when} for cycle_id in cycle_ids]
    inserted = {cycle_id for (cycle_id,) in insert_ignore_many(
        session, CycleStage, rows, ["cycle_id", "stage"], returning=["cycle_id"])}
    mine = [cycle_id for cycle_id in cycle_ids if cycle_id in inserted]
    if mine and stage == "crawl":
        session.execute(
            update(CycleRun)
            .where(CycleRun.id.in_(mine), CycleRun.status == "planned")
            .values(status="running")
        )
    return mine


def unenqueue_stage(session: Session, cycle_id: int, stage: str) -> None:
    """Undo `enqueue_stage` when its task could not be published (the next tick tries again)."""
    session.execute(
        delete(CycleStage).where(
            CycleStage.cycle_id == cycle_id, CycleStage.stage == stage, CycleStage.state == "enqueued",
            CycleStage.attempts == 0,
        )
    )


def stale_enqueued(
    session: Session, older_than: dt.datetime, limit: int = 1000
) -> list[tuple[int, str]]:
    """Stages enqueued before `older_than` that no worker has started: their message may be lost
    (a scheduler that died between recording and publishing it)."""
    rows = session.execute(
        select(CycleStage.cycle_id, CycleStage.stage)
        .where(CycleStage.state == "enqueued", CycleStage.enqueued_at < older_than)
        .order_by(CycleStage.enqueued_at)
        .limit(limit)
    )
    return [(cycle_id, stage) for cycle_id, stage in rows]


def touch_enqueued(session: Session, cycle_id: int, stage: str, before: dt.datetime) -> bool:
    """Take the republishing of a stale stage (one scheduler of several gets True)."""
    result = cast(CursorResult[Any], session.execute(
        update(CycleStage)
        .where(
            CycleStage.cycle_id == cycle_id,
            CycleStage.stage == stage,
            CycleStage.state == "enqueued",
            CycleStage.enqueued_at < before,
        )
        .values(enqueued_at=utcnow())
    ))
    return result.rowcount == 1


def begin_stage(
    session: Session,
    cycle_id: int,
    stage: str,
    worker: str,
    lease: dt.timedelta,
    now: dt.datetime | None = None,
    *,
    row_expected: bool = True,
) -> StageStart:
    """Decide whether this delivery of a stage's task runs it (see the module's docstring).

    `row_expected=False`: the stage is usually published by the previous one without a row (a
    first delivery then has none), so its row is inserted first (one statement, not a lookup
    that finds nothing and then the insert); the answer is the same either way.
    """
    now = now or utcnow()
    if session.get(CycleRun, cycle_id) is None:
        return StageStart("unknown")
    if not row_expected:
        started = _insert_running(session, cycle_id, stage, worker, now)
        if started is not None:
            return started
    row = _locked_stage(session, cycle_id, stage)
    if row is None:  # published without a row (a stage started by the previous one): add it
        started = _insert_running(session, cycle_id, stage, worker, now)
        if started is not None:
            return started
        # Another delivery inserted it meanwhile (its insert committed first): decide on its row.
        row = _locked_stage(session, cycle_id, stage)
        assert row is not None
    if row.state in FINISHED:
        return StageStart("finished", row.id, row.attempts)
    if row.state == "running" and row.worker != worker and row.heartbeat_at is not None:
        ends = row.heartbeat_at + lease
        if ends > now:
            return StageStart("busy", row.id, row.attempts, ends)
    row.state, row.worker = "running", worker[:200]
    row.attempts += 1
    row.started_at = row.heartbeat_at = now
    session.flush()
    return StageStart("run", row.id, row.attempts)


def _locked_stage(session: Session, cycle_id: int, stage: str) -> CycleStage | None:
    return session.scalars(
        select(CycleStage)
        .where(CycleStage.cycle_id == cycle_id, CycleStage.stage == stage)
        .with_for_update()
    ).one_or_none()


def _insert_running(
    session: Session, cycle_id: int, stage: str, worker: str, now: dt.datetime
) -> StageStart | None:
    """The stage's row inserted as running this delivery's first attempt: "run" if this call
    inserted it; None if the row exists (another delivery's, or the scheduler's), so the caller
    decides on that row. One statement, where inserting it enqueued, reading it back and
    marking it running took three: the unique (cycle, stage) key still lets one delivery only
    insert it, and a concurrent insert waits on it (PostgreSQL) or on the write lock (SQLite)."""
    inserted = insert_ignore_many(
        session, CycleStage,
        [{"cycle_id": cycle_id, "stage": stage, "state": "running", "attempts": 1,
          "worker": worker[:200], "enqueued_at": now, "started_at": now, "heartbeat_at": now}],
        ["cycle_id", "stage"], returning=["id"],
    )
    if not inserted:
        return None
    return StageStart("run", inserted[0][0], 1)


def start_stage_here(
    session: Session, cycle_id: int, stage: str, worker: str, now: dt.datetime | None = None
) -> int | None:
    """Record a stage as started by `worker` (running, first attempt) unless it has a row
    already; the new row's id if this call recorded it, else None.

    For a worker that has just finished the stage before it and runs this one itself instead of
    publishing it (`reviewwatch.worker.tasks`): of that worker, a redelivered message and a
    scheduler, the one whose row is inserted first runs the stage, as with `enqueue_stage`.
    """
    start = _insert_running(session, cycle_id, stage, worker, now or utcnow())
    return start.stage_id if start is not None else None


def heartbeat(session: Session, stage_ids: Sequence[int], worker: str) -> None:
    """Keep this worker's running stages leased."""
    if stage_ids:
        session.execute(
            update(CycleStage)
            .where(CycleStage.id.in_(list(stage_ids)), CycleStage.worker == worker[:200],
                   CycleStage.state == "running")
            .values(heartbeat_at=utcnow())
        )


def finish_stage(session: Session, stage_id: int, ok: bool, detail: str) -> dict[str, str]:
    """Record the stage's outcome; the cycle is done when each of its stages has finished.
    Returns the state of each of the cycle's stages (the next one's, for `publish_next`)."""
    row = session.identity_map.get(identity_key(CycleStage, stage_id))
    state, finished_at = ("done" if ok else "failed"), utcnow()
    if row is not None:  # loaded in this session (the snapshot's): kept in step
        row.state, row.ok, row.detail, row.finished_at = state, ok, detail[:4000], finished_at
        session.flush()
        cycle_id = row.cycle_id
    else:  # one statement, not a SELECT then an UPDATE
        cycle_id = session.execute(
            update(CycleStage)
            .where(CycleStage.id == stage_id)
            .values(state=state, ok=ok, detail=detail[:4000], finished_at=finished_at)
            .returning(CycleStage.cycle_id)
            .execution_options(synchronize_session=False)
        ).scalar_one()
    states = cycle_states(session, cycle_id)
    if len(states) == len(STAGES) and all(value in FINISHED for value in states.values()):
        finish_cycle(session, cycle_id,
                     "done" if all(value == "done" for value in states.values()) else "failed")
    return states


def cycle_states(session: Session, cycle_id: int) -> dict[str, str]:
    """The state of each stage the cycle has a row for."""
    return {
        stage: value
        for stage, value in session.execute(
            select(CycleStage.stage, CycleStage.state).where(CycleStage.cycle_id == cycle_id)
        )
    }


def stage_state(session: Session, cycle_id: int, stage: str) -> str | None:
    return session.scalar(
        select(CycleStage.state).where(CycleStage.cycle_id == cycle_id, CycleStage.stage == stage)
    )
