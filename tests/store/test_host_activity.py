"""storage.activity.add_host_activity: one statement adds a report of many hosts to their rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, select

from storage.activity import HostCounts, add_host_activity, host_activity
from storage.db import Store
from storage.models import HostActivity

HOUR = dt.datetime(2026, 12, 7, 8, tzinfo=dt.UTC)


def _rows(store: Store) -> dict[str, tuple[int, int, float, float | None]]:
    with store.session() as session:
        return {r.host: (r.requests, r.gaps, r.gap_sum_s, r.min_gap_s)
                for r in session.scalars(select(HostActivity).where(HostActivity.hour == HOUR))}


def test_reports_add_up_per_host_and_hour_in_one_statement(store: Store) -> None:
    sent: list[str] = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: sent.append(statement))
    first = [HostCounts(f"h{i}.example", 3, 2, 2.5, 1.0 + i) for i in range(120)]
    with store.transaction() as session:
        add_host_activity(session, HOUR, first)
    assert len([s for s in sent if "host_activity" in s]) == 1
    # A second report (another worker, or this one later): sums add up, the smallest gap stays
    # the smallest, and a report without a gap keeps the stored one.
    second = [HostCounts("h0.example", 2, 1, 0.5, 0.5), HostCounts("h1.example", 1, 0, 0.0, None),
              HostCounts("new.example", 1, 0, 0.0, None)]
    with store.transaction() as session:
        add_host_activity(session, HOUR, second)
    rows = _rows(store)
    assert len(rows) == 121
    assert rows["h0.example"] == (5, 3, 3.0, 0.5)
    assert rows["h1.example"] == (4, 2, 2.5, 2.0)
    assert rows["h7.example"] == (3, 2, 2.5, 8.0)
    assert rows["new.example"] == (1, 0, 0.0, None)
    with store.transaction() as session:  # a gap where none was stored is taken
        add_host_activity(session, HOUR, [HostCounts("new.example", 1, 1, 4.0, 4.0)])
        add_host_activity(session, HOUR, [])  # nothing to add: no statement, no error
    assert _rows(store)["new.example"] == (2, 1, 4.0, 4.0)
    with store.session() as session:
        shown = {row.host: row for row in host_activity(session, HOUR, limit=200)}
    assert shown["h0.example"].requests == 5 and shown["h0.example"].min_gap_s == 0.5


def test_a_host_named_twice_after_cutting_to_255_characters_is_added_once(store: Store) -> None:
    long = "a" * 300
    with store.transaction() as session:
        add_host_activity(session, HOUR, [HostCounts(long + "x", 1, 1, 1.0, 1.0),
                                          HostCounts(long + "y", 2, 1, 3.0, 3.0)])
    assert _rows(store) == {"a" * 255: (3, 2, 4.0, 1.0)}
