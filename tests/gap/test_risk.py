"""Claims at risk: a verdict that turns overstated, a shortfall that crosses the threshold."""

from __future__ import annotations

import datetime as dt

from reviewwatch.config import ClaimConfig
from reviewwatch.gap import claims_at_risk, take_snapshot
from storage.db import Store
from storage.models import GapSnapshot, utcnow
from tests.gap import seed


def test_claims_turning_overstated_or_crossing_the_threshold_are_at_risk(store: Store) -> None:
    config = seed.settings(
        [
            ClaimConfig(positive_share=0.8, stated_at=dt.date(2026, 1, 1)),
            ClaimConfig(positive_share=0.65, stated_at=dt.date(2026, 1, 2)),
        ]
    )
    recent = utcnow() - dt.timedelta(days=5)
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        seed.many(s, business, sources["schema_org"], {"positive": 9, "negative": 1}, at=recent)
        first = take_snapshot(s, config, "cafe")
        snapshot_id = first.id
        verdicts = [c["verdict"] for c in first.report["claims"]]
    assert verdicts == ["supported", "supported"]
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        for day in range(10):
            seed.add(
                s,
                business,
                sources["trustpilot"],
                "negative",
                at=recent + dt.timedelta(hours=day),
                text=f"Cold  coffee,\nrude staff #{day}",
                language="fr",
            )
        risks = claims_at_risk(s, config, "cafe", s.get(GapSnapshot, snapshot_id))
        second = take_snapshot(s, config, "cafe")
        again = claims_at_risk(s, config, "cafe", second)
    by_value = {r.claim.value: r for r in risks}
    assert set(by_value) == {0.8, 0.65}
    turned = by_value[0.8]
    assert (turned.old_verdict, turned.new_verdict, turned.reason) == (
        "supported",
        "overstated",
        "turned overstated",
    )
    assert turned.perceived is not None and round(turned.perceived.high, 4) == 0.6579  # 9/20
    crossed = by_value[0.65]
    assert (crossed.old_verdict, crossed.new_verdict) == ("supported", "supported")
    assert crossed.reason.startswith("shortfall 20%")
    quotes = turned.evidence
    assert len(quotes) == 5
    assert quotes[0].text == "Cold coffee, rude staff #9"  # newest first, whitespace folded
    assert (quotes[0].language, quotes[0].source, quotes[0].url is not None) == (
        "fr",
        "trustpilot",
        True,
    )
    assert quotes[0].published_at == recent + dt.timedelta(hours=9)
    # nothing changed since the second snapshot: nothing is newly at risk
    assert again == []


def test_without_a_snapshot_every_overstated_claim_is_at_risk(store: Store) -> None:
    config = seed.settings([ClaimConfig(positive_share=0.99, stated_at=dt.date(2026, 1, 1))])
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        seed.many(
            s,
            business,
            sources["schema_org"],
            {"positive": 5, "negative": 5},
            at=utcnow() - dt.timedelta(days=1),
            text="x" * 1000,
        )
        (risk,) = claims_at_risk(s, config, "cafe", None)
    assert (risk.old_verdict, risk.new_verdict, risk.reason) == (None, "overstated", "overstated")
    assert len(risk.evidence[0].text) == 280
