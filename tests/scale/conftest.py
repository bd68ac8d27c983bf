"""Scale-out fixtures: real PostgreSQL, RabbitMQ and Redis, the simulated web, and processes.

Each test gets a PostgreSQL schema, broker queues and Redis keys of its own (a unique prefix),
removed afterwards. Schedulers and workers run as real `reviewwatch` processes, so SIGKILL
means what it means in production.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from storage.db import Store
from tests.conftest import BACKENDS, PG_URL, REPO
from tests.digest.smtpserver import SmtpServer, free_port
from tests.scale.simweb import SimWeb, running

BROKER_URL = os.environ.get("REVIEWWATCH_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("REVIEWWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STAGES = ("crawl", "score", "snapshot", "digest")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL schema of its own (the scale-out features are for PostgreSQL stores)."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among REVIEWWATCH_TEST_BACKENDS")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def prefix() -> Iterator[str]:
    """Queue names and Redis keys of this test; deleted afterwards."""
    name = f"rwtest{uuid.uuid4().hex[:10]}"
    yield name
    from kombu import Connection

    try:
        with Connection(BROKER_URL, connect_timeout=5) as connection:
            channel = connection.channel()
            for stage in STAGES:
                channel.queue_delete(f"{name}.{stage}")
                channel.exchange_delete(f"{name}.{stage}")
    except Exception:  # noqa: BLE001 - best effort: queues of a test that never declared them
        pass
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{name}:*"):
            client.delete(key)
    except Exception:  # noqa: BLE001
        pass


@pytest.fixture
def simweb() -> Iterator[SimWeb]:
    web = SimWeb(["127.0.0.1", "127.0.1.1", "127.0.1.2"], free_port(), pages=1, reviews=3,
                 slow_s=6.0)
    with running(web):
        yield web


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Processes:
    """`reviewwatch` child processes of one test, their output kept; all stopped afterwards."""

    config: Path
    broker: bool = True
    started: list[Proc] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
        if self.broker:  # a URL with a password is a secret: never in the file
            env["REVIEWWATCH_WORKERS__BROKER_URL"] = BROKER_URL
        return env

    def start(self, name: str, *args: str) -> Proc:
        env = self.env
        process = subprocess.Popen(
            [sys.executable, "-m", "reviewwatch", "--config", str(self.config), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO,
        )
        proc = Proc(name, process)

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                proc.lines.append(line)

        threading.Thread(target=pump, daemon=True).start()
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.alive():
                proc.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.started:
            try:
                proc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.process.kill()
                proc.process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.output[-6000:]}" for p in self.started)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., Processes]]:
    made: list[Processes] = []

    def make(config: Path, broker: bool = True) -> Processes:
        procs = Processes(config, broker)
        made.append(procs)
        return procs

    yield make
    for procs in made:
        procs.stop_all()


def wait_for(condition: Callable[[], Any], timeout: float, what: str,
             logs: Callable[[], str] = lambda: "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s\n{logs()}")
        time.sleep(0.25)


def business_toml(slug: str, urls: list[str], owner: str | None, send_at: dt.time) -> str:
    owners = f'owners = ["{owner}"]\n' if owner else ""
    sources = "".join(
        f'  [[businesses.sources]]\n  type = "schema_org"\n  url = "{url}"\n' for url in urls
    )
    return (
        f'[[businesses]]\nid = "{slug}"\nname = "{slug}"\ntimezone = "UTC"\n{owners}'
        f"{sources}  [businesses.digest]\n  send_at = {send_at.strftime('%H:%M:%S')}\n"
        # Always an email, negative mentions or not: each cycle's digest can be counted.
        "  all_quiet_email = true\n"
    )


def scale_config(
    path: Path,
    *,
    data_dir: Path,
    database_url: str,
    prefix: str,
    smtp_port: int,
    businesses: str,
    broker: bool = True,
    host_budget: bool = True,
    delay: float = 0.0,
    lease_s: int = 5,
    extra: str = "",
) -> Path:
    workers = ""
    if broker:
        workers = (  # broker_url comes from the environment (`Processes.env`)
            f'[workers]\nqueue_prefix = "{prefix}"\n'
            f"stage_lease_s = {lease_s}\nmetrics_port = 0\n"
            + (f'host_budget_url = "{REDIS_URL}"\n' if host_budget else "")
        )
    path.write_text(
        f'data_dir = "{data_dir.as_posix()}"\ndatabase_url = "{database_url}"\n'
        'languages = ["en"]\nlog_level = "INFO"\n'
        f"[crawl]\ndownload_delay = {delay}\nautothrottle = false\nretries = 0\n"
        'contact = "tests@reviewwatch.invalid"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\ntimeout_s = 5\n'
        "[schedule]\nplan_every_s = 0.5\nmisfire_grace_s = 3600\ncrawl_margin_s = 120\n"
        f"{extra}{workers}{businesses}",
        encoding="utf-8",
    )
    return path


def store_of(url: str) -> Store:
    """The store as the processes made it: never migrated by the test itself."""
    return Store(url, migrate=False)
