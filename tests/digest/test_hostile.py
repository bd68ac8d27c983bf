"""Crawled strings are hostile: escaped in the HTML part, never turned into email headers."""

from __future__ import annotations

from pathlib import Path

from reviewwatch.config import Settings
from reviewwatch.digest.deliver import send_digests
from reviewwatch.digest.headers import clean_header, new_message_id
from storage.db import Store
from reviewwatch.sync import sync_settings
from tests.digest.conftest import BUSINESS, OWNER, T0, Seeder, make_settings
from tests.digest.smtpserver import SmtpServer
from tests.digest.mail import html, plain

LEAK = "leak@example.com"


def test_script_in_a_review_is_escaped_and_a_crlf_author_injects_no_header(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    seed(
        "<script>alert('x')</script> awful & rude, token mention-1",
        author=f"Mallory\r\nBcc: {LEAK}",
        title="Bad\r\nX-Injected: yes",
        url="javascript:alert(1)",
    )

    send_digests(store, settings, BUSINESS, now=T0)

    [received] = smtp_server.recorder.received
    assert received.recipients == [OWNER]
    assert smtp_server.recorder.to(LEAK) == []
    message = received.message
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert set(message.keys()) == {
        "Subject",
        "From",
        "To",
        "Date",
        "Message-ID",
        "Auto-Submitted",
        "Content-Type",
        "MIME-Version",
    }
    body = html(message)
    assert "<script>" not in body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; awful &amp; rude" in body
    assert "javascript:" not in body  # a non-http link is not shown as a link
    assert f"Mallory Bcc: {LEAK}" in plain(message)  # kept as text, on one line


def test_a_business_name_with_a_line_break_stays_one_subject_line(
    store: Store, tmp_path: Path, smtp_server: SmtpServer, seed: Seeder
) -> None:
    settings = make_settings(tmp_path, smtp_server.port)
    settings.businesses[0].name = f"Café\r\nBcc: {LEAK}"
    seed()
    with store.transaction() as session:
        sync_settings(session, settings)
    send_digests(store, settings, BUSINESS, now=T0)
    [received] = smtp_server.recorder.received
    assert received.recipients == [OWNER]
    assert received.message["Subject"] == f"Café Bcc: {LEAK}: 1 negative mention"
    assert received.message["Bcc"] is None


def test_clean_header_removes_every_control_and_separator_and_bounds_length() -> None:
    assert clean_header("a\r\nb\tc\x00d\u2028e\x85f") == "a b c d e f"
    assert len(clean_header("x" * 1000, 50)) == 50
    assert clean_header(None) == ""


def test_message_ids_are_unique_and_use_the_sender_domain() -> None:
    ids = {new_message_id("Digest <digest@mail.example>") for _ in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("<") and i.endswith("@mail.example>") for i in ids)
    assert new_message_id("bad\r\nheader").endswith("@reviewwatch.invalid>")


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_bidi_controls_do_not_reorder_the_email(
    store: Store, tmp_path: Path, smtp_server: SmtpServer, seed: Seeder
) -> None:
    """A right-to-left override in a review, its author or the business name is shown without
    it in the subject, the plain-text part and the HTML part; the store keeps it."""
    settings = make_settings(tmp_path, smtp_server.port)
    settings.businesses[0].name = "Caf\u202eé Nord"
    seed("the food was \u202edoog yrev\u202c and \u2067cold\u2069\u200f", author="\u202eeve",
         title="\u2066awful\u2069")
    with store.transaction() as session:
        sync_settings(session, settings)
    send_digests(store, settings, BUSINESS, now=T0)
    [received] = smtp_server.recorder.received
    message = received.message
    assert message["Subject"].startswith("Café Nord: 1 negative mention")
    for body in (plain(message), html(message)):
        assert "the food was doog yrev and cold" in body
        assert "eve" in body and "awful" in body
        assert not any(c in body for c in BIDI), body
    assert not any(c in str(message["Subject"]) for c in BIDI)
