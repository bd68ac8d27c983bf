"""Shared fixtures: a real store on each backend (SQLite file, PostgreSQL schema), settings files.

REVIEWWATCH_TEST_BACKENDS (default "sqlite,postgresql") chooses the backends the store-backed
tests run on; each PostgreSQL test gets a schema of its own in the `test` database, dropped after.
Browser tests skipped for want of Chromium are counted apart in the summary line ("N browser
skipped") and explained under it: a run without Chromium never looks like a full one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage.db import Store

BACKENDS = [b for b in os.environ.get("REVIEWWATCH_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
PG_URL = os.environ.get("REVIEWWATCH_TEST_PG_URL", "postgresql+psycopg://@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


BROWSER_SKIPPED = "browser skipped"


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    if report.skipped and report.when == "setup" and "browser" in report.keywords:
        return BROWSER_SKIPPED, "b", "SKIPPED (no browser)"
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get(BROWSER_SKIPPED, [])
    if skipped:
        reason = skipped[0].longrepr[2] if isinstance(skipped[0].longrepr, tuple) else ""
        terminalreporter.write_sep(
            "=", f"{len(skipped)} browser tests skipped: the dashboard was not tested in a browser",
            yellow=True, bold=True)
        terminalreporter.write_line(str(reason).removeprefix("Skipped: "))


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own configuration or secrets."""
    for name in list(os.environ):
        if name.startswith("REVIEWWATCH_") and not name.startswith("REVIEWWATCH_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
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
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a TOML configuration into tmp_path and return its path."""

    def write(body: str, name: str = "reviewwatch.toml") -> Path:
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def real_data_dir(tmp_path_factory) -> Path:
    """A data directory whose models/ holds the embedded model, converted on first use."""
    from sentiment.convert import ensure_converted

    base = tmp_path_factory.mktemp("rwdata")
    ensure_converted(base / "models")
    return base


@pytest.fixture(scope="session")
def real_model_dir(real_data_dir) -> Path:
    from sentiment.convert import CONVERTED_NAME

    return real_data_dir / "models" / CONVERTED_NAME
