"""The count models: how many negative mentions a business's own history predicts for the last 24 hours.

Two predictions of the window judged, each with an upper bound at `level`:

- **share** (the default, `predict_share`): the negative mentions as a share of all the
  business's mentions of the same 24 hours. The share is estimated from the trailing windows
  (a binomial proportion, Jeffreys prior Beta(1/2, 1/2)), and the window's negatives are
  predicted by the beta-binomial predictive distribution of that many mentions: the share's own
  estimation error is in the prediction, not added on by an approximation. Conditioning on the
  window's volume is the proportion method of syndromic surveillance (a syndrome's count judged
  against all the visits of the day): whatever moves every mention alike — a busy Saturday, a
  quiet holiday, a day-to-day swing of the crowd, a source crawled late — is in the volume,
  so no weekday pattern nor day-to-day dispersion of the volume needs estimating. When the
  history shows the share itself varying from day to day more than binomially (a Pearson chi2
  test of the windows, p < `SHARE_DISPERSION_P`), that variation (a beta-binomial intra-class
  correlation, method of moments) widens the prediction too. What this test does not see: a
  rise of all mentions at an unchanged negative share (a news story, a campaign) is not a
  spike of complaints.
- **count** (`predict`, `alerts.method = "count"`): the window's negatives against the
  counts of the earlier windows alone, the method of public-health surveillance of daily case
  counts (Farrington et al. 1996, J. R. Stat. Soc. A 159:547; improved by Noufaily et al. 2013,
  Stat. Med. 32:1206), fitted per business on its trailing 24-hour windows:

  - a log-linear quasi-Poisson GLM (statsmodels) of the window counts with a weekday factor, so
    a café whose Saturdays bring three times the reviews of a Tuesday is compared with its own
    Saturdays; the overdispersion phi = max(1, Pearson chi2 / residual df) absorbs day-to-day
    noise beyond Poisson's;
  - the upper prediction bound: the `level` quantile of a negative binomial with the fitted mean
    mu0 of the window being judged and the variance phi * mu0 (Noufaily's threshold), widened
    by the uncertainty of mu0 itself (delta method: + mu0^2 * Var(eta0)), since 28 days give
    only four of each weekday.

  The weekday pattern is estimated from all the business's mentions when their counts are
  given (`weekday_effects`), the negatives then modelled as the mean times that pattern (a GLM
  offset), kept only when a drop-in-deviance F test of the weekday factor on the volumes gives
  p < `WEEKDAY_TEST_P`. Without volumes (or without a pattern in them), the weekday factor is
  fitted on the negative counts themselves, and kept only when the history holds
  `WEEKDAY_MIN_TOTAL` negative mentions, some on every weekday, and the same test passes;
  otherwise the model is the mean alone.

The threshold `level` and the minimum count that goes with it were chosen on seeds 1 and 3 of
bench/alerts.py and are reported on seed 2 (docs/alerts.md).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

# Negative mentions the history must hold before weekday effects are estimated (5 per weekday).
WEEKDAY_MIN_TOTAL = 35
# The weekday factor is kept when its F test gives a p-value below this.
WEEKDAY_TEST_P = 0.05
# The share's day-to-day variation beyond binomial widens the prediction when a chi2 test of the
# history gives a p-value below this: strict, since a test at 5 % widens one history in twenty
# for nothing, and a wider bound costs small businesses their alerts.
SHARE_DISPERSION_P = 0.01
# The Jeffreys prior of the negative share: a history without a negative mention still gives a
# share above zero, shrinking as the history's mentions grow.
SHARE_PRIOR = 0.5


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the history predicts for the window judged: mean, dispersion and upper bound."""

    expected: float
    dispersion: float
    bound: float  # the `level` quantile of the predictive distribution
    method: str


def predict(
    history: Sequence[int],
    weekdays: Sequence[int],
    weekday_now: int,
    level: float,
    pattern: WeekdayPattern | None = None,
) -> Prediction:
    """The prediction for a window on `weekday_now` from the counts of earlier windows.

    `history[i]` is the count of a window whose weekday (0 Monday .. 6 Sunday) is `weekdays[i]`;
    `pattern`, when given, the weekday pattern of all mentions (`weekday_effects`).
    """
    counts = np.asarray(history, dtype=float)
    if len(counts) != len(weekdays) or len(counts) < 7:
        raise ValueError("history: one weekday per count, and at least 7 windows")
    if counts.sum() == 0:
        # Nothing negative in the whole history: the model cannot be fitted, and any count
        # above zero is more than predicted; the minimum count decides alone.
        return Prediction(0.0, 1.0, 0.0, "no negative mention in the history")
    mean_only = np.ones((len(counts), 1))
    if pattern is not None:
        offset = pattern.effects[np.asarray(weekdays, dtype=int)]
        fit = _fit(counts, mean_only, _row(weekday_now, 1), offset,
                   float(pattern.effects[weekday_now]))
        # The pattern is itself estimated (four or so days of each weekday): its uncertainty
        # for the day judged widens the bound like the mean's own.
        fit = replace(fit, var_eta0=fit.var_eta0 + float(pattern.variance[weekday_now]))
        kind = "mean x weekday pattern of all mentions"
    else:
        fit = _fit(counts, mean_only, _row(weekday_now, 1))
        kind = "mean"
        by_weekday = _weekday_design(weekdays, counts)
        if by_weekday is not None:
            weekly = _fit(counts, by_weekday, _row(weekday_now, 7))
            if _weekdays_matter(fit, weekly, len(counts)):
                fit, kind = weekly, "weekday"
    eta0, var_eta0, phi = fit.eta0, fit.var_eta0, fit.phi
    mu0 = math.exp(eta0)
    bound = upper_bound(mu0, phi * mu0 + mu0 * mu0 * var_eta0, level)
    return Prediction(mu0, phi, bound, f"quasi-Poisson GLM ({kind}), {len(counts)} days")


def predict_share(
    history: Sequence[int], volumes: Sequence[int], volume_now: int, level: float
) -> Prediction:
    """The prediction of a window holding `volume_now` mentions in all from the negative counts
    (`history`) and the mention counts (`volumes`) of earlier windows: the beta-binomial
    predictive distribution of its negatives (the module's doc)."""
    from scipy import stats  # imported when a history is judged, not with the command line

    counts = np.asarray(history, dtype=float)
    totals = np.asarray(volumes, dtype=float)
    if len(counts) != len(totals) or len(counts) < 7:
        raise ValueError("history: one volume per count, and at least 7 windows")
    # A window's negatives are among its mentions; the store counts both alike, so this only
    # guards the share against a count taken at another moment than its volume.
    counts = np.minimum(counts, totals)
    negatives, mentions = float(counts.sum()), float(totals.sum())
    days = f"{len(counts)} days"
    if mentions == 0:
        # No mention at all in the history: nothing to estimate a share from; the minimum
        # count decides alone, as for the count model's empty history.
        return Prediction(0.0, 1.0, 0.0, f"negative share: no mention in the {days}")
    a, b = negatives + SHARE_PRIOR, mentions - negatives + SHARE_PRIOR
    share = a / (a + b)
    rho = share_dispersion(counts, totals)
    if rho > 0:
        # The share of the window judged varies around the history's (rho) on top of the
        # history's own estimation error: a beta of the same mean and both variances.
        variance = share * (1 - share) * (1 / (a + b + 1) + rho)
        concentration = share * (1 - share) / variance - 1
        a, b = share * concentration, (1 - share) * concentration
    if volume_now <= 0:
        return Prediction(0.0, 1.0 + rho, 0.0, f"negative share: no mention now; {days}")
    bound = float(stats.betabinom.ppf(level, volume_now, a, b))
    kind = f", day-to-day variation {rho:.3f}" if rho > 0 else ""
    return Prediction(volume_now * share, 1.0 + rho, bound,
                      f"negative share of all {volume_now} mentions "
                      f"({share:.1%}{kind}), beta-binomial, {days}")


def share_dispersion(counts: np.ndarray, totals: np.ndarray) -> float:
    """The intra-class correlation rho of the negative share across windows (a window of n
    mentions has variance n p (1 - p) (1 + (n - 1) rho)), or 0 when a chi2 test of the windows
    finds no variation beyond binomial."""
    from scipy import stats

    seen = totals > 0
    n, k = totals[seen], counts[seen]
    share = k.sum() / n.sum() if n.sum() else 0.0
    if len(n) < 3 or share <= 0 or share >= 1:
        return 0.0
    pq = share * (1 - share)
    expected = n * share
    chi2 = float(((k - expected) ** 2 / (n * pq)).sum())
    df = len(n) - 1
    # Pearson's chi2 of sparse binomial windows (a topic with a few complaints a month) has a
    # far longer tail than chi2(df): each window adds (1 - 6pq) / (n pq) to its variance (the
    # binomial's excess kurtosis). A chi2 scaled to that mean and variance keeps the test at
    # its level there (0.25 % of binomial histories of 6 mentions a day, 3 % negative, at a
    # 1 % level); the plain chi2(df) found "variation" in 4 % and widened their bounds for
    # nothing.
    variance = max(2.0 * df + float(((1 - 6 * pq) / (n * pq)).sum()), float(df))
    scale = variance / (2.0 * df)
    if stats.chi2.sf(chi2 / scale, 2.0 * df * df / variance) >= SHARE_DISPERSION_P:
        return 0.0
    phi = chi2 / df
    mean_size = float((n * n).sum() / n.sum())  # the windows' sizes, weighted as the chi2 is
    if mean_size <= 1:
        return 0.0
    return float(min(max((phi - 1) / (mean_size - 1), 0.0), 0.99))


def upper_bound(mean: float, variance: float, level: float) -> float:
    """The `level` quantile of the negative binomial with this mean and variance (Poisson when
    the variance does not exceed the mean)."""
    from scipy import stats  # imported when a history is judged, not with the command line

    if mean <= 0:
        return 0.0
    if variance <= mean * (1 + 1e-9):
        return float(stats.poisson.ppf(level, mean))
    size = mean * mean / (variance - mean)
    return float(stats.nbinom.ppf(level, size, mean / variance))


@dataclass(frozen=True, slots=True)
class WeekdayPattern:
    """The weekday pattern of a business's volume, on the log scale of the mean."""

    effects: np.ndarray  # (7,) Monday..Sunday, averaging 0
    variance: np.ndarray  # (7,) the variance of each effect's estimate


def weekday_effects(volumes: Sequence[int], weekdays: Sequence[int]) -> WeekdayPattern | None:
    """The weekday pattern of all mentions' window counts, or None when the volumes show no
    weekday pattern (F test) or cannot carry one."""
    counts = np.asarray(volumes, dtype=float)
    days = np.asarray(weekdays, dtype=int)
    present = np.bincount(days, minlength=7) > 0
    totals = np.bincount(days, weights=counts, minlength=7)
    if len(counts) < 14 or not present.all() or (totals == 0).any():
        return None  # a weekday unseen or without any mention: its effect has no estimate
    design = _weekday_design(weekdays, counts, min_total=0)
    assert design is not None
    mean = _fit(counts, np.ones((len(counts), 1)), _row(0, 1))
    weekly = _fit(counts, design, _row(0, 7))
    if not _weekdays_matter(mean, weekly, len(counts)):
        return None
    effects = np.concatenate([[0.0], weekly.params[1:]])  # Monday is the reference level
    # effect d - mean of the 7 as a contrast of (intercept, Tuesday..Sunday): its variance.
    contrasts = np.zeros((7, 7))
    contrasts[:, 1:] = np.eye(7)[:, 1:] - 1.0 / 7
    variance = np.einsum("di,ij,dj->d", contrasts, weekly.cov, contrasts)
    return WeekdayPattern(np.asarray(effects - effects.mean()), np.maximum(variance, 0.0))


def _weekday_design(
    weekdays: Sequence[int], counts: np.ndarray, min_total: int = WEEKDAY_MIN_TOTAL
) -> np.ndarray | None:
    """Intercept and six weekday indicators, or None when the history cannot carry them."""
    days = np.asarray(weekdays, dtype=int)
    if counts.sum() < min_total:
        return None
    totals = np.bincount(days, weights=counts, minlength=7)
    present = np.bincount(days, minlength=7) > 0
    if not present.all() or (totals[present] == 0).any():
        return None  # a weekday never seen, or never negative: its effect has no estimate
    design = np.zeros((len(days), 7))
    design[:, 0] = 1.0
    for level in range(1, 7):
        design[:, level] = days == level
    return design


def _row(weekday: int, columns: int) -> np.ndarray:
    row = np.zeros(columns)
    row[0] = 1.0
    if columns == 7 and weekday > 0:
        row[weekday] = 1.0
    return row


@dataclass(frozen=True, slots=True)
class _Fit:
    eta0: float
    var_eta0: float
    phi: float
    deviance: float
    params: np.ndarray
    cov: np.ndarray  # of params, scaled by phi


def _weekdays_matter(mean: _Fit, weekly: _Fit, n: int) -> bool:
    """The drop-in-deviance F test of the weekday factor (6 and n - 7 degrees of freedom): kept
    only when it explains more than noise, since its four days a weekday cost precision."""
    from scipy import stats

    f = (mean.deviance - weekly.deviance) / 6 / weekly.phi
    return bool(stats.f.sf(f, 6, n - 7) < WEEKDAY_TEST_P)


def _fit(
    counts: np.ndarray,
    design: np.ndarray,
    x0: np.ndarray,
    offset: np.ndarray | None = None,
    offset0: float = 0.0,
) -> _Fit:
    """The quasi-Poisson fit: eta0, Var(eta0), phi and the deviance. `offset` (log scale, per
    window) is a known factor of each mean, `offset0` that of the window predicted."""
    # The GLM alone: statsmodels.api would import its time-series models too.
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on near-empty weekdays
        result = GLM(counts, design, family=families.Poisson(), offset=offset).fit(scale="X2")
    phi = max(1.0, float(result.scale))
    # cov_params() is scaled by the fitted scale; use phi (never below Poisson's) instead.
    cov = np.asarray(result.cov_params()) / float(result.scale or 1.0) * phi
    eta0 = float(x0 @ np.asarray(result.params)) + offset0
    return _Fit(eta0, float(x0 @ cov @ x0), phi, float(result.deviance),
                np.asarray(result.params), cov)
