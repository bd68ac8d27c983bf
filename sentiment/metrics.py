"""Classification metrics of the training and the benchmarks: per-class, macro and multi-label F1."""

from __future__ import annotations


def per_class_f1(y_true, y_pred, labels):
    out = {}
    for c in labels:
        tp = sum(1 for t, p in zip(y_true, y_pred) if t == c and p == c)
        fp = sum(1 for t, p in zip(y_true, y_pred) if t != c and p == c)
        fn = sum(1 for t, p in zip(y_true, y_pred) if t == c and p != c)
        out[c] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return out


def macro_f1(y_true, y_pred, labels=None) -> float:
    labels = labels or sorted(set(y_true))
    f = per_class_f1(y_true, y_pred, labels)
    return sum(f.values()) / len(f) if f else 0.0


def micro_f1_multilabel(true_sets, pred_sets) -> float:
    tp = sum(len(t & p) for t, p in zip(true_sets, pred_sets))
    fp = sum(len(p - t) for t, p in zip(true_sets, pred_sets))
    fn = sum(len(t - p) for t, p in zip(true_sets, pred_sets))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

