"""Analysts' corrections of a mention's sentiment or topics: stored with who, when, before, after.

The latest correction that sets a label (or topics) wins over every model and over the rating,
through the views `v_mentions` and `v_mention_topics`; `corrected_examples` hands them to retraining.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import InputError
from storage.models import SENTIMENT_LABELS, Correction, Mention
from storage.queries import V_MENTIONS, topics_of

MAX_TOPICS = 20
NOTE_MAX_CHARS = 2000


class MentionNotFound(InputError):
    """No live mention has this id."""


def effective_state(session: Session, mention_id: int) -> tuple[str | None, list[str]]:
    """The mention's label (the one that counts) and topics as analysts see them."""
    v = V_MENTIONS.c
    row = session.execute(select(v.label).where(v.mention_id == mention_id)).first()
    if row is None:
        raise MentionNotFound(f"no mention with id {mention_id}")
    return row[0], topics_of(session, [mention_id]).get(mention_id, [])


def _clean_topics(topics: Sequence[str], known_topics: Sequence[str] | None) -> list[str]:
    cleaned = sorted({t.strip() for t in topics if t.strip()})
    if len(cleaned) > MAX_TOPICS:
        raise InputError(f"at most {MAX_TOPICS} topics per mention")
    if known_topics is not None:
        unknown = [t for t in cleaned if t not in known_topics]
        if unknown:
            raise InputError(
                f"unknown topic(s) {', '.join(map(repr, unknown))} "
                f"(known: {', '.join(sorted(known_topics))})"
            )
    return cleaned


def correct_mention(
    session: Session,
    mention_id: int,
    *,
    analyst: str,
    label: str | None = None,
    topics: Sequence[str] | None = None,
    note: str | None = None,
    known_topics: Sequence[str] | None = None,
) -> Correction:
    """Record an analyst's correction; `None` leaves the label (or the topics) as they are."""
    if label is None and topics is None:
        raise InputError("a correction needs a label or topics")
    if label is not None and label not in SENTIMENT_LABELS:
        raise InputError(f"unknown label {label!r} (known: {', '.join(SENTIMENT_LABELS)})")
    if note is not None and len(note) > NOTE_MAX_CHARS:
        raise InputError(f"note longer than {NOTE_MAX_CHARS} characters")
    after_topics = None if topics is None else _clean_topics(topics, known_topics)
    label_before, topics_before = effective_state(session, mention_id)
    correction = Correction(
        mention_id=mention_id,
        analyst=analyst[:200],
        label_before=label_before,
        label_after=label,
        topics_before=topics_before,
        topics_after=after_topics,
        note=note,
    )
    session.add(correction)
    session.flush()
    return correction


def corrections_of(session: Session, mention_id: int) -> list[dict[str, Any]]:
    """A mention's corrections, oldest first."""
    rows = session.scalars(
        select(Correction)
        .where(Correction.mention_id == mention_id)
        .order_by(Correction.created_at, Correction.id)
    )
    return [
        {
            "id": c.id, "analyst": c.analyst, "created_at": c.created_at,
            "label_before": c.label_before, "label_after": c.label_after,
            "topics_before": c.topics_before, "topics_after": c.topics_after, "note": c.note,
        }
        for c in rows
    ]


def corrected_examples(session: Session) -> list[dict[str, Any]]:
    """Every corrected live mention as a training example.

    {mention_id, text, label, topics, topics_corrected, language}: `label` is the label that
    counts (the analyst's when one was given, else the rating's when rated, else the model's;
    None if unscored); `topics` are the analyst's
    topics when given (`topics_corrected`), else the model's.
    """
    v = V_MENTIONS.c
    corrected_ids = select(Correction.mention_id).distinct().scalar_subquery()
    rows = session.execute(
        select(v.mention_id, v.text, v.label, v.language, v.topics_corrected)
        .where(v.mention_id.in_(corrected_ids))
        .order_by(v.mention_id)
    ).all()
    topics = topics_of(session, [row.mention_id for row in rows])
    return [
        {
            "mention_id": row.mention_id,
            "text": row.text,
            "label": row.label,
            "topics": topics.get(row.mention_id, []),
            "topics_corrected": bool(row.topics_corrected),
            "language": row.language,
        }
        for row in rows
    ]


def mention_exists(session: Session, mention_id: int) -> bool:
    found = session.scalar(
        select(Mention.id).where(Mention.id == mention_id, Mention.deleted_at.is_(None))
    )
    return found is not None
