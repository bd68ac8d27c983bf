"""The API's request and response bodies (they make the OpenAPI documentation)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from storage.corrections import MAX_TOPICS, NOTE_MAX_CHARS
from storage.queries import Sentiment


class ErrorOut(BaseModel):
    """Why a request was refused: a sentence, or FastAPI's list of invalid parameters."""

    detail: str | list[dict[str, Any]]


# The refusals every endpoint may give, documented so that clients (and the schema fuzzing in
# the tests) know every answer's shape.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or invalid bearer token."},
    404: {"model": ErrorOut, "description": "No such mention or business."},
    422: {"model": ErrorOut, "description": "Invalid parameters; `detail` says which."},
    503: {"model": ErrorOut, "description": "The store is busy or unreachable; retry."},
}


class Me(BaseModel):
    analyst: str
    can_write: bool


class BusinessOut(BaseModel):
    id: str
    name: str


class MentionOut(BaseModel):
    mention_id: int
    business: str
    source_type: str
    published_at: dt.datetime | None
    language: str | None
    rating: float | None
    rating_scale: float | None
    stars: float | None
    label: str | None = Field(
        description="The label that counts: the analysts' when corrected, else the rating's "
        "when rated, else the model's."
    )
    model_label: str | None = Field(description="The model's label (kept beside the rating's).")
    rating_label: str | None = Field(
        description="The label the rating gives (gap.rating_labels); null when unrated."
    )
    label_source: str | None = Field(description="Where `label` came from: correction, rating, model.")
    corrected: bool
    p_negative: float | None
    p_neutral: float | None
    p_positive: float | None
    author: str | None
    title: str | None
    text: str
    url: str | None
    topics: list[str]
    topic_sentiment: dict[str, str] = Field(
        description="The model's opinion about each topic where it gave one; a topic without "
        "one counts with the mention's label."
    )


class MentionPageOut(BaseModel):
    items: list[MentionOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Sentiment | None = Field(default=None, description="The right sentiment, if it changes.")
    topics: list[str] | None = Field(
        default=None, max_length=MAX_TOPICS, description="The right topics, if they change."
    )
    note: str | None = Field(default=None, max_length=NOTE_MAX_CHARS)


class CorrectionOut(BaseModel):
    id: int
    analyst: str
    created_at: dt.datetime
    label_before: str | None
    label_after: str | None
    topics_before: list[str] | None
    topics_after: list[str] | None
    note: str | None


class MentionDetail(MentionOut):
    corrections: list[CorrectionOut]


class AggregateOut(BaseModel):
    bucket: str | None = None
    rows: list[dict[str, Any]]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as JSON-ready rows (NaN becomes null)."""
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({
            key: None if isinstance(value, float) and math.isnan(value) else _plain(value)
            for key, value in row.items()
        })
    return out


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
