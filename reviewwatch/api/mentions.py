"""`/api/v1/mentions`: filtered, cursor-paginated mentions; one mention; corrections."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from reviewwatch.api.auth import Analyst, require_writer
from reviewwatch.api.deps import get_session, known_topics, mention_filter
from reviewwatch.api.schemas import CorrectionIn, CorrectionOut, MentionDetail, MentionPageOut
from storage.corrections import correct_mention, corrections_of
from storage.queries import (
    V_MENTIONS,
    MentionFilter,
    add_topics,
    mention_page,
    mentions_query,
)

router = APIRouter(prefix="/api/v1", tags=["mentions"])
DEFAULT_PAGE_SIZE = 50


@router.get("/mentions", response_model=MentionPageOut)
def list_mentions(
    request: Request,
    flt: MentionFilter = Depends(mention_filter),
    limit: int | None = Query(
        None, ge=1, description="Page size (default 50), at most api.max_page_size."
    ),
    cursor: str | None = Query(None, max_length=200, description="next_cursor of the last page."),
    session: Session = Depends(get_session),
) -> MentionPageOut:
    """Mentions matching the filters, newest first."""
    largest = request.app.state.settings.api.max_page_size
    limit = limit or min(DEFAULT_PAGE_SIZE, largest)
    if limit > largest:
        raise HTTPException(422, f"limit {limit} is above the largest page size {largest}")
    page = mention_page(session, flt, limit=limit, cursor=cursor)
    return MentionPageOut.model_validate({"items": page.items, "next_cursor": page.next_cursor})


def _detail(session: Session, mention_id: int) -> MentionDetail:
    query = mentions_query(MentionFilter(include_own=True, include_duplicates=True))
    row = session.execute(query.where(V_MENTIONS.c.mention_id == mention_id)).mappings().first()
    if row is None:
        raise HTTPException(404, f"no mention with id {mention_id}")
    item = dict(row)
    add_topics(session, [item])
    item["corrections"] = corrections_of(session, mention_id)
    return MentionDetail.model_validate(item)


@router.get("/mentions/{mention_id}", response_model=MentionDetail)
def get_mention(
    mention_id: int,
    session: Session = Depends(get_session),
) -> MentionDetail:
    """One mention with its topics and the analysts' corrections."""
    return _detail(session, mention_id)


@router.post("/mentions/{mention_id}/corrections", response_model=CorrectionOut, status_code=201)
def post_correction(
    request: Request,
    mention_id: int,
    body: CorrectionIn,
    analyst: Analyst = Depends(require_writer),
) -> CorrectionOut:
    """Correct a mention's sentiment and/or topics (needs a write token); it overrides the model."""
    store = request.app.state.store
    with store.transaction() as session:
        _detail(session, mention_id)  # 404 for an unknown mention
        correction = correct_mention(
            session, mention_id, analyst=analyst.name, label=body.label, topics=body.topics,
            note=body.note, known_topics=known_topics(request),
        )
        return CorrectionOut.model_validate(correction, from_attributes=True)
