"""Files and folders named on the command line: a missing folder is a one-line error (exit 2),
before any work, and nothing is created on a guess."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewwatch.cli import cli

CONFIG = """
data_dir = "{data}"
[[businesses]]
id = "cafe"
name = "Cafe"
owners = ["owner@cafe.example"]
  [[businesses.sources]]
  type = "feed"
  url = "http://127.0.0.1:9/feed.xml"
"""


@pytest.fixture
def config(tmp_path: Path, write_config) -> Path:
    return write_config(CONFIG.format(data=(tmp_path / "data").as_posix()))


@pytest.mark.parametrize("args", [
    ["query", "--format", "csv", "--output", "{missing}/x.csv"],
    ["query", "--format", "parquet", "--output", "{missing}/x.parquet"],
    ["gap", "--format", "html", "--output", "{missing}/x.html"],
    ["gap", "--format", "json", "--output", "{missing}/x.json"],
    ["gap", "--output", "{missing}/x.txt"],
    ["score", "--input", "{here}/in.jsonl", "--output", "{missing}/out.jsonl"],
    ["digest", "--dry-run", "--outbox", "{missing}/outbox"],
    ["run", "--dry-run", "--outbox", "{missing}/outbox"],
])
def test_a_missing_folder_is_a_one_line_error(config: Path, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "in.jsonl").write_text('{"id": 1, "text": "fine"}\n', encoding="utf-8")
    missing = tmp_path / "no" / "such"
    argv = [a.format(missing=missing, here=tmp_path) for a in args]
    result = CliRunner().invoke(cli, ["--config", str(config), *argv])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot write{' into' if 'outbox' in argv[-1] else ''} {argv[-1]}: "
        f"the folder {Path(argv[-1]).parent} does not exist")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "no").exists()


def test_an_existing_folder_is_written(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["--config", str(config), "gap", "--format", "html",
                                      "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "<html" in out.read_text(encoding="utf-8").lower()
    folder = CliRunner().invoke(cli, ["--config", str(config), "gap", "--output", str(tmp_path)])
    assert folder.exit_code == 2 and "is a directory" in folder.stderr  # click checks that one
