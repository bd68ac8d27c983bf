"""The gap's corrected shares on a seeded store (SQLite and PostgreSQL): which calibration, which
method, rated mentions counted by their rating, and the report's method and schema."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from importlib import resources
from typing import Any

import pytest

from reviewwatch.config import ClaimConfig
from reviewwatch.gap import compute_gap
from reviewwatch.gap.report import json_schema
from reviewwatch.gap.shares import shipped_calibration
from sentiment.scorer import SHIPPED_WEIGHTS
from storage.db import Store
from tests.gap import seed
from tests.gap.schema_check import errors


def _seed_business(store: Store, **gap: object) -> dict[str, Any]:
    """60 mentions: 40 rated (10 one-star, 10 three-star, 20 five-star of which the model calls
    half neutral) and 20 unrated (the model: 10 positive, 10 neutral)."""
    config = seed.settings(
        [ClaimConfig(positive_share=0.9, stated_at=dt.date(2026, 1, 1))], **gap
    )
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        src = sources["schema_org"]
        for label, rating, count in (
            ("negative", 1, 10), ("neutral", 3, 10), ("positive", 5, 10), ("neutral", 5, 10)
        ):
            for _ in range(count):
                seed.add(s, business, src, label, rating=rating, scale=5)
        for label in ("positive", "neutral"):
            for _ in range(10):
                seed.add(s, business, src, label)
        report: dict[str, Any] = compute_gap(
            s, config, "cafe", since=seed.SINCE, until=seed.UNTIL
        ).to_dict()
    assert not errors(report, json_schema())
    return report


def test_enough_rated_mentions_calibrate_on_the_business_itself(store: Store) -> None:
    report = _seed_business(store, share_method="auto", share_min_labelled=40)
    correction = report["method"]["share_correction"]
    assert (correction["method"], correction["calibration"], correction["calibration_n"]) == (
        "EMQ-BCTS", "own", 40)
    assert "bias-corrected temperature scaling" in correction["description"]
    assert report["method"]["share_interval"] == "bootstrap" and correction["reliable"]
    overall = report["overall"]
    # rated by their rating (10 + 10 + 20); the 20 unrated look like the rated five-stars (half
    # called neutral by the model), so the correction reads them all as positive: (20 + 20) / 60
    # (EM approaches it from below and stops when a round changes the shares by under 1e-4)
    assert overall["positive_share"]["value"] == pytest.approx(40 / 60, abs=0.01)
    assert overall["neutral_share"]["value"] == pytest.approx(10 / 60, abs=0.01)
    assert (overall["labelled_mentions"], overall["quantified_mentions"]) == (40, 20)
    assert overall["share_method"] == "EMQ-BCTS"
    # the labels counted (ratings, and the model's for the unrated) would say 30 of 60
    assert overall["positive"] == 30
    (claim,) = report["claims"]
    assert claim["method"] == "EMQ-BCTS" and claim["perceived"] == overall["positive_share"]
    assert claim["perceived"]["low"] <= 40 / 60 <= claim["perceived"]["high"]


def test_pacc_with_the_business_own_labels_reads_the_same_mix(store: Store) -> None:
    """The method before EMQ-BCTS, still a setting: exact on this mix (q = M p solved)."""
    report = _seed_business(store, share_method="PACC", share_min_labelled=40)
    assert report["method"]["share_correction"]["method"] == "PACC"
    assert report["overall"]["positive_share"]["value"] == pytest.approx(40 / 60, abs=1e-6)
    assert report["overall"]["neutral_share"]["value"] == pytest.approx(10 / 60, abs=1e-6)


def test_too_few_rated_mentions_fall_back_on_the_shipped_data(store: Store) -> None:
    report = _seed_business(store, share_method="auto", share_min_labelled=41)
    correction = report["method"]["share_correction"]
    assert (correction["method"], correction["calibration"]) == ("PCC", "held-out")
    assert correction["calibration_n"] == shipped_calibration().size
    assert "held-out" in correction["description"]
    # rated by their rating (20 positive); the unrated by their mean probability (10 of 20)
    assert report["overall"]["positive_share"]["value"] == pytest.approx(30 / 60, abs=1e-6)


def test_long_unrated_mentions_widen_the_held_out_interval_and_say_so(store: Store) -> None:
    """The shipped data holds short texts: an unrated mention longer than its `max_chars` gets an
    open part of the interval in the gap report, and the report says why."""
    limit = shipped_calibration().max_chars
    assert limit is not None and 100 < limit < 1000
    config = seed.settings(share_method="auto")
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        figures = []
        for length in (limit, limit + 1):  # 20 texts at the limit, then 20 just over it
            for label in ("positive", "neutral", "negative", "positive") * 5:
                seed.add(s, business, sources["schema_org"], label, text="x" * length)
            figures.append(compute_gap(
                s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()["overall"])
    short, mixed = figures
    assert short["share_note"] is None and mixed["quantified_mentions"] == 40
    assert f"20 unlabelled mention(s) longer than the calibration's texts (over {limit}" in (
        mixed["share_note"] or "")
    assert mixed["positive_share"]["value"] == pytest.approx(short["positive_share"]["value"])
    # half the mentions could be of any class: the interval is at least half the scale wide, and
    # wider than the short texts' alone by a good part of that half
    width = {name: f["positive_share"]["high"] - f["positive_share"]["low"] for name, f in
             (("short", short), ("mixed", mixed))}
    assert width["mixed"] >= 0.5 and width["mixed"] > width["short"] + 0.15, width


def test_a_rating_decides_even_when_the_model_disagrees(store: Store) -> None:
    config = seed.settings(share_method="auto")
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        for _ in range(12):
            seed.add(s, business, sources["schema_org"], "negative", rating=9, scale=10)
        report = compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()
    overall = report["overall"]
    assert overall["share_method"] == "labels" and overall["quantified_mentions"] == 0
    assert overall["positive_share"]["value"] == 1.0 and overall["label_sources"] == {"rating": 12}


def test_counts_keeps_the_uncorrected_wilson_figures(store: Store) -> None:
    report = _seed_business(store, share_method="counts")
    assert report["method"]["share_correction"] is None
    assert report["method"]["share_interval"] == "wilson"
    assert report["overall"]["positive_share"]["value"] == pytest.approx(30 / 60, abs=1e-6)
    assert report["overall"]["share_method"] == "wilson"


def test_the_shipped_calibration_was_made_with_the_shipped_weights() -> None:
    """A retrained model makes the shipped error rates stale: rerun
    bench/make_share_calibration.py (this fails until then)."""
    document = json.loads(
        resources.files("reviewwatch.gap.calibration").joinpath("heldout.json").read_text("utf-8")
    )
    digest = hashlib.sha1()
    for name in ("heads.json", "heads.safetensors", "adapter_model.safetensors"):
        digest.update(name.encode())
        digest.update((SHIPPED_WEIGHTS / name).read_bytes())
    assert document["weights_sha1"] == digest.hexdigest()
    # development data only: UMSAB validation, SemEval dev reviews, the rated dev reviews; no text
    assert set(document["domains"]) == {
        *(f"semeval-{lang}" for lang in ("en", "es", "fr", "nl", "ru", "tr")),
        *(f"umsab-{lang}" for lang in ("de", "en", "es", "fr")),
        "rated-en", "rated-es",
    }
    for domain in document["domains"].values():
        assert set(domain) == {"kind", "language", "labels", "probabilities"}
        assert len(domain["labels"]) == len(domain["probabilities"]) > 90
    calibration = shipped_calibration()
    assert calibration.size == sum(len(d["labels"]) for d in document["domains"].values())
    assert (calibration.class_counts() > 500).all()
