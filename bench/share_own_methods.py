"""Which method estimates the unrated mentions' shares from a business's own rated ones: a check
on the development split only (reviewwatch/gap/calibration/heldout.json), never a measured file.

Each development source plays a business: half of its texts (drawn at random, `--repeats` times)
are "rated" and calibrate, the other half is estimated and compared with its true shares, as is
and resampled to 20 / 50 / 80 % positive (negative and neutral keeping their ratio): the unrated
mentions of a business (posts, say) need not share its rated reviews' class shares. Methods:
- PCC, the mean probability (no use of the ratings);
- PACC, what `reviewwatch gap` uses with the business's own labels;
- PCC + shift: PCC plus the rated half's error (true shares minus mean probability);
- EMQ with the rated half's priors;
- BCTS-PCC and BCTS-EMQ: the probabilities first recalibrated on the rated half by bias-corrected
  temperature scaling (Alexandari, Kundaje and Shrikumar 2020, "Maximum likelihood with
  bias-corrected calibration is hard-to-beat at label shift adaptation"), then PCC or EMQ.
Printed: the mean absolute error of the positive and negative shares (points) per setting and per
source. A rated half needs 10 texts of each class (the gap's rule), as in the report.

    .venv/bin/python bench/share_own_methods.py [--repeats 40] [--seed 5] [--rated N]

`--rated N`: N rated texts per source instead of half (the rest estimated), to see how few a
business needs before its own ratings beat no correction. `--intervals R [--replicates B]`: the
gap's own estimator (quantify.fit/estimate), interval included, for PACC and EMQ-BCTS on R rated
halves per source and mix: error, coverage of the 95 % interval, width.

The last line is one JSON object: {"methods", "mean_abs_error": {setting: {method: points}},
"mean_over_settings": {method: points}, "repeats", "rated"}.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reviewwatch.gap import adjust  # noqa: E402
from reviewwatch.gap import quantify as q  # noqa: E402

METHODS = ("PCC", "PACC", "PCC+shift", "EMQ", "BCTS-PCC", "BCTS-EMQ")
SHIFTS = {"as is": None, "20% positive": 0.2, "50% positive": 0.5, "80% positive": 0.8}
REPORTED = [q.LABELS.index("negative"), q.LABELS.index("positive")]


def bcts(probs: np.ndarray, labels: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Bias-corrected temperature scaling fitted on (probs, labels): softmax(log p / T + b)."""
    logp = np.log(np.clip(probs, 1e-6, 1.0))

    def scaled(lp: np.ndarray, v: np.ndarray) -> np.ndarray:
        z = lp / np.exp(v[0]) + np.r_[0.0, v[1:]]
        return z - z.max(axis=1, keepdims=True)

    def nll(v: np.ndarray) -> float:
        z = scaled(logp, v)
        return float(-(z[np.arange(len(labels)), labels] - np.log(np.exp(z).sum(axis=1))).mean())

    fitted = minimize(nll, np.zeros(3), method="L-BFGS-B").x

    def apply(p: np.ndarray) -> np.ndarray:
        e = np.exp(scaled(np.log(np.clip(p, 1e-6, 1.0)), fitted))
        return e / e.sum(axis=1, keepdims=True)

    return apply


def estimates(rated_p: np.ndarray, rated_y: np.ndarray, unrated_p: np.ndarray) -> dict[str, np.ndarray]:
    prior = np.bincount(rated_y, minlength=3) / len(rated_y)
    observed = unrated_p.mean(axis=0)
    recalibrated = bcts(rated_p, rated_y)(unrated_p)
    ones = np.ones(len(unrated_p))
    return {
        "PCC": observed,
        "PACC": adjust.adjust("PACC", adjust.rates("PACC", rated_p, rated_y, point=True), observed[None])[0],
        "PCC+shift": adjust.clip((observed + prior - rated_p.mean(axis=0))[None])[0],
        "EMQ": adjust.weighted_em(prior, ones, unrated_p),
        "BCTS-PCC": recalibrated.mean(axis=0),
        "BCTS-EMQ": adjust.weighted_em(prior, ones, recalibrated),
    }


def resample(rng: np.random.Generator, idx: np.ndarray, labels: np.ndarray, positive: float) -> np.ndarray:
    """`idx` redrawn with replacement to `positive` positive, negative and neutral in their ratio."""
    y = labels[idx]
    rest = np.bincount(y, minlength=3)[:2].astype(float)
    want = np.r_[rest / rest.sum() * (1 - positive), positive]
    parts = [rng.choice(idx[y == c], size=int(round(want[c] * len(idx)))) for c in range(3) if (y == c).any()]
    return np.concatenate(parts)


def splits(rng: np.random.Generator, repeats: int, rated_size: int = 0):
    """Per development source, mix and repeat: (source, mix, labels, probabilities, rated rows,
    unrated rows, the unrated rows' true shares). The rated part is `rated_size` texts (0: half);
    a part without 10 of each class is skipped (the gap would use the held-out data); with
    `rated_size`, so is a source that leaves fewer than 50 texts unrated."""
    held = json.loads((REPO / "reviewwatch" / "gap" / "calibration" / "heldout.json").read_text())
    for name, dom in held["domains"].items():
        labels = np.asarray(dom["labels"], dtype=np.int64)
        probs = np.asarray(dom["probabilities"], dtype=float)
        for setting, positive in SHIFTS.items():
            for _ in range(repeats):
                order = rng.permutation(len(labels))
                cut = rated_size or len(order) // 2
                if rated_size and cut >= len(order) - 50:
                    continue
                rated, unrated = order[:cut], order[cut:]
                if np.bincount(labels[rated], minlength=3).min() < q.MIN_PER_CLASS:
                    continue
                if positive is not None:
                    unrated = resample(rng, unrated, labels, positive)
                truth = np.bincount(labels[unrated], minlength=3) / len(unrated)
                yield name, setting, labels, probs, rated, unrated, truth


def intervals(repeats: int, replicates: int | None, seed: int) -> int:
    """The gap's own estimator, interval included, on `repeats` rated halves of each source at
    each mix: mean error, how often the 95 % interval holds the truth, mean width (points)."""
    rows: dict[str, list[tuple[float, bool, float]]] = {}
    for _, _, labels, probs, rated, unrated, truth in splits(np.random.default_rng(seed), repeats):
        own = q.Calibration(probs[rated], labels[rated], np.zeros(len(rated), dtype=np.int64), ("own",), q.OWN)
        for method in ("PACC", q.BCTS_METHOD):
            shares = q.estimate(q.fit(own, method, replicates=replicates), [None] * len(unrated), probs[unrated])
            for k in REPORTED:
                e = shares.share(q.LABELS[k])
                rows.setdefault(method, []).append(
                    (abs(e.value - truth[k]), bool(e.low <= truth[k] <= e.high), e.high - e.low))
    out = {}
    for method, values in rows.items():
        arr = np.asarray(values, dtype=float)
        out[method] = {"error": round(100 * float(arr[:, 0].mean()), 2),
                       "coverage": round(100 * float(arr[:, 1].mean()), 1),
                       "width": round(100 * float(arr[:, 2].mean()), 1), "shares": len(values)}
        print(f"{method:<9} error {out[method]['error']:5.2f}  coverage {out[method]['coverage']:5.1f} %  "
              f"width {out[method]['width']:5.1f}  ({len(values)} shares)")
    print(json.dumps({"intervals": out, "repeats": repeats, "replicates": replicates or "default"}))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=40)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--rated", type=int, default=0,
                    help="rated texts per source (0: half of it); the rest is estimated")
    ap.add_argument("--intervals", type=int, default=0, metavar="R",
                    help="instead: R halves per source and mix through the gap's own estimator "
                         "(quantify.fit/estimate, PACC and EMQ-BCTS): error, coverage, width")
    ap.add_argument("--replicates", type=int, default=0,
                    help="with --intervals: bootstrap replicates (0: the estimator's default)")
    a = ap.parse_args()
    if a.intervals:
        return intervals(a.intervals, a.replicates or None, seed=11)
    errors: dict[tuple[str, str], list[float]] = {}
    for name, setting, labels, probs, rated, unrated, truth in splits(
        np.random.default_rng(a.seed), a.repeats, a.rated
    ):
        for method, est in estimates(probs[rated], labels[rated], probs[unrated]).items():
            e = 100 * float(np.abs(est - truth)[REPORTED].mean())
            errors.setdefault((setting, method), []).append(e)
            errors.setdefault((f"source {name}", method), []).append(e)
    rows = [s for s in SHIFTS] + sorted({k[0] for k in errors if k[0].startswith("source ")})
    print(f"{'unrated half':<22}" + "".join(f"{m:>11}" for m in METHODS))
    table: dict[str, dict[str, float]] = {}
    for row in rows:
        if (row, METHODS[0]) not in errors:
            continue
        table[row] = {m: round(float(np.mean(errors[(row, m)])), 2) for m in METHODS}
        print(f"{row:<22}" + "".join(f"{table[row][m]:11.2f}" for m in METHODS))
    over = {m: round(float(np.mean([table[s][m] for s in SHIFTS])), 2) for m in METHODS}
    print(f"{'mean of the 4 settings':<22}" + "".join(f"{over[m]:11.2f}" for m in METHODS))
    print(json.dumps({"methods": list(METHODS), "mean_abs_error": {s: table[s] for s in SHIFTS},
                      "mean_over_settings": over, "repeats": a.repeats, "rated": a.rated or "half"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
