"""The next digest lists new negative feedback first, before the public negative mentions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from reviewwatch.config import Settings
from reviewwatch.digest.deliver import send_digests
from reviewwatch.digest.send import OutboxTransport, SmtpTransport
from reviewwatch.feedback.customers import parse_customers
from reviewwatch.feedback.invite import ask_customers
from storage.db import Store
from storage.feedback import record_answer
from storage.mentions import MentionData, write_mentions
from storage.models import Business, FeedbackInvitation, Source
from tests.digest.smtpserver import SmtpServer
from tests.feedback.conftest import BUSINESS, OWNER

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
# Stored as the page's clean_comment would leave it, but for a reordering control a mail client
# might still meet: the digest strips it, and escapes the markup.
HOSTILE = "Private: cold soup <script>alert(1)</script> \u202egnirts"


def test_negative_feedback_comes_first(
    synced: Store, settings: Settings, smtp_server: SmtpServer, tmp_path
) -> None:
    customers = parse_customers("email,name,language\nann@example.com,Ann,en\n")
    ask_customers(synced, settings, BUSINESS, customers, OutboxTransport(tmp_path), now=NOW)
    with synced.transaction() as session:
        business = session.scalars(select(Business).where(Business.slug == BUSINESS)).one()
        public = Source(business_id=business.id, type="schema_org", target="http://x/", state={})
        session.add(public)
        session.flush()
        # The public complaint is older: oldest-first ordering alone would list it first.
        write_mentions(session, business_id=business.id, source_id=public.id, items=[
            MentionData(external_id="r1", text="Public complaint: slow", rating=1,
                        rating_scale=5, published_at=NOW - dt.timedelta(days=1))])
        invitation = session.scalars(select(FeedbackInvitation)).one()
        record_answer(session, invitation.id, score=1, comment=HOSTILE,
                      question="recommend", now=NOW)

    run = send_digests(synced, settings, BUSINESS, transport=SmtpTransport(settings.smtp))

    assert run.count("sent") == 1
    [digest] = smtp_server.recorder.to(OWNER)
    body = digest.get_body(("plain",)).get_content()
    told, public_at = body.index("Private: cold soup"), body.index("Public complaint: slow")
    newest = body.index("Negative mentions, newest first")
    assert body.index("customers who told you first") < told < newest
    assert told < public_at
    assert "\u202e" not in body
    html = digest.get_body(("html",)).get_content()
    assert "<script>" not in html and "cold soup &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.index("customers who told you first") < html.index("Public complaint: slow")
