"""The store's revision: a cheap fingerprint that changes whenever what a report reads changes.

Caches of derived results (the API's gap reports) key on it. Every change a report can see
either adds a row (mentions, revisions, scores, corrections, claims, crawl runs) or, for a
mention marked deleted or edited in place, happens inside a crawl run whose row is added and
then finished; claims are updated with `updated_at`; a follow-up item's every change of state
adds a `followup_changes` row (the response figures); a feedback request is added, then sent
(`sent_at`), and its answer adds a mention. Each part is an index lookup or a small
table's scan, so a request can afford it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import (
    Claim,
    Correction,
    CrawlRun,
    FeedbackInvitation,
    FollowupChange,
    Mention,
    MentionRevision,
    Score,
)


def store_revision(session: Session) -> tuple[Any, ...]:
    """A tuple that differs after any change to mentions, scores, corrections, claims, crawls or
    feedback requests."""
    parts = [
        *(select(func.max(model.id))
          for model in (Mention, MentionRevision, Score, Correction, FollowupChange)),
        select(func.count(CrawlRun.finished_at)),
        select(func.max(CrawlRun.id)),
        select(func.count(Claim.id)),
        select(func.max(Claim.id)),
        select(func.max(Claim.updated_at)),
        # The gap report's asked channel counts the requests delivered (reviewwatch/gap/channels.py).
        select(func.max(FeedbackInvitation.id)),
        select(func.count(FeedbackInvitation.sent_at)),
    ]
    return tuple(session.execute(select(*(part.scalar_subquery() for part in parts))).one())
