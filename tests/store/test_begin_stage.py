"""`begin_stage` on a stage without a row (published by the previous stage): its row is inserted
as running by the one delivery that runs it, and a delivery whose insert meets a row (another
delivery's, the scheduler's) decides on that row as before."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, select, text

from storage.cycles import begin_stage, claim_cycle, enqueue_stage, finish_stage
from storage.db import Store
from storage.models import Business, CycleStage, utcnow

LEASE = dt.timedelta(seconds=30)


def _cycle(store: Store) -> int:
    with store.transaction() as session:
        business = Business(slug="b", name="B")
        session.add(business)
        session.flush()
        cycle_id = claim_cycle(session, business_id=business.id, cycle_date=dt.date(2026, 7, 1),
                               due_at=utcnow(), claimed_by="s")
    assert cycle_id is not None
    return cycle_id


def _rows(store: Store, cycle_id: int) -> list[CycleStage]:
    with store.session() as session:
        rows = list(session.scalars(select(CycleStage).where(CycleStage.cycle_id == cycle_id)))
        session.expunge_all()
        return rows


@pytest.mark.parametrize("row_expected", [True, False])
def test_a_stage_without_a_row_runs_once_as_attempt_one(store: Store, row_expected: bool) -> None:
    cycle_id = _cycle(store)
    t0 = utcnow()
    with store.transaction() as session:
        first = begin_stage(session, cycle_id, "score", "w1", LEASE, now=t0, row_expected=row_expected)
    assert (first.decision, first.attempts) == ("run", 1)
    [row] = _rows(store, cycle_id)
    assert (row.id, row.stage, row.state, row.attempts, row.worker) == (
        first.stage_id, "score", "running", 1, "w1")
    assert row.started_at == row.heartbeat_at == row.enqueued_at
    assert row.started_at is not None and abs(row.started_at - t0) < dt.timedelta(seconds=1)

    # Delivered again while w1 beats: left to it; after its lease: taken over as attempt 2.
    with store.transaction() as session:
        busy = begin_stage(session, cycle_id, "score", "w2", LEASE, now=t0 + dt.timedelta(seconds=5),
                           row_expected=row_expected)
    assert (busy.decision, busy.stage_id) == ("busy", first.stage_id)
    assert busy.lease_ends is not None and abs(busy.lease_ends - (t0 + LEASE)) < dt.timedelta(seconds=1)
    with store.transaction() as session:
        again = begin_stage(session, cycle_id, "score", "w2", LEASE,
                            now=t0 + dt.timedelta(seconds=31), row_expected=row_expected)
    assert (again.decision, again.stage_id, again.attempts) == ("run", first.stage_id, 2)
    with store.transaction() as session:
        finish_stage(session, first.stage_id, True, "done")
    with store.transaction() as session:
        done = begin_stage(session, cycle_id, "score", "w3", LEASE, row_expected=row_expected)
    assert (done.decision, done.attempts) == ("finished", 2)
    assert len(_rows(store, cycle_id)) == 1


def test_an_insert_that_meets_the_schedulers_row_runs_that_row(store: Store) -> None:
    """row_expected=False on an enqueued row (the scheduler's): the insert does nothing, the
    row is started as before (attempt 1, one row)."""
    cycle_id = _cycle(store)
    with store.transaction() as session:
        assert enqueue_stage(session, cycle_id, "snapshot")
    [enqueued] = _rows(store, cycle_id)
    with store.transaction() as session:
        start = begin_stage(session, cycle_id, "snapshot", "w1", LEASE, row_expected=False)
    assert (start.decision, start.stage_id, start.attempts) == ("run", enqueued.id, 1)
    [row] = _rows(store, cycle_id)
    assert (row.state, row.worker, row.attempts) == ("running", "w1", 1)


def test_an_unknown_cycle_inserts_nothing(store: Store) -> None:
    cycle_id = _cycle(store)
    with store.transaction() as session:
        start = begin_stage(session, cycle_id + 1000, "score", "w1", LEASE, row_expected=False)
    assert start.decision == "unknown"
    assert _rows(store, cycle_id) == [] and _rows(store, cycle_id + 1000) == []


def test_two_deliveries_inserting_at_once_run_the_stage_once(store: Store) -> None:
    """The conflict path: the second delivery finds no row (the first's insert is not committed),
    its insert waits on the first's and does nothing, and it decides on the first's row (busy)."""
    if store.backend != "postgresql":
        pytest.skip("two writers at once: PostgreSQL (SQLite has one writer at a time)")
    cycle_id = _cycle(store)
    second_store = Store(str(store.engine.url.render_as_string(hide_password=False)), migrate=False)
    sent: list[str] = []
    pids: list[int] = []

    def record(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        pids.append(cursor.connection.info.backend_pid)
        sent.append(statement.split()[0] + (" FOR UPDATE" if "FOR UPDATE" in statement else ""))

    event.listen(second_store.engine, "before_cursor_execute", record)
    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            with second_store.transaction() as session:
                outcome["start"] = begin_stage(session, cycle_id, "score", "w2", LEASE)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcome["error"] = exc

    try:
        with store.transaction() as session:
            first = begin_stage(session, cycle_id, "score", "w1", LEASE, row_expected=False)
            assert (first.decision, first.attempts) == ("run", 1)
            thread = threading.Thread(target=second)
            thread.start()
            _wait_for_lock_wait(store, pids)  # the second's insert waits on the first's row
        thread.join(timeout=30)
    finally:
        second_store.dispose()
    assert "error" not in outcome, outcome.get("error")
    start = outcome["start"]
    assert (start.decision, start.stage_id, start.attempts) == ("busy", first.stage_id, 1)
    # It looked (nothing visible), inserted (met the first's row) and looked again.
    assert [s for s in sent if s in ("SELECT FOR UPDATE", "INSERT")] == [
        "SELECT FOR UPDATE", "INSERT", "SELECT FOR UPDATE"]
    [row] = _rows(store, cycle_id)
    assert (row.state, row.worker, row.attempts) == ("running", "w1", 1)


def _wait_for_lock_wait(store: Store, pids: list[int]) -> None:
    deadline = time.monotonic() + 20
    with store.engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = pids and connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid "
                "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO cycle_stages%'"
            ), {"pid": pids[-1]}).scalar_one()
            connection.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second delivery never waited on the first's insert")
