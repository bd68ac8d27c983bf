"""A seeded store for the analysts' tests: two businesses, scored mentions, claims, hostile text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from reviewwatch.config import Settings
from storage.db import Store
from storage.mentions import MentionData, write_mentions
from storage.models import Business, Claim, Mention, Score, ScoreTopic, Source
from reviewwatch.sync import sync_settings

HOSTILE = "<script>alert('x')</script> 100% _wild_ '; DROP TABLE mentions; --"

# (external id, text, rating, language, day of November 2026, label, topics)
CAFE = [
    ("c1", "The waiter was rude and slow.", 1, "en", 2, "negative", ["service", "wait_time"]),
    ("c2", "Lovely food, friendly staff.", 5, "en", 3, "positive", ["service", "quality"]),
    ("c3", "Beaucoup trop cher pour la qualité.", 2, "fr", 4, "negative", ["price", "quality"]),
    ("c4", "Perfectly fine, nothing special.", 3, "en", 9, "neutral", ["quality"]),
    ("c5", "Great coffee and a kind barista.", 5, "en", 10, "positive", ["service", "quality"]),
    ("c6", HOSTILE, 1, "en", 11, "negative", ["service"]),
    ("c7", "Die Bedienung war sehr freundlich.", 4, "de", 16, "positive", ["service"]),
    ("c8", "We waited forever for a table.", 2, "en", 17, "negative", ["wait_time"]),
    ("c9", "Personalen var otrevlig.", 1, "sv", 18, "negative", ["service"]),
    ("c10", "Nice terrace, good prices.", 4, "en", 19, "positive", ["price", "ambience"]),
]
SHOP = [
    ("s1", "The parcel never arrived, nobody answers emails.", 1, "en", 5, "negative",
     ["communication"]),
    ("s2", "Fast delivery, great product.", 5, "en", 6, "positive", ["quality"]),
]


@dataclass
class Seeded:
    store: Store
    settings: Settings
    ids: dict[str, int]  # external id -> mention id


def analyst_settings(**api: object) -> Settings:
    return Settings(
        api={"read_tokens": ["reader:read-secret"], "write_tokens": ["alice:write-secret"], **api},
        businesses=[
            {
                "id": "cafe-a", "name": "Café A", "competitors": ["shop-b"],
                "sources": [{"type": "trustpilot", "url": "https://trustpilot.example/cafe-a"}],
                "claims": [
                    {"positive_share": 0.9, "stated_at": "2026-10-01"},
                    {"topic": "service", "positive_share": 0.8, "stated_at": "2026-10-01"},
                ],
            },
            {
                "id": "shop-b", "name": "Shop B",
                "sources": [{"type": "feed", "url": "https://shop-b.example/feed"}],
            },
        ],
    )


def _score(mention_id: int, label: str, rating: int, topics: list[str]) -> Score:
    probabilities = {"negative": 0.1, "neutral": 0.1, "positive": 0.1}
    probabilities[label] = 0.8
    return Score(
        mention_id=mention_id, model_id="test-model", model_version="1", label=label,
        p_negative=probabilities["negative"], p_neutral=probabilities["neutral"],
        p_positive=probabilities["positive"], stars=float(rating), language=None,
        topic_scores={t: 0.9 for t in topics}, is_current=True,
        topics=[ScoreTopic(topic=t, probability=0.9) for t in topics],
    )


def seed_store(store: Store, settings: Settings) -> Seeded:
    ids: dict[str, int] = {}
    with store.transaction() as session:
        sync_settings(session, settings)
        for slug, rows in (("cafe-a", CAFE), ("shop-b", SHOP)):
            business = session.query(Business).filter_by(slug=slug).one()
            source = session.query(Source).filter_by(business_id=business.id).one()
            items = [
                MentionData(
                    external_id=ext, text=text, rating=rating, rating_scale=5, language=lang,
                    url=f"https://reviews.example/{ext}", author=f"author {ext}",
                    published_at=dt.datetime(2026, 11, day, 12, 0, tzinfo=dt.UTC),
                )
                for ext, text, rating, lang, day, _label, _topics in rows
            ]
            write_mentions(session, business_id=business.id, source_id=source.id, items=items)
            stored = dict(
                session.execute(
                    select(Mention.external_id, Mention.id).where(Mention.source_id == source.id)
                ).all()
            )
            for ext, _t, rating, _l, _d, label, topics in rows:
                ids[ext] = stored[ext]
                session.add(_score(stored[ext], label, rating, topics))
    return Seeded(store=store, settings=settings, ids=ids)


@pytest.fixture
def seeded(store: Store) -> Seeded:
    return seed_store(store, analyst_settings())


def add_rating_claims(store: Store) -> None:
    """Two average-rating claims of cafe-a, as read from its own site: 4.5/5 overall, 9/10 on service."""
    with store.transaction() as session:
        business = session.scalars(select(Business).where(Business.slug == "cafe-a")).one()
        for topic, value, scale in ((None, 4.5, 5.0), ("service", 9.0, 10.0)):
            session.add(Claim(
                business_id=business.id, claim_key=f"own_site:average_rating:{topic or '*'}",
                origin="own_site", metric="average_rating", topic=topic, value=value, scale=scale,
                stated_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
            ))
