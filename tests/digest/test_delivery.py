"""Digests delivered through a real SMTP server: content, exactly once, retries after failures."""

from __future__ import annotations

import datetime as dt


from reviewwatch.config import Settings
from reviewwatch.digest.deliver import send_digests
from storage.db import Store
from tests.digest.conftest import BUSINESS, OWNER, T0, Seeder
from tests.digest.mail import digests, html, plain, tokens
from tests.digest.smtpserver import SmtpServer


def test_digest_is_sent_grouped_by_topic_with_a_subject_that_says_what_is_inside(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    first = seed(topics={"service": 0.9, "price": 0.5}, rating=1)
    second = seed(topics={"cleanliness": 0.8})
    seed(label="positive", p_negative=0.05)  # not negative
    seed(label="negative", p_negative=0.4)  # below the threshold

    run = send_digests(store, settings, BUSINESS, now=T0)

    assert [o.status for o in run.outcomes] == ["sent"]
    [message] = smtp_server.recorder.to(OWNER)
    assert message["Subject"] == "Café Test: 2 negative mentions"
    assert message.get_content_type() == "multipart/alternative"
    assert tokens(message) == {first, second}
    text = plain(message)
    # topics in words, each pointing at its mentions' numbers (the newest is #1)
    assert "* Cleanliness: 1 (#2)" in text and "* Service: 1 (#1)" in text
    assert "rated 1/5" in text and "in English" in text
    # links are labelled with the source's name (here the site's host), not the raw URL
    assert f"Original: reviews.example <https://reviews.example/{first}>" in text
    assert f'Original: <a href="https://reviews.example/{second}">reviews.example</a>' in html(message)
    [digest] = digests(store)
    assert (
        digest.status == "sent"
        and digest.attempts == 1
        and digest.message_id == message["Message-ID"]
    )


def test_a_second_run_sends_only_what_is_new(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    first = seed()
    send_digests(store, settings, BUSINESS, now=T0)
    send_digests(store, settings, BUSINESS, now=T0 + dt.timedelta(days=1))
    assert len(smtp_server.recorder.received) == 1  # nothing new: no email
    later = seed()
    send_digests(store, settings, BUSINESS, now=T0 + dt.timedelta(days=2))
    received = [tokens(r.message) for r in smtp_server.recorder.received]
    assert received == [{first}, {later}]


def test_no_negative_mentions_means_no_email_unless_all_quiet_is_configured(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    seed(label="positive", p_negative=0.01)
    assert send_digests(store, settings, BUSINESS, now=T0).outcomes == []
    assert smtp_server.recorder.received == []

    quiet = settings.model_copy(deep=True)
    quiet.businesses[0].digest.all_quiet_email = True
    run = send_digests(store, quiet, BUSINESS, now=T0)
    assert [o.status for o in run.outcomes] == ["sent"]
    [message] = smtp_server.recorder.to(OWNER)
    assert message["Subject"] == "Café Test: all quiet, no negative mentions"
    assert "No negative mentions." in plain(message)


def test_a_long_review_is_cut_to_excerpt_chars_at_a_word_boundary(
    store: Store, smtp_server: SmtpServer, seed: Seeder, tmp_path
) -> None:
    from tests.digest.conftest import make_settings

    settings = make_settings(tmp_path, smtp_server.port, digest={"excerpt_chars": 80})
    long = seed("Terrible visit, token mention-1. " + "The soup was cold and the staff ignored us. " * 10)
    short = seed("Rude staff, token mention-2.")
    send_digests(store, settings, BUSINESS, now=T0)
    [message] = smtp_server.recorder.to(OWNER)
    assert tokens(message) == {long, short}
    text = plain(message)
    cut = next(line for line in text.splitlines() if "mention-1" in line).strip()
    assert cut.endswith("…") and len(cut) <= 81 and not cut[:-1].endswith(" ")
    assert "The soup was cold and the staff ignored us. The soup" not in text.replace("\n", " ")
    assert "[excerpt]" in text and "<em>[excerpt]</em>" in html(message)
    assert "Rude staff, token mention-2." in text  # short texts are given whole
