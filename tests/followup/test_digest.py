"""The digest through a real SMTP server: under each negative mention the business's public
reply (found by the crawler) and a signed link; the link, followed as the owner would, opens the
page that marks the mention resolved."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from reviewwatch.api import create_app
from reviewwatch.config import Settings
from reviewwatch.digest.deliver import send_digests
from reviewwatch.digest.send import SmtpTransport
from storage.db import Store
from storage.followup import ReplyData, history, record_replies, sync_followups
from storage.models import FollowupItem, Mention
from tests.digest.conftest import BUSINESS, OWNER, T0, Seeder, seed, settings, smtp_server  # noqa: F401
from tests.digest.mail import html, plain
from tests.digest.smtpserver import SmtpServer

REPLY = "Sorry! <b>Come back</b> for a free coffee."
LINK = re.compile(r"http://127\.0\.0\.1:8080(/a/[A-Za-z0-9_.\-]+)")


def test_the_digest_shows_the_reply_and_a_link_that_works(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder,  # noqa: F811
) -> None:
    settings.feedback.secret_key = SecretStr("s" * 40)
    answered = seed("Rude staff, token mention-1.")
    silent = seed("Cold food, token mention-2.")
    with store.transaction() as session:
        mention = session.get_one(Mention, answered)
        record_replies(session, business_id=mention.business_id, source_id=mention.source_id,
                       source_type="schema_org", replies=[ReplyData(
                           mention_ref=mention.external_id, reply_key="reply", text=REPLY,
                           author="Café Test", replied_at=T0)])
        sync_followups(session)

    run = send_digests(store, settings, BUSINESS, transport=SmtpTransport(settings.smtp))
    assert run.count("sent") == 1
    [message] = smtp_server.recorder.to(OWNER)
    text, body = plain(message).replace("\r\n", "\n"), html(message)
    # the date as the owner reads it (English here), in the business's timezone
    assert f"Your public reply (Nov 20, 2026), by Café Test:\n      {REPLY}" in text
    assert "&lt;b&gt;Come back&lt;/b&gt;" in body and "<b>Come back" not in body
    links = LINK.findall(text)
    assert len(links) == 2 and set(LINK.findall(body)) == set(links)
    assert "Follow-up (replied)" in text and "Follow-up (open)" in text
    assert "Follow-up (open): mark it replied, resolved or dismissed:\n" in text
    assert "Follow-up: <strong>open</strong> &middot; <a href=" in body

    with store.session() as session:
        items = {i.mention_id: i for i in session.scalars(select(FollowupItem))}
    assert items[answered].state == "replied" and items[silent].state == "open"
    with TestClient(create_app(settings, store)) as client:
        # the second mention's link (the order of the digest: newest first)
        path = next(p for p in links if client.get(p).text.count("Cold food") == 1)
        page = client.get(path)
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
        assert csrf, page.text
        done = client.post(path, data={"csrf_token": csrf.group(1), "state": "resolved"})
        assert done.status_code == 200
    with store.session() as session:
        last = history(session, items[silent].id)[-1]
    assert (last.state_after, last.changed_by, last.via) == ("resolved", OWNER, "link")
    assert last.changed_at > T0 - dt.timedelta(days=1)
