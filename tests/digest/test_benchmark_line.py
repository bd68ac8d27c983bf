"""The digest's one line on competitors, from the gap snapshot's benchmark (a real SMTP server)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reviewwatch.cycle import take_snapshot
from reviewwatch.digest.deliver import send_digests
from storage.db import Store
from storage.models import utcnow
from tests.digest.mail import html, plain
from tests.digest.smtpserver import SmtpServer
from tests.gap.benchmark_seed import populate, settings

OWNER = "owner@cafe.example"
ESCAPED = "Cleanliness: 30 % positive, competitors&#39; median 78 %: lower, beyond the uncertainty"
LINE = "Cleanliness: 30 % positive, competitors' median 78 %: lower, beyond the uncertainty"


def test_the_digest_says_how_the_business_compares_in_one_line(
    store: Store, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    config = settings()
    config.data_dir = tmp_path
    config.smtp = config.smtp.model_copy(
        update={"host": "127.0.0.1", "port": smtp_server.port, "security": "none", "timeout_s": 5}
    )
    config.businesses[0].owners = [OWNER]  # cafe
    with store.transaction() as session:
        populate(session, config, at=utcnow() - dt.timedelta(days=3))

    take_snapshot(store, config, "cafe")
    send_digests(store, config, "cafe")

    [message] = smtp_server.recorder.to(OWNER)
    assert f"Against competitors: {LINE}" in plain(message)
    assert f"<strong>Against competitors:</strong> {ESCAPED}" in html(message)
    assert plain(message).count("Against competitors") == 1
