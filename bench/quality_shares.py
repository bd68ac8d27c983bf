"""bench/quality.py's share section: the corrected shares against the truth, per held-out file.

Every measured file of `build_splits(...).test` (UMSAB test, the SemEval held-out reviews, UCI,
Amazon books fr, Swedish social): none trained the model and none is in the shipped calibration
(the development split). Up to `limit` texts per file, drawn with a fixed seed; the model's
probabilities are cached under `.bench-cache/` (bench/share_probabilities.py).

Two situations of a business, both with the estimator of `reviewwatch gap` and `reviewwatch
perceived` (reviewwatch/gap/quantify.py, default settings):
1. no rated mentions: every text is unlabelled and the shipped held-out calibration corrects it;
2. half of the texts rated (drawn with a fixed seed): they calibrate, and the other half's shares
   are estimated and compared with that half's truth (binary files have no neutral examples, so
   the rule falls back on the held-out data there, as it would for such a business).
Printed per file: the true positive and negative shares, the raw model share (its labels
counted), the corrected share with its 95 % interval, the absolute error, and whether the
interval holds the truth, and how many texts are longer than the calibration's (`long`: their
part of the interval is open, reviewwatch/gap/quantify.py).

Alone (the shares only, ending with one JSON line):
    .venv/bin/python bench/quality_shares.py [--data-dir ../shared/data] [--limit 400]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.share_probabilities import load_default_scorer, probabilities, subsample  # noqa: E402
from reviewwatch.gap import quantify as q  # noqa: E402
from reviewwatch.gap import shares  # noqa: E402
from sentiment.data import build_splits  # noqa: E402

TARGET_MEAN, TARGET_MAX, TARGET_COVERAGE = 0.03, 0.06, 0.9
REPORTED = ("positive", "negative")


def share_section(scorer: Any, splits: Any, limit: int = 400, seed: int = 13) -> dict[str, Any]:
    """Print the section and return its figures (merged into quality.py's last JSON line)."""
    held_out = shares.shipped_calibration()
    correctors = {m: q.fit(held_out, m) for m in q.METHODS}
    default = correctors[shares.method_for(shares.AUTO, held_out)]
    print(f"\nshares corrected for the model's errors: {default.describe()}; up to {limit} texts "
          f"per file (seed {seed}); 95% bootstrap intervals, {q.REPLICATES} replicates")
    print(f"{'file':20s} {'n':>4s}  {'share':8s} {'true':>6s} {'raw':>6s} {'corrected (95%)':>22s}"
          f" {'error':>6s} holds  long")
    files: dict[str, Any] = {}
    errors: list[float] = []
    holds: list[bool] = []
    method_errors: dict[str, list[float]] = {m: [] for m in ("raw", *q.METHODS)}
    own_errors: list[float] = []
    own_holds: list[bool] = []
    for name, rows in splits.test.items():
        rows = subsample([r for r in rows if r.label is not None or name.startswith("semeval")],
                         limit, seed)
        probs = np.array(probabilities(scorer, "test-" + name, [r.text for r in rows]))
        truth_labels = np.array([q.LABELS.index(r.label) for r in rows])
        lengths = np.array([len(r.text) for r in rows])
        result = _measure(default, probs, truth_labels, lengths)
        files[name] = result
        for label in REPORTED:
            row = result[label]
            errors.append(row["error"])
            holds.append(row["holds"])
            print(f"{name:20s} {len(rows):4d}  {label:8s} {row['true']:6.1%} {row['raw']:6.1%} "
                  f"{row['value']:6.1%} ({row['low']:5.1%}–{row['high']:5.1%}) "
                  f"{row['error'] * 100:5.1f}p {'yes' if row['holds'] else 'NO ':5s} "
                  f"{result['beyond_calibration']:4d}")
        for method, corrector in correctors.items():
            other = _measure(corrector, probs, truth_labels, lengths)
            method_errors[method] += [other[label]["error"] for label in REPORTED]
        method_errors["raw"] += [abs(result[label]["raw"] - result[label]["true"]) for label in REPORTED]
        own = _own_half(probs, truth_labels, lengths, seed)
        files[name]["own_half"] = own
        own_errors += [own[label]["error"] for label in REPORTED]
        own_holds += [own[label]["holds"] for label in REPORTED]
    summary = _summary(errors, holds, files, method_errors, own_errors, own_holds)
    _print_summary(summary, default.method)
    return summary


def _measure(corrector: q.Corrector, probs: np.ndarray, truth: np.ndarray,
             lengths: np.ndarray) -> dict[str, Any]:
    estimate = q.estimate(corrector, [None] * len(truth), probs, lengths=lengths.tolist())
    true = np.bincount(truth, minlength=3) / len(truth)
    raw = np.bincount(probs.argmax(axis=1), minlength=3) / len(truth)
    out: dict[str, Any] = {"method": estimate.method, "calibration": estimate.calibration,
                           "calibration_n": estimate.calibration_n, "n": len(truth),
                           "beyond_calibration": estimate.beyond_calibration}
    for label in REPORTED:
        k = q.LABELS.index(label)
        share = estimate.share(label)
        out[label] = {"true": round(float(true[k]), 4), "raw": round(float(raw[k]), 4),
                      "value": round(share.value, 4), "low": round(share.low, 4),
                      "high": round(share.high, 4), "error": round(abs(share.value - true[k]), 4),
                      "holds": bool(share.low <= true[k] <= share.high)}
    return out


def _own_half(probs: np.ndarray, truth: np.ndarray, lengths: np.ndarray, seed: int) -> dict[str, Any]:
    """Half the texts rated (they calibrate, by the gap's own rule), the other half estimated."""
    order = np.random.default_rng(seed).permutation(len(truth))
    rated, unrated = order[: len(truth) // 2], order[len(truth) // 2:]
    own = q.Calibration(probs[rated], truth[rated].astype(np.int64), np.zeros(len(rated), dtype=np.int64),
                        ("own",), q.OWN)
    calibration = shares.choose(own, min_labelled=100)
    corrector = q.fit(calibration, shares.method_for(shares.AUTO, calibration))
    return _measure(corrector, probs[unrated], truth[unrated], lengths[unrated])


def _summary(errors: Sequence[float], holds: Sequence[bool], files: dict[str, Any],
             method_errors: dict[str, list[float]], own_errors: Sequence[float],
             own_holds: Sequence[bool]) -> dict[str, Any]:
    both = [all(files[f][label]["holds"] for label in REPORTED) for f in files]
    return {
        "share_abs_error_mean": round(float(np.mean(errors)), 4),
        "share_abs_error_max": round(float(np.max(errors)), 4),
        "share_interval_coverage": round(float(np.mean(holds)), 4),
        "share_interval_coverage_files": round(float(np.mean(both)), 4),
        "share_interval_width_mean": round(float(np.mean(
            [files[f][label]["high"] - files[f][label]["low"] for f in files for label in REPORTED])), 4),
        "share_raw_abs_error_mean": round(float(np.mean(method_errors["raw"])), 4),
        "share_abs_error_mean_by_method": {m: round(float(np.mean(v)), 4) for m, v in method_errors.items()},
        "share_own_half_abs_error_mean": round(float(np.mean(own_errors)), 4),
        "share_own_half_abs_error_max": round(float(np.max(own_errors)), 4),
        "share_own_half_interval_coverage": round(float(np.mean(own_holds)), 4),
        "share_targets_met": {
            "mean_abs_error<=3pts": bool(np.mean(errors) <= TARGET_MEAN),
            "max_abs_error<=6pts": bool(np.max(errors) <= TARGET_MAX),
            "coverage>=0.9": bool(np.mean(holds) >= TARGET_COVERAGE),
        },
        "share_files": files,
    }


def _print_summary(s: dict[str, Any], method: str) -> None:
    print(f"positive and negative shares over {len(s['share_files'])} files, {method} with held-out "
          f"calibration: mean abs error {100 * s['share_abs_error_mean']:.1f} points (target <= 3), "
          f"max {100 * s['share_abs_error_max']:.1f} (target <= 6); interval holds the truth "
          f"{100 * s['share_interval_coverage']:.0f}% of shares, both shares on "
          f"{100 * s['share_interval_coverage_files']:.0f}% of files (target >= 90%); mean width "
          f"{100 * s['share_interval_width_mean']:.1f} points")
    print("  mean abs error by method, held-out calibration (points): " + ", ".join(
        f"{m} {100 * v:.1f}" for m, v in s["share_abs_error_mean_by_method"].items()))
    print(f"  half of each file rated (own calibration where the rule allows): mean abs error "
          f"{100 * s['share_own_half_abs_error_mean']:.1f}, max {100 * s['share_own_half_abs_error_max']:.1f},"
          f" coverage {100 * s['share_own_half_interval_coverage']:.0f}%")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--limit", type=int, default=400, help="texts per file (seeded sample; 0 = all)")
    a = ap.parse_args(argv)
    started = time.time()
    result = share_section(load_default_scorer(), build_splits(a.data_dir), a.limit)
    result["seconds"] = round(time.time() - started, 1)
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
