"""Compare sentiment weights on development data only (no measured file): what chooses a retrained
adapter before any test file is read.

For each weights directory (`""`: the shipped weights) it scores, in fp32:
- SemEval dev sentences per language and UMSAB dev tweets per language: three-class macro-F1;
- M-ABSA's hotel dev sentences (`sentiment/data/mabsa_hotel.jsonl`, part `dev`; sentence label
  from its opinions as `sentiment.mabsa.to_example` gives it): macro-F1;
- the rated reviews (`sentiment/data/rated_reviews_dev.jsonl`, labelled by their own ratings) per
  source: PCC's error on the positive and negative shares (points), and the share of four- and
  five-star and of one- and two-star reviews the model calls neutral.

Probabilities are cached per model version under `.bench-cache/` (bench/share_probabilities.py).
Prints a table and ends with ONE JSON object on the last line.

    .venv/bin/python bench/dev_compare.py --weights "" .train/run11/weights
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.share_probabilities import LANGUAGES, LABEL_ORDER, probabilities  # noqa: E402
from sentiment import mabsa, rated_reviews  # noqa: E402
from sentiment.data import build_splits  # noqa: E402
from sentiment.metrics import macro_f1  # noqa: E402


def dev_sets(data_dir: Path) -> dict[str, tuple[list[str], list[str]]]:
    """name -> (texts, gold labels) of every development set compared."""
    sets: dict[str, tuple[list[str], list[str]]] = {}
    for e in build_splits(data_dir).dev:
        texts, gold = sets.setdefault(e.source, ([], []))
        texts.append(e.text)
        gold.append(e.label or "neutral")
    _, hotel_dev = mabsa.read_rows()
    for e in hotel_dev:
        texts, gold = sets.setdefault("mabsa-hotel", ([], []))
        texts.append(e.text)
        gold.append(e.label or "neutral")
    return sets


def compare(weights: str, data_dir: Path, models_dir: Path) -> dict[str, Any]:
    from sentiment.scorer import load_scorer
    from sentiment.settings import SentimentSettings

    scorer = load_scorer(SentimentSettings(weights_dir=weights, precision="fp32", threads=2), languages=LANGUAGES,
                         data_dir=models_dir)
    out: dict[str, Any] = {"weights": weights or "shipped", "model_version": scorer.model_version}
    for name, (texts, gold) in sorted(dev_sets(data_dir).items()):
        probs = np.array(probabilities(scorer, f"devcmp-{name}", texts))
        pred = [LABEL_ORDER[i] for i in probs.argmax(axis=1)]
        labels = [lab for lab in LABEL_ORDER if lab in set(gold)]
        out[name] = round(100 * macro_f1(gold, pred, labels), 2)
    rows = rated_reviews.read()
    for source in sorted({r.source for r in rows}):
        mine = [r for r in rows if r.source == source]
        probs = np.array(probabilities(scorer, f"devcmp-rated-{source}", [r.text for r in mine]))
        y = np.array([LABEL_ORDER.index(rated_reviews.label(r)) for r in mine])
        stars = np.array([r.rating / r.rating_scale * 5 for r in mine])
        truth, pcc = np.bincount(y, minlength=3) / len(y), probs.mean(axis=0)
        called = probs.argmax(axis=1) == 1
        out[f"rated-{source}"] = {
            "macro_f1": round(100 * macro_f1([LABEL_ORDER[k] for k in y],
                                             [LABEL_ORDER[k] for k in probs.argmax(axis=1)], list(LABEL_ORDER)), 2),
            "error_positive": round(100 * float(pcc[2] - truth[2]), 1),
            "error_negative": round(100 * float(pcc[0] - truth[0]), 1),
            "4-5 stars called neutral": round(100 * float(called[stars >= 4].mean()), 1),
            "1-2 stars called neutral": round(100 * float(called[stars <= 2].mean()), 1),
        }
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", nargs="+", default=[""], help='weights directories ("" = shipped)')
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--models-dir", type=Path, default=REPO / ".train")
    a = ap.parse_args(argv)
    results = []
    for weights in a.weights:
        started = time.time()
        res = compare(weights, a.data_dir, a.models_dir)
        print(f"{res['weights']} ({res['model_version']}, {time.time() - started:.0f}s)", flush=True)
        for key, value in res.items():
            if key not in ("weights", "model_version"):
                print(f"  {key:22s} {value}", flush=True)
        results.append(res)
    final = {"dev_compare": results}
    print(json.dumps(final))
    return final


if __name__ == "__main__":
    main()
