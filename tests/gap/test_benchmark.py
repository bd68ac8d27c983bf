"""The benchmark (gap/benchmark.py) on a seeded store with known shares, on both backends:
clearly below, equal within noise, a small competitor not comparable, and the same figures as
each competitor's own gap report."""

from __future__ import annotations

from typing import Any

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from reviewwatch.gap import compute_gap
from reviewwatch.gap.report import json_schema
from storage.db import Store
from tests.gap import seed
from tests.gap.benchmark_seed import MIN_MENTIONS, SHARES, populate, settings
from tests.gap.schema_check import errors


def report_of(store: Store, slug: str = "cafe", **kwargs: Any) -> dict[str, Any]:
    config = settings(**kwargs)
    with store.transaction() as s:
        populate(s, config)
        return compute_gap(s, config, slug, since=seed.SINCE, until=seed.UNTIL).to_dict()


def scope(report: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in report["benchmark"]["scopes"] if s["key"] == key)


def rival(found: dict[str, Any], slug: str) -> dict[str, Any]:
    return next(c for c in found["competitors"] if c["slug"] == slug)


def test_below_equal_and_not_comparable_with_counted_labels(store: Store) -> None:
    report = report_of(store)
    assert report["schema_version"] == 4 and errors(report, json_schema()) == []
    benchmark = report["benchmark"]
    assert [c["slug"] for c in benchmark["competitors"]] == ["rival-a", "rival-b", "rival-small"]
    assert [s["key"] for s in benchmark["scopes"]] == ["overall", "cleanliness", "service"]

    clean = scope(report, "cleanliness")
    assert clean["business"]["positive_share"]["value"] == pytest.approx(0.30)
    assert clean["business"]["mentions"] == 40 and clean["business"]["comparable"]
    for slug in ("rival-a", "rival-b"):
        assert rival(clean, slug)["comparisons"]["positive_share"]["verdict"] == "lower"
        assert rival(clean, slug)["comparisons"]["negative_share"]["verdict"] == "higher"
    # the median of the two comparable competitors (80 % and 75 %); rival-small is left out
    median = clean["median"]
    assert median["competitors_counted"] == 2
    assert median["positive_share"]["value"] == pytest.approx(0.775)
    assert median["positive_share"]["low"] < 0.775 < median["positive_share"]["high"]
    versus = median["comparisons"]["positive_share"]
    assert versus["verdict"] == "lower"
    assert versus["difference"]["value"] == pytest.approx(0.30 - 0.775)
    assert versus["difference"]["high"] < 0

    small = rival(clean, "rival-small")
    assert small["mentions"] == 2 and not small["comparable"]
    assert small["positive_share"]["value"] == 1.0  # its figures are shown, its verdicts are not
    assert all(c == {"difference": None, "verdict": "not comparable"}
               for c in small["comparisons"].values())

    service = scope(report, "service")
    assert {rival(service, s)["comparisons"]["positive_share"]["verdict"]
            for s in ("rival-a", "rival-b")} == {"similar"}
    assert service["median"]["comparisons"]["positive_share"]["verdict"] == "similar"
    difference = service["median"]["comparisons"]["positive_share"]["difference"]
    assert difference["low"] < 0 < difference["high"]


def test_the_difference_with_one_competitor_is_newcombs_interval(store: Store) -> None:
    """With labels counted (Wilson intervals), the square-and-add interval is statsmodels'."""
    clean = scope(report_of(store), "cleanliness")
    (own_pos, own_n), (their_pos, their_n) = SHARES["cafe"]["cleanliness"], SHARES["rival-a"]["cleanliness"]
    low, high = confint_proportions_2indep(
        own_pos, own_n, their_pos, their_n, method="newcomb", compare="diff"
    )
    difference = rival(clean, "rival-a")["comparisons"]["positive_share"]["difference"]
    assert difference["value"] == pytest.approx(own_pos / own_n - their_pos / their_n)
    assert (difference["low"], difference["high"]) == pytest.approx((low, high), abs=1e-6)


def test_each_competitors_figures_are_those_of_its_own_gap_report(store: Store) -> None:
    config = settings(share_method="auto")  # corrected shares, bootstrap intervals
    with store.transaction() as s:
        populate(s, config)
        report = compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()
        theirs = compute_gap(s, config, "rival-a", since=seed.SINCE, until=seed.UNTIL).to_dict()
    assert theirs["benchmark"] is None  # rival-a names no competitors
    assert rival(scope(report, "overall"), "rival-a")["positive_share"] == theirs["overall"]["positive_share"]
    assert rival(scope(report, "overall"), "rival-a")["mean_stars"] == theirs["overall"]["mean_stars"]
    topics = {g["key"]: g for g in theirs["breakdowns"]["topic"]}
    for key in ("cleanliness", "service"):
        found = rival(scope(report, key), "rival-a")
        assert found["positive_share"] == topics[key]["positive_share"]
        assert found["negative_share"] == topics[key]["negative_share"]
        assert found["mentions"] == topics[key]["mentions"]
    clean = scope(report, "cleanliness")
    assert clean["business"]["positive_share"] == {
        g["key"]: g for g in report["breakdowns"]["topic"]
    }["cleanliness"]["positive_share"]
    assert clean["median"]["comparisons"]["positive_share"]["verdict"] == "lower"
    assert scope(report, "service")["median"]["comparisons"]["positive_share"]["verdict"] == "similar"


def test_a_business_with_too_few_mentions_gets_no_verdict(store: Store) -> None:
    config = settings()
    config.businesses[3].competitors = ["rival-a"]
    with store.transaction() as s:
        populate(s, config)
        report = compute_gap(s, config, "rival-small", since=seed.SINCE, until=seed.UNTIL).to_dict()
    for found in report["benchmark"]["scopes"]:
        assert not found["business"]["comparable"] and found["business"]["mentions"] < MIN_MENTIONS
        assert found["median"]["comparisons"]["positive_share"]["verdict"] == "not comparable"
        assert not found["median"]["comparable"]


def test_the_table_and_the_html_report_show_it(store: Store) -> None:
    from rich.console import Console

    from reviewwatch.gap.render_benchmark import print_benchmark
    from reviewwatch.gap.render_html import render_html

    report = report_of(store)
    console = Console(record=True, width=200, no_color=True)
    print_benchmark(report, console)
    text = console.export_text()
    line = "Cleanliness: 30 % positive, competitors' median 78 %: lower, beyond the uncertainty"
    assert f"against its competitors: {line}" in text
    assert "-50 pts (-65…-29)" in text and "not comparable" in text
    page = render_html([report])
    assert "Beside its competitors" in page and line.replace("'", "&#39;") in page
    assert page.count('class="scope-start"') == 3  # overall, cleanliness, service


def test_the_replicates_are_those_behind_the_shares_interval() -> None:
    """The median's bootstrap reuses the shares' own: same replicates, same percentiles."""
    import numpy as np

    from reviewwatch.gap import quantify, shares

    corrector = quantify.fit(shares.shipped_calibration(), "PCC", replicates=200)
    rng = np.random.default_rng(3)
    probabilities = rng.dirichlet([1, 1, 1], size=60)
    known = [None if i % 3 else i % 2 * 2 for i in range(60)]  # a third labelled
    estimate = quantify.estimate(corrector, known, probabilities, seed=5)
    copies = quantify.replicate_shares(corrector, known, probabilities, seed=5)
    assert copies.shape == (200, 3)
    low, high = np.nanquantile(copies, [0.025, 0.975], axis=0)
    from reviewwatch.gap.stats import wilson

    for index, label in enumerate(quantify.LABELS):
        share = estimate.share(label)
        # the shares' interval also holds the Wilson interval at n = 60 (quantify.estimate)
        sampling = wilson(share.value * 60, 60)
        assert sampling is not None
        assert share.low == pytest.approx(min(max(low[index], 0), share.value, sampling.low))
        assert share.high == pytest.approx(max(min(high[index], 1), share.value, sampling.high))


def test_topics_nobody_can_be_compared_on_are_folded_away(store: Store) -> None:
    from reviewwatch.gap.render_html import render_html

    report = report_of(store)
    for side in [scope(report, "service")["business"], *scope(report, "service")["competitors"]]:
        side["comparable"] = False  # as if every side had fewer than min_mentions
    page = render_html([report])
    assert page.count('class="scope-start"') == 2  # overall, cleanliness
    assert f"Not shown (fewer than {MIN_MENTIONS} mentions on every side): Service." in page
