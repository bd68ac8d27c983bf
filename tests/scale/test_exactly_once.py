"""Two schedulers started together on an empty PostgreSQL store: every cycle runs once.

Real processes: two `reviewwatch schedule` daemons and (with a broker) a `reviewwatch worker`,
the simulated web, an SMTP server. Before the run key and the idempotent sync, the second
daemon crashed on `uq_businesses_slug`, and both ran every cycle (every page fetched twice, two
snapshots, two digests).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from storage.models import CycleRun, CycleStage, GapSnapshot, Mention, Score
from tests.scale.conftest import business_toml, scale_config, store_of, wait_for

SLUGS = ("alpha", "bravo", "charlie")


def _businesses(web, send_at: dt.time) -> str:
    hosts = ["127.0.1.1", "127.0.1.2"]
    return "".join(
        business_toml(
            slug,
            [f"http://{hosts[i % 2]}:{web.port}/biz/{slug}/reviews/"],
            f"owner@{slug}.example",
            send_at,
        )
        for i, slug in enumerate(SLUGS)
    )


def _page_hits(web) -> Counter[str]:
    return Counter(f"{host}{path}" for _, host, path in web.hits if path.startswith("/biz/"))


def test_two_schedulers_and_a_worker_run_each_cycle_once(
    pg_url: str, prefix: str, simweb, smtp, processes, tmp_path: Path, real_data_dir: Path
) -> None:
    # Due a moment ago: both schedulers find the cycles due as soon as they start.
    send_at = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).time().replace(microsecond=0)
    config = scale_config(
        tmp_path / "rw.toml", data_dir=real_data_dir, database_url=pg_url, prefix=prefix,
        smtp_port=smtp.port, businesses=_businesses(simweb, send_at),
    )
    procs = processes(config)
    first = procs.start("scheduler-1", "schedule")
    second = procs.start("scheduler-2", "schedule")
    worker = procs.start("worker", "worker", "--concurrency", "4")

    store = wait_for(lambda: _open(pg_url), 60, "store migrated", procs.logs)

    def all_done() -> bool:
        with store.session() as session:
            states = session.scalars(select(CycleRun.status)).all()
        return len(states) == len(SLUGS) and all(s == "done" for s in states)

    wait_for(all_done, 240, "every cycle done", procs.logs)
    assert first.alive() and second.alive() and worker.alive(), procs.logs()
    for proc in (first, second):
        assert "scheduler started" in proc.output and "Traceback" not in proc.output, procs.logs()

    with store.session() as session:
        runs = session.execute(select(CycleRun.business_id, CycleRun.cycle_date)).all()
        assert len(runs) == len(set(runs)) == len(SLUGS)
        stages = session.execute(select(CycleStage.stage, CycleStage.attempts, CycleStage.state)).all()
        assert sorted(stages) == sorted((s, 1, "done") for s in STAGE_NAMES for _ in SLUGS)
        assert session.scalar(select(func.count()).select_from(GapSnapshot)) == len(SLUGS)
        mentions = session.scalar(select(func.count()).select_from(Mention))
        current = session.scalar(select(func.count()).where(Score.is_current.is_(True)))
        assert mentions == 3 * len(SLUGS) and current == mentions
    # Each review page was read once, each owner got one digest, each with its own Message-ID.
    assert set(_page_hits(simweb).values()) == {1} and len(_page_hits(simweb)) == len(SLUGS)
    received = smtp.recorder.received
    assert sorted(r.recipients[0] for r in received) == sorted(f"owner@{s}.example" for s in SLUGS)
    assert len({r.message["Message-ID"] for r in received}) == len(SLUGS)
    store.dispose()


def test_two_schedulers_without_a_broker_run_a_cycle_once(
    pg_url: str, prefix: str, simweb, smtp, processes, tmp_path: Path, real_data_dir: Path
) -> None:
    # The daily trigger fires in both daemons at the same second; one claims the cycle.
    send_at = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=25)).time().replace(microsecond=0)
    config = scale_config(
        tmp_path / "rw.toml", data_dir=real_data_dir, database_url=pg_url, prefix=prefix,
        smtp_port=smtp.port, broker=False,
        businesses=business_toml("solo", [f"http://127.0.1.1:{simweb.port}/biz/solo/r/"],
                                 "owner@solo.example", send_at),
    )
    procs = processes(config, broker=False)
    first = procs.start("scheduler-1", "schedule")
    second = procs.start("scheduler-2", "schedule")
    store = wait_for(lambda: _open(pg_url), 60, "store migrated", procs.logs)

    def done() -> bool:
        with store.session() as session:
            return session.scalar(select(CycleRun.status)) in ("done", "failed")

    wait_for(done, 240, "the cycle finished", procs.logs)
    assert first.alive() and second.alive(), procs.logs()
    # Whether the second daemon's trigger fired too (then it found the cycle claimed) depends on
    # when it read the shared job store; either way the cycle ran once.
    logs = first.output + second.output
    assert logs.count("claimed by another scheduler") <= 1, procs.logs()
    with store.session() as session:
        assert session.scalar(select(CycleRun.status)) == "done"
        assert session.scalar(select(func.count()).select_from(CycleRun)) == 1
        assert session.scalar(select(func.count()).select_from(GapSnapshot)) == 1
    assert list(_page_hits(simweb).values()) == [1]
    assert [r.recipients for r in smtp.recorder.received] == [["owner@solo.example"]]
    store.dispose()


STAGE_NAMES = ("crawl", "score", "snapshot", "digest")


def _open(url: str):  # type: ignore[no-untyped-def]
    """The store once a scheduler has created it (None before: tables missing)."""
    store = store_of(url)
    try:
        with store.session() as session:
            if session.scalar(select(func.count()).select_from(CycleRun)):
                return store
    except Exception:  # noqa: BLE001 - not migrated yet
        pass
    store.dispose()
    return None
