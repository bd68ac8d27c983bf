"""Which mentions go into a recipient's next digest: the negative ones not yet in a digest of theirs.

Negative (settings `businesses[].digest`): the current score says negative with
p_negative >= `negative_threshold`, or the customer's rating is at or below `max_stars` on a
1-5 scale. An analyst's correction replaces the model's label (the latest correction wins);
the customer's own rating still counts. The business's own posts, deleted mentions and
cross-posted duplicates (the original is reported) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Unpack

from sqlalchemy import Row, Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from reviewwatch.config import DigestConfig
from storage.models import Correction, DigestItem, Mention, Score, ScoreTopic, Source

# Guards against floating-point noise when comparing a normalised rating with max_stars.
_EPSILON = 1e-9
NO_TOPIC = "other"


@dataclass(frozen=True, slots=True)
class Selected:
    """A mention chosen for a digest, with what made it negative and its main topic."""

    mention: Mention
    source_type: str
    label: str | None
    p_negative: float | None
    topic: str
    reason: str  # "model", "analyst" or "rating"; "" for a delivered one no longer negative


def max_rating_normalised(config: DigestConfig) -> float:
    """`max_stars` on the 1-5 scale mapped to the stored 0..1 scale."""
    return (config.max_stars - 1.0) / 4.0 + _EPSILON


def select_negative(
    session: Session, business_id: int, recipient: str, config: DigestConfig
) -> list[Selected]:
    """The negative mentions of a business that no digest to `recipient` holds yet, oldest first."""
    rows = session.execute(_candidates(business_id, recipient, config)).all()
    return _annotate(session, rows, config, require_negative=True)


def describe_mentions(
    session: Session, mention_ids: Sequence[int], config: DigestConfig
) -> list[Selected]:
    """The mentions of an existing digest, annotated as for selection (reason "" if no longer negative)."""
    rows: list[Row[Any]] = []
    for chunk in _chunks(list(mention_ids), 500):
        rows.extend(session.execute(_annotated_query().where(Mention.id.in_(chunk))).all())
    return _annotate(session, rows, config, require_negative=False)


def _annotate(
    session: Session, rows: Sequence[Row[Any]], config: DigestConfig, *, require_negative: bool
) -> list[Selected]:
    corrections = latest_corrections(session, [row.Mention.id for row in rows])
    topics = _topics(session, [row.score_id for row in rows if row.score_id is not None])
    chosen: list[Selected] = []
    for row in rows:
        correction = corrections.get(row.Mention.id)
        reason = negative_reason(row.Mention, row.label, row.p_negative, correction, config)
        if reason is None and require_negative:
            continue
        topic_list = topics.get(row.score_id, []) if row.score_id is not None else []
        if correction is not None and correction.topics_after is not None:
            topic_list = list(correction.topics_after)
        label = correction.label_after if correction is not None and _relabels(correction) else row.label
        chosen.append(
            Selected(
                mention=row.Mention,
                source_type=row.source_type,
                label=label,
                p_negative=row.p_negative,
                topic=topic_list[0] if topic_list else NO_TOPIC,
                reason=reason or "",
            )
        )
    chosen.sort(key=lambda s: (s.mention.published_at or s.mention.first_seen_at, s.mention.id))
    return chosen


def negative_reason(
    mention: Mention,
    label: str | None,
    p_negative: float | None,
    correction: Correction | None,
    config: DigestConfig,
) -> str | None:
    """Why the mention counts as negative ("analyst", "model", "rating"), or None if it does not."""
    if _relabels(correction):
        assert correction is not None
        if correction.label_after == "negative":
            return "analyst"
    elif label == "negative" and p_negative is not None and p_negative >= config.negative_threshold:
        return "model"
    rating = mention.rating_normalised
    if rating is not None and rating <= max_rating_normalised(config):
        return "rating"
    return None


def latest_corrections(session: Session, mention_ids: Iterable[int]) -> dict[int, Correction]:
    """The most recent correction of each mention (by time, then id)."""
    ids = list(mention_ids)
    latest: dict[int, Correction] = {}
    for chunk in _chunks(ids, 500):
        query = (
            select(Correction)
            .where(Correction.mention_id.in_(chunk))
            .order_by(Correction.created_at, Correction.id)
        )
        for correction in session.scalars(query):
            latest[correction.mention_id] = correction
    return latest


def _relabels(correction: Correction | None) -> bool:
    return correction is not None and correction.label_after is not None


def _annotated_query() -> Select[Unpack[tuple[Any, ...]]]:
    """Mentions with their source type and current score (if any)."""
    return (
        select(
            Mention,
            Source.type.label("source_type"),
            Score.id.label("score_id"),
            Score.label.label("label"),
            Score.p_negative.label("p_negative"),
        )
        .join(Source, Source.id == Mention.source_id)
        .outerjoin(Score, and_(Score.mention_id == Mention.id, Score.is_current.is_(True)))
    )


def _candidates(business_id: int, recipient: str, config: DigestConfig) -> Select[Unpack[tuple[Any, ...]]]:
    """A superset of the negative mentions, filtered in SQL; the exact rule is applied in Python."""
    delivered = exists().where(
        DigestItem.mention_id == Mention.id, DigestItem.recipient == recipient
    )
    corrected_negative = exists().where(
        Correction.mention_id == Mention.id, Correction.label_after == "negative"
    )
    model_negative = and_(Score.label == "negative", Score.p_negative >= config.negative_threshold)
    low_rating = Mention.rating_normalised <= max_rating_normalised(config)
    return _annotated_query().where(
        Mention.business_id == business_id,
        Mention.is_own.is_(False),
        Mention.deleted_at.is_(None),
        Mention.duplicate_of_id.is_(None),
        ~delivered,
        or_(model_negative, low_rating, corrected_negative),
    )


def _topics(session: Session, score_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each score's topics, most probable first."""
    found: dict[int, list[tuple[float, str]]] = {}
    for chunk in _chunks(list(score_ids), 500):
        query = select(ScoreTopic).where(ScoreTopic.score_id.in_(chunk))
        for row in session.scalars(query):
            found.setdefault(row.score_id, []).append((row.probability, row.topic))
    return {
        sid: [t for _p, t in sorted(pairs, key=lambda p: (-p[0], p[1]))]
        for sid, pairs in found.items()
    }


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
