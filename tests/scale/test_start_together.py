"""Processes starting together on an empty PostgreSQL store: one migrates while the others wait,
and syncing the configuration at the same moment never fails on a unique key."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

from sqlalchemy import func, select

from reviewwatch.config import Settings
from reviewwatch.sync import sync_settings
from storage.db import Store
from storage.migrate import current_revision, head_revision
from storage.models import Business, Claim, Source


def _migrate(url: str, barrier: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue) -> None:
    barrier.wait(30)
    try:
        Store(url).dispose()
        out.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out.put(f"{type(exc).__name__}: {exc}")


def test_three_processes_migrate_an_empty_store_at_once(pg_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_migrate, args=(pg_url, barrier, out)) for _ in range(3)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
    assert results == ["ok"] * 3
    store = Store(pg_url, migrate=False)
    assert current_revision(store.engine) == head_revision()
    store.dispose()


def test_two_syncs_of_an_empty_store_at_once_both_succeed(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        businesses=[
            {"id": "cafe", "name": "Café", "sources": [{"type": "feed", "url": "https://x.example/f"}],
             "claims": [{"positive_share": 0.9, "stated_at": "2026-01-01"}]},
        ],
    )
    Store(pg_url).dispose()  # migrated, still empty of businesses
    first_flushed, errors = threading.Event(), []
    stores = [Store(pg_url, migrate=False) for _ in range(2)]

    def first() -> None:
        # Inserts and holds its transaction open while the second one syncs the same rows.
        with stores[0].transaction() as session:
            sync_settings(session, settings)
            session.flush()
            first_flushed.set()
            threading.Event().wait(1.0)

    def second() -> None:
        first_flushed.wait(10)
        try:
            with stores[1].transaction() as session:
                sync_settings(session, settings)  # waits for the first, then finds its rows
        except Exception as exc:  # noqa: BLE001 - the failure under test
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with stores[0].session() as session:
        assert session.scalar(select(func.count()).select_from(Business)) == 1
        assert session.scalar(select(func.count()).select_from(Source)) == 1
        assert session.scalar(select(func.count()).select_from(Claim)) == 1
    for store in stores:
        store.dispose()


def test_two_daemons_starting_at_once_on_a_migrated_store_both_start(
    pg_url: str, tmp_path: Path
) -> None:
    import scheduler

    settings = Settings(data_dir=tmp_path, businesses=[{"id": "cafe", "name": "Café"}])
    Store(pg_url).dispose()  # migrated: both reach APScheduler's own table at the same moment
    stores = [Store(pg_url, migrate=False) for _ in range(2)]
    daemons = [scheduler.Daemon(settings, store, runner=lambda slug, stop: None) for store in stores]
    barrier, errors = threading.Barrier(2), []

    def start(daemon: scheduler.Daemon) -> None:
        barrier.wait(10)
        try:
            daemon.start()
        except Exception as exc:  # noqa: BLE001 - the failure under test
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(d,)) for d in daemons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        assert all(d.scheduler.get_job("cycle:cafe") is not None for d in daemons)
    finally:
        for daemon, store in zip(daemons, stores, strict=True):
            daemon.shutdown()
            store.dispose()
