"""How well the per-topic heads detect each topic: `topic_quality.json` beside the weights.

The file holds each topic's F1 per language on the hand-checked held-out split
(`sentiment/eval/topics_test.jsonl`), written by `bench/quality_topics.py --write-quality` from the
run that printed the figures (never typed by hand), with where they came from. It is tied to the
topic heads it measured by their digest: heads retrained in place, or a custom `sentiment.weights_dir`
without the file, have no figures (every topic "not measured").
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment.settings import SentimentSettings

FILE_NAME = "topic_quality.json"
FORMAT = "reviewwatch-topic-quality/1"
HEADS_FILES = ("topic_heads.json", "topic_heads.safetensors")
SHIPPED_WEIGHTS = Path(__file__).parent / "weights"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LanguageFigure:
    """One topic in one language: F1 (0-1) and the counts it comes from."""

    f1: float
    gold: int  # held-out sentences about the topic
    predicted: int  # sentences the model tagged with it
    true_positives: int


@dataclass(frozen=True)
class TopicQuality:
    """Measured figures per topic and language (only languages with gold sentences), and their source."""

    topics: Mapping[str, Mapping[str, LanguageFigure]]
    source: Mapping[str, Any]


def heads_digest(weights_dir: Path) -> str | None:
    """sha256 of the topic heads' files; None without them (no heads, nothing measured)."""
    h = hashlib.sha256()
    for name in HEADS_FILES:
        path = weights_dir / name
        if not path.exists():
            return None
        h.update(name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def quality_document(nine_topics: Mapping[str, Any], *, command: str, model_version: str, precision: str,
                     weights_dir: Path | None, test_file: str, date: str | None = None) -> dict[str, Any]:
    """The file's content from bench/quality_topics.py's nine-topic section (F1 there is x100)."""
    import datetime as dt

    wdir = weights_dir or SHIPPED_WEIGHTS
    topics: dict[str, dict[str, Any]] = {}
    for lang, entry in sorted(nine_topics.items()):
        if not isinstance(entry, dict) or "per_topic" not in entry:
            continue
        for topic, v in entry["per_topic"].items():
            if v["gold"]:
                topics.setdefault(topic, {})[lang] = {"f1_percent": v["f1"], "gold": v["gold"],
                                                      "predicted": v["predicted"], "tp": v["tp"]}
    return {
        "format": FORMAT,
        "source": {
            "command": command, "date": date or dt.date.today().isoformat(), "model_version": model_version,
            "precision": precision, "test_file": test_file,
            "measure": "F1 of each topic per language (x100, as the bench prints it); gold: held-out "
                       "sentences about the topic; languages without one are left out",
        },
        "topic_heads_sha256": heads_digest(wdir),
        "topics": topics,
    }


def _figure(v: Mapping[str, Any]) -> LanguageFigure:
    return LanguageFigure(f1=float(v["f1_percent"]) / 100, gold=int(v["gold"]), predicted=int(v["predicted"]),
                          true_positives=int(v["tp"]))


def load_topic_quality(weights_dir: str | Path = "", business_kind: str | None = None) -> TopicQuality | None:
    """The figures for these weights (`sentiment.weights_dir`, "" = shipped), or for their heads of
    a kind of business (sentiment/kinds.py, measured on that kind's sentences); None where none apply."""
    wdir = Path(weights_dir) if weights_dir else SHIPPED_WEIGHTS
    if business_kind is not None:
        from sentiment.kinds import kinds_dir

        wdir = kinds_dir(wdir) / business_kind
    path = wdir / FILE_NAME
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, expected {FORMAT!r}")
        topics = {t: {lang: _figure(v) for lang, v in langs.items()} for t, langs in doc["topics"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("%s unreadable (%s): topic quality not measured", path, exc)
        return None
    if doc.get("topic_heads_sha256") != heads_digest(wdir):
        # figures of other heads would vouch for a model they never measured
        log.warning("%s measured other topic heads than those in %s: topic quality not measured", path, wdir)
        return None
    return TopicQuality(topics=topics, source=dict(doc.get("source", {})))


def topic_quality_for(settings: SentimentSettings, business_kind: str | None = None) -> TopicQuality | None:
    """The figures that apply to the model these settings load: none for a custom `model` (the
    shipped heads' figures measured the shipped encoder), else those beside `weights_dir` (or
    beside its heads for `business_kind`)."""
    if settings.model:
        return None
    return load_topic_quality(settings.weights_dir, business_kind)
