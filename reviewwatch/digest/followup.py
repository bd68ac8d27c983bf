"""What the digest shows of the follow-up under each negative mention: the business's public
reply found by the crawler, the item's state, and the signed link to mark it replied, resolved
or dismissed (`reviewwatch.followup.links`; none when `feedback.secret_key` is not set), worded
in the owner's language (`Texts`). Rendered by the partials `followup.txt.j2` and
`followup.html.j2` beside the digest templates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewwatch.config import Settings
from reviewwatch.digest.locale import Texts
from reviewwatch.digest.text import body_text, excerpt, one_line
from reviewwatch.errors import ConfigError
from reviewwatch.followup.links import FollowupLinks
from storage.followup import replies_of
from storage.models import FOLLOWUP_STATES, FollowupItem

log = logging.getLogger(__name__)
REPLY_CHARS = 400
MARKS = ("replied", "resolved", "dismissed")  # what the link lets the owner mark an item


@dataclass(frozen=True, slots=True)
class ReplyView:
    heading: str  # "Your public reply (Nov 20, 2026), by Café Test:" in the owner's words
    text: str
    excerpted: bool


@dataclass(frozen=True, slots=True)
class FollowupView:
    state: str | None  # None: no follow-up item (yet)
    url: str | None
    replies: tuple[ReplyView, ...] = ()
    state_words: str = ""  # the state in the owner's words ("ouvert")
    action: str = ""  # the link's text: "mark it replied, resolved or dismissed", in their words


def followup_views(
    session: Session, settings: Settings, mention_ids: Iterable[int], recipient: str,
    now: dt.datetime, t: Texts, tz: dt.tzinfo = ZoneInfo("UTC"), business_name: str = "",
) -> dict[int, FollowupView]:
    """Per mention id: its public replies and its item's state and signed link, in `t`'s words
    (dates in the business's timezone `tz`; a reply without an author is `business_name`'s).

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
    action = t("followup_action", **{state: t(f"state_{state}") for state in MARKS})
    views = {}
    for mention_id in ids:
        item = items.get(mention_id)
        url = links.url(item.id, recipient, now) if links and item is not None else None
        state = item.state if item is not None else None
        views[mention_id] = FollowupView(
            state=state,
            url=url,
            replies=tuple(
                _reply(r.author or business_name, r.replied_at, r.text, t, tz)
                for r in replies.get(mention_id, [])
            ),
            state_words=t(f"state_{state}") if state in FOLLOWUP_STATES else (state or ""),
            action=action,
        )
    return views


def _links(settings: Settings) -> FollowupLinks | None:
    try:
        return FollowupLinks(settings)
    except ConfigError:
        log.debug("no feedback.secret_key: the digest has no follow-up links")
        return None


def _reply(author: str | None, at: dt.datetime | None, text: str, t: Texts, tz: dt.tzinfo) -> ReplyView:
    shown, cut = excerpt(body_text(text), REPLY_CHARS)
    by = one_line(author, 100)
    if at is not None:
        heading = t("reply_dated", date=t.date(at.astimezone(tz)), author=by)
    else:
        heading = t("reply_undated", author=by)
    return ReplyView(heading=heading, text=shown, excerpted=cut)
