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
- `EMQ-BCTS`, EMQ on probabilities first recalibrated on the calibration set by bias-corrected
  temperature scaling (Alexandari, Kundaje and Shrikumar 2020; quapy's EMQ `recalib="bcts"`; the
  fit is `adjust.bcts_fit`). The default with the business's own labels: on the development
  sources, half of each rated and the other half estimated, it erred less than PACC on all 12
  sources and at every class mix tried, with a narrower interval that held the truth a little
  less often (93.1 % of shares against 95.2 %; `bench/share_own_methods.py`, docs/gap.md).
- `PCC`, probabilistic classify and count: the mean of the (temperature-calibrated) probabilities.
  The default with the shipped held-out data: rates measured in other domains do not transfer (on
  the held-out data, each domain estimated with the others' rates erred 5.8 points with PACC,
  2.9 with PCC; docs/gap.md), so there the calibration set measures PCC's error instead.

The 95% interval is a percentile bootstrap over both sources of error at once. Each replicate
resamples the mentions (labelled and unlabelled together) and the calibration: for the
business's own labels, its rows; for held-out data, the rows of ONE domain drawn at random (the
business's domain is another one, so the spread between domains is part of the error). For PCC a
replicate adds that calibration sample's error (true shares minus PCC). The calibration's
replicates are fitted once per report; above `EXACT_MAX` mentions, the resampled sums of the
mentions are drawn from their normal law instead of one by one. The methods' arithmetic is
`adjust.py`. When the calibration
cannot support a correction (a class with too few examples, or M near-singular), the unlabelled
mentions' part of the interval spans every value they allow, and the note says why.

Texts longer than the calibration's (`Calibration.max_chars`, the shipped held-out data's 99th
percentile of text length) are beyond what it measured: an unlabelled mention that long still
counts in the point estimate, but its part of the interval spans every value it allows (its
class could be any), and the note says how many. Why: the held-out data holds mostly short
texts (tweets, review sentences, and rated reviews of two kinds of business, most under 600
characters); joined back into whole reviews, its restaurant sentences were read 4-9 points off
up to 229 characters and 17-22 above (`bench/share_length_check.py`), and its rated reviews
27-35 points off above that: nothing measured on shorter texts bounds the error on longer ones.
The method (PCC) and the one-domain-per-replicate draw were chosen, and alternatives
dropped, by cross-validation over the development sources (`bench/share_loso.py`, docs/gap.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from reviewwatch.gap import adjust
from reviewwatch.gap.stats import Estimate, effective_size, wilson

LABELS: Final = ("negative", "neutral", "positive")
METHODS: Final = ("PACC", "ACC", "EMQ", "EMQ-BCTS", "PCC")
LIBRARY: Final = "quapy 0.2.3"
REPLICATES: Final = 1000
# EM methods: each replicate is an EM run over the mentions, a hundred times PACC's cost; on the
# development sources (half of each rated, 468 shares) 250 replicates held the truth as often as
# 1 000 (93.6 % against 93.4 %) at a quarter of the time (docs/gap.md).
EM_REPLICATES: Final = 250
CONFIDENCE: Final = 0.95
# Below this many calibration examples of a class, its column of M is mostly noise.
MIN_PER_CLASS: Final = 10
# M's condition number above which the correction amplifies noise more than it removes bias (a
# model at chance has an infinite one; the shipped model's are about 3 on its held-out data).
MAX_CONDITION: Final = 12.0
OWN, HELD_OUT, FILE = "own", "held-out", "file"
BCTS_METHOD: Final = "EMQ-BCTS"
EM_METHODS: Final = ("EMQ", BCTS_METHOD)
# Up to this many mentions the bootstrap resamples them exactly (cost: replicates x mentions).
EXACT_MAX: Final = 500
# Replicates whose EM runs together (arrays of this many x mentions x 3).
EM_CHUNK: Final = 100

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
    # The longest unlabelled text (in characters) whose errors this calibration can vouch for;
    # None: any (a business's own labels come from its own texts, long or short).
    max_chars: int | None = None

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
        limit = "" if self.max_chars is None else f"; texts up to {self.max_chars} characters"
        return (
            f"the shipped held-out data (n={self.size}, {len(self.domain_names)} domains: "
            f"{', '.join(self.domain_names)}{limit})"
        )


@dataclass(frozen=True, slots=True)
class Corrector:
    """A method fitted on a calibration set, with its bootstrap replicates (fitted once per report)."""

    method: str
    calibration: Calibration
    # M (3, 3); the priors (3,) for EMQ; the priors and BCTS's (s, b1, b2) (6,) for EMQ-BCTS;
    # zeros (3,) for PCC
    rates: FloatArray
    replicate_rates: FloatArray  # one per replicate: (B, 3, 3), (B, 3) or (B, 6)
    reliable: bool
    note: str | None

    def describe(self) -> str:
        if self.method == BCTS_METHOD:
            return (f"EMQ ({LIBRARY}) on probabilities recalibrated by bias-corrected temperature "
                    f"scaling, calibrated on {self.calibration.describe()}")
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
    # Unlabelled mentions longer than the calibration's texts (their part of the interval is open).
    beyond_calibration: int = 0

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
            "beyond_calibration": self.beyond_calibration,
            **{f"{label}_share": self.share(label).to_dict() for label in reversed(LABELS)},
        }


def fit(
    calibration: Calibration, method: str, replicates: int | None = None, seed: int = 0
) -> Corrector:
    """Measure the model's errors on `calibration` once, and on `replicates` bootstrap copies
    (default: REPLICATES, EM_REPLICATES for the EM methods)."""
    if method not in METHODS:
        raise ValueError(f"unknown quantification method {method!r}; one of {', '.join(METHODS)}")
    if replicates is None:
        replicates = EM_REPLICATES if method in EM_METHODS else REPLICATES
    if calibration.size == 0:
        raise ValueError("the calibration set is empty")
    rng = np.random.default_rng(seed)
    probabilities, labels = calibration.probabilities, calibration.labels
    resamples = _calibration_resamples(calibration, replicates, rng)
    if method == BCTS_METHOD:  # the recalibration fitted on every resample at once
        counts = np.stack([np.bincount(rows, minlength=calibration.size) for rows in resamples])
        rates = np.concatenate([adjust.rates("EMQ", probabilities, labels, point=True),
                                adjust.bcts_fit(probabilities, labels)])
        priors = counts @ np.eye(len(LABELS))[labels] / counts.sum(axis=1, keepdims=True)
        copies = np.hstack([priors, adjust.bcts_fit(probabilities, labels, counts.astype(float))])
    else:
        rates = adjust.rates(method, probabilities, labels, point=True)
        copies = np.stack(
            [adjust.rates(method, probabilities[rows], labels[rows], point=False) for rows in resamples]
        )
    reliable, note = _check(calibration, rates, method)
    return Corrector(method, calibration, rates, copies, reliable, note)


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
    lengths: Sequence[int] | None = None,
    replicates: int | None = None,
    seed: int = 0,
) -> Shares:
    """The shares of a set of mentions. `known[i]`: mention i's label index when its rating or a
    correction gives it, None to quantify it from `probabilities[i]`; `weights[i]` its weight;
    `lengths[i]` its text's length in characters (None: all within the calibration's)."""
    n = len(known)
    if n == 0:
        raise ValueError("no mentions to estimate shares of")
    onehot, probs, unknown, w = _inputs(known, probabilities, weights)
    method = corrector.method
    beyond = _beyond(corrector.calibration, unknown, lengths)
    if beyond.any():  # the point of all; the interval of the rest, these as none of the class...
        point, _ = _point_and_copies(corrector, onehot, probs, unknown, w, 1, seed)
        _, copies = _point_and_copies(corrector, onehot, probs, unknown & ~beyond, w, replicates, seed)
    else:
        point, copies = _point_and_copies(corrector, onehot, probs, unknown, w, replicates, seed)
    low, high = np.nanquantile(copies, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2], axis=0)
    high = high + _mass(w, beyond)  # ...to all of them of the class
    low, high = _at_least_sampling(point, low, high, w)
    quantified = bool(unknown.any())
    if quantified and not corrector.reliable:
        low, high = _open_bounds(onehot, unknown, w)
    shares = [_estimate(point[k], low[k], high[k]) for k in range(len(LABELS))]
    note = corrector.note if quantified else None
    if beyond.any():
        note = "; ".join(filter(None, [note, _beyond_note(corrector.calibration, beyond)]))
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
        note=note,
        beyond_calibration=int(beyond.sum()),
    )


def _beyond(
    calibration: Calibration, unknown: BoolArray, lengths: Sequence[int] | None
) -> BoolArray:
    """The unlabelled mentions longer than the calibration's texts."""
    if lengths is None or calibration.max_chars is None:
        return np.zeros_like(unknown)
    too_long: BoolArray = unknown & (np.asarray(lengths, dtype=float) > calibration.max_chars)
    return too_long


def _mass(w: FloatArray, rows: BoolArray) -> float:
    """The weight share of `rows`."""
    return float(w[rows].sum() / w.sum()) if rows.any() else 0.0


def _beyond_note(calibration: Calibration, beyond: BoolArray) -> str:
    return (
        f"{int(beyond.sum())} unlabelled mention(s) longer than the calibration's texts (over "
        f"{calibration.max_chars} characters): the model's errors on texts that long were not "
        "measured, so their part of the interval spans every class"
    )


def _at_least_sampling(
    point: FloatArray, low: FloatArray, high: FloatArray, w: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The bootstrap interval widened to hold the Wilson interval of the point share at the
    effective size. A percentile bootstrap collapses where every mention agrees: three negative
    reviews gave a positive share of "0 % (0-0 %)", as if three reviews proved it; Wilson gives
    0-56 %. Elsewhere the bootstrap, which also carries the calibration's uncertainty, is wider."""
    n_eff = effective_size(w.tolist())
    low, high = low.copy(), high.copy()
    for k in range(len(LABELS)):
        sampling = wilson(float(point[k]) * n_eff, n_eff) if np.isfinite(point[k]) else None
        if sampling is not None:
            low[k] = min(low[k], sampling.low)
            high[k] = max(high[k], sampling.high)
    return low, high


def replicate_shares(
    corrector: Corrector,
    known: Sequence[int | None],
    probabilities: FloatArray,
    weights: Sequence[float] | None = None,
    *,
    lengths: Sequence[int] | None = None,
    seed: int = 0,
) -> FloatArray:
    """The bootstrap replicates behind `estimate`'s interval (B, 3; an EM method's EM_REPLICATES
    drawn from up to REPLICATES, the other methods' count), for a statistic of several
    estimates (the competitors' median, gap/benchmark.py). Where the calibration cannot support a
    correction, the unlabelled mentions' share is drawn uniformly across every value they allow,
    as wide as `estimate`'s open interval; so is the share of mentions longer than its texts."""
    onehot, probs, unknown, w = _inputs(known, probabilities, weights)
    beyond = _beyond(corrector.calibration, unknown, lengths)
    _, copies = _point_and_copies(corrector, onehot, probs, unknown & ~beyond, w, None, seed)
    if beyond.any():  # their mass (what the rest leaves of each replicate) split at random
        rng = np.random.default_rng(seed + 2)
        missing = 1.0 - copies.sum(axis=1, keepdims=True)
        copies = copies + missing * rng.dirichlet(np.ones(len(LABELS)), copies.shape[0])
    if unknown.any() and not corrector.reliable:
        low, high = _open_bounds(onehot, unknown, w)
        rng = np.random.default_rng(seed + 1)
        copies = low + (high - low) * rng.random(copies.shape)
    if corrector.method in EM_METHODS and copies.shape[0] < REPLICATES:
        # EM's fewer replicates, drawn from to match the other methods' count (the benchmark
        # stacks the business's replicates with its competitors')
        rows = np.random.default_rng(seed + 3).integers(0, copies.shape[0], REPLICATES)
        copies = copies[rows]
    return copies


def _inputs(
    known: Sequence[int | None], probabilities: FloatArray, weights: Sequence[float] | None
) -> tuple[FloatArray, FloatArray, BoolArray, FloatArray]:
    """The known labels one-hot (n, 3), the probabilities (n, 3), which are unlabelled, weights."""
    n = len(known)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    unknown = np.array([k is None for k in known], dtype=bool)
    onehot = np.zeros((n, len(LABELS)))
    for i, k in enumerate(known):
        if k is not None:
            onehot[i, k] = 1.0
    probs = np.asarray(probabilities, dtype=float).reshape(n, len(LABELS))
    return onehot, probs, unknown, w


def _point_and_copies(
    corrector: Corrector,
    onehot: FloatArray,
    probs: FloatArray,
    unknown: BoolArray,
    w: FloatArray,
    replicates: int | None,
    seed: int,
) -> tuple[FloatArray, FloatArray]:
    """The shares (3,) and their bootstrap replicates (B, 3)."""
    n = onehot.shape[0]
    count = replicates or corrector.replicate_rates.shape[0]
    rng = np.random.default_rng(seed)
    method, copy_rates = corrector.method, corrector.replicate_rates[:count]
    if method in EM_METHODS:  # EM is not a mean of the mentions: resample them one by one
        shares, prevalence = _emq_shares(corrector.rates[None], onehot, probs, unknown, w[None, :])
        point = shares[0]
        if n <= EXACT_MAX:
            draws = _resample_counts(n, count, rng) * w[None, :]
            copies = _emq_shares(copy_rates, onehot, probs, unknown, draws, prevalence[0])[0]
        else:  # ...or, above EXACT_MAX, the groups of mentions EM cannot tell apart
            g_onehot, g_probs, g_unknown, g_count, g_weight = _em_groups(onehot, probs, unknown, w)
            draws = rng.multinomial(n, g_count / n, size=count) * g_weight[None, :]
            copies = _emq_shares(copy_rates, g_onehot, g_probs, g_unknown, draws, prevalence[0])[0]
    else:
        totals = _totals(onehot, adjust.features(method, probs), unknown, w)
        point = _shares(method, corrector.rates[None], totals.sum(axis=0, keepdims=True))[0]
        copies = _shares(method, copy_rates, _resampled_sums(totals, count, rng))
    return point, copies


def _estimate(value: float, low: float, high: float) -> Estimate:
    """Clipped to 0..1; a percentile interval always holds its point (it may not, barely, when
    the replicates' distribution is skewed)."""

    def unit(x: float) -> float:
        return min(1.0, max(0.0, float(x)))

    return Estimate(unit(value), unit(min(low, value)), unit(max(high, value)))


def _totals(
    onehot: FloatArray, feats: FloatArray, unknown: BoolArray, w: FloatArray
) -> FloatArray:
    """Per mention, what the shares are sums of (n, 8): its weight on its known label (3), its
    weight times its features if unlabelled (3), its weight if unlabelled, its weight."""
    u = (w * unknown)[:, None]
    known = w[:, None] * onehot * ~unknown[:, None]
    totals: FloatArray = np.hstack([known, u * feats, u, w[:, None]])
    return totals


def _resampled_sums(totals: FloatArray, count: int, rng: np.random.Generator) -> FloatArray:
    """The sums of `count` bootstrap resamples of the mentions (count, 8). Up to EXACT_MAX
    mentions drawn exactly; above, from the normal law the resampled sums follow (mean n times
    the mean, covariance n times the covariance), since exact draws cost count x n."""
    n = totals.shape[0]
    if n <= EXACT_MAX:
        sums: FloatArray = _resample_counts(n, count, rng).astype(float) @ totals
        return sums
    mean, covariance = totals.mean(axis=0), np.cov(totals, rowvar=False)
    drawn = rng.multivariate_normal(n * mean, n * covariance, size=count, method="eigh")
    return np.maximum(drawn, 0.0)


def _resample_counts(n: int, count: int, rng: np.random.Generator) -> IntArray:
    """How often each of `n` mentions is drawn in each of `count` resamples (count, n): n draws
    with replacement per row, counted with one bincount over all rows. The same law as
    `rng.multinomial(n, [1/n] * n, count)`, several times faster above a few dozen mentions
    (numpy's multinomial draws its n cells one binomial at a time); the gap computes it for every
    claim and breakdown, so it decides how long a report takes."""
    drawn = rng.integers(0, n, size=(count, n)) + (np.arange(count) * n)[:, None]
    counts: IntArray = np.bincount(drawn.ravel(), minlength=count * n).reshape(count, n)
    return counts


def _shares(method: str, rates: FloatArray, sums: FloatArray) -> FloatArray:
    """Shares from the sums (B, 8): the labelled mass plus the unlabelled mass times its
    adjusted class shares, replicate b corrected with `rates[b]`."""
    known_mass, unknown_mass = sums[:, :3], sums[:, 3:6]
    unknown_total, total = sums[:, 6], sums[:, 7]
    prevalence = np.zeros_like(known_mass)
    some = unknown_total > 0
    if some.any():
        observed = unknown_mass[some] / unknown_total[some, None]
        prevalence[some] = adjust.adjust(method, rates[some], observed)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares: FloatArray = (known_mass + unknown_total[:, None] * prevalence) / total[:, None]
    return shares


def _emq_shares(
    rates: FloatArray,
    onehot: FloatArray,
    probs: FloatArray,
    unknown: BoolArray,
    w: FloatArray,
    start: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """EMQ's shares for each row of per-mention weights `w` (B, n), row b with `rates[b]`: the
    calibration's priors (3,), followed for EMQ-BCTS by the recalibration's parameters (3,); and
    the unlabelled mentions' prevalence EM found. `start`: where EM starts (the point's
    prevalence, for the replicates), else at the priors as quapy's."""
    known_mass = (w * ~unknown) @ onehot
    unknown_w = w * unknown
    unknown_total = unknown_w.sum(axis=1)
    prevalence = np.zeros_like(known_mass)
    recalibrate = rates.shape[1] > len(LABELS)
    rows = np.flatnonzero(unknown_total > 0)
    u_probs, u_w = probs[unknown], unknown_w[:, unknown]  # EM reads only the unlabelled mentions
    for first in range(0, rows.size, EM_CHUNK):  # chunks: (replicates, mentions, 3) arrays
        chunk = rows[first : first + EM_CHUNK]
        px = adjust.bcts_apply(rates[chunk, 3:], u_probs) if recalibrate else u_probs
        prevalence[chunk] = adjust.weighted_em_batch(rates[chunk, :3], u_w[chunk], px, start)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = w.sum(axis=1)[:, None]
        shares: FloatArray = (known_mass + unknown_total[:, None] * prevalence) / total
    return shares, prevalence


def _em_groups(
    onehot: FloatArray, probs: FloatArray, unknown: BoolArray, w: FloatArray
) -> tuple[FloatArray, FloatArray, BoolArray, FloatArray, FloatArray]:
    """The mentions in groups for EM's bootstrap above EXACT_MAX: the labelled ones by label, the
    unlabelled ones by their probabilities to two decimals (EM sees a mention only through
    them). Per group: its label one-hot, its members' mean probabilities, whether unlabelled,
    how many members, their mean weight. A resample of the n mentions is then a multinomial
    draw over at most a few thousand groups instead of a count for every mention (a thousand
    replicates of a million mentions would be a billion counts)."""
    # an unlabelled mention's key is below 101^3 (three digits of 0..100 in base 101); a labelled
    # one's is 1, 2 or 3 times 10^7 (its label), above any of those
    key = np.where(unknown, 0, 1 + onehot.argmax(axis=1)) * 10_000_000 + np.where(
        unknown[:, None], np.rint(probs * 100), 0
    ) @ np.array([101 * 101, 101, 1])
    _, group, count = np.unique(key, return_inverse=True, return_counts=True)
    size = count.shape[0]

    def mean(values: FloatArray) -> FloatArray:
        summed = np.stack([np.bincount(group, weights=values[:, k], minlength=size)
                           for k in range(values.shape[1])], axis=1)
        out: FloatArray = summed / count[:, None]
        return out

    g_onehot, g_probs = mean(onehot), mean(probs)
    g_unknown = np.bincount(group, weights=unknown.astype(float), minlength=size) > 0
    g_weight = np.bincount(group, weights=w, minlength=size) / count
    return g_onehot, g_probs, g_unknown, count.astype(float), g_weight


def _open_bounds(
    onehot: FloatArray, unknown: BoolArray, w: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Each share if none, or all, of the unlabelled mentions were of that class."""
    total = w.sum()
    known_mass = (w * ~unknown) @ onehot
    low: FloatArray = known_mass / total
    high: FloatArray = (known_mass + (w * unknown).sum()) / total
    return low, high
