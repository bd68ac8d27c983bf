"""Failure injection: refusals, temporary failures, a server down, dropping or stalling mid-message.

Whatever fails, the digest stays pending with back-off, is resent unchanged (same items, same
Message-ID) before anything new, and over all runs each mention reaches the owner exactly once.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reviewwatch.config import Settings
from reviewwatch.digest.deliver import LEASE, backoff, send_digests
from reviewwatch.digest.send import SmtpTransport
from storage.db import Store
from storage.models import DigestItem
from tests.digest.conftest import BUSINESS, OWNER, T0, Seeder, make_settings
from tests.digest.smtpserver import SmtpServer, free_port
from tests.digest.mail import digests, html, plain, tokens

EXPECTED_ERROR = {
    "rcpt_550": "recipient refused: owner@cafe.example: 550",
    "rcpt_451": "recipient refused: owner@cafe.example: 451",
    "data_554": "554 5.7.1",
    "data_451": "451 4.7.1",
    "drop": "Connection unexpectedly closed",
    "slow": "timed out",
    "down": "Connection refused",
}
FAILURES = list(EXPECTED_ERROR)


def _assert_exactly_once(store: Store, server: SmtpServer, expected: set[int]) -> None:
    received = Counter(t for message in server.recorder.to(OWNER) for t in tokens(message))
    assert set(received) == expected
    assert all(count == 1 for count in received.values()), received
    with store.session() as session:
        per_mention = session.execute(
            select(DigestItem.mention_id, func.count(func.distinct(DigestItem.digest_id))).group_by(
                DigestItem.mention_id
            )
        ).all()
    assert {mention for mention, _ in per_mention} == expected
    assert all(count == 1 for _, count in per_mention)


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failed_send_stays_pending_and_is_resent_unchanged_after_back_off(
    failure: str, store: Store, smtp_server: SmtpServer, seed: Seeder, tmp_path: Path
) -> None:
    good = make_settings(tmp_path, smtp_server.port)
    bad = make_settings(tmp_path, free_port(), timeout_s=5) if failure == "down" else good
    if failure == "slow":
        bad = make_settings(tmp_path, smtp_server.port, timeout_s=0.3)
    first, second = seed(), seed()
    smtp_server.recorder.mode = "ok" if failure == "down" else failure

    run = send_digests(store, bad, BUSINESS, now=T0)

    [outcome] = run.outcomes
    assert outcome.status == "pending" and outcome.error
    assert smtp_server.recorder.received == []
    [digest] = digests(store)
    assert digest.status == "pending" and digest.attempts == 1 and digest.last_error
    assert EXPECTED_ERROR[failure] in digest.last_error
    assert digest.next_attempt_at == T0 + backoff(1) == T0 + dt.timedelta(minutes=5)

    third = seed()  # arrives while the first digest waits
    waiting = send_digests(store, bad, BUSINESS, now=T0 + dt.timedelta(minutes=1))
    assert [o.status for o in waiting.outcomes] == ["waiting"]
    assert len(digests(store)) == 1 and digests(store)[0].attempts == 1

    smtp_server.recorder.mode = "ok"
    retried = send_digests(store, good, BUSINESS, now=T0 + dt.timedelta(minutes=6))

    assert [o.status for o in retried.outcomes] == ["sent", "sent"]
    resent, new = smtp_server.recorder.to(OWNER)
    assert resent["Message-ID"] == digest.message_id
    assert tokens(resent) == {first, second} and tokens(new) == {third}
    send_digests(store, good, BUSINESS, now=T0 + dt.timedelta(days=1))
    _assert_exactly_once(store, smtp_server, {first, second, third})
    assert [d.status for d in digests(store)] == ["sent", "sent"]
    assert digests(store)[0].attempts == 2


def test_back_off_doubles_with_each_failure(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    seed()
    smtp_server.recorder.mode = "data_451"
    now, waits = T0, []
    for _ in range(4):
        send_digests(store, settings, BUSINESS, now=now)
        [digest] = digests(store)
        waits.append(digest.next_attempt_at - now)
        now = digest.next_attempt_at
    assert waits == [dt.timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert digests(store)[0].attempts == 4 and "451" in (digests(store)[0].last_error or "")


class SimulatedCrash(BaseException):
    """The process dies: nothing after this line runs, nothing is recorded."""


class CrashAfterAccept(SmtpTransport):
    def send(self, message, recipient):  # type: ignore[no-untyped-def]
        super().send(message, recipient)
        raise SimulatedCrash


def test_a_crash_after_the_server_accepted_resends_with_the_same_message_id(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    first, second = seed(), seed()
    with pytest.raises(SimulatedCrash):
        send_digests(store, settings, BUSINESS, transport=CrashAfterAccept(settings.smtp), now=T0)
    [digest] = digests(store)
    assert digest.status == "pending" and digest.attempts == 0  # never recorded

    # Another run during the sending lease leaves the digest alone and composes nothing new.
    assert [
        o.status for o in send_digests(store, settings, BUSINESS, now=T0 + LEASE / 2).outcomes
    ] == ["waiting"]
    later = seed()
    send_digests(store, settings, BUSINESS, now=T0 + LEASE + dt.timedelta(seconds=1))

    copy_one, copy_two, new = smtp_server.recorder.to(OWNER)
    assert copy_one["Message-ID"] == copy_two["Message-ID"] == digest.message_id
    assert tokens(copy_one) == tokens(copy_two) == {first, second}
    # The first attempt composed it from what storing it had read; the resend rebuilds it from
    # the stored digest: the same message either way.
    assert plain(copy_one) == plain(copy_two) and html(copy_one) == html(copy_two)
    assert copy_one["Subject"] == copy_two["Subject"] and copy_one["Date"] == copy_two["Date"]
    assert tokens(new) == {later} and new["Message-ID"] != digest.message_id
    with store.session() as session:
        per_mention = session.execute(
            select(DigestItem.mention_id, func.count(func.distinct(DigestItem.digest_id))).group_by(
                DigestItem.mention_id
            )
        ).all()
    assert sorted(per_mention) == [(first, 1), (second, 1), (later, 1)]


def test_two_runs_at_once_send_each_mention_once(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    mentions = {seed() for _ in range(5)}
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            send_digests(store, settings, BUSINESS, now=T0)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _assert_exactly_once(store, smtp_server, mentions)
    assert len(smtp_server.recorder.received) == 1


def test_a_pending_digest_to_a_removed_owner_is_cancelled_not_retried(
    store: Store, smtp_server: SmtpServer, seed: Seeder, tmp_path: Path
) -> None:
    from reviewwatch.digest.deliver import retry_due

    first = seed()
    send_digests(store, make_settings(tmp_path, free_port()), BUSINESS, now=T0)  # server down
    [pending] = digests(store)
    assert pending.status == "pending"

    changed = make_settings(tmp_path, smtp_server.port)
    changed.businesses[0].owners = ["new-owner@cafe.example"]  # the old owner was removed
    later = T0 + dt.timedelta(hours=1)
    [outcome] = retry_due(store, changed, now=later)

    assert outcome.status == "cancelled" and "no longer an owner" in (outcome.error or "")
    assert smtp_server.recorder.to(OWNER) == []
    [cancelled] = digests(store)
    assert cancelled.status == "cancelled" and cancelled.next_attempt_at is None
    assert retry_due(store, changed, now=later + dt.timedelta(days=1)) == []  # never again
    run = send_digests(store, changed, BUSINESS, now=later + dt.timedelta(days=1))
    [message] = smtp_server.recorder.to("new-owner@cafe.example")  # the new owner gets the mention
    assert tokens(message) == {first} and [o.status for o in run.outcomes] == ["sent"]
