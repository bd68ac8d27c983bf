"""The scheduler's tick and the SQL of one business cycle, at `bench/scale.py`'s size, in minutes.

`bench/scale.py` measures the whole day (20+ minutes of the whole machine); this measures the
two costs besides the workers' own that its CPU figures pointed at, on PostgreSQL:

1. The tick (`reviewwatch.worker.dispatch.tick`) with B businesses (default 2 000, as the scale
   bench: every business in UTC, its digest due 5 s ago, `plan_every_s = 1`, a 7 200 s misfire
   grace, a 3 600 s crawl margin): the first tick of two schedulers on an empty store (the first
   claims every cycle and enqueues every crawl), then `--ticks` ticks with nothing due, then
   `--ticks` ticks each finding `--due` digests ready (their snapshots marked done before it,
   outside the timing). Per tick: wall ms (median, p95), the tick's own CPU ms (median: the
   machine's load inflates wall time, not this), SQL statements, and the CPU the PostgreSQL
   backends serving it used.
2. The stages of `--cycles` of those cycles, run in this process as a worker runs them (crawl of
   the business's two sources on a simulated web, scoring with the embedded model, snapshot,
   digest to a local SMTP server): SQL statements per business cycle by stage, the client-side
   time they took, PostgreSQL backend CPU per cycle, and the statements that cost most.

Publishing is a no-op (no broker): what is measured is the store's side and the Python around it.

    PYTHONPATH=. .venv/bin/python bench/scale_tick.py [--businesses 2000] [--ticks 50] [--cycles 40]

The last line is one JSON object: {"businesses", "tick_ms": {"first", "first_second_scheduler",
"idle": {"median", "p95", "cpu_median", "statements", "pg_cpu_ms"}, "due": {...}}, "cycle": {"statements":
{stage: per cycle}, "pg_cpu_ms": {stage: per cycle}, ...}, "load_average"}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, event, select, text, update  # noqa: E402

from reviewwatch.config import Settings  # noqa: E402
from storage.db import Store  # noqa: E402
from storage.models import CycleRun, CycleStage, utcnow  # noqa: E402

PG_URL = os.environ.get("REVIEWWATCH_BENCH_PG_URL", "postgresql+psycopg://@127.0.0.1:5432/test")
WORK = REPO / ".bench" / "scale"
STAGES = ("crawl", "score", "snapshot", "digest")
SHAPE_CHARS = int(os.environ.get("SCALE_TICK_SHAPE_CHARS", "160"))


class SqlMeter:
    """Counts the statements an engine sends, by the label in force, with their client-side time,
    and the CPU the PostgreSQL backends of its connections use (their pids, read on connect)."""

    def __init__(self, store: Store) -> None:
        self.label = "other"
        self.count: Counter[str] = Counter()
        self.seconds: dict[str, float] = defaultdict(float)
        # (label, shape) -> [statements, client-side seconds, backend CPU seconds]
        self.shapes: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
        self.pids: set[int] = set()
        # One (statement, parameters) per shape and label, for `unindexed` (EXPLAIN).
        self.samples: dict[tuple[str, str], tuple[str, Any]] = {}
        self._started: dict[int, tuple[float, int, float]] = {}
        engine = store.engine
        engine.dispose()  # connections opened from now on are seen by `connect`
        event.listen(engine, "connect", self._connect)
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "begin", self._begin)
        self.transactions: Counter[str] = Counter()
        # (label, statement shape) in order, while set (`--trace`: the last cycle's statements).
        self.trace: list[tuple[str, str]] | None = None

    def _connect(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        self.pids.add(int(cursor.fetchone()[0]))
        cursor.close()
        dbapi_connection.rollback()  # a connection handed out idle, as the pool's are

    def _begin(self, _conn: Any) -> None:
        self.transactions[self.label] += 1
        if self.trace is not None:
            self.trace.append((self.label, "BEGIN"))

    def _before(self, conn: Any, cursor: Any, *_args: Any) -> None:
        pid = _backend_pid(conn)
        self._started[id(cursor)] = (time.perf_counter(), pid, _run_ns(pid))

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, _ctx: Any,
               executemany: bool) -> None:
        began, pid, ran = self._started.pop(id(cursor), (time.perf_counter(), 0, 0.0))
        took = time.perf_counter() - began
        backend_s = max(0.0, _run_ns(pid) - ran) / 1e9 if pid else 0.0
        self.count[self.label] += 1
        self.seconds[self.label] += took
        key = (self.label, _shape(statement))
        if self.trace is not None:
            self.trace.append(key)
        if not executemany:
            self.samples.setdefault(key, (statement, parameters))
        shape = self.shapes[key]
        shape[0] += 1
        shape[1] += took
        shape[2] += backend_s

    def backend_cpu(self) -> float:
        """CPU seconds the backends have run so far, read as each statement's is (`_run_ns`), so
        that the part inside statements is a part of this total, on the same clock."""
        return sum(_run_ns(pid) for pid in list(self.pids)) / 1e9

    @contextmanager
    def labelled(self, label: str) -> Iterator[None]:
        previous, self.label = self.label, label
        try:
            yield
        finally:
            self.label = previous

    def unindexed(self, store: Store, label: str) -> list[tuple[str, str]]:
        """(table, statement shape) of the statements whose plan scans a whole table even with
        sequential scans discouraged (`enable_seqscan = off`): no index serves them."""
        found = []
        with store.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            cursor = raw.cursor()
            cursor.execute("SET enable_seqscan = off")
            for (lab, shape), (statement, parameters) in self.samples.items():
                if lab != label or statement.lstrip().upper().startswith(("INSERT", "SAVEPOINT",
                                                                          "RELEASE", "SET")):
                    continue
                cursor.execute("EXPLAIN " + statement, parameters)
                lines = [row[0] for row in cursor.fetchall()]
                if os.environ.get("SCALE_TICK_ANALYZE") and statement.lstrip().upper().startswith("SELECT"):
                    cursor.execute("SET enable_seqscan = on")
                    cursor.execute("EXPLAIN (ANALYZE, SUMMARY) " + statement, parameters)
                    times = [r[0] for r in cursor.fetchall() if "Time:" in r[0]]
                    cursor.execute("SET enable_seqscan = off")
                    print(f"    analyze {' '.join(t.strip() for t in times)}: {shape}")
                if os.environ.get("SCALE_TICK_PLANS"):
                    print(shape, *lines, sep="\n  ")
                for table in sorted(_full_scans(lines)):
                    found.append((table, shape))
            raw.rollback()
        return found

    def top(self, label: str, n: int = 6) -> list[tuple[float, float, float, str]]:
        """(count, client-side s, backend CPU s, shape) of the statements whose backend CPU
        was highest."""
        rows = [(c, s, b, shape) for (lab, shape), (c, s, b) in self.shapes.items() if lab == label]
        return sorted(rows, key=lambda r: -r[2])[:n]


def _backend_pid(conn: Any) -> int:
    """The PostgreSQL backend serving a SQLAlchemy connection (0 when not known)."""
    try:
        return int(conn.connection.dbapi_connection.info.backend_pid)
    except Exception:  # noqa: BLE001 - another driver: no per-statement backend CPU
        return 0


def _run_ns(pid: int) -> float:
    """Nanoseconds a process has run on a CPU (/proc/PID/schedstat, exact, where cpu_times
    counts clock ticks): a statement's backend CPU is the difference around it."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def _full_scans(plan: list[str]) -> set[str]:
    """Tables a plan reads whole: a Seq Scan, or an index scan with no Index Cond (a walk of
    the whole primary key for an ORDER BY id ... LIMIT, filtering every row)."""
    tables: set[str] = set()
    nodes: list[list[str]] = []
    for line in plan:
        if "->" in line or not nodes:
            nodes.append([line])
        else:
            nodes[-1].append(line)
    for node in nodes:
        head = re.search(r"(Seq Scan|Index Scan Backward|Index Scan|Index Only Scan)"
                         r"(?: using \w+)? on (\w+)", node[0])
        if head and not any("Index Cond" in line for line in node[1:]):
            tables.add(head.group(2))
    return tables


def _shape(statement: str) -> str:
    """A statement without its literal lists: one shape per query, for the top lists."""
    one = re.sub(r"\s+", " ", statement)
    one = re.sub(r"\(%\(\w+\)s(?:, %\(\w+\)s)+\)", "(...)", one)
    one = re.sub(r"__\[POSTCOMPILE_\w+\]", "...", one)
    return one[:SHAPE_CHARS]


def settings_for(n: int, *, data_dir: Path, hosts: list[str], port: int, smtp_port: int,
                 send_at: dt.time) -> Settings:
    """The scale bench's businesses: two schema.org sources each, one on a host of their own
    among the hosts, the other on a second one (a fifth of them on one shared platform host)."""
    h = len(hosts) - 1
    businesses = []
    for i in range(n):
        slug = f"biz-{i:06d}"
        second = hosts[-1] if i % 5 == 0 else hosts[(i + h // 2 + 1) % h]
        urls = [f"http://{hosts[i % h]}:{port}/biz/{slug}/site/?reviews=2&pages=1",
                f"http://{second}:{port}/biz/{slug}/listing/?reviews=2&pages=1"]
        businesses.append({
            "id": slug, "name": slug, "timezone": "UTC", "owners": [f"owner@{slug}.example"],
            "sources": [{"type": "schema_org", "url": u} for u in urls],
            "digest": {"send_at": send_at.strftime("%H:%M:%S"), "all_quiet_email": True},
        })
    return Settings(
        data_dir=data_dir,
        languages=["en"],
        log_level="WARNING",
        crawl={"download_delay": 0.05, "autothrottle": False, "concurrent_per_domain": 1,
               "retries": 1, "contact": "bench@reviewwatch.invalid"},
        smtp={"host": "127.0.0.1", "port": smtp_port, "security": "none", "timeout_s": 30},
        schedule={"plan_every_s": 1, "misfire_grace_s": 7200, "crawl_margin_s": 3600,
                  "requeue_after_s": 7200},
        businesses=businesses,
    )


def timed_ticks(meter: SqlMeter, count: int, one: Callable[[], Any],
                before: Callable[[], None] | None = None) -> dict[str, float]:
    times: list[float] = []
    own_cpu: list[float] = []  # the scheduler's own CPU (this thread): what the load does not inflate
    statements = 0
    cpu = 0.0
    for _ in range(count):
        if before is not None:
            with meter.labelled("setup"):
                before()
        with meter.labelled("tick"):
            n0, c0 = meter.count["tick"], meter.backend_cpu()
            t0, c0_own = time.perf_counter(), time.thread_time()
            one()
            times.append(time.perf_counter() - t0)
            own_cpu.append(time.thread_time() - c0_own)
            statements += meter.count["tick"] - n0
            cpu += meter.backend_cpu() - c0
    times.sort()
    return {"median": round(statistics.median(times) * 1000, 2),
            "p95": round(times[min(len(times) - 1, int(0.95 * len(times)))] * 1000, 2),
            "cpu_median": round(statistics.median(own_cpu) * 1000, 2),
            "statements": round(statements / count, 1),
            "pg_cpu_ms": round(cpu / count * 1000, 2)}


def mark_ready(store: Store, k: int) -> None:
    """k cycles whose crawl, scoring and snapshot finished (as workers would leave them)."""
    with store.transaction() as session:
        ids = session.scalars(
            select(CycleRun.id).where(~CycleRun.id.in_(
                select(CycleStage.cycle_id).where(CycleStage.stage == "snapshot")))
            .order_by(CycleRun.id.desc()).limit(k)).all()
        now = utcnow()
        session.execute(update(CycleStage).where(CycleStage.cycle_id.in_(ids),
                                                 CycleStage.stage == "crawl")
                        .values(state="done", ok=True, finished_at=now))
        for stage in ("score", "snapshot"):
            session.add_all(CycleStage(cycle_id=i, stage=stage, state="done", ok=True,
                                       attempts=1, enqueued_at=now, finished_at=now) for i in ids)


class NoRetry:
    def retry(self, countdown: float) -> Exception:
        raise AssertionError(f"unexpected retry in {countdown} s")


def bench_ticks(store: Store, settings: Settings, meter: SqlMeter, args: argparse.Namespace
                ) -> dict[str, Any]:
    from reviewwatch.worker.dispatch import tick

    published: list[tuple[str, int]] = []

    def publish(stage: str, cycle_id: int) -> None:
        published.append((stage, cycle_id))

    out: dict[str, Any] = {}
    with meter.labelled("first tick"):
        t0 = time.perf_counter()
        first = tick(store, settings, publish, claimed_by="scheduler-a")
        out["first"] = round((time.perf_counter() - t0) * 1000, 1)
        t0 = time.perf_counter()
        tick(store, settings, publish, claimed_by="scheduler-b")
        out["first_second_scheduler"] = round((time.perf_counter() - t0) * 1000, 1)
    out["first_statements"] = meter.count["first tick"]
    print(f"first tick: {out['first']:.0f} ms ({first.claimed} claimed, "
          f"{dict(first.enqueued)} enqueued); the second scheduler's first tick "
          f"{out['first_second_scheduler']:.0f} ms; {out['first_statements']} statements both",
          flush=True)
    assert first.claimed == args.businesses, first
    out["idle"] = timed_ticks(meter, args.ticks,
                              lambda: tick(store, settings, publish, claimed_by="scheduler-a"))
    print(f"tick, nothing due: {out['idle']}", flush=True)
    before = len(published)
    out["due"] = timed_ticks(meter, args.ticks,
                             lambda: tick(store, settings, publish, claimed_by="scheduler-a"),
                             before=lambda: mark_ready(store, args.due))
    digests = sum(1 for stage, _ in published[before:] if stage == "digest")
    assert digests == args.ticks * args.due, (digests, args.ticks * args.due)
    print(f"tick, {args.due} digests due each: {out['due']}", flush=True)
    return out


def bench_cycles(store: Store, settings: Settings, meter: SqlMeter, args: argparse.Namespace
                 ) -> dict[str, Any]:
    from reviewwatch.worker.runtime import WorkerRuntime, set_runtime
    from reviewwatch.worker.tasks import run_stage

    with store.session() as session:  # cycles the tick part left untouched: crawl enqueued
        ids = session.scalars(
            select(CycleRun.id).where(~CycleRun.id.in_(
                select(CycleStage.cycle_id).where(CycleStage.stage != "crawl")))
            .order_by(CycleRun.id).limit(args.cycles)).all()
    # A worker taking every stage runs a due cycle's four stages in one task (see
    # `tasks.run_started`); with --no-chain each stage is its own task, measured apart.
    runtime = WorkerRuntime(settings, store, queues=["digest"] if args.no_chain else list(STAGES),
                            concurrency=1, publish=lambda stage, cid: None, name="bench-worker")
    tasks: tuple[str, ...] = STAGES if args.no_chain else ("crawl",)
    set_runtime(runtime)
    cpu: dict[str, float] = defaultdict(float)
    wall: dict[str, float] = defaultdict(float)
    try:
        runtime.scorer().warm()
        # One cycle first, unmeasured: the crawl engine's start and first-use caches.
        with meter.labelled("warm-up"):
            for stage in tasks:
                run_stage(NoRetry(), ids[0], stage)
        for cycle_id in ids[1:]:
            if args.trace and cycle_id == ids[-1]:
                meter.trace = []
            for stage in tasks:
                with meter.labelled(stage):
                    c0, t0 = meter.backend_cpu(), time.perf_counter()
                    detail = run_stage(NoRetry(), cycle_id, stage)
                    wall[stage] += time.perf_counter() - t0
                    cpu[stage] += meter.backend_cpu() - c0
                sent = detail.startswith("1 sent") if stage == "digest" else "digest: 1 sent" in detail
                if stage == tasks[-1] and not sent:
                    raise SystemExit(f"cycle {cycle_id}: {stage}: {detail}")
    finally:
        set_runtime(None)
        runtime.stop()
    n = len(ids) - 1
    if not args.no_chain:  # the crawl task ran every stage of its cycle
        chain = "crawl-to-digest"
        for counter in (meter.count, meter.transactions, meter.seconds, cpu, wall):
            counter[chain] = counter.pop("crawl", 0)  # type: ignore[arg-type]
        meter.shapes = {((chain if label == "crawl" else label), shape): v
                        for (label, shape), v in meter.shapes.items()}  # type: ignore[assignment]
        meter.samples = {((chain if label == "crawl" else label), shape): v
                         for (label, shape), v in meter.samples.items()}
        tasks = (chain,)
    for label, shape in meter.trace or []:
        print(f"  trace {label:8} {shape}")
    out = {
        "cycles": n,
        "chained": not args.no_chain,
        "statements": {s: round(meter.count[s] / n, 1) for s in tasks},
        "transactions": {s: round(meter.transactions[s] / n, 1) for s in tasks},
        "statement_ms": {s: round(meter.seconds[s] / n * 1000, 1) for s in tasks},
        "pg_cpu_ms": {s: round(cpu[s] / n * 1000, 1) for s in tasks},
        # The part spent inside statements (from each backend's schedstat around them); the
        # rest is BEGIN, COMMIT and what the backend does between statements.
        "statement_pg_cpu_ms": {s: round(sum(b for (lab, _), (_c, _s, b) in meter.shapes.items()
                                             if lab == s) / n * 1000, 1) for s in tasks},
        "wall_ms": {s: round(wall[s] / n * 1000, 1) for s in tasks},
    }
    out["statements"]["total"] = round(sum(meter.count[s] for s in tasks) / n, 1)
    out["transactions"]["total"] = round(sum(meter.transactions[s] for s in tasks) / n, 1)
    out["pg_cpu_ms"]["total"] = round(sum(cpu.values()) / n * 1000, 1)
    for stage in tasks:
        print(f"{stage}: {out['statements'][stage]} statements a cycle "
              f"in {out['transactions'][stage]} transactions "
              f"({out['statement_ms'][stage]} ms client-side, PostgreSQL backend CPU "
              f"{out['pg_cpu_ms'][stage]} ms, of which "
              f"{out['statement_pg_cpu_ms'][stage]} ms inside statements, wall "
              f"{out['wall_ms'][stage]} ms); most PostgreSQL CPU (count, client ms, backend ms):")
        for count, seconds, backend, shape in meter.top(stage, args.shapes):
            print(f"    {count / n:5.1f}/cycle {seconds / n * 1000:6.2f} ms {backend / n * 1000:6.2f} ms"
                  f"  {shape}")
        scans = meter.unindexed(store, stage)
        out.setdefault("unindexed", {})[stage] = sorted({table for table, _ in scans})
        for table, shape in scans:
            print(f"    no index for it (a scan of {table}): {shape}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--businesses", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--ticks", type=int, default=50, help="ticks timed in each state")
    parser.add_argument("--due", type=int, default=10, help="digests ready before each tick")
    parser.add_argument("--cycles", type=int, default=40, help="cycles whose stages are run")
    parser.add_argument("--shapes", type=int, default=6,
                        help="statements listed per stage, the costliest first")
    parser.add_argument("--no-chain", action="store_true",
                        help="each stage its own task (the crawl task does not run the score and "
                             "snapshot): figures per stage")
    parser.add_argument("--trace", action="store_true",
                        help="print the last cycle's statements in order, by stage")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    args = parser.parse_args()

    from sentiment.convert import ensure_converted
    from tests.digest.smtpserver import SmtpServer, free_port
    from tests.scale.simweb import SimWeb, loopback_addresses, running

    load = os.getloadavg()
    print(f"scale tick bench: {args.businesses} businesses on PostgreSQL, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    data_dir = WORK / "data"
    ensure_converted(data_dir / "models")
    schema = f"bench_tick_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    hosts = loopback_addresses(args.hosts + 1)
    web = SimWeb(hosts, free_port(), pages=1, reviews=2)
    smtp = SmtpServer()
    store = Store(f"{PG_URL}?options=-csearch_path%3D{schema}")
    result: dict[str, Any] = {"businesses": args.businesses}
    try:
        with running(web), tempfile.TemporaryDirectory():
            send_at = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).time().replace(microsecond=0)
            settings = settings_for(args.businesses, data_dir=data_dir, hosts=hosts, port=web.port,
                                    smtp_port=smtp.port, send_at=send_at)
            from reviewwatch.sync import sync_settings

            with store.transaction() as session:
                sync_settings(session, settings)
            meter = SqlMeter(store)
            result["tick_ms"] = bench_ticks(store, settings, meter, args)
            if args.cycles > 1:
                result["cycle"] = bench_cycles(store, settings, meter, args)
    finally:
        smtp.stop()
        store.dispose()
        if not args.keep:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    result["load_average_before"] = [round(x, 2) for x in load]
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["threads_at_end"] = threading.active_count()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
