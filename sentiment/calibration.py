"""Calibration fitted on held-out (dev) data after training: the sentiment head's temperature and
each topic's decision threshold. Never fitted on the test files."""

from __future__ import annotations


def fit_temperature(logits, labels_idx) -> float:
    import torch

    lg = torch.as_tensor(logits, dtype=torch.float32)
    y = torch.as_tensor(labels_idx, dtype=torch.long)
    best_t, best_nll = 1.0, float("inf")
    for t in [0.5 + 0.05 * i for i in range(71)]:  # 0.5 .. 4.0
        nll = torch.nn.functional.cross_entropy(lg / t, y).item()
        if nll < best_nll:
            best_t, best_nll = t, nll
    return round(best_t, 3)


def fit_thresholds(scores, true_sets, topics) -> dict[str, float]:
    """Per-topic threshold on sigmoid scores maximising that topic's F1 on held-out data."""
    out = {}
    for j, t in enumerate(topics):
        best, best_f = 0.5, -1.0
        for th in [0.05 * i for i in range(1, 20)]:
            tp = sum(1 for s, ts in zip(scores, true_sets) if s[j] >= th and t in ts)
            fp = sum(1 for s, ts in zip(scores, true_sets) if s[j] >= th and t not in ts)
            fn = sum(1 for s, ts in zip(scores, true_sets) if s[j] < th and t in ts)
            f = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            if f > best_f:
                best, best_f = th, f
        out[t] = round(best, 3)
    return out
