"""The scheduler's side with a broker: plan cycles, claim them once, enqueue what is due.

Every `schedule.plan_every_s` the scheduler runs `tick`:
1. claims the cycles coming due within `schedule.plan_ahead_s` (one row per business and local
   date: of several schedulers, one inserts it) with their planned crawl start (`plan.py`);
2. enqueues the crawl of each cycle whose planned start has come, and the digest of each cycle
   whose digest time has come, recording each stage before publishing it (one scheduler wins);
3. publishes again a stage recorded long ago (`schedule.requeue_after_s`) that no worker
   started: the scheduler that recorded it may have died before publishing (looked for every
   tenth of `requeue_after_s`, at most a minute apart, not every tick).

Nothing here waits for work, and a tick that comes late still finds every cycle that is due (it
reads the store, not a timer): no cycle is skipped because many share a time. A tick is cheap
when nothing is due: the slots are worked out per group of businesses sharing a time zone and a
digest time (`plan.SlotIndex`), a day's slots that this scheduler has seen claimed are not asked
for again, and the tick's SQL is then two indexed queries (the crawls and digests due). Claims
and enqueued stages are written many rows per statement: a day's first tick at 2 000 businesses
takes about a second, not twenty (`bench/scale_tick.py`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from reviewwatch.config import Settings
from reviewwatch.plan import Slot, SlotIndex, current_slot, plan_crawls, source_host
from storage.cycles import (
    FINISHED,
    CycleClaim,
    claim_cycles,
    claimed_keys,
    enqueue_stages,
    stale_enqueued,
    touch_enqueued,
    unenqueue_stage,
)
from storage.db import Store
from storage.models import Business, CrawlRun, CycleRun, CycleStage, Source, utcnow

log = logging.getLogger(__name__)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Publishes one stage's task: (stage, cycle id); raises when the broker did not take it.
Publish = Callable[[str, int], None]


@dataclass(slots=True)
class TickResult:
    claimed: int = 0
    enqueued: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    republished: int = 0
    failed: int = 0


def tick(
    store: Store,
    settings: Settings,
    publish: Publish,
    *,
    claimed_by: str,
    now: dt.datetime | None = None,
) -> TickResult:
    now = now or utcnow()
    result = TickResult()
    result.claimed = plan_cycles(store, settings, now, claimed_by)
    margin_s = settings.schedule.crawl_margin_s
    # The digests after the crawls: a digest needs its cycle's crawl enqueued (by this tick too).
    for stage, due in (("crawl", due_crawls), ("digest", due_digests)):
        with store.reading() as session:
            cycle_ids = due(session, now, margin_s)
        enqueued, failed = enqueue_and_publish(store, cycle_ids, stage, now, publish)
        if enqueued:
            result.enqueued[stage] += enqueued
        result.failed += failed
    state = _state(store, settings, claimed_by)
    if now >= state.next_stale_check:
        # A lost message shows only `requeue_after_s` after it was recorded: looked for every
        # tenth of that (at most a minute apart), not every tick (it reads cycle_stages).
        every = min(60.0, settings.schedule.requeue_after_s / 10)
        state.next_stale_check = now + dt.timedelta(seconds=max(every, settings.schedule.plan_every_s))
        result.republished = republish_stale(store, settings, publish, now)
    if result.claimed or result.enqueued or result.republished:
        log.info(
            "plan: %d cycles claimed, enqueued %s, %d republished",
            result.claimed,
            dict(result.enqueued) or "nothing",
            result.republished,
        )
    return result


# Stages recorded per transaction before their tasks are published: few statements for a burst
# of thousands, and few recorded-but-unpublished should the scheduler die while publishing
# (those are published again after `schedule.requeue_after_s`).
ENQUEUE_CHUNK = 100


def enqueue_and_publish(
    store: Store, cycle_ids: list[int], stage: str, now: dt.datetime, publish: Publish
) -> tuple[int, int]:
    """Record each cycle's stage (one scheduler wins each), then publish the ones this call
    recorded; a stage whose task the broker did not take is unrecorded for the next tick.
    Returns (published, failed)."""
    published = failed = 0
    for start in range(0, len(cycle_ids), ENQUEUE_CHUNK):
        with store.transaction() as session:
            mine = enqueue_stages(session, cycle_ids[start : start + ENQUEUE_CHUNK], stage, now)
        for cycle_id in mine:  # the others: another scheduler enqueued them
            try:
                publish(stage, cycle_id)
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("cycle %s: %s could not be enqueued", cycle_id, stage)
                with store.transaction() as session:
                    unenqueue_stage(session, cycle_id, stage)
                failed += 1
                continue
            published += 1
    return published, failed


@dataclass(slots=True)
class _PlanState:
    """What one scheduler (a `claimed_by` name) keeps between ticks for one store and settings."""

    settings: Settings
    index: SlotIndex
    # Business slug -> id: rows are never deleted nor renumbered; read again only for a slug
    # not seen yet (a business the store did not hold at the last read).
    ids: dict[str, int] = field(default_factory=dict)
    # (slot group, cycle date) whose every business's cycle this scheduler has seen claimed: a
    # claim is never undone, so between two days' planning a tick asks the store nothing.
    known: set[tuple[int, dt.date]] = field(default_factory=set)
    next_stale_check: dt.datetime = dt.datetime.min.replace(tzinfo=dt.UTC)


def _state(store: Store, settings: Settings, claimed_by: str) -> _PlanState:
    states = _plan_states.setdefault(store, {})
    state = states.get(claimed_by)
    if state is None or state.settings is not settings:  # new settings: new groups and ids
        state = states[claimed_by] = _PlanState(settings, SlotIndex(settings.businesses))
    return state


def plan_cycles(store: Store, settings: Settings, now: dt.datetime, claimed_by: str) -> int:
    """Claim the cycles coming due, each with its planned crawl start; returns how many."""
    schedule = settings.schedule
    state = _state(store, settings, claimed_by)
    groups = state.index.groups_to_plan(now, schedule.plan_ahead_s, schedule.misfire_grace_s)
    state.known.intersection_update({(index, day) for index, day, _ in groups})  # past days
    open_groups = [(index, day, due) for index, day, due in groups if (index, day) not in state.known]
    if not open_groups:
        return 0
    members = [(index, day, business) for index, day, _ in open_groups
               for business in state.index.groups[index].businesses]
    with store.reading() as session:
        if any(business.id not in state.ids for _, _, business in members):
            state.ids.update({slug: business_id for slug, business_id in
                              session.execute(select(Business.slug, Business.id))})
        taken = claimed_keys(session, {day for _, day, _ in open_groups})
    due_at = {(index, day): due for index, day, due in open_groups}
    complete = {(index, day) for index, day, _ in open_groups}
    todo: list[tuple[int, Slot]] = []
    for index, day, business in members:
        business_id = state.ids.get(business.id)
        if business_id is None:  # not in the store yet: planned once a sync has added it
            complete.discard((index, day))
        elif (business_id, day) not in taken:
            todo.append((business_id, Slot(business, day, due_at[(index, day)])))
    claimed = 0
    if todo:
        demand = crawl_demand(store, settings, [business_id for business_id, _ in todo])
        plan = plan_crawls(
            [(business_id, slot.due_at) for business_id, slot in todo],
            demand,
            delay_s=settings.crawl.download_delay,
            margin_s=schedule.crawl_margin_s,
        )
        claims = [
            CycleClaim(business_id, slot.cycle_date, slot.due_at, plan[business_id],
                       digest_day(slot.business.digest.frequency, slot.business.digest.weekday,
                                  slot.cycle_date))
            for business_id, slot in todo
        ]
        with store.transaction() as session:
            claimed = len(claim_cycles(session, claims, claimed_by))
    # Committed: each claimed by this call or by another scheduler, either way taken.
    state.known |= complete
    return claimed


# Per store, per scheduler (its `claimed_by` name). Weakly keyed by the store: a new store (a
# test's) starts with nothing known.
_plan_states: WeakKeyDictionary[Store, dict[str, _PlanState]] = WeakKeyDictionary()


def digest_day(frequency: str, weekday: str, cycle_date: dt.date) -> bool:
    return frequency == "daily" or WEEKDAYS[cycle_date.weekday()] == weekday


def crawl_demand(
    store: Store, settings: Settings, business_ids: list[int]
) -> dict[int, list[tuple[str, int]]]:
    """Per business: (host, expected requests) of each active source — its last run's pages
    plus one (robots.txt, a new page), or `crawl.first_crawl_pages` for a source never crawled."""
    demand: dict[int, list[tuple[str, int]]] = defaultdict(list)
    if not business_ids:
        return demand
    last_run = (
        select(CrawlRun.source_id, func.max(CrawlRun.id).label("run_id"))
        .group_by(CrawlRun.source_id)
        .subquery()
    )
    with store.reading() as session:
        for start in range(0, len(business_ids), 5000):
            part = business_ids[start : start + 5000]
            rows = session.execute(
                select(Source.business_id, Source.type, Source.target, CrawlRun.pages)
                .outerjoin(last_run, last_run.c.source_id == Source.id)
                .outerjoin(CrawlRun, CrawlRun.id == last_run.c.run_id)
                .where(Source.business_id.in_(part), Source.active.is_(True))
            )
            for business_id, source_type, target, pages in rows:
                expected = (pages + 1) if pages else settings.crawl.first_crawl_pages
                demand[business_id].append((source_host(source_type, target), expected))
    return demand


def due_stages(
    store: Store, now: dt.datetime, margin_s: float = 0.0, limit: int = 20_000
) -> dict[str, list[int]]:
    """Cycles whose crawl should start now, and those whose digest is due, not yet enqueued."""
    with store.reading() as session:
        return {"crawl": due_crawls(session, now, margin_s, limit),
                "digest": due_digests(session, now, margin_s, limit)}


def due_crawls(session: Session, now: dt.datetime, margin_s: float = 0.0, limit: int = 20_000
               ) -> list[int]:
    """Cycles whose planned crawl start has come and whose crawl is not enqueued yet."""
    crawl_started = exists().where(
        and_(CycleStage.cycle_id == CycleRun.id, CycleStage.stage == "crawl")
    )
    return list(session.scalars(
        select(CycleRun.id)
        .where(CycleRun.status == "planned", CycleRun.crawl_at <= now, ~crawl_started)
        .order_by(CycleRun.crawl_at, CycleRun.id)
        .limit(limit)
    ))


# The stage rows due_digests joins, made once: an alias copies every column of the table, which
# took most of an idle tick's CPU when made on each call.
_CRAWL = aliased(CycleStage, name="crawl_stage")
_SNAPSHOT = aliased(CycleStage, name="snapshot_stage")
_DIGEST = aliased(CycleStage, name="digest_stage")


def due_digests(session: Session, now: dt.datetime, margin_s: float = 0.0, limit: int = 20_000
                ) -> list[int]:
    """Cycles whose digest is due and not enqueued yet.

    A digest is due at its time; for a cycle whose crawl started late (after its digest time:
    the scheduler was down, or the cycle was planned late) it waits for the crawl, scoring and
    snapshot to finish, or `margin_s` after the crawl was enqueued, whichever comes first.
    """
    crawl, snapshot, digest = _CRAWL, _SNAPSHOT, _DIGEST
    # The digests that may go: snapshot finished, or the crawl enqueued `margin_s` ago. Asked
    # in SQL, so that a tick reads the few ready cycles rather than every cycle in progress
    # (thousands at once in a burst, every `schedule.plan_every_s`, by each scheduler).
    margin = dt.timedelta(seconds=margin_s)
    return list(session.scalars(
        select(CycleRun.id)
        # Only cycles whose crawl was enqueued (by this tick, before: see `tick`).
        .join(crawl, and_(crawl.cycle_id == CycleRun.id, crawl.stage == "crawl"))
        .outerjoin(snapshot, and_(snapshot.cycle_id == CycleRun.id, snapshot.stage == "snapshot"))
        .outerjoin(digest, and_(digest.cycle_id == CycleRun.id, digest.stage == "digest"))
        .where(CycleRun.due_at <= now, CycleRun.status.in_(("planned", "running")),
               digest.id.is_(None),
               or_(snapshot.state.in_(FINISHED), crawl.enqueued_at.is_(None),
                   crawl.enqueued_at <= now - margin))
        .order_by(CycleRun.due_at, CycleRun.id)
        .limit(limit)
    ))


def republish_stale(store: Store, settings: Settings, publish: Publish, now: dt.datetime) -> int:
    before = now - dt.timedelta(seconds=settings.schedule.requeue_after_s)
    with store.reading() as session:
        stale = stale_enqueued(session, before)
    done = 0
    for cycle_id, stage in stale:
        with store.transaction() as session:
            if not touch_enqueued(session, cycle_id, stage, before):
                continue
        try:
            publish(stage, cycle_id)
        except Exception:  # noqa: BLE001 - tried again after requeue_after_s
            log.exception("cycle %s: %s could not be published again", cycle_id, stage)
            continue
        log.warning("cycle %s: %s enqueued long ago and never started: published again",
                    cycle_id, stage)
        done += 1
    return done


def cycle_key_now(settings: Settings, business_slug: str, now: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """(local date, due at) of the cycle a run of `business_slug` starting now belongs to."""
    slot = current_slot(settings.business(business_slug), now)
    return slot.cycle_date, slot.due_at
