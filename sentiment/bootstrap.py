"""Uncertainty of a measured macro-F1: a cluster bootstrap over the groups the texts come in.

SemEval sentences of one review are not independent (same author, same meal), so resampling
sentences would understate the spread; whole groups (reviews; for tweets, each tweet alone) are
resampled instead. No torch here: numpy only, so benchmarks and tests can use it cheaply.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def macro_f1_from_confusion(conf: np.ndarray, n_classes: int) -> np.ndarray:
    """Macro-F1 over the first `n_classes` of confusion matrices [..., gold, pred].

    Rows and columns past `n_classes` hold labels outside the scored ones (a neutral prediction on a
    binary set): they count as misses and false alarms, as in `sentiment.metrics.macro_f1`. A class
    with no true positive scores 0.
    """
    tp = np.diagonal(conf, axis1=-2, axis2=-1)[..., :n_classes]
    fp = conf.sum(axis=-2)[..., :n_classes] - tp
    fn = conf.sum(axis=-1)[..., :n_classes] - tp
    denom = 2 * tp + fp + fn
    f1 = np.where(tp > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)
    return f1.mean(axis=-1)


def macro_f1_interval(gold: Sequence[str], pred: Sequence[str], groups: Sequence[str],
                      labels: Sequence[str], *, level: float = 0.95, resamples: int = 2000,
                      seed: int = 13) -> tuple[float, float]:
    """Percentile interval of macro-F1 (over `labels`) when whole groups are drawn with replacement."""
    if not (len(gold) == len(pred) == len(groups)):
        raise ValueError("gold, pred and groups differ in length")
    if not gold:
        raise ValueError("no texts to bootstrap")
    if not 0 < level < 1:
        raise ValueError(f"level must lie between 0 and 1, not {level}")
    n_lab = len(labels)
    index = {lab: k for k, lab in enumerate(labels)}
    size = n_lab + 1  # the last row and column: any label outside `labels`
    group_ids = {g: k for k, g in enumerate(dict.fromkeys(groups))}
    # one confusion matrix per group; a resample is a count per group, so the sum is a matrix product
    per_group = np.zeros((len(group_ids), size * size))
    for g, p, grp in zip(gold, pred, groups):
        per_group[group_ids[grp], index.get(g, n_lab) * size + index.get(p, n_lab)] += 1
    n_groups = len(group_ids)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=resamples)
    conf = (counts @ per_group).reshape(resamples, size, size)
    scores = macro_f1_from_confusion(conf, n_lab)
    tail = (1 - level) / 2
    low, high = np.quantile(scores, [tail, 1 - tail])
    return float(low), float(high)


def _resampled_sums(values: np.ndarray, groups: Sequence[str], resamples: int, seed: int) -> np.ndarray:
    """Column sums of `values` [items, k] over `resamples` draws of whole groups with replacement."""
    if len(values) != len(groups):
        raise ValueError("values and groups differ in length")
    if not len(values):
        raise ValueError("nothing to bootstrap")
    group_ids = {g: k for k, g in enumerate(dict.fromkeys(groups))}
    per_group = np.zeros((len(group_ids), values.shape[1]))
    np.add.at(per_group, [group_ids[g] for g in groups], values)
    n_groups = len(group_ids)
    counts = np.random.default_rng(seed).multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=resamples)
    return counts @ per_group


def _percentiles(scores: np.ndarray, level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise ValueError(f"level must lie between 0 and 1, not {level}")
    tail = (1 - level) / 2
    low, high = np.quantile(scores, [tail, 1 - tail])
    return float(low), float(high)


def accuracy_interval(correct: Sequence[bool], groups: Sequence[str], *, level: float = 0.95,
                      resamples: int = 2000, seed: int = 13) -> tuple[float, float]:
    """Percentile interval of an accuracy when whole groups (reviews) are drawn with replacement."""
    values = np.array([[float(c), 1.0] for c in correct]).reshape(-1, 2)
    sums = _resampled_sums(values, groups, resamples, seed)
    return _percentiles(sums[:, 0] / np.maximum(sums[:, 1], 1), level)


def f1_interval(counts: Sequence[Sequence[int]], groups: Sequence[str], *, level: float = 0.95,
                resamples: int = 2000, seed: int = 13) -> tuple[float, float]:
    """Percentile interval of a (micro-)F1 from per-item (true positives, false positives, false
    negatives), whole groups drawn with replacement; a resample without a true positive scores 0."""
    sums = _resampled_sums(np.asarray(counts, dtype=float).reshape(-1, 3), groups, resamples, seed)
    tp, fp, fn = sums[:, 0], sums[:, 1], sums[:, 2]
    f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
    return _percentiles(f1, level)
