"""Alert fixtures: the digest's SMTP server and settings, and histories written into a real store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from reviewwatch.config import Settings
from reviewwatch.sync import sync_settings
from storage.db import Store
from storage.mentions import MentionData, write_mentions
from storage.models import Business, Score, ScoreTopic, Source
from tests.digest.conftest import BUSINESS, OWNER, settings, smtp_server  # noqa: F401 - fixtures

__all__ = ["BUSINESS", "OWNER", "NOW", "Day", "History"]

# A Wednesday, 09:00 UTC: the checks in these tests run "now".
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Day:
    """Mentions published `ago` days before NOW (0: the last 24 hours)."""

    ago: int
    negative: int
    positive: int = 1
    topic: str | None = None  # the negative ones' topic, negative about it
    rating: float | None = None  # the negative ones' rating (None: unrated, the model decides)
    model_label: str = "negative"
    text: str = "Awful visit, token mention-{n}."


History = Callable[..., list[int]]


@pytest.fixture
def history(store: Store, settings: Settings) -> History:  # noqa: F811 - the digest's fixture
    """Write days of mentions with their current scores in one transaction; return the ids of
    the negative ones."""
    with store.transaction() as session:
        sync_settings(session, settings)
    counter = iter(range(1, 1_000_000))

    def write(days: Sequence[Day], now: dt.datetime = NOW) -> list[int]:
        negative_ids: list[int] = []
        with store.transaction() as session:
            business = session.scalars(select(Business).where(Business.slug == BUSINESS)).one()
            source = session.scalars(select(Source).where(Source.business_id == business.id)).one()
            for day in days:
                total = day.negative + day.positive
                for i in range(total):
                    n = next(counter)
                    negative = i < day.negative
                    # spread over the day, never on a window's edge
                    at = now - dt.timedelta(days=day.ago, minutes=30 + (i * 1380) // max(total, 1))
                    item = MentionData(
                        external_id=f"m-{n}",
                        text=day.text.format(n=n) if negative else f"Lovely, token mention-{n}.",
                        url=f"https://reviews.example/{n}",
                        rating=day.rating if negative else None,
                        rating_scale=5 if negative and day.rating is not None else None,
                        language="en",
                        author=f"Author {n}",
                        published_at=at,
                    )
                    [mention_id] = write_mentions(
                        session, business_id=business.id, source_id=source.id, items=[item]
                    ).new_ids
                    label = day.model_label if negative else "positive"
                    score = Score(
                        mention_id=mention_id, model_id="test", model_version="1", label=label,
                        p_negative=0.9 if label == "negative" else 0.05, p_neutral=0.05,
                        p_positive=0.05 if label == "negative" else 0.9, is_current=True,
                    )
                    session.add(score)
                    session.flush()
                    if negative and day.topic:
                        session.add(ScoreTopic(score_id=score.id, topic=day.topic,
                                               probability=0.9, sentiment="negative"))
                    if negative:
                        negative_ids.append(mention_id)
        return negative_ids

    return write


def steady(
    days: int = 28, per_day: Sequence[int] = (2, 3, 1, 2, 4, 2, 1), positive: int = 8
) -> list[Day]:
    """A history of a few negative mentions a day among `positive` others, windows 1..days
    before NOW (the alerts judge the negatives as a share of all mentions)."""
    return [Day(ago=k, negative=per_day[k % len(per_day)], positive=positive)
            for k in range(1, days + 1)]
