"""Response figures on a seeded store with known answers: response rate, median and 90th
percentile of the hours to a first response, per source and period; `response_within_hours`
claims judged like every other claim; the JSON schema, table and HTML show them."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from rich.console import Console
from sqlalchemy import select

from reviewwatch.config import ClaimConfig
from reviewwatch.gap.responses import percentile
from reviewwatch.gap import compute_gap
from reviewwatch.gap.render_html import render_html
from reviewwatch.gap.render_table import print_report
from reviewwatch.gap.report import json_schema
from reviewwatch.sync import sync_settings
from storage.followup import change_state, sync_followups
from storage.models import FollowupItem, Mention
from tests.analysts.conftest import Seeded
from tests.gap.schema_check import errors

# cafe-a's negative reviews (published at noon on these November days) and the hours to a reply
ANSWERED = {"c1": 2.0, "c3": 10.0, "c6": 30.0, "c8": 4.0}  # c9 is never answered
NOVEMBER = (dt.datetime(2026, 11, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


def _answer(seeded: Seeded) -> None:
    with seeded.store.transaction() as session:
        sync_followups(session)
        for ext, hours in ANSWERED.items():
            mention = session.get_one(Mention, seeded.ids[ext])
            item = session.scalars(select(FollowupItem).where(
                FollowupItem.mention_id == mention.id)).one()
            assert mention.published_at is not None
            change_state(session, item.id, "replied", by="alice", via="api",
                         replied_at=mention.published_at + dt.timedelta(hours=hours))
        c8 = session.scalars(select(FollowupItem).where(
            FollowupItem.mention_id == seeded.ids["c8"])).one()
        change_state(session, c8.id, "resolved", by="alice", via="api")


def _claims(seeded: Seeded, *claims: ClaimConfig) -> None:
    seeded.settings.businesses[0].claims.extend(claims)
    seeded.settings.gap.min_mentions = 3
    with seeded.store.transaction() as session:
        sync_settings(session, seeded.settings)


def test_percentiles_interpolate_between_closest_ranks() -> None:
    assert percentile([2.0, 4.0, 10.0, 30.0], 0.5) == 7.0
    assert percentile([2.0, 4.0, 10.0, 30.0], 0.9) == pytest.approx(24.0)
    assert percentile([5.0], 0.9) == 5.0 and percentile([], 0.5) is None


def test_response_figures_and_claims_in_the_gap_report(seeded: Seeded) -> None:
    _answer(seeded)
    stated = dt.date(2026, 10, 1)
    _claims(seeded,
            ClaimConfig(response_within_hours=24, stated_at=stated),  # "we answer every review in 24 h"
            ClaimConfig(response_within_hours=48, response_share=0.6, stated_at=dt.date(2026, 10, 2)))
    with seeded.store.session() as session:
        report = compute_gap(session, seeded.settings, "cafe-a", since=NOVEMBER[0],
                             until=NOVEMBER[1]).to_dict()
    responses = report["responses"]
    assert (responses["negative_mentions"], responses["replied"]) == (5, 4)
    assert responses["response_rate"]["value"] == 0.8
    assert responses["response_rate"]["low"] == pytest.approx(0.3755, abs=1e-3)
    assert (responses["median_hours"], responses["p90_hours"]) == (7.0, 24.0)
    assert responses["states"] == {"open": 1, "replied": 3, "resolved": 1, "dismissed": 0}
    assert [(g["key"], g["negative_mentions"]) for g in responses["by_source"]] == [("trustpilot", 5)]
    assert [(g["key"], g["median_hours"]) for g in responses["by_period"]] == [
        ("2026-W45", 6.0), ("2026-W46", 30.0), ("2026-W47", 4.0)]

    claims = {c["claimed"]: c for c in report["claims"] if c["metric"] == "response_within_hours"}
    every = claims[1.0]  # 3 of 5 within 24 h: 60% (23%-88%), far below "every"
    assert every["perceived"]["value"] == 0.6 and every["perceived"]["high"] < 1.0
    assert (every["verdict"], every["mentions"], every["scale"]) == ("overstated", 5, 24.0)
    assert every["label"] == "declared: answers every negative mention within 24 h"
    most = claims[0.6]  # 4 of 5 within 48 h: 80% (38%-96%) holds 60%
    assert (most["perceived"]["value"], most["verdict"]) == (0.8, "supported")
    assert errors(report, json_schema()) == []

    out = io.StringIO()
    print_report(report, Console(file=out, width=160))
    table = out.getvalue()
    assert "responses to negative mentions" in table and "80% (38%–96%)" in table
    assert "7.0 h" in table and "24.0 h" in table
    html = render_html([report])
    assert "Responses to negative mentions" in html and "80% (38–96%)" in html


def test_too_few_negative_mentions_is_not_enough_evidence(seeded: Seeded) -> None:
    _answer(seeded)
    _claims(seeded, ClaimConfig(response_within_hours=24, stated_at=dt.date(2026, 10, 1)))
    seeded.settings.gap.min_mentions = 10
    with seeded.store.session() as session:
        report = compute_gap(session, seeded.settings, "cafe-a", since=NOVEMBER[0],
                             until=NOVEMBER[1]).to_dict()
    [claim] = [c for c in report["claims"] if c["metric"] == "response_within_hours"]
    assert claim["verdict"] == "not enough evidence" and claim["mentions"] == 5


def test_a_mention_relabelled_positive_leaves_the_figures(seeded: Seeded) -> None:
    from storage.corrections import correct_mention

    _answer(seeded)
    with seeded.store.transaction() as session:
        correct_mention(session, seeded.ids["c9"], analyst="alice", label="positive", topics=None,
                        note=None, known_topics=["service"])
        sync_followups(session)
    with seeded.store.session() as session:
        report = compute_gap(session, seeded.settings, "cafe-a", since=NOVEMBER[0],
                             until=NOVEMBER[1]).to_dict()
    assert (report["responses"]["negative_mentions"], report["responses"]["replied"]) == (4, 4)
