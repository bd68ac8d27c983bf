"""Which topics of the taxonomy the model was measured to detect, and how well (`method.topic_quality`).

The figures are the per-topic F1 of `sentiment/weights/topic_quality.json` (bench/quality_topics.py
on the hand-checked held-out reviews), read through `sentiment.topic_quality.topic_quality_for`
for the `[sentiment]` settings; a topic without figures there, or a custom model, is "not
measured". A topic claim on a weak or unmeasured topic says so in its `method_note`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sentiment.settings import SentimentSettings
from sentiment.topic_quality import TopicQuality, topic_quality_for

GOOD, FAIR = 0.75, 0.60
WEAK, NOT_MEASURED = "weak", "not measured"


def grade(f1: float | None) -> str:
    if f1 is None:
        return NOT_MEASURED
    return "good" if f1 >= GOOD else "fair" if f1 >= FAIR else WEAK


@dataclass(frozen=True, slots=True)
class TopicFigure:
    """One taxonomy topic: micro-F1 over the languages measured (their sentences pooled)."""

    topic: str
    f1: float | None
    languages: tuple[str, ...]
    gold: int  # held-out sentences about the topic, all languages

    @property
    def quality(self) -> str:
        return grade(self.f1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "f1": None if self.f1 is None else round(self.f1, 3),
            "languages": list(self.languages),
            "gold": self.gold,
            "quality": self.quality,
        }


@dataclass(frozen=True, slots=True)
class TopicQualityReport:
    """Every topic of the taxonomy with its figure, and where the figures came from."""

    topics: tuple[TopicFigure, ...]
    source: str | None

    def of(self, topic: str) -> TopicFigure | None:
        return next((t for t in self.topics if t.topic == topic), None)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "topics": [t.to_dict() for t in self.topics]}


def figures(taxonomy: Iterable[str], measured: TopicQuality | None) -> TopicQualityReport:
    out = []
    for topic in taxonomy:
        langs = (measured.topics.get(topic) or {}) if measured is not None else {}
        gold = sum(f.gold for f in langs.values())
        tp = sum(f.true_positives for f in langs.values())
        predicted = sum(f.predicted for f in langs.values())
        f1 = 2 * tp / (gold + predicted) if gold else None
        out.append(TopicFigure(topic, f1, tuple(sorted(langs)) if gold else (), gold))
    return TopicQualityReport(tuple(out), _source(measured))


def _source(measured: TopicQuality | None) -> str | None:
    if measured is None:
        return None
    s = measured.source
    return (f"{s.get('test_file', 'held-out reviews')}, {s.get('date', '?')}, model "
            f"{s.get('model_version', '?')} ({s.get('precision', '?')}): {s.get('command', '?')}")


def topic_quality(settings: SentimentSettings, business_kind: str | None = None) -> TopicQualityReport:
    """The report's figures for the topics of these settings' taxonomy, as a business of this kind
    is scored (its own heads' figures, measured on its kind's sentences)."""
    return figures(settings.topics, topic_quality_for(settings, business_kind))


def _languages(figure: dict[str, Any]) -> str:
    return f" ({', '.join(figure['languages'])})" if figure["languages"] else ""


def method_note(figure: TopicFigure | None) -> str | None:
    """What a claim on this topic should say about the model's detection of it (None: good or fair)."""
    if figure is None or figure.quality == NOT_MEASURED:
        topic = "this topic" if figure is None else figure.topic
        return f"how well the model detects {topic} was not measured: its figures may be unreliable"
    if figure.quality == WEAK:
        return (f"the model detects {figure.topic} weakly (F1 {figure.f1:.2f} on {figure.gold} held-out "
                f"sentences in {', '.join(figure.languages)}): its figures are less reliable")
    return None


def quality_line(report: dict[str, Any]) -> str | None:
    """One line for the table and HTML: the topics measured, then the weak and unmeasured ones."""
    quality = report["method"].get("topic_quality")
    if not quality or not quality["topics"]:
        return None
    topics = quality["topics"]
    fine = [f"{t['topic']} {t['f1']:.2f}" for t in topics if t["quality"] in ("good", "fair")]
    weak = [f"{t['topic']} {t['f1']:.2f}{_languages(t)}" for t in topics if t["quality"] == WEAK]
    unmeasured = [t["topic"] for t in topics if t["quality"] == NOT_MEASURED]
    parts = [f"Topics measured on held-out reviews (F1): {', '.join(fine) if fine else 'none'}"]
    if weak:
        parts.append(f"weak: {', '.join(weak)} — {'its' if len(weak) == 1 else 'their'} figures are "
                     "less reliable")
    if unmeasured:
        parts.append(f"not measured: {', '.join(unmeasured)}")
    return "; ".join(parts)
