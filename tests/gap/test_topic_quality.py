"""The gap report says which topics the model was measured to detect, and how well: in its JSON
(`method.topic_quality`), in a weak topic's claim (`method_note`), and under the summary."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from html import unescape
from pathlib import Path
from typing import Any

from rich.console import Console

from reviewwatch.config import ClaimConfig, Settings
from reviewwatch.gap import compute_gap
from reviewwatch.gap.render_html import render_html
from reviewwatch.gap.render_table import print_report
from reviewwatch.gap.report import json_schema
from sentiment.settings import SentimentSettings
from sentiment.topic_quality import SHIPPED_WEIGHTS
from storage.db import Store
from tests.gap import seed
from tests.gap.schema_check import errors


def shipped_micro_f1(topic: str) -> float:
    """The topic's F1 over every language of the shipped file, pooled (computed here by hand)."""
    doc = json.loads((SHIPPED_WEIGHTS / "topic_quality.json").read_text(encoding="utf-8"))
    langs = doc["topics"][topic].values()
    tp = sum(v["tp"] for v in langs)
    return 2 * tp / sum(v["gold"] + v["predicted"] for v in langs)


def shipped_languages(topic: str) -> list[str]:
    doc = json.loads((SHIPPED_WEIGHTS / "topic_quality.json").read_text(encoding="utf-8"))
    return sorted(doc["topics"][topic])


def report_of(store: Store, config: Settings) -> dict[str, Any]:
    with store.transaction() as s:
        business, sources = seed.setup(s, config)
        seed.many(s, business, sources["schema_org"], {"positive": 6, "negative": 2},
                  topics=["booking", "service"])
        return compute_gap(s, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()


def claims(*, sentiment: SentimentSettings | None = None) -> Settings:
    config = seed.settings([
        ClaimConfig(stated_at=dt.date(2026, 1, 1), positive_share=0.9, topic="booking"),
        ClaimConfig(stated_at=dt.date(2026, 1, 2), positive_share=0.9, topic="service"),
        ClaimConfig(stated_at=dt.date(2026, 1, 3), positive_share=0.9),
    ])
    return config if sentiment is None else config.model_copy(update={"sentiment": sentiment})


def test_the_report_grades_each_topic_and_notes_a_weak_topics_claim(store: Store) -> None:
    report = report_of(store, claims())
    assert errors(report, json_schema()) == []
    quality = report["method"]["topic_quality"]
    by_topic = {t["topic"]: t for t in quality["topics"]}
    assert list(by_topic) == list(SentimentSettings().topics)  # every topic of the taxonomy
    booking, service = by_topic["booking"], by_topic["service"]
    assert booking["f1"] == round(shipped_micro_f1("booking"), 3) and booking["f1"] < 0.60
    assert booking["quality"] == "weak" and booking["languages"] == shipped_languages("booking")
    assert service["f1"] == round(shipped_micro_f1("service"), 3) and service["quality"] == "good"
    # both hand-checked splits: the restaurant sentences and the hotel ones
    assert quality["source"].startswith("sentiment/eval/topics_test.jsonl + sentiment/eval/hotel_topics_test.jsonl")
    assert "bench/quality_topics.py" in quality["source"]
    notes = {c["topic"]: c["method_note"] for c in report["claims"]}
    assert notes["booking"] is not None and "detects booking weakly" in notes["booking"]
    assert f"F1 {booking['f1']:.2f} on {booking['gold']} held-out sentences" in notes["booking"]
    assert notes["service"] is None and notes[None] is None


def test_the_table_and_html_list_the_weak_topics_under_the_summary(store: Store) -> None:
    report = report_of(store, claims())
    console = Console(width=400, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    print_report(report, console)
    lines = console.export_text().splitlines()
    (at,) = [i for i, line in enumerate(lines) if line.startswith("Topics measured on held-out")]
    assert lines[at - 1].startswith("• ") and not lines[at + 1].startswith("• ")  # under the summary
    by_topic = {t["topic"]: t for t in report["method"]["topic_quality"]["topics"]}
    booking, service = by_topic["booking"], by_topic["service"]
    assert abs(service["f1"] - shipped_micro_f1("service")) < 5e-4
    assert f"service {service['f1']:.2f}" in lines[at]
    assert f"booking {booking['f1']:.2f} ({', '.join(booking['languages'])})" in lines[at].split("weak: ")[1]
    assert lines[at].endswith("their figures are less reliable")
    html = unescape(render_html([report]))
    below = html[html.index('<div class="summary"'):]
    below = below[below.index("</div>"):]  # right under the summary, before the claims in detail
    assert below.index('<p class="note topic-quality">') < below.index("<details")
    assert lines[at] in " ".join(below.split())


def test_weights_without_figures_or_other_heads_are_not_measured(store: Store, tmp_path: Path) -> None:
    custom = tmp_path / "weights"
    custom.mkdir()  # a user's own weights without topic_quality.json
    report = report_of(store, claims(sentiment=SentimentSettings(weights_dir=str(custom))))
    assert errors(report, json_schema()) == []
    quality = report["method"]["topic_quality"]
    assert quality["source"] is None
    assert {(t["quality"], t["f1"]) for t in quality["topics"]} == {("not measured", None)}
    notes = {c["topic"]: c["method_note"] for c in report["claims"]}
    assert "service was not measured" in notes["service"] and notes[None] is None

    # the shipped figures beside heads retrained in place: they measured other heads
    for name in ("topic_heads.json", "topic_heads.safetensors", "topic_quality.json"):
        shutil.copy(SHIPPED_WEIGHTS / name, custom / name)
    from reviewwatch.gap.topic_quality import topic_quality

    assert topic_quality(SentimentSettings(weights_dir=str(custom))).of("service").quality == "good"
    with open(custom / "topic_heads.safetensors", "ab") as fh:
        fh.write(b"\0")
    assert topic_quality(SentimentSettings(weights_dir=str(custom))).of("service").quality == "not measured"
    assert topic_quality(SentimentSettings(model="some/model")).of("service").quality == "not measured"


def test_what_the_bench_writes_is_what_the_gap_reads(tmp_path: Path) -> None:
    from reviewwatch.gap.topic_quality import topic_quality
    from sentiment.topic_quality import quality_document

    for name in ("topic_heads.json", "topic_heads.safetensors"):
        shutil.copy(SHIPPED_WEIGHTS / name, tmp_path / name)
    # bench/quality_topics.py's nine-topic section, two languages (F1 x100 as it prints it)
    nine = {
        "en": {"per_topic": {"price": {"f1": 80.0, "gold": 3, "predicted": 2, "tp": 2},
                             "booking": {"f1": None, "gold": 0, "predicted": 1, "tp": 0}}},
        "fr": {"per_topic": {"price": {"f1": 50.0, "gold": 3, "predicted": 1, "tp": 1},
                             "booking": {"f1": 0.0, "gold": 2, "predicted": 0, "tp": 0}}},
        "languages_meeting_targets": [],
    }
    doc = quality_document(nine, command="python bench/quality_topics.py --write-quality X",
                           model_version="abc", precision="fp32", weights_dir=tmp_path,
                           test_file="sentiment/eval/topics_test.jsonl", date="2026-12-06")
    (tmp_path / "topic_quality.json").write_text(json.dumps(doc), encoding="utf-8")
    quality = topic_quality(SentimentSettings(weights_dir=str(tmp_path)))
    price, booking = quality.of("price"), quality.of("booking")
    assert price is not None and booking is not None
    assert (price.f1, price.languages, price.gold, price.quality) == (2 * 3 / 9, ("en", "fr"), 6, "fair")
    assert (booking.f1, booking.languages, booking.quality) == (0.0, ("fr",), "weak")  # en: no gold
    assert quality.of("service") is not None and quality.of("service").quality == "not measured"
    assert quality.source is not None and "2026-12-06, model abc (fp32)" in quality.source


def test_a_hotel_is_graded_with_the_hotel_heads_figures(store: Store) -> None:
    """A business declared a hotel is read by the hotel heads (sentiment/kinds.py), so its report
    grades the topics with their figures, measured on hotel sentences alone."""
    config = claims()
    hotel = config.model_copy(update={"businesses": [config.businesses[0].model_copy(update={"kind": "hotel"})]})
    quality = report_of(store, hotel)["method"]["topic_quality"]
    doc = json.loads((SHIPPED_WEIGHTS / "kinds" / "hotel" / "topic_quality.json").read_text(encoding="utf-8"))
    by_topic = {t["topic"]: t for t in quality["topics"]}
    langs = doc["topics"]["quality"].values()
    pooled = 2 * sum(v["tp"] for v in langs) / sum(v["gold"] + v["predicted"] for v in langs)
    assert by_topic["quality"]["f1"] == round(pooled, 3) > round(shipped_micro_f1("quality"), 3)
    assert by_topic["quality"]["languages"] == sorted(doc["topics"]["quality"])
    assert quality["source"].startswith("sentiment/eval/hotel_topics_test.jsonl")
