"""Which mentions go into a recipient's next digest: the negative ones not yet in a digest of theirs.

Negative: the label that counts is negative (`storage.labels`): an analyst's correction (the
latest wins), else the reviewer's rating through the store's rule (`gap.rating_labels`), else the
current score's label with p_negative >= `negative_threshold`; or the customer's rating is at or
below `max_stars` on a 1-5 scale (settings `businesses[].digest`). The business's own posts,
deleted mentions and cross-posted duplicates (the original is reported) are left out.

A mention is listed under each topic it is negative about: the topics whose own polarity (or,
without one, the mention's label) is negative; a score without any topic polarity (older models)
lists it under its most probable topic, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Unpack

from sqlalchemy import Row, Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from reviewwatch.config import DigestConfig
from storage.labels import RatingRule, counting_label, stored_rule
from storage.models import Correction, DigestItem, Mention, Score, ScoreTopic, Source

# Guards against floating-point noise when comparing a normalised rating with max_stars.
_EPSILON = 1e-9
NO_TOPIC = "other"


@dataclass(frozen=True, slots=True)
class Selected:
    """A mention chosen for a digest, with what made it negative and the topics it is listed under."""

    mention: Mention
    source_type: str
    label: str | None  # the label that counts (correction, rating or model)
    p_negative: float | None
    topics: tuple[str, ...]
    reason: str  # "model", "analyst" or "rating"; "" for a delivered one no longer negative

    @property
    def topic(self) -> str:
        """The first topic it is listed under."""
        return self.topics[0]


def max_rating_normalised(config: DigestConfig) -> float:
    """`max_stars` on the 1-5 scale mapped to the stored 0..1 scale."""
    return (config.max_stars - 1.0) / 4.0 + _EPSILON


def select_negative(
    session: Session, business_id: int, recipient: str, config: DigestConfig
) -> list[Selected]:
    """The negative mentions of a business that no digest to `recipient` holds yet, oldest first."""
    rule = stored_rule(session)
    rows = session.execute(_candidates(business_id, recipient, config, rule)).all()
    return _annotate(session, rows, config, rule, require_negative=True)


def describe_mentions(
    session: Session, mention_ids: Sequence[int], config: DigestConfig
) -> list[Selected]:
    """The mentions of an existing digest, annotated as for selection (reason "" if no longer negative)."""
    rows: list[Row[Any]] = []
    for chunk in _chunks(list(mention_ids), 500):
        rows.extend(session.execute(_annotated_query().where(Mention.id.in_(chunk))).all())
    return _annotate(session, rows, config, stored_rule(session), require_negative=False)


def _annotate(
    session: Session,
    rows: Sequence[Row[Any]],
    config: DigestConfig,
    rule: RatingRule,
    *,
    require_negative: bool,
) -> list[Selected]:
    corrections = latest_corrections(session, [row.Mention.id for row in rows])
    topics = _topics(session, [row.score_id for row in rows if row.score_id is not None])
    chosen: list[Selected] = []
    for row in rows:
        correction = corrections.get(row.Mention.id)
        reason = negative_reason(row.Mention, row.label, row.p_negative, correction, config, rule)
        if reason is None and require_negative:
            continue
        ranked = topics.get(row.score_id, []) if row.score_id is not None else []
        if correction is not None and correction.topics_after is not None:
            ranked = [(topic, None) for topic in correction.topics_after]
        fixed = correction.label_after if correction is not None else None
        label, _source = counting_label(fixed, row.Mention.rating_normalised, row.label, rule)
        chosen.append(
            Selected(
                mention=row.Mention,
                source_type=row.source_type,
                label=label,
                p_negative=row.p_negative,
                topics=listed_under(ranked, label),
                reason=reason or "",
            )
        )
    chosen.sort(key=lambda s: (s.mention.published_at or s.mention.first_seen_at, s.mention.id))
    return chosen


def listed_under(ranked: Sequence[tuple[str, str | None]], label: str | None) -> tuple[str, ...]:
    """The topics a mention is listed under: those it is negative about (each topic's own
    polarity, else the mention's label), most probable first; without any polarity stored, its
    most probable topic; "other" when it has no topic or is negative about none of them."""
    if not ranked:
        return (NO_TOPIC,)
    if all(polarity is None for _topic, polarity in ranked):
        return (ranked[0][0],)
    negative = tuple(topic for topic, polarity in ranked if (polarity or label) == "negative")
    return negative or (NO_TOPIC,)


def negative_reason(
    mention: Mention,
    label: str | None,
    p_negative: float | None,
    correction: Correction | None,
    config: DigestConfig,
    rule: RatingRule | None = None,
) -> str | None:
    """Why the mention counts as negative ("analyst", "model", "rating"), or None if it does not.

    `label` is the current score's; `rule` the store's rating rule (None: ratings do not decide).
    """
    rated = None
    if rule is not None and rule.ratings_decide and label is not None:
        rated = rule.label(mention.rating_normalised)  # a scored rated mention: its rating decides
    if _relabels(correction):
        assert correction is not None
        if correction.label_after == "negative":
            return "analyst"
    elif rated is not None:
        if rated == "negative":
            return "rating"
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


def _candidates(
    business_id: int, recipient: str, config: DigestConfig, rule: RatingRule
) -> Select[Unpack[tuple[Any, ...]]]:
    """A superset of the negative mentions, filtered in SQL; the exact rule is applied in Python."""
    delivered = exists().where(
        DigestItem.mention_id == Mention.id, DigestItem.recipient == recipient
    )
    corrected_negative = exists().where(
        Correction.mention_id == Mention.id, Correction.label_after == "negative"
    )
    model_negative = and_(Score.label == "negative", Score.p_negative >= config.negative_threshold)
    low_rating = or_(
        Mention.rating_normalised <= max_rating_normalised(config),
        Mention.rating_normalised < rule.negative_below,
    )
    return _annotated_query().where(
        Mention.business_id == business_id,
        Mention.is_own.is_(False),
        Mention.deleted_at.is_(None),
        Mention.duplicate_of_id.is_(None),
        ~delivered,
        or_(model_negative, low_rating, corrected_negative),
    )


def _topics(session: Session, score_ids: Sequence[int]) -> dict[int, list[tuple[str, str | None]]]:
    """Each score's topics with their own polarity (None if none), most probable first."""
    found: dict[int, list[tuple[float, str, str | None]]] = {}
    for chunk in _chunks(list(score_ids), 500):
        query = select(ScoreTopic).where(ScoreTopic.score_id.in_(chunk))
        for row in session.scalars(query):
            found.setdefault(row.score_id, []).append((row.probability, row.topic, row.sentiment))
    return {
        sid: [(t, polarity) for _p, t, polarity in sorted(rows, key=lambda r: (-r[0], r[1]))]
        for sid, rows in found.items()
    }


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
