"""The typed items spiders yield: a mention (review or post) and a claim found on a business's site."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class MentionItem:
    """One review or post as a spider read it; the pipelines normalise and store it."""

    external_id: str
    text: str
    url: str | None = None
    author: str | None = None
    title: str | None = None
    rating: float | None = None
    rating_scale: float | None = None
    language: str | None = None
    published_at: dt.datetime | None = None
    reply_text: str | None = None
    is_own: bool = False
    truncated: bool = False
    # The text (and reply) are HTML (a post's content, a feed entry), not plain text that
    # happens to contain "<": only then is markup turned into text.
    html: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ReplyItem:
    """The business's public reply to a review or post, naming what it answers in this source.

    `mention_ref` is the answered mention's external id, or (`match_on = "status_id"`) the
    Mastodon status id it replies to; `reply_key` tells two replies to one mention apart.
    """

    mention_ref: str
    text: str
    reply_key: str = "reply"
    author: str | None = None
    replied_at: dt.datetime | None = None
    url: str | None = None
    match_on: str = "external_id"
    html: bool = False


@dataclass(slots=True)
class ClaimItem:
    """A service level the business states about itself on its own site, with its evidence."""

    claim_key: str
    metric: str  # positive_share | average_rating
    value: float
    evidence_url: str
    evidence_text: str
    topic: str | None = None
    scale: float | None = None
    level: str | None = None


def problem(item: object) -> str | None:
    """Why an item cannot be stored (a missing field, an implausible value), or None."""
    if isinstance(item, ClaimItem):
        top = item.scale if item.metric == "average_rating" else 1.0
        if not (top and 0 <= item.value <= top):
            return "claim value out of range"
        return None if item.evidence_text else "claim without evidence"
    if isinstance(item, ReplyItem):
        return None if item.mention_ref and item.text else "reply without its review or text"
    if not isinstance(item, MentionItem):
        return "unknown item type"
    if not item.external_id:
        return "missing id"
    # A headline alone (a news video, a link post, a review's name) is text: the model reads it.
    if not item.text and not item.title and item.rating is None:
        return "missing text, title and rating"
    if item.rating is not None and not (item.rating_scale and 0 <= item.rating <= item.rating_scale):
        return "rating out of scale"
    return None
