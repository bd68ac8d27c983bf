"""What the broker holds: messages waiting in each stage's queue (a passive declare per queue)."""

from __future__ import annotations

import logging

from reviewwatch.config import Settings

log = logging.getLogger(__name__)
STAGE_QUEUES = ("crawl", "score", "snapshot", "digest")


def queue_depths(settings: Settings, timeout_s: float = 5.0) -> dict[str, int | None]:
    """Messages ready in each stage queue; None for a queue that does not exist (yet).

    Raises OSError (or kombu's errors) when the broker cannot be reached.
    """
    from kombu import Connection

    url = settings.workers.broker_url
    if not url:
        return {}
    depths: dict[str, int | None] = {}
    with Connection(url, connect_timeout=timeout_s) as connection:
        connection.ensure_connection(max_retries=1)
        for stage in STAGE_QUEUES:
            name = f"{settings.workers.queue_prefix}.{stage}"
            channel = connection.channel()
            try:
                declared = channel.queue_declare(queue=name, passive=True)
                depths[stage] = int(declared.message_count)
            except Exception as exc:  # noqa: BLE001 - a missing queue closes the channel
                log.debug("queue %s: %s", name, exc)
                depths[stage] = None
            finally:
                try:
                    channel.close()
                except Exception:  # noqa: BLE001 - already closed by the broker
                    pass
    return depths
