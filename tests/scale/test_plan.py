"""The day's plan and the run key: slots in local time, crawls spread within each host's budget,
cycles and stages claimed once, a lost worker's stage taken over after its lease."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reviewwatch.config import ConfigError, Settings, load_settings
from reviewwatch.plan import current_slot, plan_crawls, slot_on, slots_to_plan, source_host
from reviewwatch.worker.dispatch import due_stages, plan_cycles
from storage.cycles import begin_stage, claim_cycle, enqueue_stage, finish_stage
from storage.db import Store
from storage.models import Business, CycleRun, utcnow

UTC = dt.UTC


def _settings(tmp_path: Path, **schedule: object) -> Settings:
    return Settings(
        data_dir=tmp_path,
        schedule=schedule,
        businesses=[
            {"id": "paris", "name": "Paris", "timezone": "Europe/Paris",
             "digest": {"send_at": "08:00"},
             "sources": [{"type": "schema_org", "url": "https://reviews.example/paris"}]},
            {"id": "lyon", "name": "Lyon", "timezone": "Europe/Paris",
             "digest": {"send_at": "08:00", "frequency": "weekly", "weekday": "tue"},
             "sources": [{"type": "schema_org", "url": "https://reviews.example/lyon"},
                         {"type": "own_site", "url": "https://lyon.example/"}]},
        ],
    )


def test_slots_are_local_dates_and_times(tmp_path: Path) -> None:
    paris = _settings(tmp_path).businesses[0]
    slot = slot_on(paris, dt.date(2026, 7, 1))  # summer time: 08:00 in Paris is 06:00 UTC
    assert slot.due_at == dt.datetime(2026, 7, 1, 6, tzinfo=UTC)
    # 07:59 Paris on July 2nd still belongs to July 1st's cycle; 08:00 to July 2nd's.
    assert current_slot(paris, dt.datetime(2026, 7, 2, 5, 59, tzinfo=UTC)).cycle_date == dt.date(2026, 7, 1)
    assert current_slot(paris, dt.datetime(2026, 7, 2, 6, 0, tzinfo=UTC)).cycle_date == dt.date(2026, 7, 2)
    now = dt.datetime(2026, 7, 1, 20, tzinfo=UTC)
    ahead = slots_to_plan([paris], now, ahead_s=12 * 3600, grace_s=3600)
    assert [s.cycle_date for s in ahead] == [dt.date(2026, 7, 2)]  # due in 10 h; today's is past
    assert slots_to_plan([paris], now, ahead_s=9 * 3600, grace_s=3600) == []


def test_a_shared_host_gets_its_crawls_one_after_another_back_from_the_digest() -> None:
    due = dt.datetime(2026, 7, 1, 6, tzinfo=UTC)
    # 100 businesses on one platform (3 requests each) and each on a site of its own.
    slots = [(i, due) for i in range(100)]
    demand = {i: [("platform.example", 3), (f"site{i}.example", 2)] for i in range(100)}
    plan = plan_crawls(slots, demand, delay_s=1.0, margin_s=900)
    finish = due - dt.timedelta(seconds=900)
    starts = sorted(plan.values())
    # The platform's 300 requests at 1 s: its crawls fill the 300 s before the margin, 3 s each.
    assert starts[-1] == finish - dt.timedelta(seconds=3)
    assert starts[0] == finish - dt.timedelta(seconds=300)
    assert all(b - a == dt.timedelta(seconds=3) for a, b in zip(starts, starts[1:], strict=False))
    assert plan_crawls(slots, demand, delay_s=1.0, margin_s=900) == plan  # deterministic
    # Without the shared host, every crawl starts as late as its own site allows.
    alone = plan_crawls(slots, {i: [(f"site{i}.example", 2)] for i in range(100)},
                        delay_s=1.0, margin_s=900)
    assert set(alone.values()) == {finish - dt.timedelta(seconds=2)}


def test_source_hosts() -> None:
    assert source_host("schema_org", "https://Reviews.example:8443/x") == "reviews.example:8443"
    assert source_host("mastodon", "@cafe@social.example") == "social.example"
    assert source_host("reddit", "cafe aurora") == "oauth.reddit.com"


def test_a_url_with_a_password_is_refused_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rw.toml"
    path.write_text('[workers]\nbroker_url = "amqp://rw:s3cret@mq.internal:5672//"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert "REVIEWWATCH_WORKERS__BROKER_URL" in str(error.value) and "s3cret" not in str(error.value)
    path.write_text('[workers]\nbroker_url = "amqp://rw@mq.internal:5672//"\n')
    assert load_settings(path).workers.broker_url == "amqp://rw@mq.internal:5672//"


def test_cycles_are_claimed_once_and_planned_before_their_digest(store: Store, tmp_path: Path) -> None:
    settings = _settings(tmp_path, crawl_margin_s=600, plan_ahead_s=12 * 3600)
    from reviewwatch.sync import sync_settings

    with store.transaction() as session:
        sync_settings(session, settings)
    now = dt.datetime(2026, 7, 6, 20, tzinfo=UTC)  # a Monday evening; Tuesday 08:00 Paris is due
    assert plan_cycles(store, settings, now, "scheduler-a") == 2
    assert plan_cycles(store, settings, now, "scheduler-b") == 0  # already claimed
    with store.session() as session:
        runs = {r.business_id: r for r in session.query(CycleRun)}
        slugs = {b.id: b.slug for b in session.query(Business)}
    by_slug = {slugs[k]: v for k, v in runs.items()}
    due = dt.datetime(2026, 7, 7, 6, tzinfo=UTC)
    assert {r.due_at for r in runs.values()} == {due}
    assert all(r.crawl_at is not None and r.crawl_at <= due - dt.timedelta(seconds=600)
               for r in runs.values())
    assert by_slug["lyon"].send_digest and by_slug["paris"].send_digest  # Tuesday: weekly too
    assert {r.claimed_by for r in runs.values()} == {"scheduler-a"}
    # Nothing is due before the planned crawls; at the digest time, crawls then digests.
    assert due_stages(store, now) == {"crawl": [], "digest": []}
    later = due + dt.timedelta(seconds=1)
    assert sorted(due_stages(store, later)["crawl"]) == sorted(r.id for r in runs.values())


def test_a_scheduler_does_not_ask_again_for_cycles_it_has_seen_claimed(
    store: Store, tmp_path: Path
) -> None:
    """Ticks come every `plan_every_s`; between two days' planning they find every slot claimed.
    Once a scheduler has seen them claimed it reads no cycle rows for them; another scheduler,
    or a new day, still asks the store."""
    from sqlalchemy import event

    from reviewwatch.sync import sync_settings

    settings = _settings(tmp_path, crawl_margin_s=600, plan_ahead_s=12 * 3600)
    with store.transaction() as session:
        sync_settings(session, settings)
    now = dt.datetime(2026, 7, 6, 20, tzinfo=UTC)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        assert plan_cycles(store, settings, now, "scheduler-a") == 2
        assert any("cycle_runs" in s for s in statements)
        statements.clear()
        assert plan_cycles(store, settings, now + dt.timedelta(seconds=1), "scheduler-a") == 0
        assert not any("cycle_runs" in s for s in statements)  # known: nothing read or written
        statements.clear()
        assert plan_cycles(store, settings, now, "scheduler-b") == 0  # new to it: it asks
        assert any("cycle_runs" in s for s in statements)
        # The next day's slots are new: planned and claimed as usual.
        assert plan_cycles(store, settings, now + dt.timedelta(days=1), "scheduler-a") == 2
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    with store.session() as session:
        assert session.query(CycleRun).count() == 4


def test_a_stage_runs_once_and_a_lost_workers_stage_is_taken_over(store: Store) -> None:
    with store.transaction() as session:
        business = Business(slug="b", name="B")
        session.add(business)
        session.flush()
        cycle_id = claim_cycle(session, business_id=business.id, cycle_date=dt.date(2026, 7, 1),
                               due_at=utcnow(), claimed_by="s")
        assert cycle_id is not None
        assert claim_cycle(session, business_id=business.id, cycle_date=dt.date(2026, 7, 1),
                           due_at=utcnow(), claimed_by="other") is None
        assert enqueue_stage(session, cycle_id, "crawl") is True
        assert enqueue_stage(session, cycle_id, "crawl") is False
    lease = dt.timedelta(seconds=30)
    t0 = utcnow()
    with store.transaction() as session:
        first = begin_stage(session, cycle_id, "crawl", "w1", lease, now=t0)
    assert (first.decision, first.attempts) == ("run", 1)
    with store.transaction() as session:  # delivered again while w1 is alive: wait for it
        busy = begin_stage(session, cycle_id, "crawl", "w2", lease, now=t0 + dt.timedelta(seconds=5))
    assert busy.decision == "busy" and busy.lease_ends == t0 + lease
    with store.transaction() as session:  # w1 stopped beating: w2 takes it over
        again = begin_stage(session, cycle_id, "crawl", "w2", lease, now=t0 + dt.timedelta(seconds=31))
    assert (again.decision, again.attempts) == ("run", 2)
    with store.transaction() as session:
        assert again.stage_id is not None
        finish_stage(session, again.stage_id, True, "done")
    with store.transaction() as session:
        done = begin_stage(session, cycle_id, "crawl", "w3", lease)
    assert done.decision == "finished"
