"""Without Chromium the browser tests are skipped, and the pytest summary line says so."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


def test_skipped_browser_tests_are_named_in_the_summary(tmp_path) -> None:
    env = {**os.environ, "REVIEWWATCH_TEST_CHROMIUM": str(tmp_path / "no-chromium"),
           "REVIEWWATCH_TEST_BACKENDS": "sqlite"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "tests/analysts/test_browser.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    summary = lines[-1]
    assert "browser skipped" in summary and " skipped" not in summary.replace("browser skipped", ""), summary
    assert "browser tests skipped: the dashboard was not tested in a browser" in done.stdout
    assert f"{tmp_path / 'no-chromium'} is not installed" in done.stdout
