"""The report opens with a summary that agrees with its claims (JSON, table and HTML), and a
breakdown's small groups are folded into "other"."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

from rich.console import Console

from reviewwatch.config import ClaimConfig
from reviewwatch.gap import compute_gap
from reviewwatch.gap.render_html import render_html
from reviewwatch.gap.render_table import print_report
from reviewwatch.gap.report import json_schema
from storage.db import Store
from tests.gap import seed
from tests.gap.schema_check import errors

LANGUAGES = {"en": 5, "ru": 2, "sv": 1, "de": 1}


def claim(stated: int = 1, **kwargs: Any) -> ClaimConfig:
    return ClaimConfig(stated_at=dt.date(2026, 1, stated), **kwargs)


def report_with_languages(store: Store, languages: dict[str, int], **gap: Any) -> dict[str, Any]:
    config = seed.settings(
        [claim(positive_share=0.9), claim(2, average_rating=4.5), claim(3, positive_share=0.99,
                                                                       topic="price")],
        min_mentions=3,
        **gap,
    )
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        for language, count in languages.items():
            for n in range(count):
                seed.add(s, business, sources["schema_org"], "negative" if n % 2 else "positive",
                         language=language, rating=2 if n % 2 else 5, scale=5,
                         topics=["service"])
        return compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()


def test_small_groups_are_folded_into_other(store: Store) -> None:
    report = report_with_languages(store, LANGUAGES)
    assert not errors(report, json_schema())
    assert report["schema_version"] == 4
    languages = [(g["key"], g["mentions"], g.get("folded")) for g in report["breakdowns"]["language"]]
    assert languages == [("en", 5, None), ("other", 4, ["de", "ru", "sv"])]
    other = report["breakdowns"]["language"][1]
    assert other["positive"] + other["neutral"] + other["negative"] == 4  # counted, not summed
    overall = report["claims"][0]
    assert [(x["key"], x["mentions"]) for x in overall["by_language"]] == [("en", 5), ("other", 4)]
    # one source only: nothing to fold; the price claim's topic has no mention, yet no "other"
    assert [g["key"] for g in report["breakdowns"]["source"]] == ["schema_org"]
    assert [g["key"] for g in report["breakdowns"]["topic"]] == ["service"]


def test_a_single_small_group_keeps_its_name(store: Store) -> None:
    report = report_with_languages(store, {"en": 5, "fr": 1})
    assert [g["key"] for g in report["breakdowns"]["language"]] == ["en", "fr"]


def test_the_summary_lines_match_the_claims_verdicts_in_json_table_and_html(store: Store) -> None:
    report = report_with_languages(store, LANGUAGES)
    summary, claims = report["summary"], report["claims"]
    assert [(e["claim_key"], e["verdict"]) for e in summary] == [
        (c["claim_key"], c["verdict"]) for c in claims]
    assert {e["verdict"] for e in summary} >= {"overstated", "not enough evidence"}
    share = next(e for e in summary if e["metric"] == "positive_share" and e["perceived"])
    low, high = share["perceived"]["low"], share["perceived"]["high"]
    assert share["line"] == (
        f"overstated: declared: 90% positive: claimed 90%, perceived "
        f"{share['perceived']['value']:.0%} (95% interval {low:.0%}–{high:.0%}), "
        f"n = {share['mentions']}, labels counted"  # seed.settings counts labels (Wilson)
    )

    console = Console(record=True, width=200, color_system=None)
    print_report(report, console)
    table = console.export_text()
    for entry in summary:
        assert f"• {entry['line']}" in table
    assert table.index(summary[-1]["line"]) < table.index("claimed versus perceived")

    html = render_html([report])
    shown = dict(re.findall(r'<li data-claim-key="([^"]+)"><span class="verdict[^"]*">([^<]+)<', html))
    assert {unescape(k): v for k, v in shown.items()} == {
        e["claim_key"]: e["verdict"] for e in summary}
    assert html.index('class="summary"') < html.index("Claims in detail")


def test_the_summary_names_the_method(store: Store) -> None:
    report = report_with_languages(store, LANGUAGES)
    share = next(e for e in report["summary"] if e["metric"] == "positive_share" and e["perceived"])
    assert share["method"] == "wilson" and share["line"].endswith(", labels counted")
    rating = next(e for e in report["summary"] if e["metric"] == "average_rating")
    assert rating["line"].endswith(", smoothed mean") and "/5" in rating["line"]
