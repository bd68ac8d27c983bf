"""A worker runs the next stages of a cycle itself (crawl → score → snapshot, and the digest
when due) instead of publishing them, and a chain cut short by a dead worker is picked up
through the redelivered first task. In process, on both backends; the broker is a list."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from reviewwatch.worker.runtime import WorkerRuntime, set_runtime
from reviewwatch.worker.tasks import run_stage
from storage.cycles import claim_cycle, enqueue_stages, finish_stage, start_stage_here
from storage.models import Business, CycleRun, CycleStage, GapSnapshot, Source, utcnow
from storage.db import Store
from tests.analysts.conftest import Seeded, analyst_settings, seed_store

SLUG = "shop-b"


class NoRetry:
    def retry(self, countdown: float) -> Exception:
        raise AssertionError(f"unexpected retry in {countdown} s")


@pytest.fixture
def seeded(store: Store) -> Seeded:
    return seed_store(store, analyst_settings())


@pytest.fixture
def worker(seeded: Seeded):  # type: ignore[no-untyped-def]
    """A runtime taking every stage, whose broker is a list of (stage, cycle id)."""
    with seeded.store.transaction() as session:  # nothing to fetch: the crawl has no source
        session.execute(update(Source).values(active=False))
    published: list[tuple[str, int]] = []
    runtime = WorkerRuntime(seeded.settings, seeded.store, queues=["crawl", "score", "snapshot",
                                                                   "digest"],
                            concurrency=1, publish=lambda stage, cid: published.append((stage, cid)),
                            name="w-alive")
    runtime._scorer = SimpleNamespace(score=lambda slug: 0)  # type: ignore[assignment]
    set_runtime(runtime)
    yield runtime, published
    set_runtime(None)


def _cycle(seeded: Seeded, due_in: dt.timedelta) -> int:
    now = utcnow()
    with seeded.store.transaction() as session:
        business_id = session.scalars(select(Business.id).where(Business.slug == SLUG)).one()
        cycle_id = claim_cycle(session, business_id=business_id, cycle_date=now.date(),
                               due_at=now + due_in, claimed_by="test", crawl_at=now)
        assert cycle_id is not None
        enqueue_stages(session, [cycle_id], "crawl")
    return cycle_id


def _stages(seeded: Seeded, cycle_id: int) -> dict[str, tuple[str, int, str | None]]:
    with seeded.store.session() as session:
        return {row.stage: (row.state, row.attempts, row.worker) for row in session.scalars(
            select(CycleStage).where(CycleStage.cycle_id == cycle_id))}


def _snapshots(seeded: Seeded) -> int:
    with seeded.store.session() as session:
        return len(session.scalars(select(GapSnapshot.id)).all())


def test_one_task_runs_the_whole_cycle_when_its_digest_is_due(seeded: Seeded, worker) -> None:  # type: ignore[no-untyped-def]
    runtime, published = worker
    cycle_id = _cycle(seeded, -dt.timedelta(minutes=1))
    before = _snapshots(seeded)

    detail = run_stage(NoRetry(), cycle_id, "crawl")

    assert published == []  # nothing went through the broker
    assert _stages(seeded, cycle_id) == {s: ("done", 1, "w-alive")
                                         for s in ("crawl", "score", "snapshot", "digest")}
    assert "score: 0 scored" in detail and "; digest: " in detail
    assert _snapshots(seeded) == before + 1
    with seeded.store.session() as session:
        assert session.get_one(CycleRun, cycle_id).status == "done"


def test_a_digest_not_due_yet_is_left_to_the_scheduler(seeded: Seeded, worker) -> None:  # type: ignore[no-untyped-def]
    runtime, published = worker
    cycle_id = _cycle(seeded, dt.timedelta(hours=2))

    run_stage(NoRetry(), cycle_id, "crawl")

    assert published == []
    assert _stages(seeded, cycle_id) == {s: ("done", 1, "w-alive")
                                         for s in ("crawl", "score", "snapshot")}


def test_a_stage_this_worker_does_not_take_is_published(seeded: Seeded, worker) -> None:  # type: ignore[no-untyped-def]
    runtime, published = worker
    runtime.queues = ["crawl"]
    cycle_id = _cycle(seeded, -dt.timedelta(minutes=1))

    run_stage(NoRetry(), cycle_id, "crawl")

    assert published == [("score", cycle_id)]
    assert set(_stages(seeded, cycle_id)) == {"crawl"}


@pytest.mark.parametrize("died_in", ["score", "snapshot", "digest"])
def test_a_chain_cut_short_by_a_dead_worker_is_picked_up_by_the_redelivered_task(
    seeded: Seeded, worker, died_in: str  # type: ignore[no-untyped-def]
) -> None:
    runtime, published = worker
    cycle_id = _cycle(seeded, -dt.timedelta(minutes=1))
    order = ["crawl", "score", "snapshot", "digest"]
    long_ago = utcnow() - dt.timedelta(hours=1)
    with seeded.store.transaction() as session:  # what the dead worker left: done up to died_in
        crawl = session.scalars(select(CycleStage).where(CycleStage.cycle_id == cycle_id)).one()
        crawl.state, crawl.attempts, crawl.worker = "running", 1, "w-dead"
        session.flush()
        finish_stage(session, crawl.id, True, "crawled")
        for stage in order[1:order.index(died_in) + 1]:
            stage_id = start_stage_here(session, cycle_id, stage, "w-dead", now=long_ago)
            assert stage_id is not None
            if stage != died_in:
                finish_stage(session, stage_id, True, "done before the kill")
    # The stage it died in has no message: the crawl's, never acknowledged, comes again.
    assert run_stage(NoRetry(), cycle_id, "crawl") == "already finished"
    assert published == [(died_in, cycle_id)]

    run_stage(NoRetry(), cycle_id, died_in)  # its lease ran out an hour ago: taken over

    stages = _stages(seeded, cycle_id)
    assert stages[died_in] == ("done", 2, "w-alive")
    assert {s: state for s, (state, _a, _w) in stages.items()} == dict.fromkeys(order, "done")
    assert published == [(died_in, cycle_id)]  # the rest ran in that task
    with seeded.store.session() as session:
        assert session.get_one(CycleRun, cycle_id).status == "done"
