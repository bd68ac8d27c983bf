"""`reviewwatch digest`: --dry-run writes .eml files; a real run sends; a failed send exits 1."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from reviewwatch.cli import cli
from tests.digest.conftest import BUSINESS, OWNER, Seeder
from tests.digest.mail import tokens
from tests.digest.smtpserver import SmtpServer


def _config(write_config, database_url: str, tmp_path: Path, port: int) -> Path:
    return write_config(
        f'data_dir = "{tmp_path.as_posix()}"\ndatabase_url = "{database_url}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout_s = 5\n'
        f'[[businesses]]\nid = "{BUSINESS}"\nname = "Café Test"\ntimezone = "Europe/Stockholm"\n'
        f'owners = ["{OWNER}"]\n'
        '[[businesses.sources]]\ntype = "schema_org"\nurl = "http://127.0.0.1:9/reviews/"\n'
    )


def test_digest_command_dry_run_then_send(
    database_url: str, write_config, tmp_path: Path, smtp_server: SmtpServer, seed: Seeder
) -> None:
    mention = seed()
    config = _config(write_config, database_url, tmp_path, smtp_server.port)

    dry = CliRunner().invoke(cli, ["--config", str(config), "digest", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    [eml] = list((tmp_path / "outbox").glob("*.eml"))
    assert f"mention-{mention}" in eml.read_text()
    assert f"dry run: .eml files in {tmp_path / 'outbox'}" in " ".join(dry.stdout.split())
    assert smtp_server.recorder.received == []

    sent = CliRunner().invoke(cli, ["--config", str(config), "digest", "--business", BUSINESS])
    assert sent.exit_code == 0, sent.output
    [message] = smtp_server.recorder.to(OWNER)
    assert tokens(message) == {mention}

    again = CliRunner().invoke(cli, ["--config", str(config), "digest"])
    assert again.exit_code == 0 and "nothing to send" in again.stdout
    assert len(smtp_server.recorder.received) == 1


def test_a_failed_send_exits_1_and_an_unknown_business_exits_2(
    database_url: str, write_config, tmp_path: Path, smtp_server: SmtpServer, seed: Seeder
) -> None:
    seed()
    smtp_server.recorder.mode = "data_451"
    config = _config(write_config, database_url, tmp_path, smtp_server.port)
    failed = CliRunner().invoke(cli, ["--config", str(config), "digest"])
    assert failed.exit_code == 1 and "pending" in failed.stdout
    unknown = CliRunner().invoke(cli, ["--config", str(config), "digest", "--business", "nope"])
    assert unknown.exit_code == 2 and "unknown business 'nope'" in unknown.stderr


def test_a_digest_backing_off_exits_1_until_retry_now_sends_it(
    database_url: str, write_config, tmp_path: Path, smtp_server: SmtpServer, seed: Seeder
) -> None:
    mention = seed()
    smtp_server.recorder.mode = "data_451"
    config = _config(write_config, database_url, tmp_path, smtp_server.port)
    failed = CliRunner().invoke(cli, ["--config", str(config), "digest"])
    assert failed.exit_code == 1 and "pending" in failed.stdout

    smtp_server.recorder.mode = "ok"
    # Minutes of back-off: the digest waits, unsent, and the command says so by its status.
    waiting = CliRunner().invoke(cli, ["--config", str(config), "digest"])
    assert waiting.exit_code == 1, waiting.output
    assert "waiting" in waiting.stdout and "--retry-now" in waiting.stderr
    assert smtp_server.recorder.received == []

    retried = CliRunner().invoke(cli, ["--config", str(config), "digest", "--retry-now"])
    assert retried.exit_code == 0, retried.output
    [message] = smtp_server.recorder.to(OWNER)
    assert tokens(message) == {mention}
    assert CliRunner().invoke(cli, ["--config", str(config), "digest"]).exit_code == 0

    both = CliRunner().invoke(cli, ["--config", str(config), "digest", "--retry-now", "--dry-run"])
    assert both.exit_code == 2 and "cannot be combined" in both.stderr
