"""The nine-topic figures bench/quality_topics.py prints: F1 counted per sentence, topics without
gold sentences unmeasured, and the two hand-checked splits pooled per language."""

from __future__ import annotations

import pytest

from bench.quality_topics import both_splits_section, nine_topic_figures
from sentiment.topic_rules import NINE_TOPICS


def test_micro_and_per_topic_f1_count_each_sentence_and_leave_unseen_topics_unmeasured():
    gold = [{"service", "price"}, {"quality"}, set(), {"service"}]
    pred = [{"service"}, {"quality", "ambience"}, {"price"}, {"service"}]
    entry = nine_topic_figures(gold, pred, ["a", "a", "b", "c"])
    # tp 3 (service twice, quality), fp 2 (ambience, price), fn 1 (price): 2*3 / (6 + 2 + 1)
    assert entry["micro_f1"] == pytest.approx(100 * 6 / 9, abs=0.01)
    per = entry["per_topic"]
    assert per["service"] == {"f1": 100.0, "ci95": per["service"]["ci95"], "gold": 2, "predicted": 2, "tp": 2}
    assert per["price"]["f1"] == 0.0 and per["price"]["gold"] == 1 and per["price"]["predicted"] == 1
    assert per["booking"]["f1"] is None and per["booking"]["ci95"] is None  # no gold sentence
    assert entry["targets_met"] == {"micro>=75": False, "every topic>=60": False}


def test_both_splits_pool_the_sentences_of_a_language_found_in_both():
    every = set(NINE_TOPICS)
    semeval = {"en": ([{"service"}], [{"service"}], ["r1"]), "nl": ([{"price"}], [set()], ["r2"])}
    hotel = {"en": ([every], [every], ["hotel-0"]), "de": ([{"location"}], [{"location"}], ["hotel-0"])}
    out = both_splits_section(semeval, hotel)
    assert sorted(out) == ["en", "languages_meeting_targets"]  # only languages in both
    assert out["en"]["sentences"] == 2 and out["en"]["per_topic"]["service"]["gold"] == 2
    assert out["en"]["micro_f1"] == 100.0 and out["languages_meeting_targets"] == ["en"]
