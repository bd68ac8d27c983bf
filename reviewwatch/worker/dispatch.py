"""The scheduler's side with a broker: plan cycles, claim them once, enqueue what is due.

Every `schedule.plan_every_s` the scheduler runs `tick`:
1. claims the cycles coming due within `schedule.plan_ahead_s` (one row per business and local
   date: of several schedulers, one inserts it) with their planned crawl start (`plan.py`);
2. enqueues the crawl of each cycle whose planned start has come, and the digest of each cycle
   whose digest time has come, recording each stage before publishing it (one scheduler wins);
3. publishes again a stage recorded long ago (`schedule.requeue_after_s`) that no worker
   started: the scheduler that recorded it may have died before publishing.

Nothing here waits for work: a tick costs milliseconds per cycle, so thousands of businesses
sharing 08:00 never make a job late, and a tick that comes late still finds every cycle that is
due (it reads the store, not a timer): no cycle is skipped because many share a time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from reviewwatch.config import Settings
from reviewwatch.plan import current_slot, plan_crawls, slots_to_plan, source_host
from storage.cycles import (
    FINISHED,
    claim_cycle,
    claimed_keys,
    enqueue_stage,
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
    for stage in ("crawl", "digest"):  # the digests after the crawls: they need a crawl enqueued
        cycle_ids = due_stages(store, now, settings.schedule.crawl_margin_s)[stage]
        for cycle_id in cycle_ids:
            with store.transaction() as session:
                mine = enqueue_stage(session, cycle_id, stage, now)
            if not mine:
                continue  # another scheduler enqueued it
            try:
                publish(stage, cycle_id)
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("cycle %s: %s could not be enqueued", cycle_id, stage)
                with store.transaction() as session:
                    unenqueue_stage(session, cycle_id, stage)
                result.failed += 1
                continue
            result.enqueued[stage] += 1
    result.republished = republish_stale(store, settings, publish, now)
    if result.claimed or result.enqueued or result.republished:
        log.info(
            "plan: %d cycles claimed, enqueued %s, %d republished",
            result.claimed,
            dict(result.enqueued) or "nothing",
            result.republished,
        )
    return result


def plan_cycles(store: Store, settings: Settings, now: dt.datetime, claimed_by: str) -> int:
    """Claim the cycles coming due, each with its planned crawl start; returns how many."""
    schedule = settings.schedule
    slots = slots_to_plan(settings.businesses, now, schedule.plan_ahead_s, schedule.misfire_grace_s)
    if not slots:
        return 0
    # Cycles this scheduler has seen claimed stay claimed (a claim is never undone): once every
    # slot is among them, as on every tick between two days' planning, the store is not asked.
    known = _known_claimed.setdefault(store, {}).setdefault(claimed_by, set())
    dates = {slot.cycle_date for slot in slots}
    known.intersection_update({key for key in known if key[1] in dates})  # forget past days
    with store.session() as session:
        ids = {slug: business_id for slug, business_id in session.execute(select(Business.slug, Business.id))}
        wanted = {(ids[slot.business.id], slot.cycle_date) for slot in slots
                  if slot.business.id in ids}
        if wanted <= known:
            return 0
        taken = claimed_keys(session, dates)
    known.update(taken)
    todo = [
        (ids[slot.business.id], slot)
        for slot in slots
        if slot.business.id in ids and (ids[slot.business.id], slot.cycle_date) not in taken
    ]
    if not todo:
        return 0
    demand = crawl_demand(store, settings, [business_id for business_id, _ in todo])
    plan = plan_crawls(
        [(business_id, slot.due_at) for business_id, slot in todo],
        demand,
        delay_s=settings.crawl.download_delay,
        margin_s=schedule.crawl_margin_s,
    )
    claimed = 0
    with store.transaction() as session:
        for business_id, slot in todo:
            cycle_id = claim_cycle(
                session,
                business_id=business_id,
                cycle_date=slot.cycle_date,
                due_at=slot.due_at,
                crawl_at=plan[business_id],
                send_digest=digest_day(slot.business.digest.frequency,
                                       slot.business.digest.weekday, slot.cycle_date),
                claimed_by=claimed_by,
            )
            claimed += cycle_id is not None
    # Committed: claimed by this call or by another scheduler, either way taken.
    known.update((business_id, slot.cycle_date) for business_id, slot in todo)
    return claimed


# Per store and scheduler (its `claimed_by` name): the (business id, cycle date) it has seen
# claimed. Weakly keyed by the store: a new store (a test's) starts with nothing known.
_known_claimed: WeakKeyDictionary[Store, dict[str, set[tuple[int, dt.date]]]] = WeakKeyDictionary()


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
    with store.session() as session:
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
    """Cycles whose crawl should start now, and those whose digest is due, not yet enqueued.

    A digest is due at its time; for a cycle whose crawl started late (after its digest time:
    the scheduler was down, or the cycle was planned late) it waits for the crawl, scoring and
    snapshot to finish, or `margin_s` after the crawl was enqueued, whichever comes first.
    """
    crawl_started = exists().where(
        and_(CycleStage.cycle_id == CycleRun.id, CycleStage.stage == "crawl")
    )
    crawl = aliased(CycleStage)
    snapshot = aliased(CycleStage)
    digest = aliased(CycleStage)
    with store.session() as session:
        crawls = session.scalars(
            select(CycleRun.id)
            .where(CycleRun.status == "planned", CycleRun.crawl_at <= now, ~crawl_started)
            .order_by(CycleRun.crawl_at, CycleRun.id)
            .limit(limit)
        ).all()
        # The digests that may go: snapshot finished, or the crawl enqueued `margin_s` ago. Asked
        # in SQL, so that a tick reads the few ready cycles rather than every cycle in progress
        # (thousands at once in a burst, every `schedule.plan_every_s`, by each scheduler).
        margin = dt.timedelta(seconds=margin_s)
        digests = session.scalars(
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
        ).all()
    return {"crawl": list(crawls), "digest": list(digests)}


def republish_stale(store: Store, settings: Settings, publish: Publish, now: dt.datetime) -> int:
    before = now - dt.timedelta(seconds=settings.schedule.requeue_after_s)
    with store.session() as session:
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
