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
    keep = weights > 0
    one: FloatArray = weighted_em_batch(np.asarray(priors, dtype=float)[None], weights[keep][None], probs[keep])[0]
    return one


def weighted_em_batch(
    priors: FloatArray, weights: FloatArray, probs: FloatArray, start: FloatArray | None = None
) -> FloatArray:
    """`weighted_em` for B replicates at once (B, 3): row b with priors `priors[b]`, weights
    `weights[b]` (n,) and probabilities `probs` (n, 3), or `probs[b]` when they differ by
    replicate (B, n, 3). Each row follows its own updates and stopping rule (a converged row is
    frozen while the others go on), so each equals `weighted_em` on it; in numpy over all rows,
    where a Python loop of a thousand EM runs took most of a report's time.

    `start` (3,): where every row's EM starts instead of its priors (the priors stay the
    reference EM reweights the posteriors by). The likelihood EM climbs is concave in the class
    shares, so it reaches the same maximum from anywhere; started at the point estimate, a
    bootstrap replicate (whose maximum lies near it) needs a few rounds instead of dozens."""
    train = np.asarray(priors, dtype=float).copy()
    zero = np.prod(train, axis=1) == 0  # as quapy: smooth zero priors
    train[zero] = (train[zero] + EMQ_EPSILON) / (train[zero] + EMQ_EPSILON).sum(axis=1, keepdims=True)
    w = weights / weights.sum(axis=1, keepdims=True)
    px = probs if probs.ndim == 3 else probs[None]
    current = train.copy() if start is None else np.tile(np.asarray(start, dtype=float), (train.shape[0], 1))
    active = np.ones(train.shape[0], dtype=bool)
    for step in range(EMQ_MAX_ITER):
        rows = np.flatnonzero(active)
        p_rows = px[rows] if px.shape[0] > 1 else px
        unnormalised = (current[rows] / train[rows])[:, None, :] * p_rows
        posterior = unnormalised / unnormalised.sum(axis=2, keepdims=True)
        updated = np.einsum("bn,bnc->bc", w[rows], posterior)
        # quapy's rule: the mean absolute change of a round under EMQ_EPSILON, after ten rounds
        # from the priors; from `start` (already near the maximum) after the first
        if step > (10 if start is None else 0):
            active[rows[np.abs(updated - current[rows]).mean(axis=1) < EMQ_EPSILON]] = False
        current[rows] = updated
        if not active.any():
            break
    return current


# Bias-corrected temperature scaling (BCTS; Alexandari, Kundaje and Shrikumar, ICML 2020): the
# model's log-probabilities rescaled and shifted per class, softmax(s * log p + b) with b[0] = 0,
# fitted by maximum likelihood on labelled texts. EM on probabilities recalibrated this way is
# what that paper found hard to beat under label shift; quapy 0.2.3 offers it as EMQ's `recalib
# ="bcts"` through the `abstention` package, one fit at a time. A report needs a fit per
# bootstrap replicate (250, quantify.EM_REPLICATES), so here it is Newton's method batched over
# replicates: the
# negative log-likelihood is convex in (s, b1, b2) (a conditional logit), so a few steps converge.
BCTS_STEPS: Final = 25
BCTS_TOLERANCE: Final = 1e-8
BCTS_RIDGE: Final = 1e-4  # keeps a class missing from a resample from pushing its bias to -inf
BCTS_CHUNK: Final = 128  # replicates per batch: memory is a few chunk x texts x 3 arrays
BCTS_MAX_STEP: Final = 1.0  # the largest change of a parameter in one Newton step


def bcts_features(probabilities: FloatArray) -> FloatArray:
    """Per text and class, what the recalibrated logit is linear in (n, 3 classes, 3 params):
    the log-probability (its scale), and one-hot biases of classes 1 and 2 (class 0's is 0)."""
    n = probabilities.shape[0]
    phi = np.zeros((n, CLASSES, 3))
    phi[:, :, 0] = np.log(np.clip(probabilities, 1e-6, 1.0))
    phi[:, 1, 1] = 1.0
    phi[:, 2, 2] = 1.0
    return phi


def bcts_fit(probabilities: FloatArray, labels: IntArray, weights: FloatArray | None = None) -> FloatArray:
    """BCTS parameters (s, b1, b2) fitted on labelled texts; with `weights` (B, n), one fit per row
    (a bootstrap replicate's counts of each text), returned as (B, 3); else (3,)."""
    single = weights is None
    w = np.ones((1, labels.shape[0])) if weights is None else np.asarray(weights, dtype=float)
    phi = bcts_features(probabilities)
    chosen = phi[np.arange(labels.shape[0]), labels]  # (n, 3): the true class's features
    # replicates start from the fit on every text: a resample's optimum lies near it
    start_at = _bcts_newton(phi, chosen, np.ones((1, labels.shape[0])), np.array([1.0, 0.0, 0.0]))[0]
    if single:
        return start_at
    out = np.empty((w.shape[0], 3))
    for start in range(0, w.shape[0], BCTS_CHUNK):
        out[start : start + BCTS_CHUNK] = _bcts_newton(phi, chosen, w[start : start + BCTS_CHUNK], start_at)
    return out


def _bcts_newton(phi: FloatArray, chosen: FloatArray, w: FloatArray, start: FloatArray) -> FloatArray:
    """Damped Newton steps for a batch of weightings `w` (B, n). The features are the
    log-probabilities L (scale) and one-hot biases of classes 1 and 2, so the gradient and the
    Hessian (the features' covariance under the recalibrated probabilities p) reduce to weighted
    sums of p, p L and p L^2: no (B, n, 3, 3) array."""
    log_p = phi[:, :, 0]  # (n, 3)
    identity = np.array([1.0, 0.0, 0.0])
    theta = np.tile(start, (w.shape[0], 1))
    total = np.maximum(w.sum(axis=1), 1e-12)
    wn = w / total[:, None]  # (B, n), rows summing to one
    target = wn @ chosen  # (B, 3): the features' weighted mean at the true class
    for _ in range(BCTS_STEPS):
        z = theta[:, 0, None, None] * log_p[None]  # (B, n, 3)
        z[:, :, 1:] += theta[:, None, 1:]
        z -= z.max(axis=2, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=2, keepdims=True)
        m = (p * log_p[None]).sum(axis=2)  # E[L] per text
        m2 = (p * log_p[None] ** 2).sum(axis=2)  # E[L^2]
        p1, p2 = p[:, :, 1], p[:, :, 2]
        pl1, pl2 = p1 * log_p[None, :, 1], p2 * log_p[None, :, 2]
        grad = np.stack([(wn * m).sum(1), (wn * p1).sum(1), (wn * p2).sum(1)], axis=1) - target
        grad += BCTS_RIDGE * (theta - identity)
        h = np.empty((w.shape[0], 3, 3))
        h[:, 0, 0] = (wn * (m2 - m * m)).sum(1)
        h[:, 0, 1] = h[:, 1, 0] = (wn * (pl1 - m * p1)).sum(1)
        h[:, 0, 2] = h[:, 2, 0] = (wn * (pl2 - m * p2)).sum(1)
        h[:, 1, 1] = (wn * (p1 - p1 * p1)).sum(1)
        h[:, 2, 2] = (wn * (p2 - p2 * p2)).sum(1)
        h[:, 1, 2] = h[:, 2, 1] = (wn * (-p1 * p2)).sum(1)
        h += BCTS_RIDGE * np.eye(3)
        step = np.linalg.solve(h, grad[..., None])[..., 0]
        # damped: a full Newton step from far away can overshoot a logit model's flat tails
        size = np.abs(step).max(axis=1, keepdims=True)
        step = step * np.minimum(1.0, BCTS_MAX_STEP / np.maximum(size, 1e-300))
        theta = theta - step
        if float(np.abs(step).max()) < BCTS_TOLERANCE:
            break
    return theta


def bcts_apply(params: FloatArray, probabilities: FloatArray) -> FloatArray:
    """`probabilities` (n, 3) recalibrated with one set of BCTS parameters (3,) -> (n, 3), or with
    one per replicate (B, 3) -> (B, n, 3)."""
    z = np.einsum("ncp,...p->...nc", bcts_features(probabilities), np.asarray(params, dtype=float))
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    recalibrated: FloatArray = e / e.sum(axis=-1, keepdims=True)
    return recalibrated
