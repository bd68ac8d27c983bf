"""What counts as negative, and what is left out of a digest."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from reviewwatch.config import DigestConfig, Settings
from reviewwatch.digest.select import select_negative
from storage.db import Store
from storage.models import Business, Correction, Digest, DigestItem, Mention
from tests.digest.conftest import BUSINESS, OWNER, T0, Seeder


def chosen(
    store: Store, config: DigestConfig | None = None, recipient: str = OWNER
) -> dict[int, str]:
    with store.session() as session:
        business_id = session.scalar(select(Business.id).where(Business.slug == BUSINESS))
        assert business_id is not None
        items = select_negative(session, business_id, recipient, config or DigestConfig())
    return {item.mention.id: item.reason for item in items}


def test_model_threshold_and_rating_at_or_below_max_stars(store: Store, seed: Seeder) -> None:
    sure = seed(p_negative=0.6)
    unsure = seed(p_negative=0.59)
    two_stars = seed(label="positive", p_negative=0.1, rating=2)
    three_stars = seed(label="positive", p_negative=0.1, rating=3)
    unscored_one_star = seed(label=None, rating=1)
    neutral = seed(label="neutral", p_negative=0.7)  # a high p_negative alone is not enough
    assert chosen(store) == {sure: "model", two_stars: "rating", unscored_one_star: "rating"}
    assert (
        unsure not in chosen(store)
        and three_stars not in chosen(store)
        and neutral not in chosen(store)
    )
    stricter = chosen(store, DigestConfig(negative_threshold=0.95, max_stars=3))
    assert stricter == {two_stars: "rating", three_stars: "rating", unscored_one_star: "rating"}


def test_the_latest_analyst_correction_overrides_the_model(store: Store, seed: Seeder) -> None:
    model_negative = seed(p_negative=0.95)
    model_positive = seed(label="positive", p_negative=0.02)
    flip_flop = seed(label="positive", p_negative=0.02)
    with store.transaction() as session:
        session.add_all(
            [
                Correction(
                    mention_id=model_negative, analyst="a", label_after="positive", created_at=T0
                ),
                Correction(
                    mention_id=model_positive,
                    analyst="a",
                    label_after="negative",
                    created_at=T0,
                    topics_after=["wait_time"],
                ),
                Correction(
                    mention_id=flip_flop, analyst="a", label_after="negative", created_at=T0
                ),
                Correction(
                    mention_id=flip_flop,
                    analyst="b",
                    label_after="neutral",
                    created_at=T0 + dt.timedelta(hours=1),
                ),
            ]
        )
    assert chosen(store) == {model_positive: "analyst"}
    with store.session() as session:
        business_id = session.scalar(select(Business.id).where(Business.slug == BUSINESS))
        [item] = select_negative(session, business_id, OWNER, DigestConfig())  # type: ignore[arg-type]
    assert item.topic == "wait_time" and item.label == "negative"


def test_own_posts_deleted_duplicates_and_already_delivered_are_left_out(
    store: Store, settings: Settings, seed: Seeder
) -> None:
    own = seed(is_own=True)
    deleted = seed()
    duplicate = seed()
    delivered = seed()
    kept = seed()
    with store.transaction() as session:
        session.execute(update(Mention).where(Mention.id == deleted).values(deleted_at=T0))
        session.execute(update(Mention).where(Mention.id == duplicate).values(duplicate_of_id=kept))
        business_id = session.scalar(select(Business.id).where(Business.slug == BUSINESS))
        digest = Digest(business_id=business_id, recipient=OWNER, message_id="<x@y>", status="sent")
        session.add(digest)
        session.flush()
        session.add(DigestItem(digest_id=digest.id, mention_id=delivered, recipient=OWNER))
    assert chosen(store) == {kept: "model"}
    # Another recipient has received nothing yet.
    assert set(chosen(store, recipient="other@cafe.example")) == {delivered, kept}
    assert own not in chosen(store, recipient="other@cafe.example")


def test_the_rating_decides_a_rated_mention_not_the_model(store: Store, seed: Seeder) -> None:
    """A five-star review the model reads as negative is not sent; a one-star one it reads as
    positive is, as a rating; an unrated one still goes by the model."""
    five_stars = seed(label="negative", p_negative=0.95, rating=5)
    one_star = seed(label="positive", p_negative=0.05, rating=1)
    unrated = seed(label="negative", p_negative=0.95)
    assert chosen(store) == {one_star: "rating", unrated: "model"}
    assert five_stars not in chosen(store, DigestConfig(max_stars=1))


def _set_polarity(store: Store, mention_id: int, polarity: dict[str, str | None]) -> None:
    from storage.models import Score, ScoreTopic

    with store.transaction() as session:
        score_id = session.scalar(select(Score.id).where(Score.mention_id == mention_id))
        for row in session.scalars(select(ScoreTopic).where(ScoreTopic.score_id == score_id)):
            row.sentiment = polarity.get(row.topic)


def test_a_mention_is_listed_under_the_topics_it_is_negative_about(
    store: Store, settings: Settings, seed: Seeder
) -> None:
    from reviewwatch.digest.gather import newest_first, topic_counts
    from reviewwatch.digest.locale import Texts

    about_wait = seed(topics={"service": 0.9, "wait_time": 0.8, "price": 0.7})
    _set_polarity(store, about_wait, {"service": "positive", "wait_time": "negative"})
    old_score = seed(topics={"service": 0.6, "cleanliness": 0.9})  # no polarity: main topic
    praise_only = seed(topics={"service": 0.9})
    _set_polarity(store, praise_only, {"service": "positive"})
    with store.session() as session:
        business_id = session.scalar(select(Business.id).where(Business.slug == BUSINESS))
        assert business_id is not None
        items = {i.mention.id: i for i in select_negative(session, business_id, OWNER,
                                                          DigestConfig())}
    # price has no polarity of its own: it counts with the mention's (negative) label
    assert items[about_wait].topics == ("wait_time", "price")
    assert items[old_score].topics == ("cleanliness",)
    assert items[praise_only].topics == ("other",)
    counts = topic_counts(newest_first(list(items.values())), Texts("en"))
    assert {c.topic: len(c.numbers) for c in counts} == {
        "Waiting time": 1, "Price": 1, "Cleanliness": 1, "Other": 1}
    assert counts[-1].topic == "Other"  # "other" comes last
