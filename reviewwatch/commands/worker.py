"""`reviewwatch worker`: take stage tasks (crawl, score, snapshot, digest) from the broker.

Run one per core (or per machine), each with the same configuration, a PostgreSQL
`database_url` and the broker's URL; see docs/operations.md. SIGTERM or Ctrl-C: the worker
finishes the tasks it holds, then exits (a second one: at once, its tasks go to other workers).
"""

from __future__ import annotations

import gc

import click

from reviewwatch.context import AppContext
from reviewwatch.errors import ConfigError

STAGES = ("crawl", "score", "snapshot", "digest")


@click.command("worker")
@click.option("--queues", default=None,
              help="Comma-separated stages to take tasks of (default: workers.queues, all four).")
@click.option("--concurrency", type=click.IntRange(1, 1000), default=None,
              help="Tasks at once, as threads (default: workers.concurrency).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Prometheus /metrics port (default: workers.metrics_port; 0: none).")
@click.option("--name", default=None, help="Worker name (default: host:pid).")
@click.pass_obj
def command(app: AppContext, queues: str | None, concurrency: int | None,
            metrics_port: int | None, name: str | None) -> None:
    """Run stage tasks from the broker until SIGTERM or Ctrl-C."""
    from reviewwatch.worker.app import configure, publisher, queue_name
    from reviewwatch.worker.metrics import serve
    from reviewwatch.worker.runtime import WORKER_GC_THRESHOLDS, WorkerRuntime, set_runtime

    settings = app.settings
    chosen: list[str] = (
        [q.strip() for q in queues.split(",") if q.strip()] if queues else list(settings.workers.queues)
    )
    unknown = [q for q in chosen if q not in STAGES]
    if unknown or not chosen:
        raise ConfigError(f"--queues: unknown stage {', '.join(unknown) or '(none)'} (known: {', '.join(STAGES)})")
    celery = configure(settings)  # a ConfigError without a broker
    threads = concurrency or settings.workers.concurrency
    if settings.resolved_database_url.startswith("sqlite") and threads > 1:
        click.echo("note: SQLite store: workers on several machines need PostgreSQL", err=True)
    runtime = WorkerRuntime(settings, app.store(), queues=chosen, concurrency=threads,
                            publish=publisher(settings), name=name)
    set_runtime(runtime)
    serve(settings.workers.metrics_port if metrics_port is None else metrics_port,
          settings.workers.metrics_host)
    if "score" in chosen:  # the model loaded before the first task, not during it
        runtime.scorer().warm()
    if "crawl" in chosen:
        runtime.crawl_engine()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    runtime.beat_once()
    runtime.start_heartbeat()
    argv = [
        "worker",
        "--pool=threads",
        f"--concurrency={threads}",
        f"--queues={','.join(queue_name(settings, q) for q in chosen)}",
        f"--hostname={runtime.name.replace(':', '-')}@%h",
        f"--loglevel={settings.log_level}",
        "--without-gossip",
        "--without-mingle",
    ]
    try:
        celery.worker_main(argv)
    finally:
        runtime.stop()
        set_runtime(None)
