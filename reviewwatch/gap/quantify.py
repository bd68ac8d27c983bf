"""Shares of negative, neutral and positive mentions, corrected for the model's known errors.

A mention with a known label (the reviewer's rating, or an analyst's correction) counts by that
label. The unlabelled rest are *quantified*, not classified one by one, with a method of quapy
(`quapy==0.2.3`, Moreo, Esuli and Sebastiani), fitted on a calibration set of labelled texts with
the model's probabilities (`share_calibration.py` picks it):

- `PACC`, probabilistic adjusted classify and count (Bella et al. 2010): solve `q = M p`, q the
  mean probabilities of the unlabelled mentions, M[i, j] the mean probability of class i the
  model gives a calibration text of true class j. The default with the business's own labels.
- `ACC`, the same with the model's labels counted (Forman 2008).
- `EMQ`, expectation maximisation of the priors (Saerens et al. 2002); the calibration set gives
  only its priors.
- `PCC`, probabilistic classify and count: the mean of the (temperature-calibrated) probabilities.
  The default with the shipped held-out data: rates measured in other domains do not transfer (on
  the held-out data, each domain estimated with the others' rates erred 5.8 points with PACC,
  2.9 with PCC; docs/gap.md), so there the calibration set measures PCC's error instead.

The 95% interval is a percentile bootstrap over both sources of error at once. Each replicate
resamples the mentions (labelled and unlabelled together) and the calibration: for the
business's own labels, its rows; for held-out data, the rows of ONE domain drawn at random (the
business's domain is another one, so the spread between domains is part of the error). For PCC a
replicate adds that calibration sample's error (true shares minus PCC). When the calibration
cannot support a correction (a class with too few examples, or M near-singular), the unlabelled
mentions' part of the interval spans every value they allow, and the note says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from reviewwatch.gap.stats import Estimate

LABELS: Final = ("negative", "neutral", "positive")
METHODS: Final = ("PACC", "ACC", "EMQ", "PCC")
LIBRARY: Final = "quapy 0.2.3"
REPLICATES: Final = 1000
CONFIDENCE: Final = 0.95
# Below this many calibration examples of a class, its column of M is mostly noise.
MIN_PER_CLASS: Final = 10
# M's condition number above which the correction amplifies noise more than it removes bias (a
# model at chance has an infinite one; the shipped model's are about 3 on its held-out data).
MAX_CONDITION: Final = 12.0
OWN, HELD_OUT, FILE = "own", "held-out", "file"

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Calibration:
    """Texts whose true label is known, with the model's probabilities for them.

    `domains` names the data set of each row (a single one for a business's own mentions).
    """

    probabilities: FloatArray  # (n, 3), columns in LABELS order
    labels: IntArray  # (n,) index into LABELS
    domains: IntArray  # (n,) index into domain_names
    domain_names: tuple[str, ...]
    source: str  # OWN or HELD_OUT
    model_version: str | None = None

    @property
    def size(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self) -> IntArray:
        return np.bincount(self.labels, minlength=len(LABELS)).astype(np.int64)

    def describe(self) -> str:
        if self.source == OWN:
            return f"the business's own rated or corrected mentions (n={self.size})"
        if self.source == FILE:
            return f"the labelled texts of a calibration file (n={self.size})"
        return (
            f"the shipped held-out data (n={self.size}, {len(self.domain_names)} domains: "
            f"{', '.join(self.domain_names)})"
        )


@dataclass(frozen=True, slots=True)
class Corrector:
    """A method fitted on a calibration set, with its bootstrap replicates (fitted once per report)."""

    method: str
    calibration: Calibration
    rates: FloatArray  # M (3, 3); the priors (3,) for EMQ; zeros (3,) for PCC
    replicate_rates: FloatArray  # one per replicate: (B, 3, 3) or (B, 3)
    reliable: bool
    note: str | None

    def describe(self) -> str:
        return f"{self.method} ({LIBRARY}), calibrated on {self.calibration.describe()}"


@dataclass(frozen=True, slots=True)
class Shares:
    """The three shares of a set of mentions with their 95% intervals, and how they were made."""

    n: int
    labelled: int
    quantified: int
    method: str
    calibration: str | None
    calibration_n: int
    negative: Estimate
    neutral: Estimate
    positive: Estimate
    reliable: bool
    note: str | None

    def share(self, label: str) -> Estimate:
        estimate: Estimate = getattr(self, label)
        return estimate

    def to_dict(self) -> dict[str, Any]:
        """The object `reviewwatch perceived` prints."""
        return {
            "n": self.n,
            "method": self.method,
            "labelled": self.labelled,
            "quantified": self.quantified,
            "calibration": self.calibration,
            "calibration_n": self.calibration_n,
            "reliable": self.reliable,
            "note": self.note,
            **{f"{label}_share": self.share(label).to_dict() for label in reversed(LABELS)},
        }


def fit(
    calibration: Calibration, method: str, replicates: int = REPLICATES, seed: int = 0
) -> Corrector:
    """Measure the model's errors on `calibration` once, and on `replicates` bootstrap copies."""
    if method not in METHODS:
        raise ValueError(f"unknown quantification method {method!r}; one of {', '.join(METHODS)}")
    if calibration.size == 0:
        raise ValueError("the calibration set is empty")
    rng = np.random.default_rng(seed)
    probabilities, labels = calibration.probabilities, calibration.labels
    rates = _rates(method, probabilities, labels, point=True)
    copies = np.stack(
        [
            _rates(method, probabilities[rows], labels[rows], point=False)
            for rows in _calibration_resamples(calibration, replicates, rng)
        ]
    )
    reliable, note = _check(calibration, rates, method)
    return Corrector(method, calibration, rates, copies, reliable, note)


def _rates(method: str, probabilities: FloatArray, labels: IntArray, *, point: bool) -> FloatArray:
    from quapy.method.aggregative import ACC, PACC

    classes = np.arange(len(LABELS))
    if method == "PACC":
        rates: FloatArray = PACC.getPteCondEstim(classes, labels, probabilities)
    elif method == "ACC":
        rates = ACC.getPteCondEstim(classes, labels, probabilities.argmax(axis=1))
    elif method == "EMQ":  # EM needs only the priors the probabilities were calibrated under
        rates = np.bincount(labels, minlength=len(LABELS)) / len(labels)
    elif point:  # PCC's estimate is the mean probability itself
        rates = np.zeros(len(LABELS))
    else:  # ...and a replicate adds the error PCC makes on its calibration sample
        rates = np.bincount(labels, minlength=len(LABELS)) / len(labels) - probabilities.mean(0)
    return rates


def _calibration_resamples(
    calibration: Calibration, replicates: int, rng: np.random.Generator
) -> list[IntArray]:
    """Row indices of each replicate: the rows resampled, or for held-out data the rows of one
    domain drawn at random, resampled (a pooled resample would hide the spread between domains)."""
    n = calibration.size
    domains = [np.flatnonzero(calibration.domains == d) for d in range(len(calibration.domain_names))]
    domains = [rows for rows in domains if rows.size]
    if calibration.source != HELD_OUT or len(domains) < 2:
        return [rng.integers(0, n, n) for _ in range(replicates)]
    out = []
    for _ in range(replicates):
        rows = domains[int(rng.integers(0, len(domains)))]
        out.append(rows[rng.integers(0, rows.size, rows.size)])
    return out


def _check(calibration: Calibration, rates: FloatArray, method: str) -> tuple[bool, str | None]:
    counts = calibration.class_counts()
    thin = [label for label, count in zip(LABELS, counts, strict=True) if count < MIN_PER_CLASS]
    if thin:
        return False, (
            f"too few calibration examples of {', '.join(thin)} (under {MIN_PER_CLASS} each): "
            "the model's errors cannot be measured, so the unlabelled mentions' share is left open"
        )
    if method in ("PACC", "ACC"):
        condition = float(np.linalg.cond(rates))
        if not np.isfinite(condition) or condition > MAX_CONDITION:
            return False, (
                "the model tells the classes apart too poorly on the calibration data (condition "
                f"number {condition:.0f} > {MAX_CONDITION:g}): the unlabelled mentions' share "
                "is left open"
            )
    return True, None


def estimate(
    corrector: Corrector,
    known: Sequence[int | None],
    probabilities: FloatArray,
    weights: Sequence[float] | None = None,
    *,
    replicates: int | None = None,
    seed: int = 0,
) -> Shares:
    """The shares of a set of mentions. `known[i]`: mention i's label index when its rating or a
    correction gives it, None to quantify it from `probabilities[i]`; `weights[i]` its weight."""
    n = len(known)
    if n == 0:
        raise ValueError("no mentions to estimate shares of")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    unknown = np.array([k is None for k in known], dtype=bool)
    onehot = np.zeros((n, len(LABELS)))
    for i, k in enumerate(known):
        if k is not None:
            onehot[i, k] = 1.0
    probs = np.asarray(probabilities, dtype=float).reshape(n, len(LABELS))
    count = replicates or corrector.replicate_rates.shape[0]
    draws = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=count)
    method = corrector.method
    point = _combine(method, corrector.rates[None], onehot, probs, unknown, w[None, :])[0]
    copies = _combine(
        method, corrector.replicate_rates[:count], onehot, probs, unknown, draws * w[None, :]
    )
    low, high = np.nanquantile(copies, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2], axis=0)
    quantified = bool(unknown.any())
    if quantified and not corrector.reliable:
        low, high = _open_bounds(onehot, unknown, w)
    shares = [_estimate(point[k], low[k], high[k]) for k in range(len(LABELS))]
    return Shares(
        n=n,
        labelled=n - int(unknown.sum()),
        quantified=int(unknown.sum()),
        method=method if quantified else "labels",
        calibration=corrector.calibration.source if quantified else None,
        calibration_n=corrector.calibration.size if quantified else 0,
        negative=shares[0],
        neutral=shares[1],
        positive=shares[2],
        reliable=corrector.reliable or not quantified,
        note=corrector.note if quantified else None,
    )


def _estimate(value: float, low: float, high: float) -> Estimate:
    """Clipped to 0..1; a percentile interval always holds its point (it may not, barely, when
    the replicates' distribution is skewed)."""
    def unit(x: float) -> float:
        return min(1.0, max(0.0, float(x)))

    return Estimate(unit(value), unit(min(low, value)), unit(max(high, value)))


def _combine(
    method: str,
    rates: FloatArray,
    onehot: FloatArray,
    probs: FloatArray,
    unknown: BoolArray,
    w: FloatArray,
) -> FloatArray:
    """Shares for each row of weights `w` (B, n): the labelled mass plus the quantified
    unlabelled mass, replicate b corrected with `rates[b]`."""
    known_mass = (w * ~unknown) @ onehot  # (B, 3)
    unknown_w = w * unknown
    unknown_total = unknown_w.sum(axis=1)
    prevalence = np.zeros_like(known_mass)
    some = unknown_total > 0
    if some.any():
        prevalence[some] = quantify(method, rates[some], unknown_w[some], probs)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = w.sum(axis=1)[:, None]
        shares: FloatArray = (known_mass + unknown_total[:, None] * prevalence) / total
    return shares


def quantify(method: str, rates: FloatArray, w: FloatArray, probs: FloatArray) -> FloatArray:
    """The class prevalence of mentions with probabilities `probs` (n, 3), for each row of
    weights `w` (B, n), replicate b with `rates[b]` (as quapy's `aggregate` would give)."""
    import quapy.functional as F

    if method == "EMQ":
        return np.stack([weighted_em(p, row, probs) for p, row in zip(rates, w, strict=True)])
    if method == "ACC":
        probs = np.eye(len(LABELS))[probs.argmax(axis=1)]
    observed = (w @ probs) / w.sum(axis=1, keepdims=True)  # (B, 3): PCC, or CC for ACC
    if method == "PCC":
        solved = observed + rates
    else:
        try:  # quapy's `exact` solver, batched
            solved = np.linalg.solve(rates, observed[..., None])[..., 0]
        except np.linalg.LinAlgError:  # quapy's `exact-cc`: singular M, no adjustment
            solved = observed
    adjusted: FloatArray = F.normalize_prevalence(solved, method="clip")
    return adjusted


def weighted_em(
    priors: FloatArray, weights: FloatArray, probs: FloatArray, epsilon: float = 1e-4
) -> FloatArray:
    """quapy's `EMQ.EM` with a weight per mention: the same updates and stopping rule (mean
    absolute change under `epsilon` after 10 rounds, at most `EMQ.MAX_ITER`), the M-step a
    weighted mean; with equal weights it gives quapy's result (a test checks)."""
    from quapy.method.aggregative import EMQ

    train = np.asarray(priors, dtype=float).copy()
    if np.prod(train) == 0:  # as quapy: smooth zero priors to avoid dividing by zero
        train = (train + epsilon) / (train + epsilon).sum()
    keep = weights > 0
    px, w = probs[keep], weights[keep] / weights[keep].sum()
    current, previous = train.copy(), None
    for step in range(EMQ.MAX_ITER):
        unnormalised = (current / train) * px
        current = w @ (unnormalised / unnormalised.sum(axis=1, keepdims=True))
        if previous is not None and step > 10 and np.abs(current - previous).mean() < epsilon:
            break
        previous = current
    return current


def _open_bounds(onehot: FloatArray, unknown: BoolArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Each share if none, or all, of the unlabelled mentions were of that class."""
    total = w.sum()
    known_mass = (w * ~unknown) @ onehot
    low: FloatArray = known_mass / total
    high: FloatArray = (known_mass + (w * unknown).sum()) / total
    return low, high
