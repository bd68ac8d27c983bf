"""SIGTERM and SIGINT stop the daemon cleanly: after the running stage, with the schedule kept."""

from __future__ import annotations

import datetime as dt
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from reviewwatch.config import Settings
from reviewwatch.cycle import CycleResult, run_cycle
from storage.db import Store
from tests.digest.conftest import BUSINESS, Seeder
from tests.digest.smtpserver import SmtpServer
from tests.scheduler.test_cycle import keyword_scorer
from tests.scheduler.test_scheduler import wait_for

import scheduler

# A crawl that says it started, then waits (bounded) until the test releases it.
WAITING_CRAWL = """
import pathlib, sys, threading, time
started, release = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
started.write_text("started")
deadline = time.monotonic() + 30
while not release.exists() and time.monotonic() < deadline:
    threading.Event().wait(0.02)
"""


def test_sigterm_during_a_cycle_finishes_the_running_stage_and_skips_the_rest(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder, tmp_path: Path
) -> None:
    seed()
    started, release = tmp_path / "started", tmp_path / "release"
    results: list[CycleResult] = []

    def runner(slug: str, should_stop) -> None:  # type: ignore[no-untyped-def]
        crawl = lambda s, b: [sys.executable, "-c", WAITING_CRAWL, str(started), str(release)]  # noqa: E731
        results.append(
            run_cycle(
                settings,
                slug,
                store=store,
                crawl=crawl,
                score=keyword_scorer,
                should_stop=should_stop,
            )
        )

    # The cycle came due a moment ago: the daemon runs it as soon as it starts.
    first = scheduler.Daemon(settings, store)
    first.start()
    first.scheduler.pause()
    first.scheduler.modify_job(f"cycle:{BUSINESS}", next_run_time=dt.datetime.now(dt.UTC))
    first.shutdown()

    def terminate_while_crawling() -> None:
        wait_for(started.exists, timeout=30)
        os.kill(os.getpid(), signal.SIGTERM)
        wait_for(lambda: daemon.stopping.is_set())
        release.write_text("go")

    daemon = scheduler.Daemon(settings, store, runner=runner)
    helper = threading.Thread(target=terminate_while_crawling)
    helper.start()
    daemon.serve()  # returns once the signal is handled and the running cycle has stopped
    helper.join()

    [result] = results
    assert result.stopped and [(s.name, s.ok) for s in result.stages] == [("crawl", True)]
    assert smtp_server.recorder.received == []  # the digest stage did not start
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored


def _daemon_process(config: Path) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "reviewwatch", "--config", str(config), "schedule"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return process, lines


def _read_until(lines: queue.Queue[str], needle: str, timeout: float = 60) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not any(needle in line for line in seen):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{needle!r} not logged; got:\n{''.join(seen)}")
        try:
            seen.append(lines.get(timeout=remaining))
        except queue.Empty:
            continue
    return seen


def test_the_schedule_command_stops_on_sigterm_and_sigint_and_resumes_without_duplicates(
    database_url: str, write_config, tmp_path: Path
) -> None:
    config = write_config(
        f'data_dir = "{tmp_path.as_posix()}"\n'
        f'database_url = "{database_url}"\n'
        "[[businesses]]\n"
        'id = "cafe"\nname = "Café"\ntimezone = "Europe/Stockholm"\n'
        "[businesses.digest]\nsend_at = 08:00:00\n"
    )
    process, lines = _daemon_process(config)
    log = _read_until(lines, "scheduler started")
    assert any("added 2" in line for line in log)
    assert any(
        "job cycle:cafe: next run" in line
        and ("08:00:00+01:00" in line or "08:00:00+02:00" in line)
        for line in log
    )
    process.send_signal(signal.SIGTERM)
    _read_until(lines, "scheduler stopped")
    assert process.wait(timeout=30) == 0

    process, lines = _daemon_process(config)
    log = _read_until(lines, "scheduler started")
    assert any("2 jobs (added 0, rescheduled 0, kept 2, removed 0)" in line for line in log)
    process.send_signal(signal.SIGINT)
    assert any("SIGINT received" in line for line in _read_until(lines, "scheduler stopped"))
    assert process.wait(timeout=30) == 0
