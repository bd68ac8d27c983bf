"""The shipped model's class probabilities on the team's labelled files, cached per file.

Scoring thousands of texts on a busy CPU is slow, so each file's probabilities are kept under
`.bench-cache/` (gitignored), keyed by the model version and a digest of the texts: a changed model
or a changed file is scored afresh. Used by `bench/make_share_calibration.py` and `bench/quality.py`.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".bench-cache"
LANGUAGES = ["en", "fr", "sv", "ru", "de", "es", "nl", "tr"]
LABEL_ORDER = ("negative", "neutral", "positive")


def load_default_scorer(models_dir: Path = REPO / ".train", precision: str = "fp32") -> Any:
    """The shipped model with default settings (what `reviewwatch score` runs), fp32 unless told."""
    from sentiment.scorer import load_scorer
    from sentiment.settings import SentimentSettings

    return load_scorer(SentimentSettings(precision=precision), languages=LANGUAGES, data_dir=models_dir)


def subsample(rows: Sequence[Any], limit: int, seed: int = 13) -> list[Any]:
    """At most `limit` rows, drawn with a fixed seed (order kept), so reruns see the same texts."""
    if not limit or len(rows) <= limit:
        return list(rows)
    keep = sorted(random.Random(seed).sample(range(len(rows)), limit))
    return [rows[i] for i in keep]


def probabilities(scorer: Any, name: str, texts: Sequence[str], cache_dir: Path = CACHE) -> list[list[float]]:
    """[p_negative, p_neutral, p_positive] per text, from the cache when this model saw these texts."""
    digest = hashlib.sha1("\x1e".join(texts).encode()).hexdigest()[:16]
    path = cache_dir / f"{name}-{scorer.model_version}-{digest}.json"
    if path.exists():
        cached: list[list[float]] = json.loads(path.read_text(encoding="utf-8"))
        return cached
    started = time.time()
    rows: list[list[float]] = []
    for result in scorer.score(list(texts)):
        rows.append([round(float(result.probabilities[label]), 6) for label in LABEL_ORDER])
    cache_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows), encoding="utf-8")
    print(f"  scored {name}: {len(texts)} texts in {time.time() - started:.0f}s", file=sys.stderr, flush=True)
    return rows
