"""Request dependencies: a session per request and the mention filter from the query string."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from storage.queries import (
    SEARCH_MAX_CHARS,
    MentionFilter,
    Sentiment,
    make_filter,
    validate_filter,
)


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.store.session() as session:
        yield session


def known_topics(request: Request) -> list[str]:
    return list(request.app.state.settings.sentiment.topics)


def mention_filter(
    request: Request,
    business: str | None = Query(None, max_length=64, description="Business id (slug)."),
    source: str | None = Query(None, max_length=32, description="Source type, e.g. trustpilot."),
    language: str | None = Query(None, max_length=16, description="Language code, e.g. fr."),
    topic: str | None = Query(None, max_length=64, description="Topic key (see /api/v1/topics)."),
    sentiment: Sentiment | None = Query(
        None, description="The label that counts (correction, rating, model); with a topic, the "
        "opinion about it."
    ),
    min_rating: float | None = Query(None, ge=1, le=5, description="Lowest rating on 1..5."),
    max_rating: float | None = Query(None, ge=1, le=5, description="Highest rating on 1..5."),
    since: dt.date | None = Query(None, description="First day (UTC, YYYY-MM-DD), inclusive."),
    until: dt.date | None = Query(None, description="Last day (UTC, YYYY-MM-DD), inclusive."),
    search: str | None = Query(
        None, max_length=SEARCH_MAX_CHARS, description="Text contained (any case)."
    ),
    include_own: bool = Query(False, description="Include the business's own posts."),
    include_duplicates: bool = Query(False, description="Include cross-posted copies."),
    disagree: bool = Query(
        False, description="Only rated mentions whose rating and model label differ."
    ),
    session: Session = Depends(get_session),
) -> MentionFilter:
    flt = make_filter(  # InputError -> 422 with the field and the problem
        business=business, source=source, language=language, topic=topic,
        sentiment=sentiment, min_rating=min_rating, max_rating=max_rating, since=since,
        until=until, search=search, include_own=include_own,
        include_duplicates=include_duplicates, disagree=disagree,
    )
    return validate_filter(session, flt, known_topics=known_topics(request))
