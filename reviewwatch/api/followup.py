"""`/api/v1/followup`: the follow-up items of negative mentions, their state changes (write
token), and `/api/v1/businesses/{business}/responses`: response rate and time to first response.

Listing a business's items first brings them in step with the mentions' labels
(`storage.followup.sync_followups`, idempotent), so an analyst's correction shows at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.api.auth import Analyst, require_writer
from reviewwatch.api.database import StoreGate
from reviewwatch.api.deps import gate
from reviewwatch.api.schemas import ERRORS, ErrorOut
from reviewwatch.feedback.comment import clean_comment
from reviewwatch.followup.listing import item_detail, item_rows
from reviewwatch.gap.responses import response_report
from storage.followup import MAX_NOTE_CHARS, FollowupError, change_state, sync_followups
from storage.models import Business, FollowupItem, utcnow
from storage.types import MAX_ROW_ID

router = APIRouter(prefix="/api/v1", tags=["follow-up"], responses=ERRORS)
State = Literal["open", "replied", "resolved", "dismissed"]
ITEM_ID = Path(ge=1, le=MAX_ROW_ID, description="The follow-up item's id.")
# A reply time may be a little ahead of the server's clock, not days.
FUTURE_SLACK = dt.timedelta(minutes=5)
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not JSON."},
    403: {"model": ErrorOut, "description": "A read token may not change an item."},
    409: {"model": ErrorOut, "description": "The item already has this state."},
}


class FollowupOut(BaseModel):
    id: int
    mention_id: int
    business: str
    source_type: str
    state: State
    negative: bool = Field(description="False once the mention no longer counts as negative.")
    created_at: dt.datetime
    changed_at: dt.datetime
    changed_by: str
    first_response_at: dt.datetime | None
    response_hours: float | None = Field(description="Hours from the mention to its first reply.")
    published_at: dt.datetime | None
    author: str | None
    title: str | None
    excerpt: str
    url: str | None
    rating: float | None
    rating_scale: float | None
    is_private: bool = Field(description="A customer's answer to a feedback request.")
    replies_found: int = Field(description="Public replies the crawler found under it.")


class FollowupPage(BaseModel):
    items: list[FollowupOut]
    next_before: int | None = Field(description="`before` for the next page; null at the end.")


class ChangeOut(BaseModel):
    state_before: str | None
    state_after: str
    changed_by: str
    via: str
    changed_at: dt.datetime
    note: str | None


class ReplyOut(BaseModel):
    text: str
    author: str | None
    replied_at: dt.datetime | None
    found_url: str | None
    source_type: str


class FollowupDetail(FollowupOut):
    history: list[ChangeOut]
    public_replies: list[ReplyOut]


class StateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: State
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    replied_at: dt.datetime | None = Field(
        default=None, description="With state replied: when the reply was made (default now)."
    )


@router.get("/followup", response_model=FollowupPage)
async def list_followup(
    business: str | None = Query(None, max_length=64, description="Business id (slug)."),
    state: State | None = Query(None, description="Only items in this state."),
    source: str | None = Query(None, max_length=32, description="Source type, e.g. trustpilot."),
    include_withdrawn: bool = Query(
        False, description="Also items whose mention is no longer negative."),
    limit: int = Query(50, ge=1, le=500, description="Page size."),
    before: int | None = Query(None, ge=1, le=MAX_ROW_ID, description="next_before of the last page."),
    store: StoreGate = Depends(gate),
) -> FollowupPage:
    """Follow-up items of negative mentions (public and feedback), newest first."""

    def step(session: Session) -> FollowupPage:
        business_id = _business_id(session, business) if business else None
        sync_followups(session, business_id)
        rows = item_rows(session, business_id=business_id, state=state, source=source,
                         negative_only=not include_withdrawn, before=before, limit=limit)
        next_before = rows[-1]["id"] if len(rows) == limit else None
        return FollowupPage.model_validate({"items": rows, "next_before": next_before})

    return await store.run(step)


@router.get("/followup/{item_id}", response_model=FollowupDetail)
async def get_followup(item_id: int = ITEM_ID, store: StoreGate = Depends(gate)) -> FollowupDetail:
    """One item with its history of changes and the public replies found."""
    return await store.run(lambda session: _detail(session, item_id))


@router.patch("/followup/{item_id}", response_model=FollowupDetail, responses=CHANGE_RESPONSES)
async def patch_followup(
    body: StateIn,
    item_id: int = ITEM_ID,
    analyst: Analyst = Depends(require_writer),
    store: StoreGate = Depends(gate),
) -> FollowupDetail:
    """Change an item's state (needs a write token); the change is kept in its history."""
    return await store.run(lambda session: _change(session, item_id, body, analyst))


@router.post(
    "/followup/{item_id}/changes", response_model=FollowupDetail, status_code=201,
    responses=CHANGE_RESPONSES,
)
async def post_change(
    body: StateIn,
    item_id: int = ITEM_ID,
    analyst: Analyst = Depends(require_writer),
    store: StoreGate = Depends(gate),
) -> FollowupDetail:
    """Record a change of an item's state (needs a write token): the same as PATCH."""
    return await store.run(lambda session: _change(session, item_id, body, analyst))


@router.get("/businesses/{business}/responses")
async def responses(
    business: str = Path(max_length=64, description="Business id (slug)."),
    since: dt.date | None = Query(None, description="First day (UTC), inclusive."),
    until: dt.date | None = Query(None, description="Last day (UTC), inclusive."),
    granularity: Literal["week", "month"] = Query("month", description="Periods of by_period."),
    store: StoreGate = Depends(gate),
) -> dict[str, Any]:
    """Response rate (95% Wilson interval) and hours to a first response (median, 90th
    percentile) of the negative mentions, overall, per source and per period."""
    if since and until and since > until:
        raise HTTPException(422, f"since ({since}) is after until ({until})")
    start = dt.datetime.combine(since, dt.time(), dt.UTC) if since else None
    end = (dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC) if until
           else utcnow())

    def step(session: Session) -> dict[str, Any]:
        business_id = _business_id(session, business)
        sync_followups(session, business_id)
        report = response_report(session, business_id, start, end, granularity)
        return {"business": business, **report.to_dict()}

    return await store.run(step)


def _business_id(session: Session, slug: str) -> int:
    business_id = session.scalar(select(Business.id).where(Business.slug == slug))
    if business_id is None:
        raise HTTPException(404, f"no business {slug[:64]!r}")
    return business_id


def _detail(session: Session, item_id: int) -> FollowupDetail:
    found = item_detail(session, item_id)
    if found is None:
        raise HTTPException(404, f"no follow-up item {item_id}")
    return FollowupDetail.model_validate(found)


def _change(session: Session, item_id: int, body: StateIn, analyst: Analyst) -> FollowupDetail:
    if session.get(FollowupItem, item_id) is None:
        raise HTTPException(404, f"no follow-up item {item_id}")
    replied_at = body.replied_at
    if replied_at is not None:
        if body.state != "replied":
            raise HTTPException(422, "replied_at goes with state replied")
        if replied_at.tzinfo is None:
            raise HTTPException(422, "replied_at needs a time zone (e.g. 2026-11-02T09:00:00Z)")
        try:
            replied_at = replied_at.astimezone(dt.UTC)
        except OverflowError:
            raise HTTPException(422, "replied_at is out of range") from None
        if replied_at < EARLIEST:
            raise HTTPException(422, f"replied_at is before {EARLIEST:%Y-%m-%d}")
        if replied_at > utcnow() + FUTURE_SLACK:
            raise HTTPException(422, "replied_at is in the future")
    note = clean_comment(body.note) if body.note else None
    try:
        change_state(session, item_id, body.state, by=analyst.name, via="api",
                     note=note or None, replied_at=replied_at)
    except FollowupError as exc:
        raise HTTPException(409, str(exc)) from None
    return _detail(session, item_id)
