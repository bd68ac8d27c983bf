"""Do the shipped calibration's error rates hold for texts longer than its own? A check on the
development split only (no measured file): the SemEval dev sentences joined back into their
reviews (in the original order), each review labelled from its sentences' labels (more positive
than negative sentences: positive; more negative: negative; else neutral — a proxy, a review's own
rating is not in the data), scored by the shipped model (cached under .bench-cache/), and PCC's
error (the mean probabilities against the proxy truth) printed by length in characters. Its
result set the calibration's `max_chars` rule (bench/make_share_calibration.py): up to about the
calibration's 99th percentile of text length the error is of the size seen between short-text
domains; above it, several times that.

    .venv/bin/python bench/share_length_check.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.share_probabilities import load_default_scorer, probabilities  # noqa: E402
from reviewwatch.gap import shares  # noqa: E402
from sentiment.data import build_splits  # noqa: E402

LABELS = ("negative", "neutral", "positive")


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    a = ap.parse_args(argv)
    reviews: dict[tuple[str, str], list] = {}
    for e in build_splits(a.data_dir).dev:
        if e.source.startswith("semeval"):
            reviews.setdefault((e.source, e.id.split(":")[0]), []).append(e)
    texts, labels = [], []
    for _, sentences in sorted(reviews.items()):
        sentences.sort(key=lambda e: e.id)
        texts.append(" ".join(e.text for e in sentences))
        kinds = [e.label for e in sentences]
        pos, neg = kinds.count("positive"), kinds.count("negative")
        labels.append(2 if pos > neg else 0 if neg > pos else 1)
    probs = np.array(probabilities(load_default_scorer(), "dev-semeval-reviews", texts))
    y, lengths = np.array(labels), np.array([len(t) for t in texts])
    limit = shares.shipped_calibration().max_chars or 0
    out: dict[str, object] = {"reviews": len(texts), "max_chars": limit, "bins": []}
    print(f"SemEval dev reviews (sentences joined), n={len(texts)}; calibration max_chars={limit}")
    for low, high in ((0, limit), (limit, 615), (615, 10**9), (0, 10**9)):
        keep = (lengths > low) & (lengths <= high)
        if keep.sum() < 5:
            continue
        truth, pcc = np.bincount(y[keep], minlength=3) / keep.sum(), probs[keep].mean(axis=0)
        row = {"chars": f"{low}-{high if high < 10**9 else 'any'}", "n": int(keep.sum()),
               "true": np.round(truth, 3).tolist(), "pcc": np.round(pcc, 3).tolist(),
               "error_positive": round(100 * float(pcc[2] - truth[2]), 1),
               "error_negative": round(100 * float(pcc[0] - truth[0]), 1)}
        out["bins"].append(row)  # type: ignore[attr-defined]
        print(f"  chars {row['chars']:>10s} n={row['n']:4d}  true {row['true']}  PCC {row['pcc']}  "
              f"error positive {row['error_positive']:+.1f}, negative {row['error_negative']:+.1f} points")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
