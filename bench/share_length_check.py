"""Do the shipped calibration's error rates hold for texts longer than its own? A check on the
development split only (no measured file): the SemEval dev sentences joined back into their
reviews (in the original order), each review labelled from its sentences' labels (more positive
than negative sentences: positive; more negative: negative; else neutral — a proxy, a review's own
rating is not in the data), scored by the shipped model (cached under .bench-cache/), and PCC's
error (the mean probabilities against the proxy truth) printed by length in characters. Its
result set the calibration's `max_chars` rule (bench/make_share_calibration.py): up to about the
calibration's 99th percentile of text length the error is of the size seen between short-text
domains; above it, several times that.

It also prints a candidate not adopted: correcting long texts by the error measured on the other
languages' long reviews (leave one language out). It is cross-validated on these proxy labels of
one kind of text (restaurants) only, so it is a lead, not a calibration (docs/gap.md, Limits).

Then the same question on whole reviews labelled by their reviewers' own ratings
(`sentiment/data/rated_reviews_dev.jsonl`: English clothing products, Spanish tourist
attractions; development data, no measured file): PCC's error by source and length, and each
correction of the long ones calibrated on the other source's long reviews (leave one source
out), at the source's own class shares and resampled to 20 %, 50 % and 80 % positive (a
business's shares are not the calibration's). Its result: no correction tried transfers from
one kind of business to the other (docs/gap.md, Limits).

    .venv/bin/python bench/share_length_check.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.share_probabilities import load_default_scorer, probabilities  # noqa: E402
from reviewwatch.gap import shares  # noqa: E402
from sentiment import rated_reviews  # noqa: E402
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
    texts, labels, sources = [], [], []
    for (source, _), sentences in sorted(reviews.items()):
        sources.append(source)
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
    out["long_bias_loo"] = _long_bias_loo(probs, y, np.array(sources), lengths > limit)
    out["rated"] = _rated_reviews(limit)
    print(json.dumps(out))
    return out


def _rated_reviews(limit: int) -> dict[str, object]:
    """PCC on long rated reviews, and corrections calibrated on the other source's long ones."""
    from reviewwatch.gap import adjust

    rows = rated_reviews.read()
    scorer = load_default_scorer()
    names = sorted({r.source for r in rows})
    probs: list[list[float]] = []
    labels: list[int] = []
    source: list[int] = []
    lengths: list[int] = []
    stars: list[float] = []  # on a scale of 5
    for index, name in enumerate(names):
        mine = [r for r in rows if r.source == name]
        probs += probabilities(scorer, f"dev-rated-{name}", [r.text for r in mine])
        labels += [LABELS.index(rated_reviews.label(r)) for r in mine]
        source += [index] * len(mine)
        lengths += [len(r.text) for r in mine]
        stars += [r.rating / r.rating_scale * 5 for r in mine]
    p, y, d, n = np.array(probs), np.array(labels), np.array(source), np.array(lengths)
    out: dict[str, object] = {}
    print(f"rated reviews (their own ratings): {', '.join(names)}")
    for index, name in enumerate(names):
        for low, high in ((0, limit), (limit, 10**9)):
            keep = (d == index) & (n > low) & (n <= high)
            truth, pcc = np.bincount(y[keep], minlength=3) / keep.sum(), p[keep].mean(axis=0)
            key = f"{name} {low}-{high if high < 10**9 else 'any'}"
            out[key] = {"n": int(keep.sum()), "error_positive": round(100 * float(pcc[2] - truth[2]), 1),
                        "error_negative": round(100 * float(pcc[0] - truth[0]), 1),
                        "neutral_read": round(100 * float(pcc[1]), 1), "neutral_true": round(100 * float(truth[1]), 1)}
            print(f"  {key:28s} {out[key]}")
    called = p.argmax(axis=1) == 1
    for name_, low_stars, high_stars in (("4-5 stars", 4, 5), ("1-2 stars", 1, 2)):
        keep = (np.array(stars) >= low_stars) & (np.array(stars) <= high_stars)
        out[f"called neutral, {name_}"] = {names[k]: round(100 * float(called[keep & (d == k)].mean()), 1)
                                           for k in range(len(names))}
        print(f"  {name_} reviews called neutral: {out[f'called neutral, {name_}']}")
    long = n > limit
    rng = np.random.default_rng(0)
    errors: dict[str, dict[str, list[float]]] = {}
    for index in range(len(names)):
        test, cal = long & (d == index), long & (d != index)
        for kind, sample in _prior_samples(np.flatnonzero(test), y, rng).items():
            truth = np.bincount(y[sample], minlength=3) / len(sample)
            for method, estimate in _corrections(p[cal], y[cal], d[cal], adjust).items():
                shares = estimate(p[sample])
                error = (abs(shares[2] - truth[2]) + abs(shares[0] - truth[0])) / 2
                errors.setdefault(method, {}).setdefault(kind, []).append(round(100 * float(error), 1))
    print("  long reviews, the other source calibrating: mean abs error of the positive and negative "
          "shares, points, per left-out source")
    for method, kinds in errors.items():
        print(f"    {method:10s} " + "  ".join(f"{k}: {v}" for k, v in kinds.items()))
    out["loso"] = errors
    return out


def _prior_samples(rows: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The source's own rows, and 300 drawn within classes to 20/50/80 % positive (10 % neutral)."""
    out = {"own": rows}
    by_class = [rows[y[rows] == k] for k in range(3)]
    for positive in (0.2, 0.5, 0.8):
        counts = [0, 30, int(300 * positive)]
        counts[0] = 300 - counts[1] - counts[2]
        out[f"{int(100 * positive)}% pos"] = np.concatenate(
            [rng.choice(by_class[k], c) for k, c in enumerate(counts) if c])
    return out


def _corrections(p: np.ndarray, y: np.ndarray, d: np.ndarray, adjust: Any) -> dict[str, Any]:
    """Each correction fitted on the calibration rows: a function of the rows' probabilities."""
    bias = np.mean([np.bincount(y[d == k], minlength=3) / (d == k).sum() - p[d == k].mean(axis=0)
                    for k in np.unique(d)], axis=0)
    pacc = adjust.conditional_means(y, p)
    acc = adjust.conditional_means(y, adjust.features("ACC", p))
    priors = np.bincount(y, minlength=3) / len(y)
    return {
        "PCC": lambda q: q.mean(axis=0),
        "PCC+error": lambda q: adjust.clip(q.mean(axis=0) + bias),
        "PACC": lambda q: adjust.adjust("PACC", pacc, q.mean(axis=0)[None])[0],
        "ACC": lambda q: adjust.adjust("ACC", acc, adjust.features("ACC", q).mean(axis=0)[None])[0],
        "EMQ": lambda q: adjust.weighted_em(priors, np.ones(len(q)), q),
    }


def _long_bias_loo(probs: np.ndarray, y: np.ndarray, sources: np.ndarray, long: np.ndarray) -> dict[str, float]:
    """Each language's long reviews: PCC, and PCC plus the other languages' mean PCC error on
    their long reviews; positive and negative shares' mean / max absolute error in points."""
    def error(rows: np.ndarray) -> np.ndarray:
        return np.bincount(y[rows], minlength=3) / rows.sum() - probs[rows].mean(axis=0)

    plain, corrected = [], []
    for source in sorted(set(sources)):
        held = long & (sources == source)
        others = [long & (sources == s) for s in sorted(set(sources)) if s != source]
        truth = np.bincount(y[held], minlength=3) / held.sum()
        pcc = probs[held].mean(axis=0)
        shifted = np.clip(pcc + np.mean([error(rows) for rows in others], axis=0), 0, 1)
        shifted /= shifted.sum()
        plain += [abs(pcc[k] - truth[k]) for k in (2, 0)]
        corrected += [abs(shifted[k] - truth[k]) for k in (2, 0)]
    result = {"pcc_mean": round(100 * float(np.mean(plain)), 1), "pcc_max": round(100 * float(np.max(plain)), 1),
              "corrected_mean": round(100 * float(np.mean(corrected)), 1),
              "corrected_max": round(100 * float(np.max(corrected)), 1)}
    print(f"  long reviews, one language left out: PCC {result['pcc_mean']} / {result['pcc_max']} points "
          f"(mean / max); PCC + the other languages' long-review error {result['corrected_mean']} / "
          f"{result['corrected_max']} (not adopted: proxy labels, one kind of text)")
    return result


if __name__ == "__main__":
    main()
