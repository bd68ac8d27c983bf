"""What customers say, from the store: one observation per counted mention, and its aggregates.

Counted: the business's mentions that are not its own posts, not deleted and not duplicates, with
a current score or an analyst's label, at their published time, else their first-seen time. The
label that counts is an analyst's correction (per field, the latest correction that sets it
wins), else the reviewer's rating through the store's rule (`gap.rating_labels`, the one the
views apply), else the model's; the model's label and the rating stay on the observation.
Per-topic figures count opinions (`about_topic`): the topic's own polarity when the model gave
one, else the mention's label. Governed by `gap.prior_strength`, `gap.prior_stars`,
`gap.recency_half_life_days` and `gap.rating_labels`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Unpack

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from reviewwatch.config import GapSettings
from reviewwatch.gap import stats
from storage.labels import RatingRule, counting_label, stored_rule
from storage.models import Correction, Mention, Score, ScoreTopic, Source

if TYPE_CHECKING:
    from reviewwatch.gap.quantify import Shares

LABELS = ("negative", "neutral", "positive")
UNKNOWN_LANGUAGE = "und"
TEXT_PREFIX = 2000


@dataclass(frozen=True, slots=True)
class Observation:
    """One counted mention: the label that counts, stars on 1..5 and topics, and their origin.

    `label_source`: correction, rating or model (topic for an opinion about one topic, see
    `about_topic`); `model_label` is the model's reading (None if only an analyst labelled it),
    `rating` the reviewer's rating on the normalised 0..1 scale, `topic_labels` the model's own
    polarity of each topic where it gave one.
    """

    mention_id: int
    label: str
    stars: float | None
    topics: frozenset[str]
    source_type: str
    language: str | None
    at: dt.datetime
    text: str
    url: str | None
    model_label: str | None = None
    rating: float | None = None
    label_source: str = "model"
    topic_labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    # The model's probabilities, for the share correction (shares.py); None without a score.
    p_negative: float | None = None
    p_neutral: float | None = None
    p_positive: float | None = None


def about_topic(observation: Observation, topic: str) -> Observation:
    """The observation as an opinion about `topic`: labelled by the topic's own polarity when the
    model gave one (label_source "topic"), else as the whole mention."""
    own = observation.topic_labels.get(topic)
    if own is None:
        return observation
    return replace(observation, label=own, label_source="topic")


@dataclass(frozen=True, slots=True)
class Perceived:
    """Aggregates of a set of observations."""

    mentions: int
    effective_mentions: float
    positive: int
    neutral: int
    negative: int
    rated_mentions: int
    positive_share: stats.Estimate | None
    negative_share: stats.Estimate | None
    net_sentiment: float | None
    mean_stars: stats.Estimate | None
    # how many counted labels came from each source (correction, rating, model, topic)
    label_sources: Mapping[str, int] = field(default_factory=dict)
    # How the shares were made: "wilson" (the labels counted) or a quantification method that
    # counts labelled mentions by their label and corrects the model on the rest (shares.py).
    neutral_share: stats.Estimate | None = None
    share_method: str = "wilson"
    labelled_mentions: int = 0
    quantified_mentions: int = 0
    share_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mentions": self.mentions,
            "effective_mentions": round(self.effective_mentions, 6),
            "positive": self.positive,
            "neutral": self.neutral,
            "negative": self.negative,
            "rated_mentions": self.rated_mentions,
            "positive_share": _est(self.positive_share),
            "negative_share": _est(self.negative_share),
            "net_sentiment": None if self.net_sentiment is None else round(self.net_sentiment, 6),
            "mean_stars": _est(self.mean_stars),
            "label_sources": dict(sorted(self.label_sources.items())),
            "neutral_share": _est(self.neutral_share),
            "share_method": self.share_method,
            "labelled_mentions": self.labelled_mentions,
            "quantified_mentions": self.quantified_mentions,
            "share_note": self.share_note,
        }


def _est(estimate: stats.Estimate | None) -> dict[str, float] | None:
    return None if estimate is None else estimate.to_dict()


def counted_at() -> Any:
    """When a mention counts: its publication date, else when it was first seen."""
    return func.coalesce(Mention.published_at, Mention.first_seen_at)


def _counted(
    query: Select[Unpack[tuple[Any, ...]]], business_id: int, since: dt.datetime | None, until: dt.datetime | None,
    private: bool = False,
) -> Select[Unpack[tuple[Any, ...]]]:
    query = query.where(
        Mention.business_id == business_id,
        Mention.is_own.is_(False),
        # What customers say when asked is the other channel, not the public voice: `private`
        # loads that channel alone (answers to feedback requests, reviewwatch/gap/channels.py).
        Mention.is_private.is_(private),
        Mention.deleted_at.is_(None),
        Mention.duplicate_of_id.is_(None),
    )
    if since is not None:
        query = query.where(counted_at() >= since)
    if until is not None:
        query = query.where(counted_at() < until)
    return query


def load_observations(
    session: Session,
    business_id: int,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    *,
    private: bool = False,
) -> tuple[list[Observation], int]:
    """The counted observations in [since, until), and how many mentions await a score; with
    `private`, those of the answers to feedback requests instead of the public voice."""
    rule = stored_rule(session)
    current = and_(Score.mention_id == Mention.id, Score.is_current.is_(True))
    rows = session.execute(
        _counted(
            select(
                Mention.id,
                Mention.rating_normalised,
                Mention.language,
                counted_at(),
                # only an excerpt is ever quoted: a bounded prefix keeps memory flat
                func.substr(Mention.text, 1, TEXT_PREFIX),
                Mention.url,
                Source.type,
                Score.id,
                Score.label,
                Score.stars,
                Score.language,
                Score.p_negative,
                Score.p_neutral,
                Score.p_positive,
            )
            .join(Source, Source.id == Mention.source_id)
            .outerjoin(Score, current),
            business_id,
            since,
            until,
            private,
        ).order_by(Mention.id)
    ).all()
    topics = _model_topics(session, business_id, since, until, private)
    corrections = _corrections(session, business_id, since, until, private)
    observations: list[Observation] = []
    unscored = 0
    for row in rows:
        observation = _observation(row, rule, topics, corrections)
        if observation is None:
            unscored += 1
        else:
            observations.append(observation)
    return observations, unscored


def _observation(
    row: Any,
    rule: RatingRule,
    topics: Mapping[int, Mapping[str, str | None]],
    corrections: Mapping[int, tuple[str | None, list[str] | None]],
) -> Observation | None:
    """One row of `load_observations` as an observation; None while it awaits a score."""
    mention_id, normalised, language, at, text, url = row[:6]
    source_type, score_id, model_label, model_stars, detected = row[6:11]
    fixed_label, fixed_topics = corrections.get(mention_id, (None, None))
    label, source = counting_label(fixed_label, normalised, model_label, rule)
    if label is None or source is None:
        return None
    own = topics.get(score_id, {}) if score_id is not None else {}
    # an analyst's topics replace the model's, and carry no polarity of their own
    found = frozenset(fixed_topics) if fixed_topics is not None else frozenset(own)
    return Observation(
        mention_id=mention_id,
        label=label,
        stars=_stars(normalised, model_stars),
        topics=found,
        source_type=source_type,
        language=language or detected,
        at=_utc(at),
        text=text or "",
        url=url,
        model_label=model_label if model_label in LABELS else None,
        rating=normalised,
        label_source=source,
        topic_labels={} if fixed_topics is not None else {
            topic: polarity for topic, polarity in own.items() if polarity in LABELS
        },
        **_probabilities(row[11:14] if model_label in LABELS else (None, None, None)),
    )


def _probabilities(row: Sequence[float | None]) -> dict[str, float | None]:
    """The current score's probabilities as Observation fields (None without a score)."""
    values = [None if p is None else float(p) for p in row]
    if any(v is None for v in values):
        values = [None, None, None]
    return dict(zip(("p_negative", "p_neutral", "p_positive"), values, strict=True))


def _utc(value: dt.datetime | str) -> dt.datetime:
    """The counted timestamp as an aware UTC datetime, whatever the driver hands back."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _stars(rating_normalised: float | None, model_stars: float | None) -> float | None:
    """The reviewer's own rating on 1..5 when given (any scale), else the model's estimate."""
    if rating_normalised is not None:
        return 1.0 + 4.0 * min(1.0, max(0.0, rating_normalised))
    if model_stars is not None:
        return min(5.0, max(1.0, model_stars))
    return None


def _model_topics(
    session: Session, business_id: int, since: dt.datetime | None, until: dt.datetime | None,
    private: bool = False,
) -> dict[int, dict[str, str | None]]:
    """score id -> {topic: its own polarity, or None when the score has none}."""
    query = _counted(
        select(ScoreTopic.score_id, ScoreTopic.topic, ScoreTopic.sentiment)
        .join(Score, Score.id == ScoreTopic.score_id)
        .join(Mention, Mention.id == Score.mention_id)
        .where(Score.is_current.is_(True)),
        business_id,
        since,
        until,
        private,
    )
    topics: dict[int, dict[str, str | None]] = defaultdict(dict)
    for score_id, topic, polarity in session.execute(query):
        topics[score_id][topic] = polarity
    return topics


def _corrections(
    session: Session, business_id: int, since: dt.datetime | None, until: dt.datetime | None,
    private: bool = False,
) -> dict[int, tuple[str | None, list[str] | None]]:
    query = _counted(
        select(Correction.mention_id, Correction.label_after, Correction.topics_after).join(
            Mention, Mention.id == Correction.mention_id
        ),
        business_id,
        since,
        until,
        private,
    ).order_by(Correction.created_at, Correction.id)
    fixed: dict[int, tuple[str | None, list[str] | None]] = {}
    for mention_id, label, topics in session.execute(query):
        old_label, old_topics = fixed.get(mention_id, (None, None))
        fixed[mention_id] = (
            label if label in LABELS else old_label,
            list(topics) if topics is not None else old_topics,
        )
    return fixed


def recency_weights(
    observations: Sequence[Observation], until: dt.datetime, half_life_days: float | None
) -> list[float]:
    """1 each, or halved every `half_life_days` of age before `until` when weighting is on."""
    if not half_life_days:
        return [1.0] * len(observations)
    ages = [max(0.0, (until - o.at).total_seconds() / 86400.0) for o in observations]
    return [0.5 ** (age / half_life_days) for age in ages]


# Corrected shares of a set of observations (shares.shares_of with the report's corrector).
ShareEstimator = Callable[[Sequence[Observation], Sequence[float]], "Shares | None"]


def aggregate(
    observations: Sequence[Observation],
    weights: Sequence[float],
    settings: GapSettings,
    correct: ShareEstimator | None = None,
) -> Perceived:
    counts = dict.fromkeys(LABELS, 0)
    mass = dict.fromkeys(LABELS, 0.0)
    sources: Counter[str] = Counter()
    stars: list[float] = []
    star_weights: list[float] = []
    for observation, weight in zip(observations, weights, strict=True):
        counts[observation.label] += 1
        sources[observation.label_source] += 1
        mass[observation.label] += weight
        if observation.stars is not None:
            stars.append(observation.stars)
            star_weights.append(weight)
    total, size = sum(weights), stats.effective_size(weights)
    mean = None
    if stars:
        mean = stats.smoothed_mean(
            stars, star_weights, prior=settings.prior_stars, strength=settings.prior_strength
        )
    perceived = Perceived(
        mentions=len(observations),
        effective_mentions=size,
        positive=counts["positive"],
        neutral=counts["neutral"],
        negative=counts["negative"],
        rated_mentions=len(stars),
        positive_share=stats.wilson(mass["positive"] / total * size, size) if total else None,
        negative_share=stats.wilson(mass["negative"] / total * size, size) if total else None,
        net_sentiment=stats.net_sentiment(mass["positive"], mass["negative"]),
        mean_stars=mean,
        label_sources=dict(sources),
        neutral_share=stats.wilson(mass["neutral"] / total * size, size) if total else None,
    )
    return perceived if correct is None else _corrected(perceived, correct(observations, weights))


def _corrected(perceived: Perceived, shares: Shares | None) -> Perceived:
    """The figures with the corrected shares in place of the counted labels' Wilson intervals."""
    if shares is None:
        return perceived
    return replace(
        perceived,
        positive_share=shares.positive,
        negative_share=shares.negative,
        neutral_share=shares.neutral,
        net_sentiment=stats.net_sentiment(shares.positive.value, shares.negative.value),
        share_method=shares.method,
        labelled_mentions=shares.labelled,
        quantified_mentions=shares.quantified,
        share_note=shares.note,
    )


def week_key(at: dt.datetime) -> str:
    year, week, _ = at.astimezone(dt.UTC).isocalendar()
    return f"{year}-W{week:02d}"


def month_key(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m")


# A mention in a topic's group counts as its opinion about that topic (see `about_topic`).
GROUPINGS: dict[str, Callable[[Observation], Iterable[str]]] = {
    "topic": lambda o: sorted(o.topics),
    "source": lambda o: [o.source_type],
    "language": lambda o: [o.language or UNKNOWN_LANGUAGE],
    "week": lambda o: [week_key(o.at)],
    "month": lambda o: [month_key(o.at)],
}


def group(
    observations: Sequence[Observation],
    weights: Sequence[float],
    keys: Callable[[Observation], Iterable[str]],
    *,
    per_topic: bool = False,
) -> dict[str, tuple[list[Observation], list[float]]]:
    """Observations (and their weights) per key, keys in sorted order; one may fall in several.

    `per_topic` (keys are topics): each member is its opinion about the group's topic.
    """
    groups: dict[str, tuple[list[Observation], list[float]]] = {}
    for observation, weight in zip(observations, weights, strict=True):
        for key in keys(observation):
            members, member_weights = groups.setdefault(key, ([], []))
            members.append(about_topic(observation, key) if per_topic else observation)
            member_weights.append(weight)
    return dict(sorted(groups.items()))
