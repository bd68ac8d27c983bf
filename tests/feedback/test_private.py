"""An answer is a private mention: out of the public voice (views, rollup, gap, listings)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text

from reviewwatch.config import Settings
from reviewwatch.feedback.customers import parse_customers
from reviewwatch.feedback.invite import ask_customers
from reviewwatch.digest.send import OutboxTransport
from reviewwatch.gap.perceived import load_observations
from storage.db import Store
from storage.feedback import record_answer
from storage.mentions import MentionData, write_mentions
from storage.models import Business, FeedbackInvitation, Score, SentimentRollup, Source
from storage.queries import make_filter, mentions_query
from storage.rollup import refresh_rollup
from tests.feedback.conftest import BUSINESS

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def _score(session, mention_id: int, label: str) -> None:
    p = {"negative": 0.9 if label == "negative" else 0.05, "neutral": 0.05,
         "positive": 0.9 if label == "positive" else 0.05}
    session.add(Score(mention_id=mention_id, model_id="m", model_version="1", label=label,
                      p_negative=p["negative"], p_neutral=p["neutral"],
                      p_positive=p["positive"], is_current=True))


def test_answers_stay_out_of_the_public_voice(
    synced: Store, settings: Settings, tmp_path
) -> None:
    customers = parse_customers("email,name,language\nann@example.com,Ann,en\n")
    ask_customers(synced, settings, BUSINESS, customers, OutboxTransport(tmp_path), now=NOW)
    with synced.transaction() as session:
        business = session.scalars(select(Business).where(Business.slug == BUSINESS)).one()
        public = Source(business_id=business.id, type="schema_org", target="http://x/", state={})
        session.add(public)
        session.flush()
        [public_id] = write_mentions(session, business_id=business.id, source_id=public.id, items=[
            MentionData(external_id="r1", text="Lovely", rating=5, rating_scale=5,
                        published_at=NOW)
        ]).new_ids
        invitation = session.scalars(select(FeedbackInvitation)).one()
        answer = record_answer(session, invitation.id, score=1, comment="Rude staff",
                               question="recommend", now=NOW)
        assert answer is not None
        _score(session, public_id, "positive")
        _score(session, answer.id, "negative")
        business_id = business.id
    with synced.transaction() as session:
        refresh_rollup(session)
    with synced.session() as session:
        daily = session.execute(text(
            "SELECT SUM(mentions), SUM(negative) FROM v_daily_sentiment")).one()
        assert tuple(daily) == (1, 0)
        assert session.execute(text(
            "SELECT COUNT(*) FROM v_mentions WHERE is_private = :t"), {"t": True}).scalar() == 1
        rolled = session.scalar(select(func.sum(SentimentRollup.mentions)).where(
            SentimentRollup.topic == ""))
        assert rolled == 1
        observations, _unscored = load_observations(session, business_id)
        assert len(observations) == 1
        listed = session.execute(mentions_query(make_filter())).mappings().all()
        assert [r["text"] for r in listed] == ["Lovely"]
        asked = session.execute(mentions_query(make_filter(source="feedback"))).mappings().all()
        assert [(r["text"], r["label"]) for r in asked] == [("Rude staff", "negative")]
