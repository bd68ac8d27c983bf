"""`/api/v1/mentions`: filtered, cursor-paginated mentions; one mention; corrections."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from sqlalchemy.orm import Session

from reviewwatch.api.auth import Analyst, require_writer
from reviewwatch.api.database import StoreGate
from reviewwatch.api.deps import Filtered, gate, known_topics, mention_filter
from reviewwatch.api.schemas import (
    ERRORS,
    ErrorOut,
    CorrectionIn,
    CorrectionOut,
    MentionDetail,
    MentionPageOut,
)
from storage.corrections import correct_mention, corrections_of
from storage.queries import V_MENTIONS, MentionFilter, add_topics, mention_page, mentions_query
from storage.types import MAX_ROW_ID

router = APIRouter(prefix="/api/v1", tags=["mentions"], responses=ERRORS)
DEFAULT_PAGE_SIZE = 50
MENTION_ID = Path(ge=1, le=MAX_ROW_ID, description="The mention's id.")


@router.get("/mentions", response_model=MentionPageOut)
async def list_mentions(
    request: Request,
    filtered: Filtered = Depends(mention_filter),
    limit: int | None = Query(
        None, ge=1, description="Page size (default 50), at most api.max_page_size."
    ),
    cursor: str | None = Query(None, max_length=200, description="next_cursor of the last page."),
    store: StoreGate = Depends(gate),
) -> MentionPageOut:
    """Mentions matching the filters, newest first."""
    largest = request.app.state.settings.api.max_page_size
    limit = limit or min(DEFAULT_PAGE_SIZE, largest)
    if limit > largest:
        raise HTTPException(422, f"limit {limit} is above the largest page size {largest}")
    size = limit

    def step(session: Session) -> MentionPageOut:
        page = mention_page(session, filtered.checked(session), limit=size, cursor=cursor)
        return MentionPageOut.model_validate({"items": page.items, "next_cursor": page.next_cursor})

    return await store.run(step)


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
async def get_mention(
    mention_id: int = MENTION_ID,
    store: StoreGate = Depends(gate),
) -> MentionDetail:
    """One mention with its topics and the analysts' corrections."""
    return await store.run(lambda session: _detail(session, mention_id))


@router.post(
    "/mentions/{mention_id}/corrections", response_model=CorrectionOut, status_code=201,
    responses={
        400: {"model": ErrorOut, "description": "The body is not JSON."},
        403: {"model": ErrorOut, "description": "A read token may not correct."},
    },
)
async def post_correction(
    request: Request,
    body: CorrectionIn,
    mention_id: int = MENTION_ID,
    analyst: Analyst = Depends(require_writer),
    store: StoreGate = Depends(gate),
) -> CorrectionOut:
    """Correct a mention's sentiment and/or topics (needs a write token); it overrides the model."""
    topics = known_topics(request)

    def step(session: Session) -> CorrectionOut:
        _detail(session, mention_id)  # 404 for an unknown mention
        correction = correct_mention(
            session, mention_id, analyst=analyst.name, label=body.label, topics=body.topics,
            note=body.note, known_topics=topics,
        )
        return CorrectionOut.model_validate(correction, from_attributes=True)

    return await store.run(step)
