"""The API under load: `reviewwatch serve` driven by locust (headless) on the 1 000 000-mention
stores of bench/query.py, per backend, at several numbers of simulated analysts.

For each backend: build (or reuse) the store as bench/query.py does, start
`reviewwatch serve --workers N` as a process of its own, wait for its first pass of reports
computed ahead (the default window's gap report of every business, reviewwatch/api/warm.py; its
cold cost per report is printed), time each endpoint alone (one user, a
few requests each: what a dashboard meets when nobody else is there), then run locust in a
process of its own at each level (default 50 and 200 users, 60 s each, 0.5-1.5 s think time;
bench/api_load_users.py is the dashboard's mix). Figures per level: requests/s, p50/p95/p99 of
every request (locust's own percentiles, steady state: counted after all users have started),
the number of 5xx, and the load average and CPU of the server and of locust during the level.
The machine is shared: the load average says how quiet it was.

Baseline, in the same run: the same locust process at the highest level against
`/api/v1/me` (no database work), which shows what the machine and the load generator can do.
Prints figures as it goes and ONE JSON object on the last line of stdout.

    .venv/bin/python bench/api_load.py [--users 50,200] [--duration 60] [--workers 2]
        [--backends sqlite,postgresql] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import httpx  # noqa: E402
import psutil  # noqa: E402

import query as bq  # noqa: E402  bench/query.py: the stores
import query_data as qd  # noqa: E402

TOKEN = "bench-token"
USERS_FILE = REPO / "bench" / "api_load_users.py"


def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(path: Path, data_dir: Path) -> None:
    """The 200 businesses of the bench stores, with their claims, as a configuration file; the
    server's files (its report cache) under `data_dir`, one per backend, so that one store's
    cached reports are never served for the other's."""
    lines = [f'data_dir = "{data_dir}"']
    for i in range(qd.BUSINESSES):
        lines += ["[[businesses]]", f'id = "{qd.slug(i)}"', f'name = "Business {i}"']
        for source_type, _ in qd.SOURCES:
            lines += ["[[businesses.sources]]", f'type = "{source_type}"',
                      f'url = "https://{source_type}.example/{qd.slug(i)}"']
        lines += ["[[businesses.claims]]", "positive_share = 0.85", "stated_at = 2025-01-01",
                  "[[businesses.claims]]", 'topic = "service"', "positive_share = 0.8",
                  "stated_at = 2025-01-01", "[[businesses.claims]]", 'topic = "quality"',
                  "average_rating = 4.5", "stated_at = 2025-01-01"]
    path.write_text('log_level = "WARNING"\n' + "\n".join(lines) + "\n", encoding="utf-8")


def start_server(config: Path, url: str, workers: int,
                 code: Path = REPO) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "REVIEWWATCH_DATABASE_URL": url,
           "REVIEWWATCH_API__READ_TOKENS": json.dumps([f"bench:{TOKEN}"]),
           "PYTHONPATH": str(code)}
    # --workers 0: leave the option out, for a version of `serve` that has none
    extra = ["--workers", str(workers)] if workers else []
    server = subprocess.Popen(
        [sys.executable, "-m", "reviewwatch", "--config", str(config), "serve", "--port",
         str(port), *extra],
        cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"serve stopped: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"{base}/api/v1/me", headers=auth(), timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)  # polling the server's start, with a deadline
    server.kill()
    raise RuntimeError("serve did not answer within 300 s")


def wait_for_warm(status: Path, server: subprocess.Popen[bytes],
                  timeout: float = 1800) -> dict[str, Any]:
    """The server's first pass of reports computed ahead (reviewwatch/api/warm.py): waited for,
    so that the levels measure a server that has been up a while, as in use; its figures (how
    long each business's default gap report took to compute cold) are reported."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.poll() is not None:
            raise RuntimeError("serve stopped while warming")
        try:
            figures: dict[str, Any] = json.loads(status.read_text(encoding="utf-8"))
            if figures.get("passes", 0) >= 1:
                log(f"  reports computed ahead: {figures['computed']} of "
                    f"{figures['businesses']} businesses in {figures['seconds']:.0f} s "
                    f"(a report: median {figures['report_seconds_p50']} s, "
                    f"max {figures['report_seconds_max']} s), waited "
                    f"{time.monotonic() - started:.0f} s")
                return figures
        except (OSError, ValueError):
            pass
        time.sleep(1)  # polling the server's warm-up, with a deadline
    raise RuntimeError(f"the server did not warm its reports in {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def probe(base: str) -> dict[str, dict[str, float]]:
    """Each endpoint alone: first request (cold) and the median of the next ones, in ms."""
    year_ago = "2025-11-20"
    cases = {
        "list": [("/api/v1/mentions", {"business": qd.slug(i), "limit": 20}) for i in range(6)],
        "filter": [("/api/v1/mentions", {"business": qd.slug(i), "sentiment": "negative",
                                         "since": "2026-05-01", "until": "2026-07-29",
                                         "limit": 20}) for i in range(6)],
        "aggregate sentiment": [("/api/v1/aggregates/sentiment", {
            "business": qd.slug(i), "bucket": "week", "since": year_ago}) for i in range(6)],
        "aggregate topics": [("/api/v1/aggregates/topics", {
            "business": qd.slug(i), "since": "2026-05-01", "until": "2026-07-29"})
            for i in range(6)],
        "claims": [("/api/v1/claims/perceived", {"business": qd.slug(i)}) for i in range(6)],
        # the default window, which the server computes ahead (reviewwatch/api/warm.py)
        "gap": [(f"/api/v1/gap/{qd.slug(i // 2)}", {}) for i in range(6)],
        # a window nobody asked for yet: computed by the request (the same business twice:
        # computed, then kept until the store changes)
        "gap, another window": [(f"/api/v1/gap/{qd.slug(i // 2)}",
                                 {"since": "2026-06-01", "until": "2026-08-29"})
                                for i in range(6)],
        "single mention": [(f"/api/v1/mentions/{1 + i * 99_991}", {}) for i in range(6)],
    }
    out = {}
    with httpx.Client(base_url=base, headers=auth(), timeout=120) as client:
        for name, requests in cases.items():
            times = []
            for path, params in requests:
                start = time.perf_counter()
                client.get(path, params=params).raise_for_status()
                times.append((time.perf_counter() - start) * 1000)
            out[name] = {"first_ms": round(times[0], 1),
                         "median_ms": round(statistics.median(times), 1),
                         "max_ms": round(max(times), 1)}
            log(f"  alone: {name}: first {out[name]['first_ms']} ms, "
                f"median {out[name]['median_ms']} ms, max {out[name]['max_ms']} ms")
    return out


def cpu_seconds(process: psutil.Process) -> float:
    total = 0.0
    for proc in [process, *process.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def run_level(base: str, users: int, duration: int, server: subprocess.Popen[bytes],
              workdir: Path, users_file: Path = USERS_FILE) -> dict[str, Any]:
    prefix = workdir / f"level-{users}"
    status_file = workdir / f"status-{users}.json"
    env = {**os.environ, "API_LOAD_STATUS": str(status_file), "API_LOAD_TOKEN": TOKEN,
           "API_LOAD_ROWS": str(ROWS), "API_LOAD_BUSINESSES": str(qd.BUSINESSES),
           "API_LOAD_END": qd.END.date().isoformat()}
    spawn_rate = max(10, users // 5)
    command = [sys.executable, "-m", "locust", "-f", str(users_file), "--headless",
               "-u", str(users), "-r", str(spawn_rate), "--run-time", f"{duration}s",
               "--host", base, "--csv", str(prefix), "--reset-stats", "--only-summary",
               "--stop-timeout", "10", "--loglevel", "WARNING"]
    server_proc = psutil.Process(server.pid)
    server_cpu = cpu_seconds(server_proc)
    load_before = os.getloadavg()
    started = time.monotonic()
    locust = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    locust_proc = psutil.Process(locust.pid)
    locust_cpu = 0.0
    loads = []
    while locust.poll() is None:
        try:
            locust_cpu = cpu_seconds(locust_proc)
        except psutil.NoSuchProcess:
            break
        loads.append(os.getloadavg()[0])
        time.sleep(1)  # sampling the load average while locust runs
    elapsed = time.monotonic() - started
    if locust.returncode not in (0, 1):  # 1: some requests failed, which the figures show
        raise RuntimeError(f"locust failed: {locust.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    status = json.loads(status_file.read_text(encoding="utf-8")) if status_file.exists() else {}

    def figures(row: dict[str, str]) -> dict[str, Any]:
        return {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "requests_per_s": round(float(row["Requests/s"]), 1),
                "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"])}

    result = figures(rows["Aggregated"])
    result.update({
        "users": users,
        "status_5xx": sum(n for code, n in status.items() if code.startswith("5")),
        "status": status,
        "load_average_1m": {"before": round(load_before[0], 2),
                            "mean_during": round(statistics.mean(loads), 2) if loads else None,
                            "max_during": round(max(loads), 2) if loads else None},
        "server_cpu_cores": round((cpu_seconds(server_proc) - server_cpu) / elapsed, 2),
        "locust_cpu_cores": round(locust_cpu / elapsed, 2),
        "per_endpoint": {name: figures(row) for name, row in rows.items()
                         if name != "Aggregated"},
    })
    log(f"  {users} users: {result['requests_per_s']} req/s, p50 {result['p50_ms']} ms, "
        f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, 5xx {result['status_5xx']}, "
        f"load avg {result['load_average_1m']}, server {result['server_cpu_cores']} cores, "
        f"locust {result['locust_cpu_cores']} cores")
    for name, row in result["per_endpoint"].items():
        log(f"    {name}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, n={row['requests']}")
    return result


BASELINE_USERS = '''
from locust import FastHttpUser, between, task
import os

class Baseline(FastHttpUser):
    wait_time = between(0.5, 1.5)

    @task
    def me(self) -> None:
        self.client.get("/api/v1/me", headers={"Authorization": "Bearer " + os.environ["API_LOAD_TOKEN"]}, name="me")
'''

ROWS = 1_000_000


def main() -> None:
    global ROWS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", default="50,200")
    parser.add_argument("--duration", type=int, default=60, help="Seconds per level.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://@127.0.0.1:5432/test")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-probe", action="store_true", help="Skip timing each endpoint alone.")
    parser.add_argument("--server-code", type=Path, default=REPO,
                        help="Serve from this checkout (e.g. an earlier version, to compare; "
                        "with --workers 0 when its serve has no --workers).")
    args = parser.parse_args()
    ROWS = args.rows
    levels = [int(u) for u in args.users.split(",") if u]
    settings = qd.bench_settings(api={"read_tokens": [f"bench:{TOKEN}"]})
    result: dict[str, Any] = {"rows": args.rows, "workers": args.workers,
                              "server_code": str(args.server_code),
                              "duration_s": args.duration, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="api-load-") as tmp:
        workdir = Path(tmp)
        for backend in [b for b in args.backends.split(",") if b]:
            config = workdir / f"reviewwatch-{backend}.toml"
            write_config(config, workdir / f"data-{backend}")
            bq.prepare(backend, args.rows, args.pg_url, settings).dispose()
            url = bq.store_url(backend, args.pg_url)
            log(f"{backend}: serve --workers {args.workers}")
            server, base = start_server(config, url, args.workers, args.server_code)
            try:
                figures: dict[str, Any] = {"warm": wait_for_warm(
                    workdir / f"data-{backend}" / "cache" / "api" / "warm.json", server)}
                if not args.no_probe:
                    figures["alone"] = probe(base)
                for users in levels:
                    figures[f"users_{users}"] = run_level(base, users, args.duration, server,
                                                          workdir)
                if not args.no_baseline:
                    baseline = workdir / "baseline_users.py"
                    baseline.write_text(BASELINE_USERS, encoding="utf-8")
                    log(f"  baseline (/api/v1/me, no database) at {max(levels)} users:")
                    figures["baseline_me"] = run_level(base, max(levels), args.duration // 2,
                                                       server, workdir, baseline)
            finally:
                stop(server)
            result[backend] = figures
    summary = {
        backend: {level: {k: v[k] for k in ("requests_per_s", "p50_ms", "p95_ms", "p99_ms",
                                             "status_5xx", "load_average_1m")}
                  for level, v in figures.items() if level.startswith(("users_", "baseline"))}
        for backend, figures in result.items() if isinstance(figures, dict)
    }
    result["summary"] = summary
    print(json.dumps(result))


if __name__ == "__main__":
    main()
