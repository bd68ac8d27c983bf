"""The asked channel of a business: what customers say when asked, beside what they say in public.

For the requests stored in a period: how many were delivered (sent, or written by a dry run),
how many answered, the response rate, the share of positive answers (by the store's rating rule,
`gap.rating_labels`) and, for answers to the 0-10 question, the Net Promoter Score. Every interval
is 95%: Wilson for shares; for NPS the adjusted Wald (`reviewwatch.gap.channels.net_promoter`).
The gap report shows the same channel beside each claim (`reviewwatch.gap.channels`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.gap.channels import DELIVERED, net_promoter
from reviewwatch.gap.stats import Estimate, wilson
from storage.labels import stored_rule
from storage.models import FeedbackInvitation, Mention



@dataclass(frozen=True, slots=True)
class AskedChannel:
    asked: int
    answered: int
    response_rate: Estimate | None
    share_positive: Estimate | None
    nps_answers: int
    nps: Estimate | None

    def to_dict(self) -> dict[str, Any]:
        def est(value: Estimate | None) -> dict[str, float] | None:
            return value.to_dict() if value else None

        return {"asked": self.asked, "answered": self.answered,
                "response_rate": est(self.response_rate),
                "share_positive": est(self.share_positive),
                "nps_answers": self.nps_answers, "nps": est(self.nps)}


def asked_channel(
    session: Session, business_id: int, since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> AskedChannel:
    inv = FeedbackInvitation
    query = (
        select(inv.answered_at, Mention.rating, Mention.rating_normalised, Mention.extra)
        .outerjoin(Mention, Mention.id == inv.mention_id)
        .where(inv.business_id == business_id, inv.status.in_(DELIVERED))
    )
    if since is not None:
        query = query.where(inv.created_at >= since)
    if until is not None:
        query = query.where(inv.created_at < until)
    rows = session.execute(query).all()
    answers = [r for r in rows if r.answered_at is not None and r.rating is not None]
    rule = stored_rule(session)
    positive = sum(1 for r in answers if rule.label(r.rating_normalised) == "positive")
    zero_to_ten = [r.rating for r in answers if (r.extra or {}).get("question") == "recommend"]
    return AskedChannel(
        asked=len(rows),
        answered=len(answers),
        response_rate=wilson(len(answers), len(rows)),
        share_positive=wilson(positive, len(answers)),
        nps_answers=len(zero_to_ten),
        nps=net_promoter(zero_to_ten),
    )
