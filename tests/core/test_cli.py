from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from reviewwatch.cli import cli
from reviewwatch.config import load_settings
from storage.db import Store
from storage.migrate import head_revision
from storage.models import Claim, Source


def test_init_writes_a_configuration_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "reviewwatch.toml"
    result = CliRunner().invoke(cli, ["--config", str(path), "init"])
    assert result.exit_code == 0, result.output
    assert load_settings(path).businesses[0].id == "cafe-aurora"
    again = CliRunner().invoke(cli, ["--config", str(path), "init"])
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_commands_start_without_a_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 0, result.output
    assert "no businesses configured" in result.stdout
    assert "reviewwatch init" in result.stderr
    # `status` reads: it says there is no store and creates neither the file nor its folder.
    assert "no store yet" in result.stdout
    assert not (tmp_path / "data").exists()


def test_status_and_db_upgrade_on_each_backend(database_url: str, write_config, monkeypatch) -> None:
    path = write_config(
        '[[businesses]]\nid = "cafe"\nname = "Cafe"\n'
        '[[businesses.sources]]\ntype = "feed"\nurl = "https://example.com/feed.xml"\n'
        '[[businesses.claims]]\npositive_share = 0.9\naverage_rating = 4.5\nstated_at = 2026-01-01\n'
    )
    monkeypatch.setenv("REVIEWWATCH_DATABASE_URL", database_url)
    upgrade = CliRunner().invoke(cli, ["--config", str(path), "db", "upgrade"])
    assert upgrade.exit_code == 0, upgrade.output
    assert upgrade.stdout.rstrip().endswith(f"empty -> {head_revision()}")
    for _ in range(2):  # syncing the configuration twice stores it once
        status = CliRunner().invoke(cli, ["--config", str(path), "status"])
        assert status.exit_code == 0, status.output
    assert "never" in status.stdout
    store = Store(database_url)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 1
        claims = session.execute(select(Claim.metric, Claim.value, Claim.scale).order_by(Claim.metric)).all()
        assert [tuple(c) for c in claims] == [("average_rating", 4.5, 5.0), ("positive_share", 0.9, None)]
    store.dispose()


@pytest.mark.parametrize(
    "url",
    ["postgresql://nobody@127.0.0.1:1/none", "mysql://x@y/z", "not a url"],
)
def test_unreachable_or_wrong_database_url(url: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REVIEWWATCH_DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("error: ")
    assert "Traceback" not in result.stderr


def test_password_is_hidden_in_database_errors(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REVIEWWATCH_DATABASE_URL", "postgresql://u:topsecret@127.0.0.1:1/db")
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 2
    assert "topsecret" not in result.stderr and "***" in result.stderr


def test_the_demo_says_which_port_is_taken(tmp_path: Path, monkeypatch) -> None:
    import socket

    from tests.conftest import REPO

    monkeypatch.setenv("REVIEWWATCH_DATA_DIR", str(tmp_path / "demo"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["--config", str(REPO / "examples" / "demo.toml"),
                                          "demo", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1].startswith(
        f"error: cannot serve the demo site on 127.0.0.1:{port}:")
    moved = (tmp_path / "demo" / f"demo-port-{port}.toml").read_text(encoding="utf-8")
    assert "127.0.0.1:8765" not in moved and f'url = "http://127.0.0.1:{port}/reviews/cafe-aurora/"' in moved
