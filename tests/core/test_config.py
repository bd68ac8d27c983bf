from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewwatch.cli import cli
from reviewwatch.config import load_settings
from reviewwatch.errors import ConfigError
from tests.conftest import REPO

GOOD = """
[[businesses]]
id = "cafe"
name = "Cafe"
owners = ["owner@example.com"]
  [[businesses.sources]]
  type = "feed"
  url = "https://example.com/feed.xml"
  [[businesses.claims]]
  topic = "service"
  positive_share = 0.9
  stated_at = 2026-01-01
"""


def test_example_and_demo_configurations_load() -> None:
    demo = load_settings(REPO / "examples" / "demo.toml", required=True)
    assert [b.id for b in demo.businesses] == ["cafe-aurora", "hotel-rivoli", "hotel-lumiere", "rapidride"]
    assert demo.business("hotel-lumiere").competitors == ["hotel-rivoli"]
    assert demo.data_dir == (REPO / ".demo").resolve()
    example = load_settings(REPO / "reviewwatch" / "example.toml", required=True)
    assert example.businesses[0].claims[1].topic == "service"


def test_environment_overrides_the_file(write_config, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(GOOD + '\n[smtp]\nhost = "file.example"\n'.replace("\n[smtp]", "\n[smtp]"))
    monkeypatch.setenv("REVIEWWATCH_SMTP__HOST", "env.example")
    monkeypatch.setenv("REVIEWWATCH_SMTP__PASSWORD", "s3cret")
    monkeypatch.setenv("REVIEWWATCH_DATABASE_URL", "postgresql://u@h/db")
    settings = load_settings(path)
    assert settings.smtp.host == "env.example"
    assert settings.smtp.password is not None
    assert settings.smtp.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.resolved_database_url == "postgresql://u@h/db"


BAD_CASES = [
    ("[[businesses]\nid = 1", "invalid TOML"),
    ('colour = "red"', "colour: unknown key"),
    ('[crawl]\nmax_pages = "many"', "crawl.max_pages: Input should be a valid integer"),
    ('[[businesses]]\nid = "a"\nname = "A"\n[[businesses.sources]]\ntype = "myspace"\nurl = "http://x"',
     "businesses[0].sources[0].type: unknown source type 'myspace'"),
    ('[[businesses]]\nid = "a"\nname = "A"\n[[businesses]]\nid = "a"\nname = "B"',
     "businesses: duplicate business id 'a'"),
    ('[[businesses]]\nid = "a"\nname = "A"\nowners = ["not-an-email"]',
     "businesses[0].owners[0]: value is not a valid email address"),
    ('[[businesses]]\nid = "A B"\nname = "A"', "businesses[0].id: id 'A B' must be a slug"),
    ('[[businesses]]\nid = "a"\nname = "A"\ntimezone = "Mars/Base"', "unknown time zone 'Mars/Base'"),
    ('[smtp]\npassword = "hunter2"', "smtp.password: secrets are not read from files; set REVIEWWATCH_SMTP__PASSWORD"),
    ('database_url = "postgresql://rw:hunter2@db.example:5432/rw"',
     "database_url: a password is a secret and is not read from files; put the URL in "
     "REVIEWWATCH_DATABASE_URL"),
    ('database_url = "postgresql://rw@db.example/rw?password=hunter2"',
     "database_url: a password is a secret"),
    ('[[businesses]]\nid = "a"\nname = "A"\n[[businesses.claims]]\npositive_share = 1.5\nstated_at = 2026-01-01',
     "businesses[0].claims[0].positive_share: Input should be less than or equal to 1"),
]


@pytest.mark.parametrize(("body", "expected"), BAD_CASES)
def test_bad_configuration_gives_one_clear_message(write_config, body: str, expected: str) -> None:
    path = write_config(body)
    with pytest.raises(ConfigError) as excinfo:
        load_settings(path)
    assert str(excinfo.value).startswith(str(path))
    assert expected in str(excinfo.value)


@pytest.mark.parametrize(("body", "expected"), BAD_CASES)
def test_cli_reports_bad_configuration_with_exit_2_and_no_traceback(write_config, body, expected) -> None:
    path = write_config(body)
    result = CliRunner().invoke(cli, ["--config", str(path), "status"])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert "hunter2" not in result.output + result.stderr


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "status"])
    assert result.exit_code == 2
    assert "no such configuration file" in result.stderr


def test_config_path_from_environment(write_config, monkeypatch, tmp_path: Path) -> None:
    path = write_config(f'data_dir = "{tmp_path / "d"}"\n' + GOOD)  # a top-level key, before the tables
    monkeypatch.setenv("REVIEWWATCH_CONFIG", str(path))
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "cafe" in result.stdout and "feed" in result.stdout


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("REVIEWWATCH_API__READ_TOKENS", "not-json-secret",
     "environment: REVIEWWATCH_API__READ_TOKENS: not valid JSON"),
    ("REVIEWWATCH_GAP__MIN_MENTIONS", "abc",
     "environment variable REVIEWWATCH_GAP__MIN_MENTIONS: gap.min_mentions: Input should be a valid integer"),
    ("REVIEWWATCH_SMTP__PORT", "99999999",
     "environment variable REVIEWWATCH_SMTP__PORT: smtp.port: Input should be less than or equal to 65535"),
])
def test_a_bad_environment_value_names_its_variable(
    write_config, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    """Blamed on the variable, not on the file beside it; the value (maybe a secret) is not shown."""
    path = write_config(GOOD)
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(cli, ["--config", str(path), "status"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: " + expected), result.stderr
    assert str(path) not in result.stderr and "Traceback" not in result.stderr
    assert value not in result.stderr


def test_a_database_url_without_password_stays_allowed_in_the_file(write_config) -> None:
    path = write_config('database_url = "postgresql://rw@db.example/rw?sslmode=require"\n' + GOOD)
    assert load_settings(path).database_url == "postgresql://rw@db.example/rw?sslmode=require"


def test_a_database_url_with_password_comes_from_the_environment_and_is_never_shown(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(f'data_dir = "{path_safe(write_config)}"\n' + GOOD)
    # 127.0.0.1:9 answers nothing: the connection fails and its message must hide the password.
    monkeypatch.setenv("REVIEWWATCH_DATABASE_URL", "postgresql://rw:hunter2@127.0.0.1:9/rw")
    settings = load_settings(path)
    assert settings.resolved_database_url.endswith("@127.0.0.1:9/rw")
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    result = CliRunner().invoke(cli, ["--config", str(path), "status"])
    assert result.exit_code == 2
    assert "cannot connect to the store postgresql://rw:***@127.0.0.1:9/rw" in result.stderr
    assert "hunter2" not in result.output + result.stderr


def test_an_unparsable_database_url_is_not_repeated_with_its_password(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(GOOD)
    monkeypatch.setenv("REVIEWWATCH_DATABASE_URL", "postgres ql://rw:hunter2@db/rw")
    result = CliRunner().invoke(cli, ["--config", str(path), "status"])
    assert result.exit_code == 2
    assert "invalid database URL" in result.stderr
    assert "hunter2" not in result.output + result.stderr


def path_safe(write_config) -> str:
    return str(write_config("", name="unused.toml").parent / "data")
