from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from storage.db import Store
from storage.mentions import MentionData, mark_deleted, normalise_rating, write_mentions
from storage.models import Business, Mention, MentionRevision, Source

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


def _source(store: Store) -> tuple[int, int]:
    with store.transaction() as session:
        business = Business(slug="b", name="B")
        session.add(business)
        session.flush()
        source = Source(business_id=business.id, type="schema_org", target="http://x/", state={})
        session.add(source)
        session.flush()
        return business.id, source.id


def _item(external_id: str, text: str, rating: float | None = 4) -> MentionData:
    return MentionData(
        external_id=external_id, text=text, rating=rating, rating_scale=5, author="Ann",
        published_at=T0, language="en",
    )


def test_rewrite_of_same_content_changes_only_last_seen(store: Store) -> None:
    business_id, source_id = _source(store)
    items = [_item("r1", "Great coffee"), _item("r2", "Slow service", 2)]
    with store.transaction() as session:
        first = write_mentions(session, business_id=business_id, source_id=source_id, items=items, seen_at=T0)
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    with store.transaction() as session:
        again = write_mentions(session, business_id=business_id, source_id=source_id, items=items, seen_at=T1)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    with store.session() as session:
        rows = session.scalars(select(Mention).order_by(Mention.external_id)).all()
        assert [(m.external_id, m.revision, m.first_seen_at, m.last_seen_at) for m in rows] == [
            ("r1", 1, T0, T1), ("r2", 1, T0, T1)
        ]
        assert rows[0].rating_normalised == pytest.approx(0.75)
        assert session.scalar(select(func.count()).select_from(MentionRevision)) == 0


def test_edited_content_becomes_a_revision(store: Store) -> None:
    business_id, source_id = _source(store)
    with store.transaction() as session:
        write_mentions(session, business_id=business_id, source_id=source_id, items=[_item("r1", "Good")], seen_at=T0)
    with store.transaction() as session:
        result = write_mentions(
            session, business_id=business_id, source_id=source_id,
            items=[_item("r1", "Actually terrible", 1)], seen_at=T1,
        )
    assert (result.new, result.updated, result.unchanged) == (0, 1, 0)
    with store.session() as session:
        mention = session.scalars(select(Mention)).one()
        assert (mention.text, mention.rating, mention.revision) == ("Actually terrible", 1, 2)
        assert mention.rating_normalised == 0.0
        old = session.scalars(select(MentionRevision)).one()
        assert (old.revision, old.text, old.rating, old.seen_from) == (1, "Good", 4, T0)


def test_duplicates_within_a_batch_keep_the_last(store: Store) -> None:
    business_id, source_id = _source(store)
    with store.transaction() as session:
        result = write_mentions(
            session, business_id=business_id, source_id=source_id,
            items=[_item("r1", "first"), _item("r1", "second")],
        )
    assert result.new == 1
    with store.session() as session:
        assert session.scalars(select(Mention.text)).all() == ["second"]


def test_failed_batch_loses_nothing_already_stored(store: Store) -> None:
    business_id, source_id = _source(store)
    with store.transaction() as session:
        write_mentions(session, business_id=business_id, source_id=source_id, items=[_item("r1", "kept")])
    with pytest.raises(RuntimeError):
        with store.transaction() as session:
            write_mentions(session, business_id=business_id, source_id=source_id, items=[_item("r2", "x")])
            raise RuntimeError("crash mid-batch")
    with store.session() as session:
        assert session.scalars(select(Mention.external_id)).all() == ["r1"]


def test_mark_deleted_after_full_listing_and_undelete_on_return(store: Store) -> None:
    business_id, source_id = _source(store)
    with store.transaction() as session:
        write_mentions(session, business_id=business_id, source_id=source_id, items=[_item("r1", "a"), _item("r2", "b")])
        assert mark_deleted(session, source_id=source_id, seen_external_ids=["r1"], at=T1) == 1
    with store.session() as session:
        gone = session.scalars(select(Mention).where(Mention.deleted_at.is_not(None))).one()
        assert gone.external_id == "r2"
    with store.transaction() as session:
        write_mentions(session, business_id=business_id, source_id=source_id, items=[_item("r2", "b")])
    with store.session() as session:
        assert session.scalar(select(func.count()).where(Mention.deleted_at.is_not(None))) == 0


@pytest.mark.parametrize(
    ("rating", "scale", "expected"),
    [(5, 5, 1.0), (1, 5, 0.0), (3, 5, 0.5), (10, 10, 1.0), (7, 10, 2 / 3), (None, 5, None), (4, None, None)],
)
def test_normalise_rating(rating, scale, expected) -> None:
    assert normalise_rating(rating, scale) == (pytest.approx(expected) if expected is not None else None)
