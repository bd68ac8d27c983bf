"""The crawler's pure parts, directly: claim wording, schema.org extraction, text clean-up,
Retry-After, the normalise pipeline's cap, and `python -m crawler`'s arguments."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings as ScrapySettings

from crawler.__main__ import reviewwatch_argv
from crawler.claims import find_claims
from crawler.items import MentionItem
from crawler.middlewares import BackoffRetryMiddleware, retry_after_seconds
from crawler.pipelines import NormalisePipeline
from crawler.schema import find, rating_on_scale, structured_nodes
from crawler.text import clean_text, html_to_text, mentions_any, one_line
from reviewwatch.config import GapSettings

LEVELS = GapSettings().own_site_levels


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The friendliest staff in town!", [("service", "superlative", 0.9)]),
        ("We offer excellent customer service.", [("service", "strong", 0.85)]),
        ("Our waiters are friendly.", [("service", "positive", 0.75)]),
        ("Le meilleur accueil de Paris.", [("service", "superlative", 0.9)]),
        ("Stockholms vänligaste personal.", [("service", "superlative", 0.9)]),
        ("Самый вежливый персонал в городе.", [("service", "superlative", 0.9)]),
        ("Wir haben das freundlichste Personal.", [("service", "superlative", 0.9)]),
        ("Las habitaciones más limpias del barrio.", [("cleanliness", "superlative", 0.9)]),
        ("98 % of our guests are satisfied.", [(None, "explicit", 0.98)]),
        ("Good morning and welcome.", []),
        ("Open daily from 8 to 18.", []),
    ],
)
def test_claims_in_six_languages(sentence: str, expected: list[tuple]) -> None:
    assert [(c.topic, c.level, c.value) for c in find_claims(sentence, LEVELS)] == expected


def test_claim_levels_come_from_the_settings() -> None:
    found = find_claims("The friendliest staff in town!", {"superlative": 0.6, "positive": 0.5})
    assert [c.value for c in found] == [0.6]
    assert find_claims("We offer excellent service.", {"superlative": 0.6}) == []


def test_rdfa_and_microdata_become_nested_reviews() -> None:
    html = (
        '<div vocab="https://schema.org/" typeof="Hotel"><span property="name">H</span>'
        '<div property="review" typeof="Review"><span property="reviewBody">Fine</span>'
        '<span property="author" typeof="Person"><span property="name">Jo</span></span></div></div>'
        '<div itemscope itemtype="https://schema.org/Review"><span itemprop="reviewBody">Ok</span></div>'
        '<script type="application/ld+json">{oops</script>'
    )
    nodes, malformed = structured_nodes(html, "http://x.example/")
    reviews = find(nodes, "Review")
    assert malformed == 1
    assert sorted(r.node["reviewBody"] for r in reviews) == ["Fine", "Ok"]
    rdfa = next(r for r in reviews if r.node["reviewBody"] == "Fine")
    assert rdfa.node["author"]["name"] == "Jo" and rdfa.item["name"] == "H"


@pytest.mark.parametrize(
    ("rating", "expected"),
    [
        ({"ratingValue": "4"}, (4.0, 5.0)),
        ({"ratingValue": "8,5", "bestRating": "10"}, (8.5, 10.0)),
        ({"ratingValue": 0, "bestRating": 10, "worstRating": 0}, (1.0, 11.0)),
        ({"ratingValue": 7, "bestRating": 5}, (None, None)),
        ("3", (3.0, 5.0)),
        (None, (None, None)),
    ],
)
def test_rating_scales(rating: object, expected: tuple) -> None:
    assert rating_on_scale(rating) == expected


def test_text_clean_up() -> None:
    assert clean_text("Cafe\u0301  au\u00a0lait\r\n\r\n\r\nok\x00") == "Café au lait\n\nok"
    assert html_to_text("<p>a<script>alert(1)</script></p><p>b &amp; c</p>").split() == ["a", "b", "&", "c"]
    assert one_line("Mallory\r\nBcc: leak@example.com", 200) == "Mallory Bcc: leak@example.com"
    assert one_line("x" * 300, 10) == "x" * 10
    assert mentions_any("Vi var på cafe aurora igår", ["Café Aurora"])
    assert not mentions_any("Auroras are pretty", ["Aurora Café"])


def test_retry_waits() -> None:
    assert retry_after_seconds(b"3") == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds(b"soon") is None
    settings = ScrapySettings({"RETRY_ENABLED": True, "RETRY_TIMES": 3})
    middleware = BackoffRetryMiddleware(settings, backoff_s=2.0, max_wait_s=5.0)
    from scrapy import Request
    from scrapy.http import Response

    request = Request("http://x.example/", meta={"retry_times": 1})
    assert middleware.wait_for(request, None) == 4.0
    asked = Response("http://x.example/", status=429, headers={"Retry-After": "60"})
    assert middleware.wait_for(request, asked) == 5.0  # capped by retry_max_wait_s


def test_normalise_caps_text_and_flags_it() -> None:
    item = MentionItem(external_id="x" * 600, text="<b>word</b> " * 40, title="T\r\nitle", html=True)
    NormalisePipeline(100).mention(item)
    assert item.truncated and len(item.text) == 100 and "<b>" not in item.text
    assert item.title == "T itle" and item.external_id.startswith("sha256:")
    plain = MentionItem(external_id="1", text="I typed <b>this</b>")
    NormalisePipeline(100).mention(plain)
    assert plain.text == "I typed <b>this</b>" and not plain.truncated


def test_python_m_crawler_arguments() -> None:
    assert reviewwatch_argv(["--business", "b", "--config", "c.toml"]) == [
        "reviewwatch", "--config", "c.toml", "crawl", "--business", "b"]


@pytest.mark.parametrize(("item", "ours"), [
    ({"name": "Bistro Nord"}, True),
    ({"name": "BISTRO NORD – Södermalm"}, True),
    ({"name": "Bistró Nörd"}, True),  # accents and case do not matter
    ({"name": "Bistro"}, False),  # a shorter name is another item
    ({"name": "Nord"}, False),
    ({"name": "Bistro Nordic"}, False),
    ({"url": "https://bistro-nord.example/menu"}, True),
    ({"url": "https://elsewhere.example/"}, False),
    (None, True),
])
def test_a_review_belongs_to_the_business_only_when_its_item_names_it(item, ours) -> None:
    import datetime as dt

    from crawler.context import SourceContext
    from crawler.spiders.schema_org import SchemaOrgSpider
    from crawler.settings import CrawlSettings

    context = SourceContext(
        business_id=1, business_slug="bistro-nord", keywords=["Bistro Nord"],
        website="https://bistro-nord.example/", source_id=1, type="schema_org",
        target="https://reviews.example/bistro-nord", options={}, state={},
        last_success_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), known_ids=frozenset(),
        crawl=CrawlSettings(), own_site_levels=LEVELS,
    )
    assert SchemaOrgSpider(context).is_ours(item) is ours
