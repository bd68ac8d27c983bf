"""The two channels of each claim side by side: what customers say in public, and when asked.

`public`: the claim's own mentions (for a topic claim, the opinions about its topic) and their
share positive, made as the report makes every share (`method.share_correction`). `asked`: the
feedback requests (`reviewwatch ask`) stored in the claim's window: how many were delivered
(sent, or written by a dry run), answered, the response rate; of the scored answers (for a topic
claim, those about its topic, by the same rule as in public; an answer not yet scored counts by
its score alone, under no topic) the share positive, their labels counted (a score through
`gap.rating_labels`) with a Wilson interval, and for answers to the 0-10 question the Net
Promoter Score with its adjusted-Wald interval. Every interval is 95%.

An answer reaches this module only as a label, a topic and a score: its text never leaves the
store through the asked channel.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.config import GapSettings
from reviewwatch.gap import perceived as pc
from reviewwatch.gap.stats import Z95, Estimate, wilson
from storage.labels import stored_rule
from storage.models import FeedbackInvitation, Mention
from storage.sources import FEEDBACK

# Invitation statuses that reached the customer (a dry run's .eml counts: the demo answers them).
DELIVERED = ("sent", "written")
# Rocks (2016), "Interval estimation for the Net Promoter Score", The American Statistician 70(4):
# add 3/4 of a promoter and 3/4 of a detractor (3 answers in all) and take the variance of a
# difference of two multinomial proportions. Best coverage of the methods compared, small n too.
NPS_INTERVAL = "adjusted-wald"
NPS_PSEUDO_EACH, NPS_PSEUDO_TOTAL = 0.75, 3.0
RECOMMEND = "recommend"  # the 0-10 question (storage.feedback.SCALES)

Window = tuple[dt.datetime | None, dt.datetime]


def net_promoter(scores: Sequence[float]) -> Estimate | None:
    """NPS on -100..100 (promoters 9-10, detractors 0-6) with its adjusted-Wald 95% interval.

    The point is the observed NPS; the interval is centred on the adjusted one and widened, if
    need be, to hold the observed point (only with a handful of answers, all alike)."""
    n = len(scores)
    if n == 0:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    value = (promoters - detractors) / n
    size = n + NPS_PSEUDO_TOTAL
    p, d = (promoters + NPS_PSEUDO_EACH) / size, (detractors + NPS_PSEUDO_EACH) / size
    centre = p - d
    half = Z95 * math.sqrt(max(0.0, p + d - centre * centre) / size)
    low, high = max(-1.0, min(value, centre - half)), min(1.0, max(value, centre + half))
    return Estimate(100 * value, 100 * low, 100 * high)


@dataclass(frozen=True, slots=True)
class PublicChannel:
    mentions: int
    share_positive: Estimate | None
    share_method: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"mentions": self.mentions, "share_positive": _est(self.share_positive),
                "share_method": self.share_method}


@dataclass(frozen=True, slots=True)
class AskedChannel:
    asked: int
    answered: int
    response_rate: Estimate | None
    answers_counted: int
    share_positive: Estimate | None
    nps_answers: int
    nps: Estimate | None

    def to_dict(self) -> dict[str, Any]:
        return {"asked": self.asked, "answered": self.answered,
                "response_rate": _est(self.response_rate),
                "answers_counted": self.answers_counted,
                "share_positive": _est(self.share_positive), "share_interval": "wilson",
                "nps_answers": self.nps_answers, "nps": _est(self.nps),
                "nps_interval": NPS_INTERVAL}


@dataclass(frozen=True, slots=True)
class Channels:
    public: PublicChannel
    asked: AskedChannel

    def to_dict(self) -> dict[str, Any]:
        return {"public": self.public.to_dict(), "asked": self.asked.to_dict()}


@dataclass(frozen=True, slots=True)
class Answers:
    """The asked channel of one window: requests delivered, answered, and the answers labelled."""

    asked: int
    answered: int
    observations: list[pc.Observation]  # the answers labelled (by the model or their score)
    recommend_scores: Mapping[int, float]  # answer mention id -> its 0-10 score


class AnswerCache:
    """The answers of each window, loaded once per report (claims share windows)."""

    def __init__(self, session: Session, business_id: int) -> None:
        self._session, self._business_id = session, business_id
        self._windows: dict[Window, Answers] = {}

    def of(self, window: Window) -> Answers:
        if window not in self._windows:
            self._windows[window] = load_answers(self._session, self._business_id, *window)
        return self._windows[window]


def load_answers(
    session: Session, business_id: int, since: dt.datetime | None, until: dt.datetime | None
) -> Answers:
    """The requests stored in [since, until) that reached the customer, and their answers."""
    inv = FeedbackInvitation
    query = (
        select(inv.answered_at, inv.mention_id, Mention.rating, Mention.rating_normalised,
               Mention.extra)
        .outerjoin(Mention, Mention.id == inv.mention_id)
        .where(inv.business_id == business_id, inv.status.in_(DELIVERED))
    )
    if since is not None:
        query = query.where(inv.created_at >= since)
    if until is not None:
        query = query.where(inv.created_at < until)
    rows = session.execute(query).all()
    answered = {r.mention_id: r for r in rows if r.answered_at is not None}
    observations: list[pc.Observation] = []
    if any(m is not None for m in answered):  # most businesses ask nobody: no second read
        # An answer comes after its request: none counted before `since`; any after `until`.
        found, _unscored = pc.load_observations(session, business_id, since, None, private=True)
        observations = [o for o in found if o.mention_id in answered]
        rule = stored_rule(session)
        scored = {o.mention_id for o in observations}
        for mention_id, row in answered.items():
            # The customer's own score labels an answer the model has not read yet (no topics).
            label = rule.label(row.rating_normalised) if rule.ratings_decide else None
            if mention_id is not None and mention_id not in scored and label is not None:
                observations.append(_unread(mention_id, label, row.rating_normalised,
                                            row.answered_at))
    return Answers(
        asked=len(rows),
        answered=sum(1 for r in rows if r.answered_at is not None),
        observations=observations,
        recommend_scores={
            mention_id: float(r.rating) for mention_id, r in answered.items()
            if mention_id is not None and r.rating is not None
            and (r.extra or {}).get("question") == RECOMMEND
        },
    )


def _unread(mention_id: int, label: str, rating: float, at: dt.datetime) -> pc.Observation:
    return pc.Observation(
        mention_id=mention_id, label=label, stars=None, topics=frozenset(),
        source_type=FEEDBACK, language=None, at=at, text="", url=None, rating=rating,
        label_source="rating",
    )


def on_topic(
    observations: Sequence[pc.Observation], weights: Sequence[float], topic: str | None
) -> tuple[list[pc.Observation], list[float]]:
    """The opinions about `topic` (all the observations without one), as `verdict.evaluate`."""
    if not topic:
        return list(observations), list(weights)
    pairs = [(pc.about_topic(o, topic), w)
             for o, w in zip(observations, weights, strict=True) if topic in o.topics]
    return [o for o, _ in pairs], [w for _, w in pairs]


def asked_channel(answers: Answers, topic: str | None) -> AskedChannel:
    """A topic claim counts the answers about its topic (read by the model); any other claim
    every answer, and the NPS of every 0-10 answer, read or not."""
    counted, _ = on_topic(answers.observations, [1.0] * len(answers.observations), topic)
    positive = sum(1 for o in counted if o.label == "positive")
    if topic:
        ids = {o.mention_id for o in counted}
        scores = [s for m, s in answers.recommend_scores.items() if m in ids]
    else:
        scores = list(answers.recommend_scores.values())
    return AskedChannel(
        asked=answers.asked,
        answered=answers.answered,
        response_rate=wilson(answers.answered, answers.asked),
        answers_counted=len(counted),
        share_positive=wilson(positive, len(counted)),
        nps_answers=len(scores),
        nps=net_promoter(scores),
    )


def claim_channels(
    metric: str,
    topic: str | None,
    measured: tuple[int, Estimate | None, str | None],
    observations: Sequence[pc.Observation],
    weights: Sequence[float],
    settings: GapSettings,
    correct: pc.ShareEstimator | None,
    answers: Answers,
) -> Channels:
    """Both channels of a claim. `measured` is its (mentions, perceived, method): a share claim's
    own figure is its public share; `observations` are the claim window's public ones."""
    if metric == "positive_share":
        public = PublicChannel(*measured)
    else:
        mine, my_weights = on_topic(observations, weights, topic)
        seen = pc.aggregate(mine, my_weights, settings, correct)
        public = PublicChannel(seen.mentions, seen.positive_share,
                               seen.share_method if seen.mentions else None)
    return Channels(public, asked_channel(answers, topic))


def _est(value: Estimate | None) -> dict[str, float] | None:
    return None if value is None else value.to_dict()
