"""The Celery application: one durable queue per stage, late acknowledgement, one task in hand.

A task is acknowledged after it returns (`acks_late`), never on receipt: a worker killed with
SIGKILL mid-crawl or mid-scoring leaves its message unacknowledged, and the broker hands it to
another worker (or to the same one, restarted). Each worker thread holds one message at a time
(`worker_prefetch_multiplier = 1`). Publishing waits for the broker's confirmation, and queues
and messages are durable: a task enqueued survives a broker restart. Results are not kept (the
store holds every outcome).
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from kombu import Exchange, Queue

from reviewwatch.config import Settings

STAGE_QUEUES = ("crawl", "score", "snapshot", "digest")
TASK_PREFIX = "reviewwatch."

app = Celery("reviewwatch", set_as_current=False)


def queue_name(settings: Settings, stage: str) -> str:
    return f"{settings.workers.queue_prefix}.{stage}"


def configure(settings: Settings) -> Celery:
    """Point the application at the configured broker (a ConfigError without one)."""
    from reviewwatch.errors import ConfigError

    if not settings.workers.broker_url:
        raise ConfigError("no broker configured: set workers.broker_url (or REVIEWWATCH_WORKERS__BROKER_URL)")
    app.conf.update(
        broker_url=settings.workers.broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"confirm_publish": True},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        # A worker that loses the broker stops its long tasks: their messages go to another
        # worker, which must not find the first one still crawling.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_ignore_result=True,
        result_backend=None,
        task_serializer="json",
        accept_content=["json"],
        # Each queue bound to its own direct exchange under its own name: a message reaches one
        # queue (Celery's default binds every queue to one exchange and key).
        task_queues=[_queue(queue_name(settings, stage)) for stage in STAGE_QUEUES],
        task_routes={
            **{f"{TASK_PREFIX}{stage}": {"queue": queue_name(settings, stage)} for stage in STAGE_QUEUES},
            f"{TASK_PREFIX}retry_digests": {"queue": queue_name(settings, "digest")},
        },
        task_default_queue=queue_name(settings, "crawl"),
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
        worker_enable_remote_control=True,
        broker_heartbeat=30,
    )
    return app


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(name, type="direct", durable=True), routing_key=name, durable=True)


def publisher(settings: Settings) -> Any:
    """`publish(stage, cycle_id)`: send a stage's task; raises when the broker did not confirm."""
    configure(settings)

    def publish(stage: str, cycle_id: int) -> None:
        app.send_task(
            f"{TASK_PREFIX}{stage}",
            args=[cycle_id],
            queue=queue_name(settings, stage),
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 0.5, "interval_step": 1.0},
        )

    return publish


def publish_retry(settings: Settings) -> None:
    """Ask a digest worker to resend the pending digests whose back-off has passed."""
    configure(settings)
    app.send_task(f"{TASK_PREFIX}retry_digests", queue=queue_name(settings, "digest"), retry=True)


class StageTask(Task):  # type: ignore[misc]
    """Late acknowledgement and redelivery on a lost worker, for every stage task."""

    acks_late = True
    reject_on_worker_lost = True
    max_retries = None  # "busy" retries wait for another worker's lease; they are bounded by it


def _run(task: Task, cycle_id: int, stage: str) -> str:
    from reviewwatch.worker.tasks import run_stage

    return run_stage(task, cycle_id, stage)


@app.task(name=f"{TASK_PREFIX}crawl", base=StageTask, bind=True)
def crawl(self: Task, cycle_id: int) -> str:
    return _run(self, cycle_id, "crawl")


@app.task(name=f"{TASK_PREFIX}score", base=StageTask, bind=True)
def score(self: Task, cycle_id: int) -> str:
    return _run(self, cycle_id, "score")


@app.task(name=f"{TASK_PREFIX}snapshot", base=StageTask, bind=True)
def snapshot(self: Task, cycle_id: int) -> str:
    return _run(self, cycle_id, "snapshot")


@app.task(name=f"{TASK_PREFIX}digest", base=StageTask, bind=True)
def digest(self: Task, cycle_id: int) -> str:
    return _run(self, cycle_id, "digest")


@app.task(name=f"{TASK_PREFIX}retry_digests", base=StageTask, bind=True)
def retry_digests(self: Task) -> str:
    from reviewwatch.worker.tasks import retry_pending_digests

    return retry_pending_digests()
