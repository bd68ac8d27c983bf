"""Prometheus metrics of a worker process, served on `workers.metrics_port` (`/metrics`).

Queue lengths, task durations and outcomes, items stored, requests per host and the gaps
observed between them, scores (a rate of `reviewwatch_scores_total` is scores per second).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

TASK_SECONDS = Histogram(
    "reviewwatch_task_seconds",
    "Wall time of a stage task",
    ["stage"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600),
)
TASKS = Counter(
    "reviewwatch_tasks_total",
    "Stage tasks by outcome (ok, failed, finished: already done, busy: another worker has it)",
    ["stage", "outcome"],
)
ITEMS = Counter("reviewwatch_items_stored_total", "Mentions written by crawls", ["kind"])
HOST_REQUESTS = Counter("reviewwatch_host_requests_total", "Requests started per host", ["host"])
HOST_MIN_GAP = Gauge(
    "reviewwatch_host_min_gap_seconds",
    "Smallest gap observed between two request starts to the host in the last report interval",
    ["host"],
)
SCORES = Counter("reviewwatch_scores_total", "Mentions scored (new scores stored)")
QUEUE_MESSAGES = Gauge("reviewwatch_queue_messages", "Messages waiting in a stage's queue", ["queue"])
STAGES_RUNNING = Gauge("reviewwatch_stages_running", "Stage tasks running in this process")


def serve(port: int, host: str) -> None:
    """Start the metrics endpoint (a daemon thread); port 0: none."""
    if port:
        start_http_server(port, addr=host)
