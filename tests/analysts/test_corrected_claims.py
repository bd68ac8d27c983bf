"""`/api/v1/claims/perceived` gives the gap's corrected share and says how it was made."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from reviewwatch.api import create_app
from storage.mentions import MentionData, write_mentions
from storage.models import Business, Mention, Source
from tests.analysts.conftest import Seeded, _score

READ = {"Authorization": "Bearer read-secret"}


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    """cafe-a with one more mention: five stars that the model reads as negative."""
    with seeded.store.transaction() as session:
        business = session.scalars(select(Business).where(Business.slug == "cafe-a")).one()
        source = session.scalars(select(Source).where(Source.business_id == business.id)).one()
        write_mentions(session, business_id=business.id, source_id=source.id, items=[MentionData(
            external_id="c11", text="Not bad at all, honestly the best in town.", rating=5,
            rating_scale=5, language="en", url="https://reviews.example/c11", author="a",
            published_at=dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC))])
        mention_id = session.scalars(select(Mention.id).where(Mention.external_id == "c11")).one()
        session.add(_score(mention_id, "negative", 5, []))
    with TestClient(create_app(seeded.settings, seeded.store)) as client:
        yield client


def test_the_share_is_the_gaps_corrected_one(client: TestClient) -> None:
    rows = client.get("/api/v1/claims/perceived",
                      params={"business": "cafe-a", "since": "2026-11-01", "until": "2026-11-30"},
                      headers=READ).json()
    overall = next(r for r in rows if r["topic"] == "overall")
    # the model's labels: 4 positive of 11; the reviewers' ratings, which count: 5 of 11
    assert overall["perceived"] == pytest.approx(5 / 11, abs=1e-6)
    assert overall["low"] <= overall["perceived"] <= overall["high"]
    assert overall["method"] == "every mention counted by its rating or an analyst's label"
    assert overall["mentions"] == 11 and overall["method_note"] is None
