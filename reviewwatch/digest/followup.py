"""What the digest shows of the follow-up under each negative mention: the business's public
reply found by the crawler, the item's state, and the signed link to mark it replied, resolved
or dismissed (`reviewwatch.followup.links`; none when `feedback.secret_key` is not set). Rendered by the partials
`followup.txt.j2` and `followup.html.j2` beside the digest templates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.config import Settings
from reviewwatch.digest.text import body_text, excerpt, one_line
from reviewwatch.errors import ConfigError
from reviewwatch.followup.links import FollowupLinks
from storage.followup import replies_of
from storage.models import FollowupItem

log = logging.getLogger(__name__)
REPLY_CHARS = 400


@dataclass(frozen=True, slots=True)
class ReplyView:
    author: str
    date: str
    text: str
    excerpted: bool


@dataclass(frozen=True, slots=True)
class FollowupView:
    state: str | None  # None: no follow-up item (yet)
    url: str | None
    replies: tuple[ReplyView, ...] = ()


def followup_views(
    session: Session, settings: Settings, mention_ids: Iterable[int], recipient: str,
    now: dt.datetime,
) -> dict[int, FollowupView]:
    """Per mention id: its public replies and its item's state and signed link.

    `now` is the digest's creation time, so a resent digest carries the very same links.
    """
    ids = sorted(set(mention_ids))
    if not ids:
        return {}
    links = _links(settings)
    items = dict(session.execute(
        select(FollowupItem.mention_id, FollowupItem).where(FollowupItem.mention_id.in_(ids))
    ).all())
    replies = replies_of(session, ids)
    views = {}
    for mention_id in ids:
        item = items.get(mention_id)
        url = links.url(item.id, recipient, now) if links and item is not None else None
        views[mention_id] = FollowupView(
            state=item.state if item is not None else None,
            url=url,
            replies=tuple(_reply(r.author, r.replied_at, r.text) for r in replies.get(mention_id, [])),
        )
    return views


def _links(settings: Settings) -> FollowupLinks | None:
    try:
        return FollowupLinks(settings)
    except ConfigError:
        log.debug("no feedback.secret_key: the digest has no follow-up links")
        return None


def _reply(author: str | None, at: dt.datetime | None, text: str) -> ReplyView:
    shown, cut = excerpt(body_text(text), REPLY_CHARS)
    return ReplyView(
        author=one_line(author, 100) or "the business",
        date=at.strftime("%Y-%m-%d") if at else "",
        text=shown,
        excerpted=cut,
    )
