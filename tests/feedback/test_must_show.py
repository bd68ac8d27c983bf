"""The issue's must-show path: `ask --dry-run` -> .eml with one link -> form -> answer -> query."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from reviewwatch.cli import cli
from storage.db import Store
from storage.models import FeedbackInvitation, Mention
from tests.feedback.conftest import BUSINESS, CSV, KEY, feedback_links, form_value


def _config(write_config, database_url: str, tmp_path: Path, url: str) -> Path:
    return write_config(
        f'data_dir = "{tmp_path.as_posix()}"\ndatabase_url = "{database_url}"\n'
        f'[feedback]\npublic_url = "{url}"\n'
        f'[[businesses]]\nid = "{BUSINESS}"\nname = "Café <b>Test</b> & Co"\n'
    )


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWWATCH_FEEDBACK__SECRET_KEY", KEY)


def _run(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def test_dry_run_link_form_answer_query_and_no_second_answer(
    database_url: str, write_config, tmp_path: Path, live_url: str, synced: Store, env: None
) -> None:
    config = _config(write_config, database_url, tmp_path, live_url)
    customers = tmp_path / "customers.csv"
    customers.write_text(CSV, encoding="utf-8")
    outbox = tmp_path / "outbox"

    asked = _run(config, "ask", "--business", BUSINESS, "--customers", str(customers),
                 "--dry-run", "--outbox", str(outbox))

    assert asked.exit_code == 0, asked.output
    emls = sorted(outbox.glob("*.eml"))
    assert len(emls) == 2  # three lines, one address twice
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in emls]
    links = [feedback_links(m) for m in messages]
    assert [len(found) for found in links] == [1, 1]
    assert {m["To"] for m in messages} == {"ann@example.com", "bo@example.com"}
    ann = next(m for m in messages if m["To"] == "ann@example.com")
    [link] = feedback_links(ann)

    with httpx.Client(timeout=10) as client:
        form = client.get(link)
        assert form.status_code == 200
        assert 'name="score"' in form.text and 'name="comment"' in form.text
        assert "Café &lt;b&gt;Test&lt;/b&gt; &amp; Co" in form.text  # escaped, not markup
        csrf = form_value(form.text, "csrf_token")

        answered = client.post(link, data={"score": "2", "comment": "Cold soup \u202eevil",
                                           "csrf_token": csrf})
        assert answered.status_code == 200, answered.text
        assert "https://reviews.example/cafe-test" in answered.text

        again = client.post(link, data={"score": "10", "comment": "changed my mind",
                                        "csrf_token": csrf})
        assert again.status_code == 409
        assert client.get(link).status_code == 409

    with synced.session() as session:
        [mention] = session.scalars(select(Mention).where(Mention.is_private.is_(True))).all()
        assert (mention.rating, mention.rating_scale, mention.rating_normalised) == (2, 10, 0.2)
        assert mention.text == "Cold soup evil"  # the bidi override is gone
        invitation = session.scalars(
            select(FeedbackInvitation).where(FeedbackInvitation.email == "ann@example.com")
        ).one()
        assert invitation.mention_id == mention.id and invitation.answered_at is not None
        assert session.scalar(select(func.count()).select_from(Mention)) == 1

    listed = _run(config, "query", "--source", "feedback", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()] \
        if not listed.stdout.lstrip().startswith("[") else json.loads(listed.stdout)
    assert [(r["source_type"], r["text"], r["rating"]) for r in rows] == [
        ("feedback", "Cold soup evil", 2.0)
    ]
    public = _run(config, "query", "--format", "json")
    assert public.exit_code == 0, public.output
    assert "Cold soup" not in public.stdout  # private: not listed unless feedback is asked for


def test_bad_lines_all_reported_nothing_stored(
    database_url: str, write_config, tmp_path: Path, synced: Store, env: None
) -> None:
    config = _config(write_config, database_url, tmp_path, "http://127.0.0.1:9")
    customers = tmp_path / "bad.csv"
    customers.write_text(
        "email,name,language\nok@example.com,Ok,en\nnot-an-address,X,en\n"
        "y@example.com,Y,xx\nz@example.com,Z,de,extra\n", encoding="utf-8")

    result = _run(config, "ask", "--business", BUSINESS, "--customers", str(customers),
                  "--dry-run", "--outbox", str(tmp_path / "out"))

    assert result.exit_code == 2
    for line in ("line 3: email", "line 4: language", "line 5: more fields"):
        assert line in result.stderr
    assert not (tmp_path / "out").exists()
    with synced.session() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackInvitation)) == 0


def test_no_key_no_request(
    database_url: str, write_config, tmp_path: Path, synced: Store
) -> None:
    config = _config(write_config, database_url, tmp_path, "http://127.0.0.1:9")
    customers = tmp_path / "customers.csv"
    customers.write_text(CSV, encoding="utf-8")
    result = _run(config, "ask", "--business", BUSINESS, "--customers", str(customers),
                  "--dry-run")
    assert result.exit_code == 2
    assert "REVIEWWATCH_FEEDBACK__SECRET_KEY" in result.stderr
    with synced.session() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackInvitation)) == 0


def test_secret_key_refused_in_the_file(write_config, tmp_path: Path) -> None:
    config = write_config(f'[feedback]\nsecret_key = "{KEY}"\n')
    result = _run(config, "status")
    assert result.exit_code == 2
    assert "REVIEWWATCH_FEEDBACK__SECRET_KEY" in result.stderr
    assert KEY not in result.stderr


def test_bad_lines_send_nothing_through_smtp(
    database_url: str, write_config, tmp_path: Path, synced: Store, smtp_server, env: None
) -> None:
    """Without --dry-run: a file with one bad line among good ones asks nobody (exit 2)."""
    config = write_config(
        f'data_dir = "{tmp_path.as_posix()}"\ndatabase_url = "{database_url}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "none"\n'
        f'[feedback]\npublic_url = "http://127.0.0.1:9"\n'
        f'[[businesses]]\nid = "{BUSINESS}"\nname = "Café"\n'
    )
    customers = tmp_path / "bad.csv"
    customers.write_text("email,name,language\nok@example.com,Ok,en\nbad@,X,en\n", encoding="utf-8")

    result = _run(config, "ask", "--business", BUSINESS, "--customers", str(customers))

    assert result.exit_code == 2 and "line 3: email" in result.stderr
    assert smtp_server.recorder.received == []
    with synced.session() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackInvitation)) == 0
