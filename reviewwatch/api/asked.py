"""GET /api/v1/businesses/{business}/asked: the asked channel (`reviewwatch.feedback.channel`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.api.database import StoreGate
from reviewwatch.api.deps import gate
from reviewwatch.api.schemas import ERRORS
from reviewwatch.feedback.channel import asked_channel
from storage.models import Business

router = APIRouter(prefix="/api/v1", tags=["feedback"], responses=ERRORS)


@router.get("/businesses/{business}/asked")
async def asked(
    business: str,
    since: dt.date | None = Query(default=None, description="First UTC day a request was stored."),
    until: dt.date | None = Query(default=None, description="Last UTC day (included)."),
    store: StoreGate = Depends(gate),
) -> dict[str, Any]:
    """Requests delivered and answered, response rate, share positive and NPS, with intervals."""
    start = dt.datetime.combine(since, dt.time(), dt.UTC) if since else None
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC) if until else None

    def step(session: Session) -> dict[str, Any] | None:
        # One database step, session opened and closed in it (reviewwatch/api/database.py).
        business_id = session.scalar(select(Business.id).where(Business.slug == business))
        if business_id is None:
            return None
        return asked_channel(session, business_id, start, end).to_dict()

    channel = await store.run(step)
    if channel is None:
        raise HTTPException(status_code=404, detail=f"no business {business!r}")
    return {"business": business, **channel}
