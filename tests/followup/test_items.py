"""Follow-up items: one per negative mention, idempotent, relabelled by corrections, history kept."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from storage.corrections import correct_mention
from storage.followup import FollowupError, change_state, history, sync_followups
from storage.models import FollowupChange, FollowupItem
from tests.analysts.conftest import CAFE, SHOP, Seeded

NEGATIVE = {ext for ext, _t, _r, _l, _d, label, _tp in CAFE + SHOP if label == "negative"}


def _items(seeded: Seeded) -> dict[str, FollowupItem]:
    by_id = {v: k for k, v in seeded.ids.items()}
    with seeded.store.session() as session:
        return {by_id[i.mention_id]: i for i in session.scalars(select(FollowupItem))}


def test_one_item_per_negative_mention_and_a_rerun_creates_nothing(seeded: Seeded) -> None:
    with seeded.store.transaction() as session:
        first = sync_followups(session)
    with seeded.store.transaction() as session:
        again = sync_followups(session)
    items = _items(seeded)
    assert set(items) == NEGATIVE and first.opened == len(NEGATIVE) == 6
    assert again.opened == again.withdrawn == again.restored == 0
    assert {i.state for i in items.values()} == {"open"}
    with seeded.store.session() as session:
        assert session.scalar(select(func.count()).select_from(FollowupChange)) == 6


def test_a_correction_to_positive_dismisses_an_open_item_and_back_reopens_it(seeded: Seeded) -> None:
    with seeded.store.transaction() as session:
        sync_followups(session)
        correct_mention(session, seeded.ids["c1"], analyst="alice", label="positive", topics=None,
                        note=None, known_topics=["service"])
        counts = sync_followups(session)
    item = _items(seeded)["c1"]
    assert counts.withdrawn == 1 and (item.state, item.negative) == ("dismissed", False)
    with seeded.store.transaction() as session:
        correct_mention(session, seeded.ids["c1"], analyst="alice", label="negative", topics=None,
                        note=None, known_topics=["service"])
        assert sync_followups(session).restored == 1
        item = session.scalars(select(FollowupItem).where(
            FollowupItem.mention_id == seeded.ids["c1"])).one()
        assert (item.state, item.negative) == ("open", True)
        assert [(c.state_after, c.via) for c in history(session, item.id)] == [
            ("open", "created"), ("dismissed", "relabel"), ("open", "relabel")]


def test_a_replied_item_relabelled_positive_keeps_its_state(seeded: Seeded) -> None:
    with seeded.store.transaction() as session:
        sync_followups(session)
        item = session.scalars(select(FollowupItem).where(
            FollowupItem.mention_id == seeded.ids["c3"])).one()
        change_state(session, item.id, "replied", by="alice", via="api")
        correct_mention(session, seeded.ids["c3"], analyst="alice", label="neutral", topics=None,
                        note=None, known_topics=["price"])
        sync_followups(session)
    item = _items(seeded)["c3"]
    assert (item.state, item.negative) == ("replied", False)
    assert item.first_response_at is not None


def test_state_changes_are_checked_and_kept(seeded: Seeded) -> None:
    at = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)
    with seeded.store.transaction() as session:
        sync_followups(session)
        item_id = session.scalars(select(FollowupItem.id).where(
            FollowupItem.mention_id == seeded.ids["c1"])).one()
        change_state(session, item_id, "replied", by="alice", via="api", replied_at=at)
        with pytest.raises(FollowupError, match="already replied"):
            change_state(session, item_id, "replied", by="alice", via="api")
        with pytest.raises(FollowupError, match="unknown state"):
            change_state(session, item_id, "closed", by="alice", via="api")
        change_state(session, item_id, "resolved", by="bob", via="link", note="called back")
        changes = history(session, item_id)
    assert [(c.state_before, c.state_after, c.changed_by, c.via) for c in changes] == [
        (None, "open", "reviewwatch", "created"), ("open", "replied", "alice", "api"),
        ("replied", "resolved", "bob", "link")]
    item = _items(seeded)["c1"]
    assert item.first_response_at == at and item.state == "resolved" and item.changed_by == "bob"


def test_a_reply_is_stored_once_and_one_found_before_scoring_opens_the_item_replied(
    seeded: Seeded,
) -> None:
    from storage.followup import ReplyData, record_replies
    from storage.models import Mention, PublicReply

    at = dt.datetime(2026, 11, 19, 8, 0, tzinfo=dt.UTC)
    with seeded.store.transaction() as session:
        mention = session.get_one(Mention, seeded.ids["c9"])
        reply = ReplyData(mention_ref=mention.external_id, reply_key="reply", text="Förlåt!",
                          author="Café A", replied_at=at)
        kwargs = {"business_id": mention.business_id, "source_id": mention.source_id,
                  "source_type": "trustpilot", "replies": [reply]}
        assert record_replies(session, **kwargs) == 1  # before any item exists
        assert record_replies(session, **kwargs) == 0  # the same reply again: nothing new
        assert record_replies(session, **{**kwargs, "replies": [ReplyData(
            mention_ref="unknown", reply_key="reply", text="?")]}) == 0
        sync_followups(session)
        item = session.scalars(select(FollowupItem).where(
            FollowupItem.mention_id == mention.id)).one()
        assert (item.state, item.first_response_at) == ("replied", at)
        assert [(c.state_after, c.via) for c in history(session, item.id)] == [
            ("open", "created"), ("replied", "crawler")]
        record_replies(session, **kwargs)
        assert len(history(session, item.id)) == 2
        assert session.scalar(select(func.count()).select_from(PublicReply)) == 1


def test_a_change_of_state_is_a_new_store_revision(seeded: Seeded) -> None:
    """The API's cached gap reports (with their response figures) are not served stale."""
    from storage.revision import store_revision

    with seeded.store.transaction() as session:
        sync_followups(session)
        before = store_revision(session)
        item_id = session.scalars(select(FollowupItem.id)).first()
        assert item_id is not None
        change_state(session, item_id, "resolved", by="alice", via="api")
        assert store_revision(session) != before


def test_one_sync_opens_withdraws_and_restores_within_its_business(seeded: Seeded) -> None:
    """The three kinds of change found in one pass over the business's mentions."""
    from storage.models import Mention

    with seeded.store.transaction() as session:
        cafe = session.get_one(Mention, seeded.ids["c1"]).business_id
        sync_followups(session, cafe)
        correct_mention(session, seeded.ids["c1"], analyst="alice", label="positive", topics=None,
                        note=None, known_topics=["service"])
        sync_followups(session, cafe)
    with seeded.store.transaction() as session:
        correct_mention(session, seeded.ids["c1"], analyst="alice", label="negative", topics=None,
                        note=None, known_topics=["service"])
        correct_mention(session, seeded.ids["c3"], analyst="alice", label="neutral", topics=None,
                        note=None, known_topics=["price"])
        correct_mention(session, seeded.ids["c2"], analyst="alice", label="negative", topics=None,
                        note=None, known_topics=["service"])
        counts = sync_followups(session, cafe)
        assert (counts.opened, counts.withdrawn, counts.restored) == (1, 1, 1)
        assert sync_followups(session, cafe) == type(counts)()  # in step now
    items = _items(seeded)
    assert "s1" not in items  # the other business's mentions are not touched
    assert set(items) == (NEGATIVE - {"s1"}) | {"c2"}
    assert [(items[k].state, items[k].negative) for k in ("c1", "c2", "c3")] == [
        ("open", True), ("open", True), ("dismissed", False)]
    with seeded.store.session() as session:
        assert [(c.state_after, c.via) for c in history(session, items["c2"].id)] == [
            ("open", "created")]
        assert [(c.state_after, c.via) for c in history(session, items["c3"].id)] == [
            ("open", "created"), ("dismissed", "relabel")]


def test_replies_found_before_scoring_mark_each_new_item_replied_at_its_first(
    seeded: Seeded,
) -> None:
    from storage.followup import ReplyData, record_replies
    from storage.models import Mention

    early = dt.datetime(2026, 11, 19, 8, 0, tzinfo=dt.UTC)
    late = early + dt.timedelta(hours=3)
    with seeded.store.transaction() as session:
        for ext, replies in (("c8", [("r2", late), ("r1", early)]), ("s1", [("r", late)])):
            mention = session.get_one(Mention, seeded.ids[ext])
            assert record_replies(
                session, business_id=mention.business_id, source_id=mention.source_id,
                source_type="trustpilot",
                replies=[ReplyData(mention_ref=mention.external_id, reply_key=key, text="Sorry",
                                   replied_at=at) for key, at in replies]) == len(replies)
        assert sync_followups(session).opened == len(NEGATIVE)
    items = _items(seeded)
    assert (items["c8"].state, items["c8"].first_response_at) == ("replied", early)
    assert (items["s1"].state, items["s1"].first_response_at) == ("replied", late)
    assert {items[k].state for k in NEGATIVE - {"c8", "s1"}} == {"open"}
    with seeded.store.session() as session:
        for ext in ("c8", "s1", "c1"):
            changes = [(c.state_after, c.via) for c in history(session, items[ext].id)]
            assert changes == [("open", "created")] + ([("replied", "crawler")] if ext != "c1" else [])
