"""The share estimator (reviewwatch/gap/quantify.py) on synthetic data with a known confusion."""

from __future__ import annotations

import numpy as np
import pytest

from reviewwatch.gap import quantify as q

# The model's behaviour: the probabilities it gives a text of each true class (rows: true
# negative, neutral, positive). It calls a third of the positives neutral, like the shipped
# model on product reviews (issue 27).
BEHAVIOUR = np.array(
    [
        [0.80, 0.15, 0.05],
        [0.15, 0.70, 0.15],
        [0.05, 0.43, 0.52],
    ]
)


def texts(counts: tuple[int, int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels and the model's probabilities for `counts` texts per class: each text's
    probabilities drawn around its class's row (a Dirichlet), so labels and averages err as
    BEHAVIOUR says."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), counts)
    probs = np.stack([rng.dirichlet(BEHAVIOUR[k] * 20) for k in labels])
    return labels.astype(np.int64), probs


def calibration(counts: tuple[int, int, int], seed: int, source: str = q.OWN) -> q.Calibration:
    labels, probs = texts(counts, seed)
    return q.Calibration(probs, labels, np.zeros(len(labels), dtype=np.int64), ("own",), source)


def test_pacc_recovers_a_share_the_raw_count_gets_wrong() -> None:
    truth = np.array([0.15, 0.15, 0.70])
    labels, probs = texts((300, 300, 1400), seed=1)
    raw = np.bincount(probs.argmax(axis=1), minlength=3) / len(labels)
    assert truth[2] - raw[2] > 0.10  # the model's own count misses many of the positives

    corrector = q.fit(calibration((400, 400, 400), seed=2), "PACC")
    shares = q.estimate(corrector, [None] * len(labels), probs)

    assert shares.method == "PACC" and shares.reliable and shares.note is None
    for label, true in zip(q.LABELS, truth, strict=True):
        estimate = shares.share(label)
        assert abs(estimate.value - true) < 0.03, (label, estimate)
        assert estimate.low <= true <= estimate.high, (label, estimate)
        assert 0.0 <= estimate.low <= estimate.high <= 1.0
    # the interval is honest, not vacuous
    assert shares.positive.high - shares.positive.low < 0.12


def test_acc_also_recovers_it() -> None:
    # (EMQ is not tried here: it needs probabilities that are calibrated posteriors, which these
    # synthetic ones are not; test_the_batched_solution_is_quapys checks it against quapy)
    labels, probs = texts((300, 300, 1400), seed=3)
    corrector = q.fit(calibration((400, 400, 400), seed=4), "ACC")
    shares = q.estimate(corrector, [None] * len(labels), probs)
    assert abs(shares.positive.value - 0.70) < 0.05
    assert shares.positive.low <= 0.70 <= shares.positive.high


def test_emq_on_recalibrated_probabilities_recovers_it_where_plain_emq_cannot() -> None:
    """These probabilities are not posteriors (a true positive gets 0.52 positive on average),
    so EM alone misreads the shares; fitted on the calibration set first, bias-corrected
    temperature scaling makes them posteriors, and EM then finds the new mix."""
    truth = np.array([0.15, 0.15, 0.70])
    labels, probs = texts((300, 300, 1400), seed=1)
    cal = calibration((400, 400, 400), seed=2)
    plain = q.estimate(q.fit(cal, "EMQ", replicates=100), [None] * len(labels), probs)
    shares = q.estimate(q.fit(cal, "EMQ-BCTS", replicates=100), [None] * len(labels), probs)
    assert shares.method == "EMQ-BCTS" and shares.reliable and shares.note is None
    assert abs(plain.positive.value - truth[2]) > 0.05  # what the recalibration is for
    for label, true in zip(q.LABELS, truth, strict=True):
        estimate = shares.share(label)
        assert abs(estimate.value - true) < 0.03, (label, estimate)
        assert estimate.low <= true <= estimate.high, (label, estimate)
    assert shares.positive.high - shares.positive.low < 0.12


def test_bcts_is_the_maximum_likelihood_fit_for_each_replicate() -> None:
    """adjust.bcts_fit's batched Newton steps land where a general optimiser does, for the
    calibration set and for each bootstrap weighting of it."""
    from scipy.optimize import minimize

    from reviewwatch.gap import adjust

    # probabilities that overlap between classes, as a real model's do (texts()'s are nearly
    # separable, where the likelihood keeps rising as the scale grows and only the ridge stops it)
    rng = np.random.default_rng(21)
    labels = np.repeat(np.arange(3), (120, 80, 200)).astype(np.int64)
    probs = np.stack([rng.dirichlet(BEHAVIOUR[k] * 3) for k in labels])
    phi = adjust.bcts_features(probs)

    def nll(theta: np.ndarray, w: np.ndarray) -> float:
        z = phi @ theta
        z = z - z.max(axis=1, keepdims=True)
        per = np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(labels)), labels]
        return float((w * per).sum() / w.sum())

    weights = np.stack([np.ones(len(labels))] + [
        np.bincount(rng.integers(0, len(labels), len(labels)), minlength=len(labels)) for _ in range(3)
    ]).astype(float)
    fitted = adjust.bcts_fit(probs, labels, weights)
    assert fitted.shape == (4, 3)
    np.testing.assert_allclose(adjust.bcts_fit(probs, labels), fitted[0], atol=1e-9)
    for w, theta in zip(weights, fitted, strict=True):
        best = minimize(nll, np.array([1.0, 0.0, 0.0]), args=(w,), method="BFGS",
                        options={"gtol": 1e-10}).x
        assert nll(theta, w) <= nll(best, w) + 1e-5
        np.testing.assert_allclose(theta, best, atol=0.02)
    recalibrated = adjust.bcts_apply(fitted[0], probs)
    np.testing.assert_allclose(recalibrated.sum(axis=1), 1.0)
    # calibrated: the mean recalibrated probability of each class is its share in the data
    np.testing.assert_allclose(recalibrated.mean(axis=0), np.bincount(labels) / len(labels), atol=0.01)


def test_the_batched_solution_is_quapys() -> None:
    import quapy.functional as F
    from quapy.method.aggregative import ACC, EMQ, PACC

    from reviewwatch.gap import adjust

    cal = calibration((200, 150, 250), seed=5)
    _, probs = texts((50, 80, 170), seed=6)
    rates = PACC.getPteCondEstim(np.arange(3), cal.labels, cal.probabilities)
    expected = ACC.solve_adjustment(rates, probs.mean(axis=0), method="inversion", solver="exact-raise")
    ours = adjust.adjust("PACC", rates[None], probs.mean(axis=0)[None])[0]
    np.testing.assert_allclose(ours, F.normalize_prevalence(expected, method="clip"), atol=1e-12)
    outside = np.array([[0.7, -0.1, 0.4], [0.0, 0.0, 0.0], [1.5, 0.2, 0.3]])
    np.testing.assert_allclose(adjust.clip(outside), F.normalize_prevalence(outside, method="clip"))
    priors = np.bincount(cal.labels, minlength=3) / cal.size
    np.testing.assert_allclose(adjust.weighted_em(priors, np.ones(len(probs)), probs),
                               EMQ.EM(priors, probs)[0], atol=1e-12)


def test_replicate_rates_in_numpy_are_quapys_rates() -> None:
    """The thousand replicate matrices are computed in numpy; they must be quapy's, including a
    resample that holds no text of one class (that column stays the identity's)."""
    from quapy.method.aggregative import ACC, PACC

    from reviewwatch.gap import adjust

    cal = calibration((60, 40, 80), seed=7)
    rng = np.random.default_rng(3)
    no_neutral = np.flatnonzero(cal.labels != 1)
    for rows in [rng.integers(0, cal.size, cal.size) for _ in range(5)] + [no_neutral]:
        labels, probs = cal.labels[rows], cal.probabilities[rows]
        np.testing.assert_allclose(
            adjust.rates("PACC", probs, labels, point=False),
            PACC.getPteCondEstim(np.arange(3), labels, probs), atol=1e-12)
        np.testing.assert_allclose(
            adjust.rates("ACC", probs, labels, point=False),
            ACC.getPteCondEstim(np.arange(3), labels, probs.argmax(axis=1)), atol=1e-12)


def test_many_mentions_get_the_interval_of_the_exact_bootstrap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above EXACT_MAX mentions the resampled sums come from their normal law: the interval is
    the one the exact resampling gives, to within a point."""
    corrector = q.fit(calibration((300, 300, 300), seed=18), "PACC")
    labels, probs = texts((200, 250, 550), seed=19)
    known = [int(k) if i % 3 == 0 else None for i, k in enumerate(labels)]
    fast = q.estimate(corrector, known, probs)
    monkeypatch.setattr(q, "EXACT_MAX", 10_000)
    exact = q.estimate(corrector, known, probs)
    assert fast.positive.value == exact.positive.value
    for label in q.LABELS:
        assert abs(fast.share(label).low - exact.share(label).low) < 0.01
        assert abs(fast.share(label).high - exact.share(label).high) < 0.01


def test_em_above_exact_max_resamples_groups_and_gets_the_exact_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above EXACT_MAX mentions EM's replicates draw groups of like mentions (probabilities to two
    decimals; labelled ones by label) instead of every mention: the same point, and the
    interval of the exact resampling to within a point."""
    corrector = q.fit(calibration((300, 300, 300), seed=18), "EMQ-BCTS", replicates=400)
    labels, probs = texts((200, 250, 550), seed=19)
    known = [int(k) if i % 3 == 0 else None for i, k in enumerate(labels)]
    weights = [1.0 + (i % 4) / 4 for i in range(len(labels))]  # recency-like weights
    grouped = q.estimate(corrector, known, probs, weights)
    monkeypatch.setattr(q, "EXACT_MAX", 10_000)
    exact = q.estimate(corrector, known, probs, weights)
    assert grouped.positive.value == exact.positive.value
    for label in q.LABELS:
        assert abs(grouped.share(label).low - exact.share(label).low) < 0.01
        assert abs(grouped.share(label).high - exact.share(label).high) < 0.01


def test_em_groups_keep_labelled_and_unlabelled_mentions_apart() -> None:
    """An unlabelled mention read as certainly negative (1, 0, 0) and a labelled negative one
    fall in different groups, and groups add up to the mentions."""
    onehot = np.array([[1.0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1.0]])
    probs = np.array([[1.0, 0, 0], [1.0, 0, 0], [0.2, 0.3, 0.5], [0.2, 0.3, 0.5]])
    unknown = np.array([False, True, True, False])
    g_onehot, g_probs, g_unknown, count, weight = q._em_groups(onehot, probs, unknown, np.ones(4))
    assert count.sum() == 4 and count.shape == (4,)
    assert sorted(g_unknown.tolist()) == [False, False, True, True]
    np.testing.assert_allclose(weight, 1.0)


def test_labelled_mentions_count_by_their_label() -> None:
    corrector = q.fit(calibration((100, 100, 100), seed=7), "PACC")
    _, probs = texts((0, 0, 4), seed=8)  # the model reads all four as rather positive...
    shares = q.estimate(corrector, [0, 0, 1, 2], probs)  # ...but people labelled them
    assert shares.method == "labels" and shares.quantified == 0 and shares.calibration is None
    assert (shares.negative.value, shares.neutral.value, shares.positive.value) == (0.5, 0.25, 0.25)


def test_labelled_and_quantified_mentions_combine_by_weight() -> None:
    corrector = q.fit(calibration((400, 400, 400), seed=9), "PACC")
    _, probs = texts((0, 0, 1000), seed=10)
    known = [0] * 1000 + [None] * 1000  # a thousand rated negative, a thousand unrated positive
    shares = q.estimate(corrector, known, np.vstack([probs, probs]))
    assert shares.labelled == 1000 and shares.quantified == 1000
    assert abs(shares.negative.value - 0.5) < 0.03 and abs(shares.positive.value - 0.5) < 0.03


def test_too_few_calibration_examples_leave_the_share_open_and_say_so() -> None:
    corrector = q.fit(calibration((40, 3, 40), seed=11), "PACC")
    assert not corrector.reliable and "neutral" in (corrector.note or "")
    _, probs = texts((10, 10, 40), seed=12)
    shares = q.estimate(corrector, [2] * 10 + [None] * 50, probs)
    # ten of sixty are labelled positive; the fifty others could be anything
    assert shares.positive.low == pytest.approx(10 / 60) and shares.positive.high == 1.0
    assert shares.negative.low == 0.0 and shares.negative.high == pytest.approx(50 / 60)
    assert not shares.reliable and shares.note


def test_a_model_at_chance_cannot_be_corrected() -> None:
    rng = np.random.default_rng(13)
    labels = np.repeat(np.arange(3), 200).astype(np.int64)
    probs = rng.dirichlet([5, 5, 5], size=len(labels))  # unrelated to the labels
    cal = q.Calibration(probs, labels, np.zeros(len(labels), dtype=np.int64), ("own",), q.OWN)
    corrector = q.fit(cal, "PACC")
    assert not corrector.reliable and "condition number" in (corrector.note or "")
    shares = q.estimate(corrector, [None] * 100, probs[:100])
    assert (shares.positive.low, shares.positive.high) == (0.0, 1.0)


def test_held_out_domains_that_disagree_widen_the_interval() -> None:
    """Two held-out domains whose rates differ: one domain per replicate, so the interval spans
    both corrections; the same rows as one domain give a narrower one."""
    first = calibration((300, 300, 300), seed=14)
    labels, probs = texts((300, 300, 300), seed=15)
    probs = probs[:, [0, 2, 1]] * 0.5 + probs * 0.5  # a domain where neutral and positive blur
    rows = np.concatenate([first.probabilities, probs]), np.concatenate([first.labels, labels])
    domains = np.repeat([0, 1], 900).astype(np.int64)
    held_out = q.Calibration(rows[0], rows[1], domains, ("a", "b"), q.HELD_OUT)
    pooled = q.Calibration(rows[0], rows[1], domains, ("a", "b"), q.OWN)
    # 2 000 mentions: enough that sampling (the Wilson floor of every interval) is not what
    # sets the pooled interval's width, the calibration is
    _, target = texts((400, 400, 1200), seed=16)
    wide = q.estimate(q.fit(held_out, "PCC"), [None] * 2000, target).positive
    narrow = q.estimate(q.fit(pooled, "PCC"), [None] * 2000, target).positive
    assert wide.high - wide.low > 1.5 * (narrow.high - narrow.low)


def test_unknown_method_and_empty_input_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown quantification method"):
        q.fit(calibration((20, 20, 20), seed=17), "XYZ")
    with pytest.raises(ValueError, match="no mentions"):
        q.estimate(q.fit(calibration((20, 20, 20), seed=17), "PCC"), [], np.zeros((0, 3)))


def test_a_few_mentions_that_agree_keep_a_sampling_interval() -> None:
    """Three negative reviews do not prove a positive share of exactly 0 %: the bootstrap's
    percentiles collapse there, the interval holds at least Wilson's (0-56 % at n = 3)."""
    corrector = q.fit(calibration((200, 150, 250), seed=5), "PACC", replicates=200)
    shares = q.estimate(corrector, [0, 0, 0], np.full((3, 3), 1 / 3))
    assert shares.method == "labels"
    assert (shares.positive.value, shares.positive.low) == (0.0, 0.0)
    assert shares.positive.high == pytest.approx(0.5615, abs=1e-3)
    assert (shares.negative.low, shares.negative.high) == (pytest.approx(0.4385, abs=1e-3), 1.0)


def _long_text_shift(seed: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """A synthetic shift like a long-review domain: 600 short texts the model reads as the
    calibration says, and 600 long ones, 70 % positive, on which it reads the positives as
    negative (a long review retelling a sad plot). Returns truth labels, probabilities, lengths."""
    short_labels, short_probs = texts((200, 200, 200), seed=seed)
    long_labels, long_probs = texts((180, 0, 420), seed=seed + 1)
    positive = long_labels == 2
    long_probs[positive] = long_probs[positive][:, [2, 1, 0]]  # positives read as negatives
    labels = np.concatenate([short_labels, long_labels])
    probs = np.vstack([short_probs, long_probs])
    lengths = [80] * len(short_labels) + [900] * len(long_labels)
    return labels, probs, lengths


def held_out_calibration(max_chars: int | None) -> q.Calibration:
    first, second = calibration((300, 300, 300), seed=20), calibration((200, 300, 400), seed=21)
    return q.Calibration(
        np.vstack([first.probabilities, second.probabilities]),
        np.concatenate([first.labels, second.labels]),
        np.repeat([0, 1], [first.size, second.size]).astype(np.int64),
        ("a", "b"), q.HELD_OUT, max_chars=max_chars)


def test_texts_longer_than_the_calibration_leave_their_part_of_the_interval_open() -> None:
    """On a synthetic shift the calibration cannot see (long texts read wrongly), the interval
    without the length rule misses the truth; with it, it holds it, and the note says why."""
    labels, probs, lengths = _long_text_shift(seed=22)
    truth = np.bincount(labels, minlength=3) / len(labels)
    corrector = q.fit(held_out_calibration(max_chars=200), "PCC")
    blind = q.estimate(corrector, [None] * len(labels), probs)  # lengths unknown: no rule
    assert not blind.positive.low <= truth[2] <= blind.positive.high
    assert blind.beyond_calibration == 0

    shares = q.estimate(corrector, [None] * len(labels), probs, lengths=lengths)
    assert shares.beyond_calibration == 600 and "over 200 characters" in (shares.note or "")
    for k, label in enumerate(q.LABELS):
        estimate = shares.share(label)
        assert estimate.low <= truth[k] <= estimate.high, (label, estimate, truth[k])
        assert estimate.value == getattr(blind, label).value  # the point is the same PCC
        # open for the long half: at least half the scale wide, not the whole of it
        assert 0.5 <= estimate.high - estimate.low < 0.8, (label, estimate)
    assert shares.to_dict()["beyond_calibration"] == 600


def test_without_a_length_limit_long_texts_change_nothing() -> None:
    """A business's own labels carry no limit (they come from its own texts)."""
    labels, probs, lengths = _long_text_shift(seed=23)
    corrector = q.fit(held_out_calibration(max_chars=None), "PCC")
    with_lengths = q.estimate(corrector, [None] * len(labels), probs, lengths=lengths)
    without = q.estimate(corrector, [None] * len(labels), probs)
    assert with_lengths.beyond_calibration == 0 and with_lengths.note is None
    assert with_lengths.positive == without.positive


def test_only_unlabelled_long_texts_are_beyond_the_calibration() -> None:
    """A long text whose reviewer rated it counts by its rating: nothing left open for it."""
    labels, probs, lengths = _long_text_shift(seed=24)
    corrector = q.fit(held_out_calibration(max_chars=200), "PCC")
    rated = [int(k) if n > 200 else None for k, n in zip(labels, lengths, strict=True)]
    shares = q.estimate(corrector, rated, probs, lengths=lengths)
    assert shares.beyond_calibration == 0 and shares.labelled == 600
    assert shares.positive.high - shares.positive.low < 0.2


def test_the_replicates_of_long_texts_span_their_open_part() -> None:
    """The competitors' statistics use the replicates: they must be as wide as the interval."""
    labels, probs, lengths = _long_text_shift(seed=25)
    corrector = q.fit(held_out_calibration(max_chars=200), "PCC")
    copies = q.replicate_shares(corrector, [None] * len(labels), probs, lengths=lengths)
    narrow = q.replicate_shares(corrector, [None] * len(labels), probs)
    spread = np.ptp(copies[:, 2])
    assert spread > 0.3 > np.ptp(narrow[:, 2])
    np.testing.assert_allclose(copies.sum(axis=1), 1.0, atol=1e-9)


def test_em_on_many_replicates_at_once_is_em_on_each() -> None:
    """adjust.weighted_em_batch (the bootstrap's EM, all replicates together) gives each row what
    adjust.weighted_em (quapy's updates and stopping rule) gives it alone, with shared or
    per-replicate probabilities."""
    from reviewwatch.gap import adjust

    labels, probs = texts((60, 40, 100), seed=31)
    rng = np.random.default_rng(32)
    priors = rng.dirichlet(np.ones(3) * 5, size=6)
    weights = rng.integers(0, 3, size=(6, len(labels))).astype(float)
    batch = adjust.weighted_em_batch(priors, weights, probs)
    for b in range(6):
        np.testing.assert_allclose(batch[b], adjust.weighted_em(priors[b], weights[b], probs), atol=1e-12)
    params = np.column_stack([rng.uniform(0.5, 2.0, 6), rng.normal(0, 1, (6, 2))])
    per_replicate = adjust.bcts_apply(params, probs)
    assert per_replicate.shape == (6, len(labels), 3)
    batch = adjust.weighted_em_batch(priors, weights, per_replicate)
    for b in range(6):
        alone = adjust.weighted_em(priors[b], weights[b], adjust.bcts_apply(params[b], probs))
        np.testing.assert_allclose(batch[b], alone, atol=1e-12)


def test_em_methods_fit_fewer_replicates_and_hand_out_as_many_as_the_others() -> None:
    """EM's replicates cost an EM run each: EM_REPLICATES by default, and replicate_shares draws
    from them up to REPLICATES so that a comparison can stack them with PCC's or PACC's."""
    cal = calibration((100, 100, 100), seed=41)
    em = q.fit(cal, "EMQ-BCTS")
    assert em.replicate_rates.shape == (q.EM_REPLICATES, 6)
    assert q.fit(cal, "PACC").replicate_rates.shape[0] == q.REPLICATES
    _, probs = texts((30, 30, 60), seed=42)
    copies = q.replicate_shares(em, [None] * len(probs), probs)
    assert copies.shape == (q.REPLICATES, 3)
    estimate = q.estimate(em, [None] * len(probs), probs)
    low, high = np.nanquantile(copies, [0.025, 0.975], axis=0)
    assert abs(low[2] - estimate.positive.low) < 0.02 and abs(high[2] - estimate.positive.high) < 0.02
