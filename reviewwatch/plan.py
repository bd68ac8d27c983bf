"""The day's plan: which cycle each business is on, and when its crawl starts.

A business's cycle is due at its `digest.send_at` in its own time zone; its run key is the local
date of that slot. With a broker, the scheduler claims each cycle `schedule.plan_ahead_s` before
it is due and plans its crawl to start as late as its hosts' politeness budgets allow while
finishing `schedule.crawl_margin_s` before the digest: the digest then holds what was published
until shortly before it, and a platform host shared by many businesses gets their crawls one
after another, spread back from the digest time, instead of all at 08:00.

The plan is a backward list schedule: each host has a cursor starting at (digest time − margin);
a business finishes at the earliest cursor of its hosts and occupies each of them for its
expected requests × the delay between requests; the cursors move back accordingly. It is
deterministic (same inputs, same plan), so two schedulers planning at once agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from reviewwatch.config import BusinessConfig

UTC = dt.UTC
# Hosts of the sources whose target is not a URL (a handle, a query): their platform's API.
PLATFORM_HOSTS = {"reddit": "oauth.reddit.com", "app_store": "itunes.apple.com"}


@dataclass(frozen=True, slots=True)
class Slot:
    """One business's cycle: the run key's local date and when its digest is due (UTC)."""

    business: BusinessConfig
    cycle_date: dt.date
    due_at: dt.datetime


def slot_on(business: BusinessConfig, day: dt.date) -> Slot:
    """The slot of `business` on its local date `day` (DST gaps move forward, as zoneinfo does)."""
    local = dt.datetime.combine(day, business.digest.send_at, tzinfo=ZoneInfo(business.timezone))
    return Slot(business, day, local.astimezone(UTC))


def current_slot(business: BusinessConfig, now: dt.datetime) -> Slot:
    """The latest slot at or before `now`: the cycle a run starting now belongs to."""
    day = now.astimezone(ZoneInfo(business.timezone)).date()
    slot = slot_on(business, day)
    return slot if slot.due_at <= now else slot_on(business, day - dt.timedelta(days=1))


def slots_to_plan(
    businesses: Iterable[BusinessConfig], now: dt.datetime, ahead_s: float, grace_s: float
) -> list[Slot]:
    """Slots due within `ahead_s` from now, or due less than `grace_s` ago (not yet run), grouped
    as `SlotIndex` works them out (a scheduler keeps one index between its ticks)."""
    return SlotIndex(businesses).slots_to_plan(now, ahead_s, grace_s)


@dataclass(frozen=True, slots=True)
class SlotGroup:
    """Businesses whose slots fall at the same instants: one time zone and one `send_at`."""

    timezone: str
    send_at: dt.time
    businesses: tuple[BusinessConfig, ...]


class SlotIndex:
    """`slots_to_plan` for a scheduler that asks every `plan_every_s`, over the same businesses.

    Businesses sharing a time zone and a digest time share their slots, so the slots are worked
    out per group (a few groups for thousands of businesses, each slot computed once per day and
    kept) and a tick costs per group, not per business: `groups_to_plan` gives a group's (date,
    due at) for each of its businesses' slots.
    """

    def __init__(self, businesses: Iterable[BusinessConfig]) -> None:
        grouped: dict[tuple[str, dt.time], list[BusinessConfig]] = {}
        for business in businesses:
            grouped.setdefault((business.timezone, business.digest.send_at), []).append(business)
        self.groups = [SlotGroup(tz, at, tuple(members)) for (tz, at), members in grouped.items()]
        self._zones = {tz: ZoneInfo(tz) for tz, _ in grouped}
        self._due: dict[tuple[int, dt.date], dt.datetime] = {}

    def due_at(self, index: int, day: dt.date) -> dt.datetime:
        key = (index, day)
        due = self._due.get(key)
        if due is None:
            if len(self._due) > 16 * len(self.groups) + 64:  # days long past: forgotten
                self._due.clear()
            group = self.groups[index]
            local = dt.datetime.combine(day, group.send_at, tzinfo=self._zones[group.timezone])
            due = self._due[key] = local.astimezone(UTC)
        return due

    def groups_to_plan(
        self, now: dt.datetime, ahead_s: float, grace_s: float
    ) -> list[tuple[int, dt.date, dt.datetime]]:
        """(group index, local date, due at) of the slots `slots_to_plan` would give."""
        out = []
        today_in: dict[str, dt.date] = {}
        for index, group in enumerate(self.groups):
            today = today_in.get(group.timezone)
            if today is None:
                today = today_in[group.timezone] = now.astimezone(self._zones[group.timezone]).date()
            for offset in (-1, 0, 1):
                day = today + dt.timedelta(days=offset)
                due = self.due_at(index, day)
                age = (now - due).total_seconds()
                if -ahead_s <= age < grace_s:
                    out.append((index, day, due))
        return out

    def slots_to_plan(self, now: dt.datetime, ahead_s: float, grace_s: float) -> list[Slot]:
        return [
            Slot(business, day, due)
            for index, day, due in self.groups_to_plan(now, ahead_s, grace_s)
            for business in self.groups[index].businesses
        ]


def source_host(source_type: str, target: str) -> str:
    """The host a source's requests go to, for its politeness budget."""
    if target.startswith(("http://", "https://")):
        return urlsplit(target).netloc.lower()
    if source_type == "mastodon" and target.count("@") >= 1:
        return target.rsplit("@", 1)[-1].lower()
    return PLATFORM_HOSTS.get(source_type, source_type)


def plan_crawls(
    slots: Sequence[tuple[int, dt.datetime]],
    demand: Mapping[int, Sequence[tuple[str, int]]],
    *,
    delay_s: float,
    margin_s: float,
    busy_until: Mapping[str, dt.datetime] | None = None,
) -> dict[int, dt.datetime]:
    """Crawl start times: `slots` are (business id, due at); `demand[business id]` its (host,
    expected requests). `busy_until` says how far back a host is already booked (from cycles
    planned before). Returns business id -> planned crawl start (may lie in the past: start now).
    """
    cursors: dict[str, dt.datetime] = {}
    plan: dict[int, dt.datetime] = {}
    delay = dt.timedelta(seconds=max(delay_s, 0.0))
    # Latest digests first, so earlier ones are planned before the time later ones booked;
    # within a time, a fixed order (business id) makes the plan the same in every scheduler.
    for business_id, due_at in sorted(slots, key=lambda s: (-s[1].timestamp(), s[0])):
        finish = due_at - dt.timedelta(seconds=margin_s)
        hosts: dict[str, int] = {}
        for host, requests in demand.get(business_id, ()):
            hosts[host] = hosts.get(host, 0) + max(1, requests)
        for host in hosts:
            cursor = cursors.get(host)
            if cursor is None:
                cursor = finish
                booked = (busy_until or {}).get(host)
                if booked is not None and booked < cursor:
                    cursor = booked
            finish = min(finish, cursor)
        start = finish
        for host, requests in hosts.items():
            begins = finish - delay * requests
            cursors[host] = begins
            start = min(start, begins)
        plan[business_id] = start
    return plan
