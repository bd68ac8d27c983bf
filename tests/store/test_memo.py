"""storage/memo.py: values kept for one transaction of a session, never past it."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from storage.memo import forget, per_transaction


def test_a_memo_lives_as_long_as_its_transaction() -> None:
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        outside = per_transaction(session, "k")
        outside["x"] = 1
        assert per_transaction(session, "k") == {}  # no transaction: nothing kept
        session.execute(text("select 1"))  # begins one
        per_transaction(session, "k")["x"] = 2
        assert per_transaction(session, "k") == {"x": 2}
        assert per_transaction(session, "other") == {}  # keys do not share
        forget(session, "k")
        assert per_transaction(session, "k") == {}
        per_transaction(session, "k")["x"] = 3
        session.commit()
        session.execute(text("select 1"))  # a new transaction starts empty
        assert per_transaction(session, "k") == {}
