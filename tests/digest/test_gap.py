"""The digest carries the gap summary and the claims at risk, with their evidence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reviewwatch.config import ClaimConfig, Settings
from reviewwatch.cycle import take_snapshot
from reviewwatch.digest.deliver import send_digests
from storage.db import Store
from reviewwatch.sync import sync_settings
from tests.digest.conftest import BUSINESS, OWNER, T0, Seeder
from tests.digest.mail import html, plain
from tests.digest.smtpserver import SmtpServer


def test_claims_at_risk_and_their_evidence_are_in_the_digest(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder, tmp_path: Path
) -> None:
    settings.gap.min_mentions = 3
    settings.businesses[0].claims = [
        ClaimConfig(positive_share=0.95, stated_at=dt.date(2026, 1, 1))
    ]
    with store.transaction() as session:
        sync_settings(session, settings)
    for n in range(6):
        seed(f"Cold food <b>again</b>, token mention-{n}", published_at=T0.replace(day=10 + n))
    seed("Lovely", label="positive", p_negative=0.02)

    snapshot_id = take_snapshot(store, settings, BUSINESS)
    send_digests(store, settings, BUSINESS)

    [message] = smtp_server.recorder.to(OWNER)
    assert message["Subject"] == "Café Test: 6 negative mentions, 1 claim at risk"
    text = plain(message)
    assert "Claims at risk" in text
    # the evidence is among the digest's mentions: referred to by number, not quoted again
    assert "* 95% positive (declared): overstated — see mentions #1, #2, #3\r\n" in text
    assert "7 mentions in the period" in text
    for n in range(6):
        assert text.count(f"token mention-{n}") == 1
    assert "Cold food <b>again</b>" in text
    assert "Cold food &lt;b&gt;again&lt;/b&gt;" in html(message)
    assert snapshot_id > 0
