"""`reviewwatch status`'s scale-out part: queue backlog, cycles, workers seen, hosts' requests."""

from __future__ import annotations

import datetime as dt

from rich.console import Console
from rich.table import Table

from reviewwatch.config import Settings
from storage.activity import cycle_counts, host_activity, stage_counts, workers_seen
from storage.db import Store
from storage.models import utcnow

WORKERS_SEEN_S = 300
HOSTS_SINCE_S = 3600


def print_scale_status(settings: Settings, store: Store, console: Console) -> None:
    """Printed when a broker is configured or cycles are recorded (nothing otherwise)."""
    now = utcnow()
    day_ago = now - dt.timedelta(days=1)
    with store.session() as session:
        cycles = cycle_counts(session, day_ago, now + dt.timedelta(days=1))
        stages = stage_counts(session, day_ago)
        workers = workers_seen(session, now - dt.timedelta(seconds=WORKERS_SEEN_S))
        hosts = host_activity(session, now - dt.timedelta(seconds=HOSTS_SINCE_S))
    if not settings.workers.broker_url and not cycles:
        return
    if settings.workers.broker_url:
        console.print(_queues(settings))
    if cycles:
        summary = ", ".join(f"{count} {status}" for status, count in sorted(cycles.items()))
        console.print(f"cycles due from 24 h ago to 24 h ahead: {summary}")
        pending = {stage: sum(c for (s, state), c in stages.items() if s == stage and state in
                              ("enqueued", "running")) for stage in ("crawl", "score", "snapshot", "digest")}
        console.print("stages enqueued or running: "
                      + ", ".join(f"{stage} {count}" for stage, count in pending.items()))
    table = Table(title=f"workers seen in the last {WORKERS_SEEN_S // 60} minutes")
    for column in ("worker", "host", "queues", "threads", "last seen", "tasks done"):
        table.add_column(column, justify="right" if column in {"threads", "tasks done"} else "left")
    for worker in workers:
        ago = (now - worker.seen_at).total_seconds()
        table.add_row(worker.name, worker.hostname, worker.queues, str(worker.concurrency),
                      f"{ago:.0f} s ago", str(worker.tasks_done))
    if not workers:
        table.add_row("none", "", "", "", "", "")
    console.print(table)
    if hosts:
        table = Table(title="requests per host in the last hour")
        for column in ("host", "requests", "smallest gap (s)", "mean gap (s)"):
            table.add_column(column, justify="left" if column == "host" else "right")
        for row in hosts:
            table.add_row(row.host, str(row.requests), _seconds(row.min_gap_s), _seconds(row.mean_gap_s))
        console.print(table)


def _queues(settings: Settings) -> str:
    from reviewwatch.worker.broker import queue_depths

    try:
        depths = queue_depths(settings)
    except Exception as exc:  # noqa: BLE001 - the status must still show the rest
        return f"broker: unreachable ({type(exc).__name__}: {str(exc)[:200]})"
    parts = [f"{stage} {'-' if n is None else n}" for stage, n in depths.items()]
    return "queue backlog (messages waiting): " + ", ".join(parts)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"
