"""What the scale-out status shows from the store: cycles by state, workers seen, host activity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from collections.abc import Sequence

from typing import cast

from sqlalchemy import Table, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import CycleRun, CycleStage, HostActivity, WorkerSeen


@dataclass(frozen=True, slots=True)
class HostRow:
    host: str
    requests: int
    min_gap_s: float | None
    mean_gap_s: float | None


@dataclass(frozen=True, slots=True)
class HostCounts:
    """One process's requests to a host since its last report, and the gaps it observed."""

    host: str
    requests: int
    gaps: int
    gap_sum_s: float
    min_gap_s: float | None


def add_host_activity(session: Session, hour: dt.datetime, counts: Sequence[HostCounts]) -> None:
    """Add the counts to each host's row of `hour`, in one INSERT … ON CONFLICT DO UPDATE.

    Every worker reports its hosts every few seconds (a hundred hosts and more): a statement per
    host, or an insert-then-update per host, made these reports a fifth of the statements the
    scale bench sent. The rows go in host order, so two workers adding the same hosts at once
    take the row locks in one order (no deadlock); the addition itself is atomic per row.
    """
    if not counts:
        return
    table = cast(Table, HostActivity.__table__)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    rows: dict[str, HostCounts] = {}  # one row per host in one statement (a host cut to 255 characters may repeat)
    for c in counts:
        host = c.host[:255]
        rows[host] = _merged(rows.get(host), HostCounts(host, c.requests, c.gaps, c.gap_sum_s,
                                                        c.min_gap_s))
    statement = insert(table).values([
        {"host": c.host, "hour": hour, "requests": c.requests, "gaps": c.gaps,
         "gap_sum_s": c.gap_sum_s, "min_gap_s": c.min_gap_s}
        for c in sorted(rows.values(), key=lambda c: c.host)
    ])
    old, new = table.c, statement.excluded
    # LEAST ignores NULL on PostgreSQL but SQLite's min() does not: spelled out for both.
    smaller = case(
        (old.min_gap_s.is_(None), new.min_gap_s),
        (new.min_gap_s.is_(None), old.min_gap_s),
        (new.min_gap_s < old.min_gap_s, new.min_gap_s),
        else_=old.min_gap_s,
    )
    session.execute(statement.on_conflict_do_update(
        index_elements=[old.host, old.hour],
        set_={"requests": old.requests + new.requests, "gaps": old.gaps + new.gaps,
              "gap_sum_s": old.gap_sum_s + new.gap_sum_s, "min_gap_s": smaller},
    ))


def _merged(a: HostCounts | None, b: HostCounts) -> HostCounts:
    if a is None:
        return b
    gaps = [g for g in (a.min_gap_s, b.min_gap_s) if g is not None]
    return HostCounts(a.host, a.requests + b.requests, a.gaps + b.gaps, a.gap_sum_s + b.gap_sum_s,
                      min(gaps) if gaps else None)


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
