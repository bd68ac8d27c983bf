"""Requests through a real SMTP server: one per customer, retried with the same Message-ID,
never a second one; links forged, expired or reused; one-click opt-out; cooldown; rate limit."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import httpx
import uvicorn
from sqlalchemy import func, select

from reviewwatch.api import create_app
from reviewwatch.config import Settings
from reviewwatch.digest.send import SmtpTransport
from reviewwatch.feedback.customers import parse_customers
from reviewwatch.feedback.invite import ask_customers
from storage.db import Store
from storage.models import FeedbackInvitation, FeedbackOptOut, Mention, utcnow
from tests.digest.smtpserver import SmtpServer
from tests.feedback.conftest import BUSINESS, CSV, feedback_links, form_value, make_settings

CUSTOMERS = parse_customers(CSV)


def _ask(store: Store, settings: Settings, now: dt.datetime | None = None):
    return ask_customers(store, settings, BUSINESS, CUSTOMERS, SmtpTransport(settings.smtp),
                         now=now)


def test_one_request_per_customer_in_their_language_with_one_click_opt_out(
    synced: Store, settings: Settings, smtp_server: SmtpServer, live_url: str
) -> None:
    run = _ask(synced, settings)

    assert (run.count("sent"), run.duplicates) == (2, 1)
    received = smtp_server.recorder.received
    assert sorted(r.recipients[0] for r in received) == ["ann@example.com", "bo@example.com"]
    [bo] = smtp_server.recorder.to("bo@example.com")
    assert "hur var det" in str(bo["Subject"])
    assert len(feedback_links(bo)) == 1
    assert bo["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(https?://\S+)>", str(bo["List-Unsubscribe"]))
    assert unsubscribe, bo["List-Unsubscribe"]

    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, with no cookie, no token.
    with httpx.Client(timeout=10) as client:
        assert client.get(unsubscribe.group(1)).status_code == 200  # a GET changes nothing
        with synced.session() as session:
            assert session.scalar(select(func.count()).select_from(FeedbackOptOut)) == 0
        done = client.post(unsubscribe.group(1), data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
    with synced.session() as session:
        assert session.scalars(select(FeedbackOptOut.email)).all() == ["bo@example.com"]

    # Later, past the cooldown: Bo opted out and is skipped; Ann is asked again.
    later = utcnow() + dt.timedelta(days=settings.feedback.cooldown_days + 1)
    again = _ask(synced, settings, now=later)
    assert ([a.email for a in again.asked], again.opted_out) == (["ann@example.com"], 1)


def test_cooldown_skips_and_counts(synced: Store, settings: Settings,
                                   smtp_server: SmtpServer) -> None:
    _ask(synced, settings)
    again = _ask(synced, settings, now=utcnow() + dt.timedelta(days=1))
    assert (again.asked, again.cooldown) == ([], 2)
    assert len(smtp_server.recorder.received) == 2


def test_failed_send_retried_with_the_same_message_id_never_twice(
    synced: Store, settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.mode = "data_451"
    first = _ask(synced, settings)
    assert first.count("pending") == 2 and smtp_server.recorder.received == []
    with synced.session() as session:
        ids = dict(session.execute(
            select(FeedbackInvitation.email, FeedbackInvitation.message_id)).all())

    smtp_server.recorder.mode = "ok"
    too_soon = _ask(synced, settings)  # backing off: nothing resent, nobody asked anew
    assert (too_soon.asked, too_soon.cooldown) == ([], 2)
    retried = _ask(synced, settings, now=utcnow() + dt.timedelta(hours=1))
    assert retried.count("sent") == 2
    assert {r.recipients[0]: str(r.message["Message-ID"]) for r in smtp_server.recorder.received} \
        == ids
    assert _ask(synced, settings, now=utcnow() + dt.timedelta(hours=2)).asked == []
    assert len(smtp_server.recorder.received) == 2


def test_forged_expired_and_reused_links_store_nothing(
    synced: Store, settings: Settings, smtp_server: SmtpServer, live_url: str, tmp_path
) -> None:
    _ask(synced, settings)
    [link] = feedback_links(smtp_server.recorder.to("ann@example.com")[0])
    token = link.rsplit("/", 1)[1]
    forged = link[: -len(token)] + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    # An invitation stored long ago: its link expired.
    old = utcnow() - dt.timedelta(days=settings.feedback.expire_days + 1)
    parse = parse_customers("email,name,language\nold@example.com,Old,fr\n")
    ask_customers(synced, settings, BUSINESS, parse, SmtpTransport(settings.smtp), now=old)
    [expired] = feedback_links(smtp_server.recorder.to("old@example.com")[0])

    with httpx.Client(timeout=10) as client:
        csrf = form_value(client.get(link).text, "csrf_token")
        assert client.get(forged).status_code == 404
        assert client.post(forged, data={"score": "9", "csrf_token": csrf}).status_code == 404
        assert client.get(expired).status_code == 410
        assert client.post(expired, data={"score": "9", "csrf_token": csrf}).status_code == 410
        # Another invitation's CSRF value does not open this one.
        [bo_link] = feedback_links(smtp_server.recorder.to("bo@example.com")[0])
        assert client.post(bo_link, data={"score": "9", "csrf_token": csrf}).status_code == 403
        assert client.post(link, data={"score": "11", "csrf_token": csrf}).status_code == 422
        assert client.post(link, data={"score": "9", "csrf_token": csrf}).status_code == 200
        assert client.post(link, data={"score": "3", "csrf_token": csrf}).status_code == 409
    with synced.session() as session:
        assert session.scalars(select(Mention.rating)).all() == [9.0]


def test_posts_are_rate_limited_per_address(
    synced: Store, tmp_path, smtp_server: SmtpServer, api_port: int
) -> None:
    settings = make_settings(tmp_path, smtp_server.port, api_port, answers_per_minute=3)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, synced), host="127.0.0.1",
                                           port=api_port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        url = f"http://127.0.0.1:{api_port}/f/not-a-token"
        with httpx.Client(timeout=10) as client:
            codes = [client.post(url, data={"score": "1"}).status_code for _ in range(5)]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert codes == [404, 404, 404, 429, 429]
