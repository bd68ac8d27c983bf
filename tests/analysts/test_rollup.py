"""The pre-aggregated rollup agrees with the live aggregates after every kind of change."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import func, select, text, update

import storage.analytics as analytics
from storage.corrections import correct_mention
from storage.models import Mention, RollupDirty, Score, SentimentRollup
from storage.queries import MentionFilter
from storage.rollup import refresh_rollup, rollup_can_answer
from tests.analysts.conftest import Seeded, _score

FILTERS = [
    MentionFilter(business="cafe-a"),
    MentionFilter(business="cafe-a", topic="service"),
    MentionFilter(since=dt.date(2026, 11, 3), until=dt.date(2026, 11, 17)),
    MentionFilter(business="shop-b", sentiment="negative"),
]


def _both(session, monkeypatch: pytest.MonkeyPatch, flt: MentionFilter) -> None:
    """Rollup and live answers to the same filter must be equal."""
    assert rollup_can_answer(flt)
    for fn, args in ((analytics.sentiment_over_time, ("week",)),
                     (analytics.topic_aggregates, ("day",)), (analytics.topic_aggregates, ())):
        rolled = fn(session, flt, *args)
        with monkeypatch.context() as m:
            m.setattr(analytics, "rollup_can_answer", lambda _flt: False)
            live = fn(session, flt, *args)
        pd.testing.assert_frame_equal(rolled, live, check_dtype=False, check_exact=False)


def _check_all(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    with seeded.store.transaction() as session:
        for flt in FILTERS:
            _both(session, monkeypatch, flt)
        assert session.scalar(select(func.count()).select_from(RollupDirty)) == 0


def test_rollup_follows_scores_corrections_and_deletions(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check_all(seeded, monkeypatch)
    with seeded.store.session() as session:
        assert session.scalar(select(func.count()).select_from(SentimentRollup)) > 0
    with seeded.store.transaction() as session:  # an analyst corrects label and topics
        correct_mention(session, seeded.ids["c1"], analyst="a", label="positive", topics=["price"])
        correct_mention(session, seeded.ids["c7"], analyst="a", topics=["booking", "service"])
    _check_all(seeded, monkeypatch)
    with seeded.store.transaction() as session:  # a rescoring replaces the current score
        c3 = seeded.ids["c3"]
        session.execute(update(Score).where(Score.mention_id == c3).values(is_current=False))
        rescored = _score(c3, "neutral", 3, ["ambience"])
        rescored.model_version = "2"
        session.add(rescored)
    with seeded.store.session() as session:  # the change marked its day dirty
        assert session.scalar(select(func.count()).select_from(RollupDirty)) == 1
    _check_all(seeded, monkeypatch)
    with seeded.store.transaction() as session:  # a deletion and a late publication date
        session.execute(update(Mention).where(Mention.id == seeded.ids["c5"])
                        .values(deleted_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC)))
        session.execute(update(Mention).where(Mention.id == seeded.ids["c2"])
                        .values(published_at=dt.datetime(2026, 11, 25, tzinfo=dt.UTC)))
    _check_all(seeded, monkeypatch)
    with seeded.store.transaction() as session:  # a mention removed for good
        session.delete(session.get(Mention, seeded.ids["c4"]))
    _check_all(seeded, monkeypatch)


def test_hand_written_updates_of_corrections_and_topics_reach_the_rollup(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An analyst's raw SQL UPDATE marks the day dirty on both engines (triggers, not app code)."""
    with seeded.store.transaction() as session:
        correct_mention(session, seeded.ids["c1"], analyst="a", label="positive")
    _check_all(seeded, monkeypatch)
    with seeded.store.transaction() as session:
        session.execute(text("UPDATE corrections SET label_after = 'negative' WHERE mention_id = :m"),
                        {"m": seeded.ids["c1"]})
    with seeded.store.session() as session:
        assert session.scalar(select(func.count()).select_from(RollupDirty)) == 1
    _check_all(seeded, monkeypatch)
    with seeded.store.transaction() as session:
        session.execute(text("UPDATE score_topics SET topic = 'location' WHERE topic = 'price' AND score_id IN "
                             "(SELECT id FROM scores WHERE mention_id = :m)"), {"m": seeded.ids["c3"]})
    with seeded.store.session() as session:
        assert session.scalar(select(func.count()).select_from(RollupDirty)) == 1
    _check_all(seeded, monkeypatch)


def test_unchanged_recrawl_marks_nothing(seeded: Seeded) -> None:
    with seeded.store.transaction() as session:
        refresh_rollup(session)
        session.execute(update(Mention).values(last_seen_at=dt.datetime.now(dt.UTC),
                                               deleted_at=None))
    with seeded.store.session() as session:
        assert session.scalar(select(func.count()).select_from(RollupDirty)) == 0


def test_filters_the_rollup_cannot_answer_go_live() -> None:
    assert not rollup_can_answer(MentionFilter(business="x", language="fr"))
    assert not rollup_can_answer(MentionFilter(search="x"))
    assert not rollup_can_answer(MentionFilter(include_own=True))
    assert rollup_can_answer(MentionFilter(business="x", topic="price", sentiment="negative"))
