"""Digest fixtures: a live SMTP server, settings pointing at it, and mentions seeded in the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reviewwatch.config import Settings
from storage.db import Store
from storage.mentions import MentionData, write_mentions
from storage.models import Business, Score, ScoreTopic, Source
from reviewwatch.sync import sync_settings
from tests.digest.smtpserver import SmtpServer

BUSINESS = "cafe-test"
OWNER = "owner@cafe.example"
T0 = dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    try:
        yield server
    finally:
        server.stop()


def make_settings(
    tmp_path: Path, port: int, *, digest: dict[str, Any] | None = None, **smtp: Any
) -> Settings:
    return Settings(
        data_dir=tmp_path,
        smtp={"host": "127.0.0.1", "port": port, "security": "none", "timeout_s": 5, **smtp},
        businesses=[
            {
                "id": BUSINESS,
                "name": "Café Test",
                "timezone": "Europe/Stockholm",
                "owners": [OWNER],
                "sources": [{"type": "schema_org", "url": "http://127.0.0.1:9/reviews/"}],
                "digest": digest or {},
            }
        ],
    )


@pytest.fixture
def settings(tmp_path: Path, smtp_server: SmtpServer) -> Settings:
    return make_settings(tmp_path, smtp_server.port)


Seeder = Callable[..., int]


@pytest.fixture
def seed(store: Store, settings: Settings) -> Seeder:
    """Add one mention (and, when `label` is given, its current score); return its id."""
    with store.transaction() as session:
        sync_settings(session, settings)
    counter = iter(range(1, 10_000))

    def add(
        text: str | None = None,
        *,
        label: str | None = "negative",
        p_negative: float = 0.9,
        rating: float | None = None,
        topics: dict[str, float] | None = None,
        **fields: Any,
    ) -> int:
        n = next(counter)
        with store.transaction() as session:
            business = session.scalars(select(Business).where(Business.slug == BUSINESS)).one()
            source = session.scalars(select(Source).where(Source.business_id == business.id)).one()
            data = MentionData(
                external_id=f"ext-{n}",
                text=text if text is not None else f"Terrible visit, token mention-{n}.",
                url=fields.pop("url", f"https://reviews.example/{n}"),
                rating=rating,
                rating_scale=5 if rating is not None else None,
                language=fields.pop("language", "en"),
                published_at=fields.pop("published_at", T0 - dt.timedelta(hours=n)),
                **fields,
            )
            result = write_mentions(
                session, business_id=business.id, source_id=source.id, items=[data]
            )
            mention_id = result.new_ids[0]
            if label is not None:
                score = Score(
                    mention_id=mention_id,
                    model_id="test",
                    model_version="1",
                    label=label,
                    p_negative=p_negative,
                    p_neutral=(1 - p_negative) / 2,
                    p_positive=(1 - p_negative) / 2,
                    is_current=True,
                )
                session.add(score)
                session.flush()
                for topic, probability in (topics or {}).items():
                    session.add(ScoreTopic(score_id=score.id, topic=topic, probability=probability))
        return mention_id

    return add
