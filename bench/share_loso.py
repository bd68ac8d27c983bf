"""How the share correction's choices were made: cross-validation over the development split's
sources only (reviewwatch/gap/calibration/heldout.json), never a measured file.

For each held-out source (or language, or kind: tweets vs restaurant sentences), the estimator is
calibrated on the other sources exactly as `reviewwatch gap` calibrates on the shipped data, the
held-out source's positive and negative shares are estimated from the model's probabilities, and
compared with its true shares:
- the methods' absolute errors (mean / max, points): which method `auto` uses with held-out data;
- the 95 % interval of the shipped procedure (`quantify.estimate`: mentions resampled, one
  calibration source drawn per replicate): how often it holds the held-out source's truth.
Two alternatives of each were tried and are printed beside: PCC plus the other sources' mean or
median error, a median of PCC/PACC/EMQ; a normal (multivariate-t predictive) domain term in place
of the one-source-per-replicate draw.

    .venv/bin/python bench/share_loso.py
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reviewwatch.gap import adjust  # noqa: E402
from reviewwatch.gap import quantify as q  # noqa: E402
from reviewwatch.gap import shares  # noqa: E402

Rows = dict[str, tuple[np.ndarray, np.ndarray]]
REPORTED = (q.LABELS.index("positive"), q.LABELS.index("negative"))


def prevalence(labels: np.ndarray) -> np.ndarray:
    return np.bincount(labels, minlength=3) / len(labels)


def calibration_of(rows: Rows, names: Sequence[str]) -> q.Calibration:
    names = sorted(names)
    return q.Calibration(
        probabilities=np.vstack([rows[n][0] for n in names]),
        labels=np.concatenate([rows[n][1] for n in names]).astype(np.int64),
        domains=np.concatenate([np.full(len(rows[n][1]), i) for i, n in enumerate(names)]).astype(np.int64),
        domain_names=tuple(names), source=q.HELD_OUT)


def point_estimates(rows: Rows, cal: Sequence[str], probs: np.ndarray) -> dict[str, np.ndarray]:
    calibration = calibration_of(rows, cal)
    out: dict[str, np.ndarray] = {}
    for method in q.METHODS:
        fitted = q.fit(calibration, method, replicates=1)
        est = q.estimate(fitted, [None] * len(probs), probs, replicates=1)
        out[method] = np.array([est.negative.value, est.neutral.value, est.positive.value])
    errors = np.array([prevalence(rows[n][1]) - rows[n][0].mean(axis=0) for n in cal])
    out["PCC + mean error"] = adjust.clip(probs.mean(axis=0) + errors.mean(axis=0))
    out["PCC + median error"] = adjust.clip(probs.mean(axis=0) + np.median(errors, axis=0))
    out["median(PCC, PACC, EMQ)"] = adjust.clip(np.median([out["PCC"], out["PACC"], out["EMQ"]], axis=0))
    return out


def t_interval(rows: Rows, cal: Sequence[str], probs: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The alternative: the domain error drawn from a multivariate-t predictive law fitted to the
    calibration sources' PCC errors (mean and covariance, k - 1 degrees of freedom)."""
    rng = np.random.default_rng(seed)
    errors = np.array([prevalence(rows[n][1]) - rows[n][0].mean(axis=0) for n in cal])
    k, b = len(cal), q.REPLICATES
    centred = errors - errors.mean(axis=0)
    w, v = np.linalg.eigh(centred.T @ centred / (k - 1))
    z = rng.standard_normal((b, 3)) @ (v * np.sqrt(np.clip(w, 0, None))).T
    e = errors.mean(axis=0) + np.sqrt(1 + 1 / k) * z * np.sqrt((k - 1) / rng.chisquare(k - 1, b))[:, None]
    sampled = probs[rng.integers(0, len(probs), (b, len(probs)))].mean(axis=1)
    low, high = np.quantile(adjust.clip(sampled + e), [0.025, 0.975], axis=0)
    return low, high


def run(rows: Rows, scheme: str, groups: list[list[str]]) -> dict[str, object]:
    errors: dict[str, list[float]] = {}
    holds: dict[str, list[bool]] = {"shipped (one source per replicate)": [], "t predictive": []}
    widths: dict[str, list[float]] = {k: [] for k in holds}
    for group in groups:
        cal = [n for n in rows if n not in group]
        for name in group:
            probs, labels = rows[name]
            truth = prevalence(labels)
            for method, value in point_estimates(rows, cal, probs).items():
                errors.setdefault(method, []).extend(abs(value[k] - truth[k]) for k in REPORTED)
            shipped = q.estimate(q.fit(calibration_of(rows, cal), "PCC"), [None] * len(probs), probs)
            bounds = {"shipped (one source per replicate)": (
                np.array([getattr(shipped, lab).low for lab in q.LABELS]),
                np.array([getattr(shipped, lab).high for lab in q.LABELS])),
                "t predictive": t_interval(rows, cal, probs)}
            for variant, (low, high) in bounds.items():
                holds[variant] += [bool(low[k] <= truth[k] <= high[k]) for k in REPORTED]
                widths[variant] += [float(high[k] - low[k]) for k in REPORTED]
    return {"scheme": scheme,
            "abs_error_mean_max": {m: (round(100 * float(np.mean(v)), 1), round(100 * float(np.max(v)), 1))
                                   for m, v in errors.items()},
            "interval_holds": {v: f"{sum(h)}/{len(h)}" for v, h in holds.items()},
            "interval_width_mean": {v: round(100 * float(np.mean(w)), 1) for v, w in widths.items()}}


def main() -> list[dict[str, object]]:
    calibration = shares.shipped_calibration()
    rows: Rows = {}
    for index, name in enumerate(calibration.domain_names):
        keep = calibration.domains == index
        rows[name] = (calibration.probabilities[keep], calibration.labels[keep])
    names = sorted(rows)
    language: Callable[[str], str] = lambda n: n.split("-")[1]  # noqa: E731
    schemes = {
        "leave one source out": [[n] for n in names],
        "leave one language out": [[n for n in names if language(n) == lang]
                                   for lang in sorted({language(n) for n in names})],
        "leave one kind out (tweets / restaurant sentences / rated reviews)": [
            [n for n in names if n.startswith(kind)] for kind in ("semeval", "umsab", "rated")],
    }
    results = []
    for scheme, groups in schemes.items():
        result = run(rows, scheme, groups)
        results.append(result)
        print(f"\n{scheme}: positive and negative shares, abs error mean/max (points)")
        for method, (mean, worst) in result["abs_error_mean_max"].items():  # type: ignore[attr-defined]
            print(f"  {method:24s} {mean:5.1f} / {worst:5.1f}")
        for variant, held in result["interval_holds"].items():  # type: ignore[attr-defined]
            print(f"  interval, {variant:36s} holds the truth {held}, mean width "
                  f"{result['interval_width_mean'][variant]:.1f}")  # type: ignore[index]
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
