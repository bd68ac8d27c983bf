"""Response-time promises read from a business's own words, in six languages."""

from __future__ import annotations

import pytest

from crawler.response_claims import find_response_promises


@pytest.mark.parametrize(("sentence", "hours", "share"), [
    ("We answer every review within 24 hours.", 24, 1.0),
    ("Our team replies to all messages in under 2 hours!", 2, 1.0),
    ("95% of reviews get a response within one day.", 24, 0.95),
    ("Nous répondons à chaque avis sous 48 heures.", 48, 1.0),
    ("Nous vous répondrons en moins de 2 jours ouvrés.", 48, 1.0),
    ("Wir beantworten jede Bewertung innerhalb von 2 Tagen.", 48, 1.0),
    ("Wir antworten binnen 12 Stunden.", 12, 1.0),
    ("Respondemos a todas las reseñas en menos de 24 horas.", 24, 1.0),
    ("Te damos una respuesta dentro de las 72 horas.", 72, 1.0),
    ("Vi svarar på alla recensioner inom 24 timmar.", 24, 1.0),
    ("Мы отвечаем на все отзывы в течение 24 часов.", 24, 1.0),
])
def test_a_promise_gives_its_hours_and_share(sentence: str, hours: float, share: float) -> None:
    [found] = find_response_promises(sentence)
    assert (found.hours, found.share, found.sentence) == (hours, share, sentence)


@pytest.mark.parametrize("sentence", [
    "Delivery within 24 hours.",  # no answering
    "We answer every question you may have.",  # no delay
    "Livraison sous 48 heures.",
    "Lieferung innerhalb von 2 Tagen.",
    "Reply within 0 hours.",
])
def test_other_sentences_promise_nothing(sentence: str) -> None:
    assert find_response_promises(sentence) == []
