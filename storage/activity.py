"""What the scale-out status shows from the store: cycles by state, workers seen, host activity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import CycleRun, CycleStage, HostActivity, WorkerSeen


@dataclass(frozen=True, slots=True)
class HostRow:
    host: str
    requests: int
    min_gap_s: float | None
    mean_gap_s: float | None


def cycle_counts(session: Session, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """Cycles due in [since, until) by status (planned, running, done, failed, stopped)."""
    rows = session.execute(
        select(CycleRun.status, func.count())
        .where(CycleRun.due_at >= since, CycleRun.due_at < until)
        .group_by(CycleRun.status)
    )
    return {status: count for status, count in rows}


def stage_counts(session: Session, since: dt.datetime) -> dict[tuple[str, str], int]:
    """(stage, state) -> count, for the stages of cycles due since `since`."""
    rows = session.execute(
        select(CycleStage.stage, CycleStage.state, func.count())
        .join(CycleRun, CycleRun.id == CycleStage.cycle_id)
        .where(CycleRun.due_at >= since)
        .group_by(CycleStage.stage, CycleStage.state)
    )
    return {(stage, state): count for stage, state, count in rows}


def workers_seen(session: Session, since: dt.datetime) -> list[WorkerSeen]:
    return list(
        session.scalars(
            select(WorkerSeen).where(WorkerSeen.seen_at >= since).order_by(WorkerSeen.name)
        )
    )


def host_activity(session: Session, since: dt.datetime, limit: int = 25) -> list[HostRow]:
    """Per host since `since` (whole hours): requests, smallest and mean gap between starts."""
    rows = session.execute(
        select(
            HostActivity.host,
            func.sum(HostActivity.requests),
            func.min(HostActivity.min_gap_s),
            func.sum(HostActivity.gap_sum_s),
            func.sum(HostActivity.gaps),
        )
        .where(HostActivity.hour >= since.replace(minute=0, second=0, microsecond=0))
        .group_by(HostActivity.host)
        .order_by(func.sum(HostActivity.requests).desc(), HostActivity.host)
        .limit(limit)
    )
    return [
        HostRow(host, int(requests or 0), min_gap, (gap_sum / gaps) if gaps else None)
        for host, requests, min_gap, gap_sum, gaps in rows
    ]
