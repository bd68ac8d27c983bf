"""The cluster-bootstrap interval of macro-F1 that bench/quality.py prints beside each figure."""

from __future__ import annotations

import random

import numpy as np
import pytest

from sentiment.bootstrap import macro_f1_from_confusion, macro_f1_interval
from sentiment.data import LABELS
from sentiment.metrics import macro_f1


def _noisy(n: int, error_rate: float, seed: int) -> tuple[list[str], list[str]]:
    rnd = random.Random(seed)
    gold = [rnd.choice(LABELS) for _ in range(n)]
    pred = [rnd.choice(LABELS) if rnd.random() < error_rate else g for g in gold]
    return gold, pred


def test_confusion_macro_f1_agrees_with_the_training_metric_also_for_labels_outside_the_set():
    rnd = random.Random(3)
    labels = ["negative", "positive"]  # a binary set: neutral predictions are misses
    gold = [rnd.choice(labels) for _ in range(300)]
    pred = [rnd.choice(LABELS) for _ in range(300)]
    conf = np.zeros((3, 3))
    idx = {lab: k for k, lab in enumerate(labels)}
    for g, p in zip(gold, pred):
        conf[idx.get(g, 2), idx.get(p, 2)] += 1
    assert macro_f1_from_confusion(conf, 2) == pytest.approx(macro_f1(gold, pred, labels))


def test_perfect_predictions_have_a_point_interval():
    gold = list(LABELS) * 20
    assert macro_f1_interval(gold, gold, [str(i) for i in range(60)], LABELS) == (1.0, 1.0)


def test_interval_holds_the_estimate_and_narrows_with_more_groups():
    widths = []
    for n in (150, 3000):
        gold, pred = _noisy(n, 0.4, seed=n)
        low, high = macro_f1_interval(gold, pred, [str(i) for i in range(n)], LABELS)
        assert low < macro_f1(gold, pred, list(LABELS)) < high
        widths.append(high - low)
    assert widths[1] < 0.5 * widths[0]  # about sqrt(20) narrower


def test_correlated_groups_widen_the_interval():
    # 40 reviews of 10 sentences, each review wholly right or wholly wrong: 40 facts, not 400
    rnd = random.Random(5)
    gold, pred, groups = [], [], []
    for r in range(40):
        wrong = rnd.random() < 0.3
        for s in range(10):
            g = rnd.choice(LABELS)
            gold.append(g)
            pred.append(LABELS[(LABELS.index(g) + 1) % 3] if wrong else g)
            groups.append(f"review{r}")
    alone = macro_f1_interval(gold, pred, [str(i) for i in range(400)], LABELS)
    clustered = macro_f1_interval(gold, pred, groups, LABELS)
    assert clustered[1] - clustered[0] > 2 * (alone[1] - alone[0])


def test_same_seed_same_interval_and_bad_input_is_refused():
    gold, pred = _noisy(200, 0.3, seed=1)
    groups = [str(i) for i in range(200)]
    assert macro_f1_interval(gold, pred, groups, LABELS) == macro_f1_interval(gold, pred, groups, LABELS)
    with pytest.raises(ValueError, match="differ in length"):
        macro_f1_interval(gold, pred[:-1], groups, LABELS)
    with pytest.raises(ValueError, match="no texts"):
        macro_f1_interval([], [], [], LABELS)
    with pytest.raises(ValueError, match="level"):
        macro_f1_interval(gold, pred, groups, LABELS, level=95)


def test_accuracy_and_f1_intervals_hold_the_point_estimate_and_widen_with_whole_groups():
    from sentiment.bootstrap import accuracy_interval, f1_interval

    rnd = random.Random(5)
    correct = [rnd.random() < 0.8 for _ in range(600)]
    acc = sum(correct) / len(correct)
    alone = accuracy_interval(correct, [str(i) for i in range(600)])
    grouped = accuracy_interval(correct, [str(i // 20) for i in range(600)])  # 30 groups of 20
    assert alone[0] < acc < alone[1] and grouped[0] <= acc <= grouped[1]
    assert alone[1] - alone[0] < 0.1
    # per-item (tp, fp, fn): micro-F1 2tp / (2tp + fp + fn) sits inside its interval
    counts = [[1, 0, 0] if c else [0, 1, 1] for c in correct]
    tp, fp, fn = (sum(c[k] for c in counts) for k in range(3))
    f1 = 2 * tp / (2 * tp + fp + fn)
    low, high = f1_interval(counts, [str(i // 20) for i in range(600)])
    assert low < f1 < high <= 1.0
    assert f1_interval([[0, 1, 0], [0, 0, 1]], ["a", "b"]) == (0.0, 0.0)  # no true positive
    with pytest.raises(ValueError):
        accuracy_interval([True], ["a", "b"])
