"""Scale-out: one day's cycles of many businesses through the broker, with 1 and 2 workers.

A simulated web (one asyncio server answering on H+1 loopback addresses 127.0.x.y, each a
host; `tests/scale/simweb.py`), PostgreSQL, RabbitMQ and Redis. B businesses with two
schema.org sources each: one on a host of their own among H, the other on a second host among
H, or, for a fifth of them, on one shared platform host. The default politeness (one request
per host per `crawl.download_delay` = 1 s) is scaled down by `--factor` so that the bench runs in
minutes; figures that depend on it are converted back.

Each run: a fresh PostgreSQL schema; N workers (`reviewwatch worker`, each pinned to one core
with taskset, OMP_NUM_THREADS=1); then two schedulers started at the same moment on it; every
cycle due at once (a burst: the plan cannot spread it), each cycle crawled, scored with the
embedded model, snapshotted and its digest sent to a local SMTP server. Runs: 1 worker, 2
workers, and a third ("chaos") with 2 workers of which one is killed with SIGKILL when a third
of the cycles are done and started again.

    .venv/bin/python bench/scale.py [--businesses 2000] [--hosts 100] [--factor 20]

Figures: wall time from the first crawl enqueued to the last cycle done (from the store's
timestamps); businesses per day per machine at default politeness = min(the 2-worker rate ×
86 400, what the H hosts' budgets allow a day for the businesses' requests on them); the
platform host's businesses are bounded by its own budget (reported apart). From the server's
access log: the highest request rate to one host over any window of ten delays, over the allowed
rate. From the store: cycles skipped (not done) or duplicated (a second snapshot or digest, or a
page fetched twice by a crawl that ran once), mentions lost (expected from the pages served,
minus stored), mentions not scored exactly once.

The last line is one JSON object: {"businesses", "hosts", "wall_s": {"1", "2"},
"businesses_per_day_at_default_politeness", "scaling_2_workers", "max_host_rate_ratio",
"skipped_cycles", "duplicate_cycles", "lost_mentions", "double_scored",
"killed_worker_recovered", ...}.
"""

from __future__ import annotations

import argparse
import multiprocessing
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from storage.db import Store  # noqa: E402
from storage.models import (  # noqa: E402
    Business,
    CrawlRun,
    CycleRun,
    CycleStage,
    Digest,
    GapSnapshot,
    Mention,
    Score,
    Source,
)
from tests.digest.smtpserver import SmtpServer, free_port  # noqa: E402

if TYPE_CHECKING:
    import psutil
from tests.scale.simweb import loopback_addresses, rate_ratio  # noqa: E402

PG_URL = os.environ.get("REVIEWWATCH_BENCH_PG_URL", "postgresql+psycopg://@127.0.0.1:5432/test")
BROKER = os.environ.get("REVIEWWATCH_BENCH_BROKER_URL", "amqp://guest@127.0.0.1:5672//")
REDIS = os.environ.get("REVIEWWATCH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DEFAULT_DELAY = 1.0
WORK = REPO / ".bench" / "scale"


@dataclass
class World:
    businesses: int
    hosts: list[str]  # the H hosts' addresses
    platform: str
    port: int
    reviews: int
    pages: int

    def sources(self, i: int) -> list[tuple[str, str]]:
        """(address, path) of business i's two sources."""
        h = len(self.hosts)
        own = self.hosts[i % h]
        second = self.platform if i % 5 == 0 else self.hosts[(i + h // 2 + 1) % h]
        slug = slug_of(i)
        return [(own, f"/biz/{slug}/site/"), (second, f"/biz/{slug}/listing/")]

    @property
    def expected_mentions(self) -> int:
        return self.businesses * 2 * self.reviews * self.pages


def slug_of(i: int) -> str:
    return f"biz-{i:06d}"


def config_text(world: World, *, data_dir: Path, database_url: str, prefix: str, smtp_port: int,
                delay: float, send_at: dt.time, concurrency: int) -> str:
    lines = [
        f'data_dir = "{data_dir.as_posix()}"',
        f'database_url = "{database_url}"',
        'languages = ["en"]',
        'log_level = "WARNING"',
        "[crawl]",
        f"download_delay = {delay}",
        # AutoThrottle only ever lengthens the delay; its 1 s start delay would not scale down.
        "autothrottle = false",
        "concurrent_per_domain = 1",
        "retries = 1",
        'contact = "bench@reviewwatch.invalid"',
        "[smtp]",
        f'host = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\ntimeout_s = 30',
        "[schedule]",
        # Every cycle due now with its crawl planned an hour back: all enqueued at the first tick.
        "plan_every_s = 1\nmisfire_grace_s = 7200\ncrawl_margin_s = 3600\nrequeue_after_s = 7200",
        "[workers]",
        # broker_url and host_budget_url: from the environment (they may hold passwords)
        f'queue_prefix = "{prefix}"',
        f"concurrency = {concurrency}\nstage_lease_s = 10\nmetrics_port = 0",
    ]
    for i in range(world.businesses):
        slug = slug_of(i)
        lines += [
            "[[businesses]]",
            f'id = "{slug}"\nname = "{slug}"\ntimezone = "UTC"\nowners = ["owner@{slug}.example"]',
        ]
        for address, path in world.sources(i):
            url = f"http://{address}:{world.port}{path}?reviews={world.reviews}&pages={world.pages}"
            lines += ["  [[businesses.sources]]", '  type = "schema_org"', f'  url = "{url}"']
        lines += ["  [businesses.digest]", f"  send_at = {send_at.strftime('%H:%M:%S')}",
                  "  all_quiet_email = true"]
    return "\n".join(lines) + "\n"


@dataclass
class RunResult:
    label: str
    workers: int
    wall_s: float = 0.0
    startup_s: float = 0.0
    done: int = 0
    skipped: int = 0
    duplicates: int = 0
    lost_mentions: int = 0
    double_scored: int = 0
    digests_received: int = 0
    distinct_message_ids: int = 0
    stages_redone: int = 0
    host_ratio: dict[str, float] = field(default_factory=dict)
    requests_per_host: dict[str, int] = field(default_factory=dict)
    killed: bool = False
    recovered: bool | None = None
    schedulers_alive: int = 0
    failed: int = 0  # cycles finished with a failed stage (a source that timed out)
    failed_sources: int = 0
    # CPU seconds each group of processes used during the run (cpu_by_group): where the cores went.
    cpu_s: dict[str, float] = field(default_factory=dict)


def _group(proc: "psutil.Process", roles: dict[int, str]) -> str | None:
    """The group a process's CPU counts in: a role given by pid, else by the program's name."""
    if proc.pid in roles:
        return roles[proc.pid]
    name = proc.info.get("name") or ""
    if name.startswith("postgres"):
        return "postgresql"
    if name.startswith("beam") or name.startswith("epmd") or name.startswith("erl"):
        return "rabbitmq"
    if name.startswith("redis"):
        return "redis"
    return None


def cpu_snapshot(roles: dict[int, str]) -> dict[int, tuple[str, float]]:
    """{pid: (group, CPU seconds so far)} of the processes a run involves. `roles` names the
    run's own processes by pid (their children count with them)."""
    import psutil

    named: dict[int, str] = {}
    for pid, role in roles.items():
        if pid == os.getpid():
            continue  # the bench's children are the run's processes, each named in `roles`
        try:
            for child in psutil.Process(pid).children(recursive=True):
                named.setdefault(child.pid, role)
        except psutil.Error:
            pass
    named.update(roles)
    found: dict[int, tuple[str, float]] = {}
    for proc in psutil.process_iter(["name"]):
        group = _group(proc, named)
        if group is None:
            continue
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        found[proc.pid] = (group, t.user + t.system)
    return found


def cpu_by_group(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
                 ) -> dict[str, float]:
    """CPU seconds per group between two snapshots (a process that ended in between is lost:
    a few short-lived PostgreSQL backends; the run's own processes outlive the snapshot)."""
    totals: dict[str, float] = defaultdict(float)
    for pid, (group, seconds) in after.items():
        totals[group] += seconds - before.get(pid, (group, 0.0))[1]
    return {g: round(v, 1) for g, v in sorted(totals.items())}


def spawn(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, cwd=REPO)


def stop(processes: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in processes:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_once(world: World, label: str, workers: int, args: argparse.Namespace,
             data_dir: Path, kill: bool) -> RunResult:
    result = RunResult(label, workers, killed=kill)
    delay = DEFAULT_DELAY / args.factor
    schema = f"bench_scale_{label}_{uuid.uuid4().hex[:8]}"
    prefix = f"rwbench{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database_url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    run_dir = Path(tempfile.mkdtemp(prefix=f"run-{label}-", dir=WORK))
    smtp = SmtpServer()
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
           "REVIEWWATCH_WORKERS__BROKER_URL": BROKER, "REVIEWWATCH_WORKERS__HOST_BUDGET_URL": REDIS}
    send_at = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).time().replace(microsecond=0)
    config = run_dir / "rw.toml"
    config.write_text(config_text(world, data_dir=data_dir, database_url=database_url,
                                  prefix=prefix, smtp_port=smtp.port, delay=delay,
                                  send_at=send_at, concurrency=args.concurrency))
    addresses = run_dir / "addresses.txt"
    addresses.write_text("\n".join([*world.hosts, world.platform]))
    access_log = run_dir / "access.log"
    web = spawn([sys.executable, "-m", "tests.scale.simweb", "--addresses", str(addresses),
                 "--port", str(world.port), "--log", str(access_log)], run_dir / "web.log", env)
    rw = [sys.executable, "-m", "reviewwatch", "--config", str(config)]
    started = time.monotonic()
    procs: list[subprocess.Popen[bytes]] = []
    worker_procs: dict[int, subprocess.Popen[bytes]] = {}
    try:
        # The store migrated and synced once, before the timed part (2 000 businesses' rows).
        subprocess.run([*rw, "db", "upgrade"], check=True, env=env, cwd=REPO,
                       stdout=subprocess.DEVNULL)
        for core in range(workers):
            worker_procs[core] = spawn(
                ["taskset", "-c", str(core), *rw, "worker", "--name", f"w{core}"],
                run_dir / f"worker{core}.log", env)
        store = Store(database_url, migrate=False)
        wait_until(lambda: _workers_seen(store) >= workers, 600, "workers up")
        cpu_before = cpu_snapshot({os.getpid(): "bench (SMTP, polling)", web.pid: "simulated web",
                                   **{p.pid: "workers" for p in worker_procs.values()}})
        # Two schedulers started at the same moment on the store.
        procs = [spawn([*rw, "schedule"], run_dir / f"scheduler{n}.log", env) for n in (1, 2)]
        result.startup_s = time.monotonic() - started
        killed_at = None
        deadline = time.monotonic() + args.timeout
        while True:
            done = _count(store, CycleRun.status.in_(("done", "failed")))
            if done >= world.businesses:
                break
            if kill and killed_at is None and done >= world.businesses // 3:
                victim = worker_procs[0]
                os.kill(victim.pid, signal.SIGKILL)
                victim.wait()
                killed_at = time.monotonic()
                print(f"  [{label}] SIGKILL worker w0 at {done} cycles done; restarting it",
                      flush=True)
                worker_procs[0] = spawn(
                    ["taskset", "-c", "0", *rw, "worker", "--name", "w0-restarted"],
                    run_dir / "worker0-restarted.log", env)
            if time.monotonic() > deadline:
                print(f"  [{label}] timed out with {done} of {world.businesses} done", flush=True)
                break
            print(f"  [{label}] {time.monotonic() - started:6.0f} s: {done} cycles done", flush=True)
            time.sleep(5)
        result.cpu_s = cpu_by_group(cpu_before, cpu_snapshot({
            os.getpid(): "bench (SMTP, polling)", web.pid: "simulated web",
            **{p.pid: "workers" for p in worker_procs.values()},
            **{p.pid: "schedulers" for p in procs}}))
        result.done = _count(store, CycleRun.status.in_(("done", "failed")))
        result.failed = _count(store, CycleRun.status == "failed")
        result.schedulers_alive = sum(p.poll() is None for p in procs)
        with store.session() as session:
            first = session.scalar(select(func.min(CycleStage.enqueued_at))
                                   .where(CycleStage.stage == "crawl"))
            last = session.scalar(select(func.max(CycleRun.finished_at)))
        result.wall_s = (last - first).total_seconds() if first and last else float("nan")
    finally:
        stop(procs)
        stop(list(worker_procs.values()))
        stop([web])
        smtp.stop()
    check(result, world, store, access_log, delay, smtp)
    store.dispose()
    if not args.keep:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
    _drop_queues(prefix)
    return result


def check(result: RunResult, world: World, store: Store, access_log: Path, delay: float,
          smtp: SmtpServer) -> None:
    hits: dict[str, list[float]] = defaultdict(list)
    pages: Counter[str] = Counter()
    for line in access_log.read_text().splitlines():
        t, host, path = line.split(" ", 2)
        hits[host].append(float(t))
        if path.startswith("/biz/"):
            pages[f"{host}{path}"] += 1
    result.host_ratio = {host: rate_ratio(times, delay) for host, times in hits.items()}
    result.requests_per_host = {host: len(times) for host, times in hits.items()}
    with store.session() as session:
        result.skipped = world.businesses - result.done
        # Stages redone after a lost worker (attempts > 1) are recoveries, not duplicates.
        redone = set(session.scalars(select(CycleStage.cycle_id).where(CycleStage.attempts > 1)))
        result.stages_redone = len(redone)
        snapshots = Counter(session.scalars(select(GapSnapshot.business_id)))
        digests = Counter(session.scalars(select(Digest.business_id)))
        twice = {b for b, n in snapshots.items() if n > 1} | {b for b, n in digests.items() if n > 1}
        redone_crawls = set(session.scalars(
            select(CycleRun.business_id).join(CycleStage, CycleStage.cycle_id == CycleRun.id)
            .where(CycleStage.stage == "crawl", CycleStage.attempts > 1)))
        # A page fetched twice by a crawl that ran once: a cycle's crawl done twice.
        ids = dict(session.execute(select(Business.slug, Business.id)).all())
        fetched_twice = {path.split("/")[2] for path, n in pages.items() if n > 1}
        twice |= {ids[s] for s in fetched_twice if s in ids and ids[s] not in redone_crawls}
        result.duplicates = len(twice)
        # Lost: mentions missing from a source whose crawl succeeded in the end. A source whose
        # last run failed (a timeout) is counted apart: its digest named it.
        per_source = world.reviews * world.pages
        last_run = select(CrawlRun.source_id, func.max(CrawlRun.id).label("run_id")) \
            .group_by(CrawlRun.source_id).subquery()
        stored = dict(session.execute(
            select(Mention.source_id, func.count(func.distinct(Mention.external_id)))
            .group_by(Mention.source_id)).all())
        for source_id, status in session.execute(
                select(Source.id, CrawlRun.status)
                .join(last_run, last_run.c.source_id == Source.id)
                .join(CrawlRun, CrawlRun.id == last_run.c.run_id)):
            if status in ("ok", "partial"):
                result.lost_mentions += max(0, per_source - stored.get(source_id, 0))
            else:
                result.failed_sources += 1
        never = session.scalar(select(func.count()).select_from(Source)
                               .where(~Source.id.in_(select(last_run.c.source_id))))
        result.lost_mentions += int(never or 0) * per_source
        mentions = session.scalar(select(func.count()).select_from(Mention)) or 0
        current = session.execute(
            select(Score.mention_id, func.count()).where(Score.is_current.is_(True))
            .group_by(Score.mention_id)).all()
        per_version = session.execute(
            select(func.count()).select_from(
                select(Score.mention_id, Score.model_version, Score.mention_revision)
                .group_by(Score.mention_id, Score.model_version, Score.mention_revision)
                .having(func.count() > 1).subquery())).scalar() or 0
        result.double_scored = (sum(1 for _, n in current if n != 1) + (mentions - len(current))
                                + int(per_version))
    ids_sent = [r.message["Message-ID"] for r in smtp.recorder.received]
    result.digests_received = len(ids_sent)
    result.distinct_message_ids = len(set(ids_sent))
    if result.killed:
        result.recovered = (result.done == world.businesses and result.stages_redone > 0
                            and result.lost_mentions == 0 and result.double_scored == 0)


def _workers_seen(store: Store) -> int:
    from storage.models import WorkerSeen

    try:
        return _count(store, WorkerSeen.seen_at.isnot(None), WorkerSeen)
    except Exception:  # noqa: BLE001 - tables not there yet
        return 0


def _count(store: Store, condition, model=CycleRun) -> int:  # type: ignore[no-untyped-def]
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(condition)) or 0)


def wait_until(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {what}: not within {timeout:.0f} s")
        time.sleep(1)


def _drop_queues(prefix: str) -> None:
    from kombu import Connection

    try:
        with Connection(BROKER, connect_timeout=5) as connection:
            channel = connection.channel()
            for stage in ("crawl", "score", "snapshot", "digest"):
                channel.queue_delete(f"{prefix}.{stage}")
                channel.exchange_delete(f"{prefix}.{stage}")
    except Exception:  # noqa: BLE001
        pass


def default_day_plan(world: World) -> dict[str, float]:
    """The day's plan at default politeness for these businesses, all due at 08:00: how far
    back the platform's and the other hosts' crawls start (hours before the digest)."""
    from reviewwatch.plan import plan_crawls

    due = dt.datetime(2026, 7, 1, 8, tzinfo=dt.UTC)
    demand = {i: [(a, 1 + world.pages) for a, _ in world.sources(i)] for i in range(world.businesses)}
    plan = plan_crawls([(i, due) for i in range(world.businesses)], demand,
                       delay_s=DEFAULT_DELAY, margin_s=900)
    platform = [plan[i] for i in range(world.businesses) if i % 5 == 0]
    others = [plan[i] for i in range(world.businesses) if i % 5 != 0]
    return {
        "platform_first_crawl_h_before": round((due - min(platform)).total_seconds() / 3600, 2),
        "others_first_crawl_h_before": round((due - min(others)).total_seconds() / 3600, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--businesses", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--factor", type=float, default=20.0,
                        help="politeness scaled down by this (delay = 1 s / factor)")
    parser.add_argument("--reviews", type=int, default=2, help="reviews per page")
    parser.add_argument("--pages", type=int, default=1, help="pages per source")
    parser.add_argument("--concurrency", type=int, default=64, help="threads per worker")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    parser.add_argument("--no-chaos", action="store_true", help="skip the run with a killed worker")
    parser.add_argument("--only", choices=["1", "2"], default=None,
                        help="one run with this many workers (a quick look; no JSON)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schemas")
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    from sentiment.convert import ensure_converted

    data_dir = WORK / "data"
    ensure_converted(data_dir / "models")
    addresses = loopback_addresses(args.hosts + 1)
    world = World(args.businesses, addresses[:-1], addresses[-1], free_port(), args.reviews,
                  args.pages)
    load_before = os.getloadavg()
    print(f"scale bench: {world.businesses} businesses, {args.hosts} hosts + 1 platform host, "
          f"delay {DEFAULT_DELAY / args.factor:.3f} s (default {DEFAULT_DELAY} s / {args.factor:g}), "
          f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f}", flush=True)
    ceiling = cpu_ceiling()
    print(f"the machine's own ceiling: the same pure-Python work in 2 processes pinned to a core "
          f"each goes {ceiling:.2f}x as fast as in 1 (2.0 would be two full cores)", flush=True)
    if args.only:
        r = run_once(world, args.only, int(args.only), args, data_dir, kill=False)
        print(r)
        return
    runs = [run_once(world, "1", 1, args, data_dir, kill=False),
            run_once(world, "2", 2, args, data_dir, kill=False)]
    if not args.no_chaos:
        runs.append(run_once(world, "chaos", 2, args, data_dir, kill=True))
    load_after = os.getloadavg()
    for r in runs:
        print(f"run {r.label}: {r.workers} workers, startup {r.startup_s:.0f} s, wall {r.wall_s:.1f} s, "
              f"{r.done} finished ({r.failed} with a failed source: {r.failed_sources} sources), "
              f"{r.skipped} skipped, {r.duplicates} duplicated, "
              f"{r.lost_mentions} mentions lost, {r.double_scored} not scored once, "
              f"{r.digests_received} digests ({r.distinct_message_ids} Message-IDs), "
              f"{r.stages_redone} cycles with a stage redone, {r.schedulers_alive} of 2 schedulers "
              "alive at the end"
              + (f", recovered: {r.recovered}" if r.killed else ""), flush=True)
        print("  CPU seconds by process group: "
              + ", ".join(f"{g} {v:.0f}" for g, v in r.cpu_s.items()), flush=True)

    wall = {r.label: r.wall_s for r in runs}
    rate_2 = world.businesses / wall["2"]
    platform_host = f"{world.platform}:{world.port}"
    spread = {h: n for r in runs[:2] for h, n in r.requests_per_host.items() if h != platform_host}
    spread_requests_per_business = sum(spread.values()) / (2 * world.businesses)
    platform_requests = sum(r.requests_per_host.get(platform_host, 0) for r in runs[:2]) / 2
    platform_per_business = platform_requests / max(1, world.businesses // 5)
    budget_per_host_day = 86_400 / DEFAULT_DELAY
    hosts_bound = args.hosts * budget_per_host_day / spread_requests_per_business
    per_day = min(rate_2 * 86_400, hosts_bound)
    result = {
        "businesses": world.businesses,
        "hosts": args.hosts,
        "wall_s": {"1": round(wall["1"], 1), "2": round(wall["2"], 1)},
        "businesses_per_day_at_default_politeness": int(per_day),
        "scaling_2_workers": round(wall["1"] / wall["2"], 2),
        # The baseline: what two pinned processes of pure CPU work gain over one on this machine.
        "cpu_ceiling_2_processes": round(ceiling, 2),
        "max_host_rate_ratio": round(max(v for r in runs for v in r.host_ratio.values()), 3),
        "skipped_cycles": sum(r.skipped for r in runs),
        "duplicate_cycles": sum(r.duplicates for r in runs),
        "lost_mentions": sum(r.lost_mentions for r in runs),
        "double_scored": sum(r.double_scored for r in runs),
        "killed_worker_recovered": None if args.no_chaos else bool(runs[-1].recovered),
        "schedulers_alive_each_run": [r.schedulers_alive for r in runs],
        "failed_sources_each_run": [r.failed_sources for r in runs],
        "cpu_bound_businesses_per_day_2_workers": int(rate_2 * 86_400),
        "host_budget_businesses_per_day": int(hosts_bound),
        "platform_businesses_per_day_at_default_politeness":
            int(budget_per_host_day / platform_per_business),
        "chaos_wall_s": round(wall.get("chaos", float("nan")), 1),
        "cpu_s_by_group": {r.label: r.cpu_s for r in runs},
        "default_day_plan": default_day_plan(world),
        "delay_s": DEFAULT_DELAY / args.factor,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


def _spin(seconds: float) -> int:
    """Pure-Python work for about `seconds`: the iterations done."""
    end, done = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        sum(i * i for i in range(2000))
        done += 1
    return done


def _pinned_spin(core: int, seconds: float, out: multiprocessing.Queue[int]) -> None:
    os.sched_setaffinity(0, {core})
    out.put(_spin(seconds))


def cpu_ceiling(seconds: float = 5.0) -> float:
    """The work two processes pinned to cores 0 and 1 do together, over one process's alone:
    the most any two workers can gain here (hyper-threads, a shared host or noisy neighbours
    give less than 2.0). Measured in the same run as the workers, since the machine is shared."""
    if (os.cpu_count() or 1) < 2:
        return 1.0
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[int] = ctx.Queue()

    def run(cores: list[int]) -> int:
        procs = [ctx.Process(target=_pinned_spin, args=(c, seconds, out)) for c in cores]
        for proc in procs:
            proc.start()
        total = sum(out.get() for _ in procs)
        for proc in procs:
            proc.join()
        return total

    return run([0, 1]) / run([0])


if __name__ == "__main__":
    main()
