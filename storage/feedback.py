"""Answers to feedback requests, stored as private mentions, and customers' opt-outs.

An answer is a mention of the business's `feedback` source (created on first use, never
crawled) with `is_private` set: the owner's to read, left out of the public voice (views, rollup,
gap). Its score is its rating (0..10, or 1..5 for the satisfaction question); the scoring stage
scores its comment like any mention. An invitation is answered once: the `answered_at` update
that claims it is conditional, so two posts at the same moment store one answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.mentions import content_hash
from storage.models import FeedbackInvitation, FeedbackOptOut, Mention, Source
from storage.sources import FEEDBACK

# Question -> (lowest score, highest score).
SCALES = {"recommend": (0, 10), "satisfaction": (1, 5)}


def invitation_by_token(session: Session, token_id: str) -> FeedbackInvitation | None:
    return session.scalar(select(FeedbackInvitation).where(FeedbackInvitation.token_id == token_id))


def normalised(score: int, question: str) -> float:
    low, high = SCALES[question]
    return (score - low) / (high - low)


def record_answer(
    session: Session,
    invitation_id: int,
    *,
    score: int,
    comment: str,
    question: str,
    now: dt.datetime,
) -> Mention | None:
    """Store the answer; None (nothing stored) when the invitation was already answered."""
    inv = FeedbackInvitation
    claimed = cast(CursorResult[Any], session.execute(
        update(inv).where(inv.id == invitation_id, inv.answered_at.is_(None))
        .values(answered_at=now)
    )).rowcount
    if claimed != 1:
        return None
    invitation = session.get_one(inv, invitation_id)
    low, high = SCALES[question]
    mention = Mention(
        business_id=invitation.business_id,
        source_id=feedback_source(session, invitation.business_id).id,
        external_id=f"invitation:{invitation.token_id}",
        rating=float(score),
        # The store's rating scale is 1..scale; a 0..10 score is kept as asked and normalised here.
        rating_scale=float(high),
        rating_normalised=normalised(score, question),
        text=comment,
        language=invitation.language,
        is_private=True,
        published_at=now,
        first_seen_at=now,
        last_seen_at=now,
        content_hash=content_hash(None, comment, float(score), None),
        extra={"invitation_id": invitation.id, "question": question, "scale_low": low,
               "reference": invitation.reference},
    )
    session.add(mention)
    session.flush()
    invitation.mention_id = mention.id
    return mention


def feedback_source(session: Session, business_id: int) -> Source:
    source = session.scalar(
        select(Source).where(Source.business_id == business_id, Source.type == FEEDBACK)
    )
    if source is None:
        # Inactive: nothing crawls it; answers arrive through the feedback page.
        source = Source(business_id=business_id, type=FEEDBACK, target=FEEDBACK, state={},
                        options={}, active=False)
        session.add(source)
        session.flush()
    return source


def record_opt_out(session: Session, business_id: int, email: str, now: dt.datetime) -> None:
    """Idempotent: opting out twice is one opt-out."""
    values = {"business_id": business_id, "email": email.lower(), "created_at": now}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(FeedbackOptOut).values(**values).on_conflict_do_nothing())
