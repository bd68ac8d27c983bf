"""Which label counts for a mention: an analyst's correction, else the reviewer's rating, else the model.

A rated mention's label comes from its rating (normalised to 0..1) through the rule in the
one-row table `label_rules` (migration 0008): the views compute it in SQL, the gap and the
digest here, from the same row, so every figure counts the same label. `reviewwatch.sync`
writes the row from the `gap.rating_labels` settings. A mention counts once it has a current
score or an analyst's label (its topics and language arrive with the score).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.memo import forget, per_transaction

from storage.models import SENTIMENT_LABELS, LabelRule, utcnow

RULE_ID = 1
# Where a counted label came from; `topic` is an opinion's own polarity (per-topic figures).
LABEL_SOURCES = ("correction", "rating", "model", "topic")


@dataclass(frozen=True, slots=True)
class RatingRule:
    """Ratings on the normalised 0..1 scale: below `negative_below` negative, above
    `positive_above` positive, between them (bounds included) neutral.

    The defaults make 1, 1.5 and 2 of 5 stars negative, 2.5 to 3.5 neutral, 4 to 5 positive;
    on a 1..10 scale 1-4 negative, 5-6 neutral, 7-10 positive.
    """

    ratings_decide: bool = True
    negative_below: float = 0.375
    positive_above: float = 0.625

    def __post_init__(self) -> None:
        if not 0.0 <= self.negative_below <= self.positive_above <= 1.0:
            raise ValueError(
                f"rating thresholds must satisfy 0 <= negative_below ({self.negative_below}) "
                f"<= positive_above ({self.positive_above}) <= 1"
            )

    def label(self, normalised: float | None) -> str | None:
        """The label the rating alone gives (whether or not ratings decide), None if unrated."""
        if normalised is None:
            return None
        if normalised < self.negative_below:
            return "negative"
        if normalised > self.positive_above:
            return "positive"
        return "neutral"

    def to_dict(self) -> dict[str, float | bool]:
        return {
            "ratings_decide": self.ratings_decide,
            "negative_below": self.negative_below,
            "positive_above": self.positive_above,
        }


DEFAULT_RULE = RatingRule()


def counting_label(
    correction: str | None, rating_normalised: float | None, model_label: str | None,
    rule: RatingRule,
) -> tuple[str | None, str | None]:
    """(label, source) of a mention, or (None, None) while it is neither scored nor corrected.

    The same CASE as `v_mentions.label` and `v_mentions.label_source` (migration 0008).
    """
    if correction in SENTIMENT_LABELS:
        return correction, "correction"
    if model_label not in SENTIMENT_LABELS:
        return None, None
    rated = rule.label(rating_normalised) if rule.ratings_decide else None
    if rated is not None:
        return rated, "rating"
    return model_label, "model"


# A report asks for the rule several times in one transaction (storage/memo.py).
_RULE_KEY = "storage.labels.rule"


def stored_rule(session: Session) -> RatingRule:
    """The rule the store's views apply (the default when the row is missing); read once per
    transaction."""
    kept = per_transaction(session, _RULE_KEY).get("rule")
    if kept is not None:
        return cast(RatingRule, kept)
    row = session.get(LabelRule, RULE_ID)
    if row is None:
        rule = RatingRule(ratings_decide=False)  # as the views: no row, the model decides
    else:
        rule = RatingRule(bool(row.ratings_decide), float(row.negative_below),
                          float(row.positive_above))
    per_transaction(session, _RULE_KEY)["rule"] = rule  # the read above began one if none was
    return rule


def store_rule(session: Session, rule: RatingRule) -> bool:
    """Make the store apply `rule`; True when it changed (triggers then mark the rollup)."""
    forget(session, _RULE_KEY)  # read again below, and after any change
    row = session.scalar(select(LabelRule).where(LabelRule.id == RULE_ID))
    if row is None:
        session.add(LabelRule(id=RULE_ID, ratings_decide=rule.ratings_decide,
                              negative_below=rule.negative_below,
                              positive_above=rule.positive_above, updated_at=utcnow()))
        session.flush()
        return True
    if stored_rule(session) == rule:
        return False
    forget(session, _RULE_KEY)
    row.ratings_decide = rule.ratings_decide
    row.negative_below = rule.negative_below
    row.positive_above = rule.positive_above
    row.updated_at = utcnow()
    session.flush()
    return True
