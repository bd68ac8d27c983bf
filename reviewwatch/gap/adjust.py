"""The quantification methods' arithmetic (quapy 0.2.3's), batched over bootstrap replicates.

`rates` measures the model's errors on a calibration sample; `adjust` turns the unlabelled
mentions' mean probabilities (or label counts) into class shares; `weighted_em` is EMQ. PACC and
ACC take their rates from quapy itself (imported only when used: it pulls in scikit-learn); the
solve and the clipping are quapy's `exact` solver and `clip` normalisation, batched, and a test
checks both against quapy's own calls.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
CLASSES: Final = 3
EMQ_MAX_ITER: Final = 1000  # quapy's EMQ.MAX_ITER
EMQ_EPSILON: Final = 1e-4  # quapy's EMQ.EPSILON


def rates(method: str, probabilities: FloatArray, labels: IntArray, *, point: bool) -> FloatArray:
    """What a method needs from a calibration sample: M (3, 3) with M[i, j] the model's mean
    probability (PACC) or rate of predicting (ACC) class i for a text of class j; the priors
    (EMQ); for PCC nothing at the point and, in a replicate, the sample's error (true shares
    minus mean probabilities), which the replicate then adds."""
    priors = np.bincount(labels, minlength=CLASSES) / len(labels)
    if method in ("PACC", "ACC") and not point:
        # A replicate (a thousand per report): the same matrix as quapy's, in numpy (a test checks
        # they agree); quapy's call costs ten times as much, most of a report's time.
        return conditional_means(labels, features(method, probabilities))
    if method in ("PACC", "ACC"):
        from quapy.method.aggregative import ACC, PACC

        classes = np.arange(CLASSES)
        if method == "PACC":
            measured: FloatArray = PACC.getPteCondEstim(classes, labels, probabilities)
        else:
            measured = ACC.getPteCondEstim(classes, labels, probabilities.argmax(axis=1))
        return measured
    if method == "EMQ":
        return priors
    return np.zeros(CLASSES) if point else priors - probabilities.mean(axis=0)


def conditional_means(labels: IntArray, feats: FloatArray) -> FloatArray:
    """quapy's `PACC.getPteCondEstim` (with one-hot predictions, `ACC`'s): M[i, j] the mean of
    feature i over the texts of class j; a class without texts keeps the identity's column."""
    counts = np.bincount(labels, minlength=CLASSES)
    sums = np.stack(
        [np.bincount(labels, weights=feats[:, i], minlength=CLASSES) for i in range(CLASSES)]
    )
    measured: FloatArray = np.eye(CLASSES)
    present = counts > 0
    measured[:, present] = sums[:, present] / counts[present]
    return measured


def features(method: str, probabilities: FloatArray) -> FloatArray:
    """What is averaged over the unlabelled mentions: the model's labels for ACC, else its
    probabilities."""
    if method == "ACC":
        return np.eye(CLASSES)[probabilities.argmax(axis=1)]
    return probabilities


def adjust(method: str, rates: FloatArray, observed: FloatArray) -> FloatArray:
    """Class shares from the observed mean features (B, 3), replicate b with `rates[b]`."""
    solved: FloatArray = observed
    if method == "PCC":
        solved = observed + rates
    else:
        try:  # quapy's `exact` solver (q = M p), batched
            solved = np.asarray(np.linalg.solve(rates, observed[..., None])[..., 0], dtype=float)
        except np.linalg.LinAlgError:  # quapy's `exact-cc`: a singular M, no adjustment
            pass
    return clip(solved)


def clip(prevalences: FloatArray) -> FloatArray:
    """quapy's `normalize_prevalence(..., method="clip")`: clipped to 0..1, then summing to one
    (a row of zeros becomes uniform)."""
    clipped = np.clip(prevalences, 0.0, 1.0)
    sums = clipped.sum(axis=-1, keepdims=True)
    uniform = np.full_like(clipped, 1.0 / clipped.shape[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sums > 0, clipped / sums, uniform)


def weighted_em(priors: FloatArray, weights: FloatArray, probs: FloatArray) -> FloatArray:
    """quapy's `EMQ.EM` (Saerens et al. 2002) with a weight per mention: the same updates and
    stopping rule (mean absolute change under 1e-4 after 10 rounds, at most 1000), the M-step a
    weighted mean; with equal weights it is quapy's (a test checks)."""
    train = np.asarray(priors, dtype=float).copy()
    if np.prod(train) == 0:  # as quapy: smooth zero priors to avoid dividing by zero
        train = (train + EMQ_EPSILON) / (train + EMQ_EPSILON).sum()
    keep = weights > 0
    px, w = probs[keep], weights[keep] / weights[keep].sum()
    current, previous = train.copy(), None
    for step in range(EMQ_MAX_ITER):
        unnormalised = (current / train) * px
        current = w @ (unnormalised / unnormalised.sum(axis=1, keepdims=True))
        if previous is not None and step > 10 and np.abs(current - previous).mean() < EMQ_EPSILON:
            break
        previous = current
    return current
