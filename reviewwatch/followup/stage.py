"""Opening follow-up items after scoring: the cycle's score stage and the worker's score task.

Run after every scoring (a newly scored negative mention gets its item) and safe to re-run:
`storage.followup.sync_followups` creates each item once and follows corrections.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from storage.db import Store
from storage.followup import SyncCounts, sync_followups
from storage.models import Business

log = logging.getLogger(__name__)


def open_followups(
    store: Store, business_slug: str | None = None, *, business_id: int | None = None
) -> SyncCounts:
    """Items for the business's (or every business's) negative mentions not yet followed.

    `business_id`: the business's id when the caller knows it (a cycle does): its slug is then
    not looked up (`business_slug` only names it in the log).
    """
    with store.transaction() as session:
        if business_id is None and business_slug is not None:
            business_id = session.scalar(select(Business.id).where(Business.slug == business_slug))
            if business_id is None:
                return SyncCounts()
        counts = sync_followups(session, business_id)
    if counts.opened or counts.withdrawn or counts.restored:
        log.info("%s: follow-up: %d opened, %d no longer negative, %d negative again",
                 business_slug or business_id or "all", counts.opened, counts.withdrawn,
                 counts.restored)
    return counts
