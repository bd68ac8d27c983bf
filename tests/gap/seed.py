"""Seeding a store with known mentions, scores and corrections for the gap tests."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Sequence

from sqlalchemy.orm import Session

from reviewwatch.config import BusinessConfig, ClaimConfig, Settings
from storage.models import Business, Correction, Mention, Score, ScoreTopic, Source
from reviewwatch.sync import sync_settings

UNTIL = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
SINCE = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
_ids = itertools.count(1)


def settings(claims: Sequence[ClaimConfig] = (), **gap: object) -> Settings:
    """Settings of one business with `claims`. The shares are the labels counted (Wilson), so
    figures can be computed by hand, unless `share_method` is given (test_shares.py)."""
    gap.setdefault("share_method", "counts")
    business = BusinessConfig(
        id="cafe",
        name="Café Test",
        sources=[
            {"type": "schema_org", "url": "http://127.0.0.1:1/reviews/"},
            {"type": "trustpilot", "url": "http://127.0.0.1:1/tp/"},
        ],
        claims=list(claims),
    )
    return Settings(businesses=[business], gap=gap)


def setup(session: Session, config: Settings) -> tuple[Business, dict[str, Source]]:
    sync_settings(session, config)
    business = session.query(Business).filter_by(slug="cafe").one()
    sources = {s.type: s for s in session.query(Source).filter_by(business_id=business.id)}
    return business, sources


def add(
    session: Session,
    business: Business,
    source: Source,
    label: str | None,
    *,
    at: dt.datetime = UNTIL - dt.timedelta(days=10),
    topics: Sequence[str] = (),
    stars: float | None = None,
    rating: float | None = None,
    scale: float | None = None,
    text: str = "a review",
    language: str | None = "en",
    is_own: bool = False,
    deleted: bool = False,
    duplicate_of: int | None = None,
) -> Mention:
    """A mention and, when `label` is given, its current score with `topics` above threshold."""
    n = next(_ids)
    normalised = None if rating is None or scale is None else (rating - 1) / (scale - 1)
    mention = Mention(
        business_id=business.id,
        source_id=source.id,
        external_id=f"m{n}",
        url=f"http://x.test/{n}",
        rating=rating,
        rating_scale=scale,
        rating_normalised=normalised,
        text=text,
        language=language,
        is_own=is_own,
        published_at=at,
        content_hash=hashlib.sha256(f"{n}".encode()).hexdigest(),
        deleted_at=at if deleted else None,
        duplicate_of_id=duplicate_of,
        extra={},
    )
    session.add(mention)
    session.flush()
    if label is not None:
        p = {"negative": 0.0, "neutral": 0.0, "positive": 0.0}
        p[label] = 1.0
        score = Score(
            mention_id=mention.id,
            model_id="test",
            model_version="1",
            label=label,
            p_negative=p["negative"],
            p_neutral=p["neutral"],
            p_positive=p["positive"],
            stars=stars,
            language=language,
            topic_scores={},
            is_current=True,
            topics=[ScoreTopic(topic=t, probability=0.9) for t in topics],
        )
        session.add(score)
        session.flush()
    return mention


def correct(
    session: Session,
    mention: Mention,
    *,
    label: str | None = None,
    topics: list[str] | None = None,
    at: dt.datetime = UNTIL,
) -> None:
    session.add(
        Correction(
            mention_id=mention.id,
            analyst="ana",
            created_at=at,
            label_after=label,
            topics_after=topics,
        )
    )
    session.flush()


def many(
    session: Session, business: Business, source: Source, counts: dict[str, int], **kwargs: object
) -> list[Mention]:
    return [
        add(session, business, source, label, **kwargs)  # type: ignore[arg-type]
        for label, count in counts.items()
        for _ in range(count)
    ]
