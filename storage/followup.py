"""Follow-up items: one per negative mention, their state changes, and the public replies found.

- `sync_followups` creates an item for every mention whose counted label (`v_mentions.label`:
  an analyst's correction, else the reviewer's rating, else the model) is negative, once: the
  unique mention id makes a re-run a no-op. The business's own posts and cross-posted copies get
  none (the original has one). A mention relabelled away from negative keeps its item, marked
  `negative = false` (it leaves the response figures); an item still `open` then is dismissed
  by reviewwatch (via `relabel`), and reopened if the mention turns negative again.
- `change_state` is the one way a state changes (API, signed link, crawler): each change is a
  `followup_changes` row. The first change to `replied` sets `first_response_at`.
- `record_replies` stores the public replies a crawl found and marks their items `replied` at
  the reply's own time (the earliest reply counts as the first response).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from storage.models import FOLLOWUP_STATES, FollowupChange, FollowupItem, Mention, PublicReply, utcnow
from storage.queries import V_MENTIONS
from storage.upsert import insert_ignore, insert_ignore_many

SYSTEM = "reviewwatch"
VIAS = ("created", "api", "link", "crawler", "relabel")
MAX_REPLY_CHARS = 10_000
MAX_NOTE_CHARS = 1000


class FollowupError(Exception):
    """A change that cannot be made (unknown item, unknown state, the state it already has)."""


@dataclass(frozen=True, slots=True)
class SyncCounts:
    opened: int = 0
    withdrawn: int = 0
    restored: int = 0


@dataclass(frozen=True, slots=True)
class ReplyData:
    """A public reply as a crawl found it, naming the mention it answers within the source.

    `match_on`: the mention's `external_id`, or `status_id` (a Mastodon reply names the status
    it answers by id; mentions keep that id in `extra.status_id`).
    """

    mention_ref: str
    reply_key: str
    text: str
    author: str | None = None
    replied_at: dt.datetime | None = None
    url: str | None = None
    match_on: Literal["external_id", "status_id"] = "external_id"


def sync_followups(
    session: Session, business_id: int | None = None, now: dt.datetime | None = None
) -> SyncCounts:
    """Bring the items in step with the mentions' labels (one business, or all)."""
    now = now or utcnow()
    v = V_MENTIONS.c
    scope = [] if business_id is None else [v.business_id == business_id]
    # One pass over the mentions: those owed an item, and the items whose `negative` flag
    # disagrees with the label now (withdrawn or restored), told apart here.
    # A mention without an item counts as not followed (negative false): its label, computed
    # once per mention, disagrees when it is negative. An item's business is its mention's: the
    # join reads only that business's items (by index), not the whole table.
    joined = and_(FollowupItem.mention_id == v.mention_id,
                  *([] if business_id is None else [FollowupItem.business_id == business_id]))
    missing: list[tuple[int, int]] = []
    withdrawn = restored = 0
    for mention_id, owner, label, item in session.execute(
        select(v.mention_id, v.business_id, v.label, FollowupItem)
        .select_from(V_MENTIONS.outerjoin(FollowupItem, joined))
        .where(*scope,
               func.coalesce(v.label == "negative", False)
               != func.coalesce(FollowupItem.negative, False),
               or_(FollowupItem.id.is_not(None),
                   and_(v.is_own.is_(False), v.duplicate_of_id.is_(None))))
        .order_by(v.mention_id)
    ).all():
        if item is None:
            missing.append((mention_id, owner))
        elif item.negative:
            withdrawn += 1
            _withdraw(session, item, label, now)
        else:
            restored += 1
            _restore(session, item, now)
    opened = _open(session, missing, now)
    session.flush()
    return SyncCounts(opened, withdrawn, restored)


def _open(session: Session, missing: Sequence[tuple[int, int]], now: dt.datetime) -> int:
    """Items for these (mention, business): how many this call created (another process may
    have opened some first). The ids come back from the insert itself, and the replies the
    crawler found before the mentions were scored are read in one query."""
    if not missing:
        return 0
    created = dict(insert_ignore_many(
        session, FollowupItem,
        [{"mention_id": mention_id, "business_id": owner, "state": "open", "negative": True,
          "created_at": now, "changed_at": now, "changed_by": SYSTEM}
         for mention_id, owner in missing],
        conflict_on=["mention_id"], returning=["mention_id", "id"],
    ))
    for mention_id, _owner in missing:  # in mention order, as the items were opened
        if mention_id in created:
            session.add(FollowupChange(item_id=created[mention_id], state_before=None,
                                       state_after="open", changed_by=SYSTEM, via="created",
                                       changed_at=now))
    for mention_id, replies in replies_of(session, created).items():
        item = session.get_one(FollowupItem, created[mention_id])
        _replied(session, item, replies[0], now)
    return len(created)


def _withdraw(session: Session, item: FollowupItem, label: str | None, now: dt.datetime) -> None:
    item.negative = False
    if item.state == "open":
        change_state(session, item.id, "dismissed", by=SYSTEM, via="relabel", now=now,
                     note=f"no longer negative (now {label or 'unlabelled'})")


def _restore(session: Session, item: FollowupItem, now: dt.datetime) -> None:
    item.negative = True
    last = item.changes[-1] if item.changes else None
    if item.state == "dismissed" and last is not None and last.via == "relabel":
        change_state(session, item.id, "open", by=SYSTEM, via="relabel", now=now,
                     note="negative again")


def change_state(
    session: Session,
    item_id: int,
    state: str,
    *,
    by: str,
    via: str,
    now: dt.datetime | None = None,
    note: str | None = None,
    replied_at: dt.datetime | None = None,
) -> FollowupItem:
    """Move an item to `state`, kept in its history; FollowupError if it cannot."""
    if state not in FOLLOWUP_STATES:
        raise FollowupError(f"unknown state {state!r} (one of {', '.join(FOLLOWUP_STATES)})")
    if via not in VIAS:
        raise FollowupError(f"unknown origin of a change {via!r}")
    item = session.get(FollowupItem, item_id, with_for_update=True)
    if item is None:
        raise FollowupError(f"no follow-up item {item_id}")
    if item.state == state:
        raise FollowupError(f"follow-up item {item_id} is already {state}")
    now = now or utcnow()
    at = replied_at or now
    if state == "replied" and (item.first_response_at is None or at < item.first_response_at):
        item.first_response_at = at
    session.add(FollowupChange(
        item_id=item.id, state_before=item.state, state_after=state, changed_by=by[:200],
        via=via, changed_at=at if state == "replied" else now,
        note=note[:MAX_NOTE_CHARS] if note else None,
    ))
    item.state, item.changed_at, item.changed_by = state, now, by[:200]
    session.flush()
    session.expire(item, ["changes"])
    return item


def history(session: Session, item_id: int) -> list[FollowupChange]:
    return list(session.scalars(
        select(FollowupChange).where(FollowupChange.item_id == item_id).order_by(FollowupChange.id)
    ))


# ------------------------------------------------------------------------- replies found


def record_replies(
    session: Session,
    *,
    business_id: int,
    source_id: int,
    source_type: str,
    replies: Sequence[ReplyData],
    now: dt.datetime | None = None,
) -> int:
    """Store the replies whose mention is known; mark their items replied. Returns how many
    replies were new (a re-crawl of the same reply stores nothing twice)."""
    now = now or utcnow()
    new = 0
    for reply in replies:
        mention_id = _mention_of(session, business_id, source_id, reply)
        if mention_id is None:
            continue  # a reply to a post this source never stored (an older thread)
        stored = session.scalars(select(PublicReply).where(
            PublicReply.mention_id == mention_id, PublicReply.reply_key == reply.reply_key[:512]
        )).first()
        if stored is None:
            new += insert_ignore(session, PublicReply, {
                "mention_id": mention_id, "reply_key": reply.reply_key[:512],
                "text": reply.text[:MAX_REPLY_CHARS], "author": (reply.author or None),
                "replied_at": reply.replied_at, "found_url": reply.url,
                "source_type": source_type[:32], "first_seen_at": now,
            }, conflict_on=["mention_id", "reply_key"])
            stored = session.scalars(select(PublicReply).where(
                PublicReply.mention_id == mention_id,
                PublicReply.reply_key == reply.reply_key[:512],
            )).one()
        else:  # an edited reply: its text changes, its time stays the first one seen
            stored.text, stored.author = reply.text[:MAX_REPLY_CHARS], reply.author
            stored.replied_at = stored.replied_at or reply.replied_at
        item = session.scalars(
            select(FollowupItem).where(FollowupItem.mention_id == mention_id)
        ).first()
        if item is not None:
            _replied(session, item, stored, now)
    session.flush()
    return new


def _replied(session: Session, item: FollowupItem, reply: PublicReply, now: dt.datetime) -> None:
    at = reply.replied_at or reply.first_seen_at or now
    by = (reply.author or "the business")[:200]
    if item.state == "open":
        change_state(session, item.id, "replied", by=by, via="crawler", now=now, replied_at=at,
                     note=f"public reply found on {reply.source_type}")
    elif item.first_response_at is None or at < item.first_response_at:
        item.first_response_at = at  # replied, resolved or dismissed already: the time only


def _mention_of(
    session: Session, business_id: int, source_id: int, reply: ReplyData
) -> int | None:
    if reply.match_on == "status_id":
        condition = Mention.extra["status_id"].as_string() == reply.mention_ref
    else:
        condition = Mention.external_id == reply.mention_ref
    # The source first; then any source of the business (a status seen through another tag).
    for scope in (Mention.source_id == source_id, Mention.business_id == business_id):
        found = session.scalar(
            select(Mention.id).where(scope, condition, Mention.is_own.is_(False)).limit(1)
        )
        if found is not None:
            return found
    return None


def replies_of(session: Session, mention_ids: Iterable[int]) -> dict[int, list[PublicReply]]:
    """The public replies of these mentions, oldest first."""
    ids = list(mention_ids)
    found: dict[int, list[PublicReply]] = {}
    for start in range(0, len(ids), 500):
        for reply in session.scalars(
            select(PublicReply).where(PublicReply.mention_id.in_(ids[start:start + 500]))
            .order_by(PublicReply.replied_at.is_(None), PublicReply.replied_at, PublicReply.id)
        ):
            found.setdefault(reply.mention_id, []).append(reply)
    return found


def item_counts(session: Session, business_id: int) -> dict[str, int]:
    """Items per state (negative mentions only)."""
    rows = session.execute(
        select(FollowupItem.state, func.count()).where(
            and_(FollowupItem.business_id == business_id, FollowupItem.negative.is_(True))
        ).group_by(FollowupItem.state)
    ).all()
    counts = dict.fromkeys(FOLLOWUP_STATES, 0)
    counts.update({state: int(n) for state, n in rows})
    return counts
