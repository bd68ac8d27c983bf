"""The digest's one line on competitors, from the gap snapshot's benchmark (a real SMTP server),
in the owner's language, beside the follow-up under each negative mention."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select

from reviewwatch.config import OwnerConfig, Settings
from reviewwatch.cycle import take_snapshot
from reviewwatch.digest.deliver import send_digests
from reviewwatch.digest.gapinfo import BenchmarkFacts, NothingToCompare
from reviewwatch.digest.gaptext import benchmark_text
from reviewwatch.digest.locale import Texts
from storage.db import Store
from storage.followup import ReplyData, record_replies, sync_followups
from storage.models import FollowupItem, Mention, utcnow
from tests.digest.mail import html, plain
from tests.digest.smtpserver import SmtpServer
from tests.gap.benchmark_seed import populate, settings

OWNER = "owner@cafe.example"
ESCAPED = "Cleanliness: 30% positive, competitors&#39; median 78%: lower, beyond the uncertainty"
LINE = "Cleanliness: 30% positive, competitors' median 78%: lower, beyond the uncertainty"
NBSP = "\xa0"  # CLDR's space before the percent sign (French, German, Spanish)
FRENCH = (
    f"Propreté : 30{NBSP}% d'avis positifs, médiane des concurrents 78{NBSP}% : inférieur, "
    "au-delà de la marge d'incertitude"
)


def _cafe(smtp_server: SmtpServer, tmp_path: Path, owner: str | OwnerConfig) -> Settings:
    config = settings()
    config.data_dir = tmp_path
    config.smtp = config.smtp.model_copy(
        update={"host": "127.0.0.1", "port": smtp_server.port, "security": "none", "timeout_s": 5}
    )
    config.businesses[0].owners = [owner]  # cafe
    return config


def test_the_digest_says_how_the_business_compares_in_one_line(
    store: Store, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    config = _cafe(smtp_server, tmp_path, OWNER)
    with store.transaction() as session:
        populate(session, config, at=utcnow() - dt.timedelta(days=3))

    take_snapshot(store, config, "cafe")
    send_digests(store, config, "cafe")

    [message] = smtp_server.recorder.to(OWNER)
    assert f"Against competitors: {LINE}" in plain(message)
    assert f"<strong>Against competitors:</strong> {ESCAPED}" in html(message)
    assert plain(message).count("Against competitors") == 1


def test_a_french_owner_reads_the_competitors_line_and_the_follow_up_in_french(
    store: Store, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    config = _cafe(smtp_server, tmp_path, OwnerConfig(email=OWNER, language="fr"))
    config.feedback.secret_key = SecretStr("s" * 40)
    replied_at = dt.datetime(2026, 11, 14, 9, 30, tzinfo=dt.UTC)
    with store.transaction() as session:
        populate(session, config, at=utcnow() - dt.timedelta(days=3))
        sync_followups(session)
        answered = session.scalars(
            select(Mention).join(FollowupItem, FollowupItem.mention_id == Mention.id)
            .order_by(Mention.id).limit(1)
        ).one()
        record_replies(session, business_id=answered.business_id, source_id=answered.source_id,
                       source_type="schema_org", replies=[ReplyData(
                           mention_ref=answered.external_id, reply_key="r1",
                           text="Merci, nous avons revu le ménage.", author="Le Café",
                           replied_at=replied_at)])

    take_snapshot(store, config, "cafe")
    send_digests(store, config, "cafe")

    [message] = smtp_server.recorder.to(OWNER)
    text, body = plain(message).replace("\r\n", "\n"), html(message)
    assert f"Face à la concurrence : {FRENCH}" in text
    assert f"<strong>Face à la concurrence :</strong> {FRENCH.replace(chr(39), '&#39;')}" in body
    assert "Votre réponse publique (14 nov. 2026), par Le Café :\n" in text
    action = "marquer comme répondu, résolu ou écarté"
    assert f"Suivi (ouvert) : {action} :\n    http" in text
    assert f"Suivi (répondu) : {action} :" in text
    links = re.findall(r'Suivi : <strong>(\w+)</strong> &middot; <a href="http[^"]+">([^<]+)</a>', body)
    assert links and {words for _, words in links} == {action}
    assert {state for state, _ in links} == {"ouvert", "répondu"}
    for english in ("Against competitors", "competitors' median", "Follow-up", "public reply",
                    "mark it", "(open)", "[excerpt]", "beyond the uncertainty"):
        assert english not in text and english not in body, english


def test_the_line_is_worded_in_each_language_from_the_stored_figures() -> None:
    overall = BenchmarkFacts("overall", 0.62, 0.55, "similar")
    assert benchmark_text(overall, Texts("de")) == (
        f"Insgesamt: 62{NBSP}% positiv, Median der Konkurrenz 55{NBSP}%: ähnlich, innerhalb des "
        "Unsicherheitsbereichs")
    assert benchmark_text(BenchmarkFacts("wait_time", 0.4, 0.7, "lower"), Texts("es")) == (
        f"Tiempo de espera: 40{NBSP}% de opiniones positivas, mediana de la competencia 70{NBSP}%: "
        "inferior, fuera del margen de incertidumbre")
    assert benchmark_text(NothingToCompare(10), Texts("ru")) == (
        "меньше 10 упоминаний с каждой стороны, сравнивать пока нечего")
    assert benchmark_text(NothingToCompare(10), Texts("en")) == (
        "fewer than 10 mentions on every side, nothing to compare yet")
    assert benchmark_text(None, Texts("fr")) is None
