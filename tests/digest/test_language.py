"""The digest speaks its owner's language, orders mentions newest first and quotes each once."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from reviewwatch.config import ClaimConfig, OwnerConfig, Settings, load_settings
from reviewwatch.cycle import take_snapshot
from reviewwatch.digest.catalogue import LANGUAGES, TEXTS, TOPICS
from reviewwatch.digest.deliver import send_digests
from reviewwatch.digest.locale import Texts, source_name
from reviewwatch.errors import ConfigError
from reviewwatch.sync import sync_settings
from storage.db import Store
from tests.digest.conftest import BUSINESS, OWNER, T0, Seeder
from tests.digest.mail import digests, html, plain
from tests.digest.smtpserver import SmtpServer

FRENCH = "direction@cafe.example"
NBSP = "\xa0"  # CLDR's French space before the percent sign


def _owners(store: Store, settings: Settings, *owners: OwnerConfig) -> None:
    settings.businesses[0].owners = list(owners)
    with store.transaction() as session:
        sync_settings(session, settings)


def test_each_owner_gets_one_message_in_their_own_language(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    settings.gap.min_mentions = 3
    settings.businesses[0].claims = [ClaimConfig(positive_share=0.9, stated_at=dt.date(2026, 1, 1))]
    _owners(store, settings, OwnerConfig(email=OWNER), OwnerConfig(email=FRENCH, language="fr"))
    for n, day in enumerate((12, 14, 13), 1):
        seed(f"On a attendu une heure, token mention-{n}", language="fr", rating=1.5,
             topics={"wait_time": 0.9}, published_at=T0.replace(day=day, hour=9))
    take_snapshot(store, settings, BUSINESS)

    run = send_digests(store, settings, BUSINESS, now=T0)

    assert [o.status for o in run.outcomes] == ["sent", "sent"]
    [french] = smtp_server.recorder.to(FRENCH)
    [english] = smtp_server.recorder.to(OWNER)
    assert french["Message-ID"] != english["Message-ID"]
    assert {d.recipient: d.message_id for d in digests(store)} == {
        FRENCH: french["Message-ID"], OWNER: english["Message-ID"]}
    assert french["Subject"] == "Café Test : 3 mentions négatives, 1 affirmation menacée"
    assert english["Subject"] == "Café Test: 3 negative mentions, 1 claim at risk"

    text = plain(french)
    assert "Mentions négatives, les plus récentes d'abord" in text
    assert "* Temps d'attente : 3 (#1, #2, #3)" in text  # the topic in words, in French
    assert "14 nov. 2026" in text and "note 1,5/5" in text and "en français" in text
    assert f"90{NBSP}% d'avis positifs (déclaré) : perçu" in text  # numbers the French way
    assert "Original : reviews.example <https://reviews.example/" in text
    assert "wait_time" not in text and "negative" not in text
    assert '<html lang="fr">' in html(french) and '">reviews.example</a>' in html(french)

    english_text = plain(english)
    assert "* Waiting time: 3 (#1, #2, #3)" in english_text
    assert "Nov 14, 2026" in english_text and "rated 1.5/5" in english_text
    assert "90% positive (declared): perceived" in english_text

    # newest first: the 14th, the 13th, then the 12th
    order = [int(n) for n in re.findall(r"token mention-(\d)", text)]
    assert order == [2, 3, 1]


def test_claims_at_risk_refer_to_the_quotes_and_no_quote_appears_twice(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    settings.gap.min_mentions = 3
    settings.businesses[0].claims = [
        ClaimConfig(positive_share=0.95, stated_at=dt.date(2026, 1, 1)),
        ClaimConfig(positive_share=0.9, stated_at=dt.date(2026, 2, 1)),
    ]
    with store.transaction() as session:
        sync_settings(session, settings)
    for n in range(3):  # in the digest
        seed(f"Cold food, token mention-{n}", published_at=T0.replace(day=10 + n))
    for n in range(3, 5):  # negative for the gap, yet too uncertain for the digest: quoted
        seed(f"Meh, token mention-{n}", p_negative=0.5, published_at=T0.replace(day=15 + n))
    take_snapshot(store, settings, BUSINESS)

    send_digests(store, settings, BUSINESS, now=T0)

    [message] = smtp_server.recorder.to(OWNER)
    text, body = plain(message), html(message)
    assert message["Subject"] == "Café Test: 3 negative mentions, 2 claims at risk"
    for n in range(5):
        assert text.count(f"token mention-{n}") == 1, (n, text)
        assert body.count(f"token mention-{n}") == 1, (n, body)
    # mentions #1-#3 are listed; the two others are quoted once as #4 and #5, then referred to
    assert "* 95% positive (declared): overstated — see mentions #4, #5, #1\r\n" in text
    assert "* 90% positive (declared): overstated — see mentions #4, #5, #1\r\n" in text
    assert text.count("[4] ") == 1 and text.count("[5] ") == 1
    assert '<a href="#m4">#4</a>' in body and 'id="m4"' in body


def test_links_are_labelled_with_the_source_name() -> None:
    assert source_name("trustpilot", "https://www.trustpilot.com/review/x") == "Trustpilot"
    assert source_name("app_store", "https://apps.apple.com/x") == "App Store"
    assert source_name("schema_org", "https://www.cafe.example/reviews/1") == "cafe.example"
    assert source_name("feed", None, "https://blog.example/feed.xml") == "blog.example"


def test_every_language_has_every_text_and_topic() -> None:
    for language in LANGUAGES:
        assert TEXTS[language].keys() == TEXTS["en"].keys(), language
        assert TOPICS[language].keys() == TOPICS["en"].keys(), language
        t = Texts(language)
        for key in TEXTS["en"]:  # every template formats with the values the code gives it
            t.plural(key, 2, name="N", share="1", stars="1", rating="1", author="a", language="l",
                     topics="t", source="s", when="w", claim="c", perceived="p", low="l",
                     high="h", mentions="m", verdict="v", value="1", metric="m", period="p",
                     shortfall="1", threshold="1", refs="#1", scope="s", own="1", median="1",
                     date="d", state="s", action="a", replied="r", resolved="r", dismissed="d")
    ru = Texts("ru")
    assert [ru.plural("mentions", n) for n in (1, 3, 5)] == [
        "1 упоминание", "3 упоминания", "5 упоминаний"]
    assert [ru.plural("benchmark_too_few", n).split(" с ")[0] for n in (1, 3, 10, 21)] == [
        "меньше 1 упоминания", "меньше 3 упоминаний", "меньше 10 упоминаний",
        "меньше 21 упоминания"]  # "меньше" takes the genitive
    assert Texts("de").datetime(T0) == "20.11.2026, 07:00 UTC"
    assert Texts("sv").percent(0.12) == f"12{chr(0xa0)}%"


def test_an_unknown_owner_language_is_a_clear_configuration_error(write_config) -> None:
    path = write_config(
        '[[businesses]]\nid = "a"\nname = "A"\n'
        'owners = ["a@a.example", {email = "b@a.example", language = "it"}]'
    )
    with pytest.raises(ConfigError) as excinfo:
        load_settings(path)
    assert (
        "businesses[0].owners[1].language: unknown digest language 'it' "
        "(known: en, fr, sv, ru, de, es)" in str(excinfo.value)
    )
