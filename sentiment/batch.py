"""Batch scoring of the store: every live mention without a current score from the current model.

A score is current for a mention when it comes from the same model id and version and the same
mention revision. Each chunk's new scores become current in the transaction that retires the
previous ones, so a model change re-scores while the old scores stay current until the new ones
are committed, and an interrupted run resumes with what is still unscored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, select, update

from storage.db import Store
from storage.models import SENTIMENT_LABELS, Business, Mention, Score, ScoreTopic

if TYPE_CHECKING:
    from sentiment.scorer import KindAwareScorer, Scorer
    from sentiment.settings import SentimentSettings

Progress = Callable[[int], None]

# One loaded model per process and configuration: the daemon scores business after business.
_CACHE: dict[str, Scorer] = {}
_CACHE_LOCK = threading.Lock()


@dataclass(slots=True)
class BatchStats:
    total: int = 0  # mentions that lacked a current score
    scored: int = 0  # new scores computed
    reactivated: int = 0  # an earlier score of this model and revision made current again


def mention_text(title: str | None, text: str) -> str:
    """What the model reads: the title, unless the text already holds it, then the text."""
    if title and title.strip() and title.strip() not in text:
        return f"{title.strip()}\n{text}"
    return text


def topic_polarity(topic_sentiment: Mapping[str, str], topic: str) -> str | None:
    """The opinion about `topic` to store: one of the three labels, else none (never a guess)."""
    value = topic_sentiment.get(topic)
    return value if value in SENTIMENT_LABELS else None


# Texts per call of the scorer (and per transaction in the store): enough that its length-sorted
# batches hold texts of like lengths. On the 5 000-text review mix of `bench/throughput.py
# --end-to-end`, padding added 54 % to the real tokens with calls of 256 texts, 7 % with 4 096.
MIN_CHUNK = 4096


def chunk_size(settings: SentimentSettings) -> int:
    return max(MIN_CHUNK, settings.batch_size * 8)


def pending_mention_ids(
    store: Store, model_id: str, model_version: str, business_slug: str | None = None,
    exclude: Sequence[str] = (),
) -> list[int]:
    """Live mentions (of one business, or of all but those `exclude` names) without a current
    score of this model and version."""
    with store.reading() as session:
        current_ok = exists().where(
            and_(
                Score.mention_id == Mention.id,
                Score.is_current.is_(True),
                Score.model_id == model_id,
                Score.model_version == model_version,
                Score.mention_revision == Mention.revision,
            )
        )
        query = select(Mention.id).where(Mention.deleted_at.is_(None), ~current_ok)
        if business_slug is not None:
            query = query.join(Business, Business.id == Mention.business_id).where(
                Business.slug == business_slug
            )
        elif exclude:
            query = query.join(Business, Business.id == Mention.business_id).where(
                Business.slug.not_in(sorted(exclude))
            )
        return list(session.scalars(query.order_by(Mention.id)))


def kind_scorer(scorer: Scorer, business_kind: str) -> KindAwareScorer:
    """The scorer, as one that reads a kind of business's topics (ValueError where it cannot)."""
    from sentiment.scorer import KindAwareScorer

    if not isinstance(scorer, KindAwareScorer):
        raise ValueError(f"this model has no topic heads for kinds of business ({business_kind!r})")
    return scorer


def version_of(scorer: Scorer, business_kind: str | None) -> str:
    """The model version of the scores of a business of this kind (None: the general heads)."""
    if business_kind is None:
        return scorer.model_version
    return kind_scorer(scorer, business_kind).version_for(business_kind)


def score_mentions(
    store: Store,
    scorer: Scorer,
    ids: list[int],
    *,
    chunk: int = 256,
    progress: Progress | None = None,
    business_kind: str | None = None,
) -> BatchStats:
    """Score the mentions `ids` in chunks of `chunk`, one transaction each; `business_kind`: as a
    business of that kind's (its topic heads, sentiment/kinds.py; its own model version)."""
    mid, mver = scorer.model_id, version_of(scorer, business_kind)
    kinds = None if business_kind is None else kind_scorer(scorer, business_kind)
    stats = BatchStats(total=len(ids))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        with store.transaction() as session:
            mentions = list(session.scalars(select(Mention).where(Mention.id.in_(part))))
            earlier = {
                (s.mention_id, s.mention_revision): s
                for s in session.scalars(
                    select(Score).where(
                        Score.mention_id.in_(part),
                        Score.model_id == mid,
                        Score.model_version == mver,
                    )
                )
            }
            to_score = [m for m in mentions if (m.id, m.revision) not in earlier]
            texts = [mention_text(m.title, m.text) for m in to_score]
            if not texts:
                results = []
            elif kinds is None:
                results = scorer.score(texts)
            else:
                results = kinds.score(texts, business_kind=business_kind)
            session.execute(
                update(Score)
                .where(Score.mention_id.in_(part), Score.is_current.is_(True))
                .values(is_current=False)
            )
            session.flush()
            for m in mentions:
                if (m.id, m.revision) in earlier:
                    earlier[(m.id, m.revision)].is_current = True
                    stats.reactivated += 1
            for m, r in zip(to_score, results, strict=True):
                p = r.probabilities
                score = Score(
                    mention_id=m.id,
                    mention_revision=m.revision,
                    model_id=mid,
                    model_version=mver,
                    label=r.sentiment,
                    p_negative=p["negative"],
                    p_neutral=p["neutral"],
                    p_positive=p["positive"],
                    stars=r.stars,
                    language=r.language,
                    topic_scores=dict(r.topic_scores),
                    is_current=True,
                )
                score.topics = [
                    ScoreTopic(topic=t, probability=r.topic_scores[t],
                               sentiment=topic_polarity(r.topic_sentiment, t))
                    for t in r.topics
                ]
                session.add(score)
                if not m.language and r.language:
                    m.language = r.language
                stats.scored += 1
        if progress is not None:
            progress(len(part))
    return stats


def scorer_for(settings: SentimentSettings, languages: Sequence[str], data_dir: Path) -> Scorer:
    """The configured model, loaded once per process and configuration."""
    from sentiment.scorer import load_scorer

    key = "|".join((settings.model_dump_json(), ",".join(languages), str(data_dir)))
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = load_scorer(settings, languages=list(languages), data_dir=data_dir)
        return _CACHE[key]


def score_pending(
    store: Store,
    settings: SentimentSettings,
    *,
    languages: Sequence[str],
    data_dir: Path,
    business_slug: str | None = None,
    business_kind: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Score what has no current score (of one business, or all); returns the new scores.
    `business_kind`: the business's kind (sentiment/kinds.py), read with its topic heads.

    When the model's version is known without loading it (sentiment.scorer.model_identity) and
    nothing lacks a score from it, no model is loaded."""
    from sentiment.scorer import model_identity

    known = model_identity(settings, data_dir=data_dir, business_kind=business_kind)
    if known is not None and not pending_mention_ids(store, *known, business_slug):
        return 0
    scorer = scorer_for(settings, languages, data_dir)
    ids = pending_mention_ids(store, scorer.model_id, version_of(scorer, business_kind), business_slug)
    chunk = chunk_size(settings)
    return score_mentions(store, scorer, ids, chunk=chunk, progress=progress,
                          business_kind=business_kind).scored
