"""Request dependencies: the gate to the store and the mention filter from the query string.

Dependencies never touch the store: a filter is parsed here and checked against the store
inside the request's one database step (`Filtered.checked`), see database.py.
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import HTTPException, Query, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from reviewwatch.api.database import StoreGate
from storage.queries import (
    SEARCH_MAX_CHARS,
    MentionFilter,
    Sentiment,
    make_filter,
    validate_filter,
)


def _declared_query(route: APIRoute) -> frozenset[str]:
    names: set[str] = set()
    pending = [route.dependant]
    while pending:  # the operation's own parameters and those of its dependencies
        dependant = pending.pop()
        names.update(param.alias for param in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(names)


# A day as the OpenAPI schema says (`format: date`): pydantic would also take `until=0` as a
# Unix time (1970-01-01), and an analyst's typo would then filter on 1970 (the fuzzer found it).
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day_query(route: APIRoute) -> frozenset[str]:
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        for param in dependant.query_params:
            annotation = param.field_info.annotation
            if annotation is dt.date or dt.date in typing.get_args(annotation):
                names.add(param.alias)
        pending.extend(dependant.dependencies)
    return frozenset(names)


async def only_declared_query(request: Request) -> None:
    """Refuse query parameters the operation does not know (422): a misspelt filter such as
    `sentimnet=negative` would otherwise be ignored and the answer taken for a filtered one.
    Days must be written YYYY-MM-DD."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _declared_query(route))
    if unknown:
        names = ", ".join(repr(name[:40]) for name in unknown[:5])
        known = ", ".join(sorted(_declared_query(route))) or "none"
        raise HTTPException(422, f"unknown query parameter(s) {names} (known: {known})")
    for name in sorted(_day_query(route)):
        for value in request.query_params.getlist(name):
            if not ISO_DAY.match(value):
                raise HTTPException(422, f"{name} must be a day written YYYY-MM-DD, not {value[:20]!r}")


def gate(request: Request) -> StoreGate:
    store_gate: StoreGate = request.app.state.gate
    return store_gate


def known_topics(request: Request) -> list[str]:
    return list(request.app.state.settings.sentiment.topics)


@dataclass(frozen=True, slots=True)
class Filtered:
    """A filter as parsed from the query string, not yet checked against the store."""

    flt: MentionFilter
    known_topics: Sequence[str]

    def checked(self, session: Session) -> MentionFilter:
        """The filter, once its business exists (InputError -> 422 otherwise)."""
        return validate_filter(session, self.flt, known_topics=self.known_topics)


async def mention_filter(
    request: Request,
    business: str | None = Query(None, max_length=64, description="Business id (slug)."),
    source: str | None = Query(None, max_length=32, description="Source type, e.g. trustpilot."),
    # A language code (ISO 639, optionally a region): anything else is refused (422) rather
    # than matching nothing; the API fuzzer's `language=true` was a 200 for an empty list.
    language: str | None = Query(
        None, max_length=16, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$",
        description="Language code, e.g. fr.",
    ),
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
) -> Filtered:
    flt = make_filter(  # InputError -> 422 with the field and the problem
        business=business, source=source, language=language, topic=topic,
        sentiment=sentiment, min_rating=min_rating, max_rating=max_rating, since=since,
        until=until, search=search, include_own=include_own,
        include_duplicates=include_duplicates, disagree=disagree,
    )
    return Filtered(flt, known_topics(request))
