"""Tests of parity.stats.bootstrap.bootstrap_ci (the general engine)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from parity.errors import DegenerateDataWarning, ParityInputError
from parity.stats import bootstrap
from parity.stats.bootstrap import BootstrapResult, bootstrap_ci

# Any parity warning that a test does not expect with pytest.warns is a failure.
pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")

scipy_stats = pytest.importorskip("scipy.stats")


def _diff_of_means(a, b, axis=-1):
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def _mean_minus_median(a, b, axis=-1):
    return np.mean(a, axis=axis) - np.median(b, axis=axis)


def _corr(a, b, axis=-1):
    a = a - np.mean(a, axis=axis, keepdims=True)
    b = b - np.mean(b, axis=axis, keepdims=True)
    return np.sum(a * b, axis=axis) / np.sqrt(np.sum(a * a, axis=axis) * np.sum(b * b, axis=axis))


def _data(kind: str, seed: int):
    g = np.random.default_rng(seed)
    x = g.lognormal(0.0, 0.7, 19)
    if kind == "mean":
        return (x,), np.mean, False
    if kind == "median":  # ties among resampled statistics: exercises the mid-rank z0
        return (np.round(x, 1),), np.median, False
    if kind == "two-sample":
        return (x, g.normal(1.0, 1.0, 26)), _mean_minus_median, False
    if kind == "paired-diff":
        return (x, x + g.normal(0.2, 0.5, 19)), _diff_of_means, True
    if kind == "paired-corr":
        return (x, x + g.normal(0.0, 0.5, 19)), _corr, True
    raise AssertionError(kind)


# --------------------------------------------------------------------------------------------
# exact cases


def test_percentile_and_basic_by_hand_from_the_index_matrix():
    x = np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0])
    b = 500
    # The documented draw: one (B, n) matrix rng.integers(0, n, (B, n)).
    idx = np.random.default_rng(7).integers(0, x.size, (b, x.size))
    means = np.array([np.mean([x[i] for i in row]) for row in idx])  # plain loop as oracle
    lo, hi = np.quantile(means, [0.05, 0.95])
    res = bootstrap_ci(
        (x,), np.mean, method="percentile", confidence_level=0.9, n_resamples=b, rng=7
    )
    assert res.method == "bootstrap percentile"
    np.testing.assert_allclose(res.bootstrap_distribution, means, rtol=1e-14)
    np.testing.assert_allclose(res.confidence_interval, (lo, hi), rtol=1e-14)
    assert res.statistic == 41.0 / 6.0
    assert res.standard_error == pytest.approx(np.std(means, ddof=1), rel=1e-12)
    basic = bootstrap_ci((x,), np.mean, method="basic", confidence_level=0.9, n_resamples=b, rng=7)
    np.testing.assert_allclose(
        basic.confidence_interval, (2 * res.statistic - hi, 2 * res.statistic - lo), rtol=1e-14
    )


def test_tiny_sample_percentile_interval_by_hand():
    # Three resamples of [0, 10]: the draws are printed so the interval can be checked by eye.
    idx = np.random.default_rng(3).integers(0, 2, (3, 2))
    assert idx.tolist() == [[1, 0], [0, 0], [0, 1]]  # means 5, 0, 5
    with pytest.warns(DegenerateDataWarning, match="only 2 values"):
        res = bootstrap_ci(([0.0, 10.0],), np.mean, method="percentile", n_resamples=3, rng=3)
    assert res.bootstrap_distribution.tolist() == [5.0, 0.0, 5.0]
    # quantiles 0.025 and 0.975 of {0, 5, 5} (positions 0.05 and 1.95): 0 + 0.05·5 and 5
    assert res.confidence_interval == pytest.approx((0.25, 5.0), rel=1e-14)


def test_bca_by_hand_with_scipy_formulas():
    from scipy.special import ndtr, ndtri

    x = np.array([0.3, 1.1, 1.9, 2.2, 3.5, 4.0, 6.8, 9.1])
    b, alpha = 2000, 0.025  # two-sided 95%
    theta_b = np.random.default_rng(11).integers(0, x.size, (b, x.size))
    theta_b = x[theta_b].mean(axis=1)
    theta = x.mean()
    z0 = ndtri((np.sum(theta_b < theta) + 0.5 * np.sum(theta_b == theta)) / b)
    jack = np.array([np.delete(x, i).mean() for i in range(x.size)])
    u = (x.size - 1) * (jack.mean() - jack)
    a = np.sum(u**3) / (6 * np.sum(u**2) ** 1.5)  # the 1/n³, 1/n² factors cancel
    z = ndtri([alpha, 1 - alpha])
    levels = ndtr(z0 + (z0 + z) / (1 - a * (z0 + z)))
    res = bootstrap_ci((x,), np.mean, n_resamples=b, rng=11)
    np.testing.assert_allclose(res.confidence_interval, np.quantile(theta_b, levels), rtol=1e-12)
    assert res.method == "bootstrap BCa"


# --------------------------------------------------------------------------------------------
# same draws as scipy.stats.bootstrap → the same interval


@pytest.mark.parametrize("kind", ["mean", "median", "two-sample", "paired-diff", "paired-corr"])
@pytest.mark.parametrize("method", ["BCa", "percentile", "basic"])
@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
@pytest.mark.parametrize("batch", [None, 37])
def test_same_interval_as_scipy(kind, method, alternative, batch):
    data, stat, paired = _data(kind, seed=len(kind))
    kw = dict(
        method=method,
        paired=paired,
        alternative=alternative,
        batch=batch,
        n_resamples=999,
        confidence_level=0.9,
    )
    ref_gen, our_gen = np.random.default_rng(5), np.random.default_rng(5)
    ref = scipy_stats.bootstrap(data, stat, vectorized=True, rng=ref_gen, **kw)
    res = bootstrap_ci(data, stat, rng=our_gen, **kw)
    np.testing.assert_array_equal(res.bootstrap_distribution, ref.bootstrap_distribution)
    expected = (ref.confidence_interval.low, ref.confidence_interval.high)
    np.testing.assert_allclose(res.confidence_interval, expected, rtol=1e-12, atol=1e-13)
    assert res.standard_error == pytest.approx(ref.standard_error, rel=1e-12)
    # and the generators were advanced alike
    assert our_gen.integers(2**62) == ref_gen.integers(2**62)


@pytest.mark.parametrize("kind", ["two-sample", "paired-diff", "mean"])
@pytest.mark.parametrize("batch", [None, 100, 450])
def test_same_interval_as_scipy_when_memory_chunks_split_batches(monkeypatch, kind, batch):
    # ~9 resamples per chunk: several samples are read from generator copies (the snapshot path)
    monkeypatch.setattr(bootstrap, "_BATCH_BYTES", 24 * 45 * 9)
    data, stat, paired = _data(kind, seed=3)
    ref = scipy_stats.bootstrap(
        data, stat, paired=paired, batch=batch, n_resamples=1001, rng=np.random.default_rng(9)
    )
    res = bootstrap_ci(data, stat, paired=paired, batch=batch, n_resamples=1001, rng=9)
    np.testing.assert_array_equal(res.bootstrap_distribution, ref.bootstrap_distribution)
    np.testing.assert_allclose(
        res.confidence_interval, tuple(ref.confidence_interval), rtol=1e-12, atol=1e-13
    )


@pytest.mark.parametrize("level", [0.5, 0.8, 0.99])
def test_same_interval_as_scipy_three_samples_and_levels(level):
    g = np.random.default_rng(int(level * 100))
    data = (g.normal(size=12), g.gamma(2.0, size=15), g.normal(size=9))

    def stat(a, b, c, axis=-1):
        return np.mean(a, axis=axis) * np.std(b, axis=axis) - np.max(c, axis=axis)

    ref = scipy_stats.bootstrap(data, stat, confidence_level=level, rng=np.random.default_rng(1))
    res = bootstrap_ci(data, stat, confidence_level=level, rng=np.random.default_rng(1))
    np.testing.assert_allclose(
        res.confidence_interval, tuple(ref.confidence_interval), rtol=1e-12, atol=1e-13
    )


# --------------------------------------------------------------------------------------------
# strata


def test_stratified_index_matrices_keep_stratum_sizes_and_positions():
    labels = np.array(["b", "a", "b", "c", "a", "b", "b", "c", "a", "b"])
    x = np.arange(10.0)
    units = bootstrap._units([x], False, labels)
    chunks = list(bootstrap._resample_indices(units, 300, None, np.random.default_rng(0), 64))
    idx = np.concatenate([c[0] for c in chunks])
    assert idx.shape == (300, 10)
    # every column draws only from its own stratum, so every stratum keeps its size
    np.testing.assert_array_equal(labels[idx], np.broadcast_to(labels, idx.shape))
    for lab in "abc":
        assert np.all((labels[idx] == lab).sum(axis=1) == (labels == lab).sum())
    # documented draw order: strata in sorted label order, rng.integers(0, n_s, (B, n_s)) each
    g = np.random.default_rng(0)
    for lab in "abc":
        pos = np.flatnonzero(labels == lab)
        np.testing.assert_array_equal(idx[:, pos], pos[g.integers(0, pos.size, (300, pos.size))])


def test_single_stratum_is_the_unstratified_bootstrap():
    x = np.random.default_rng(2).normal(size=25)
    plain = bootstrap_ci((x,), np.mean, rng=4)
    one = bootstrap_ci((x,), np.mean, strata=np.zeros(25), rng=4)
    assert one == plain
    np.testing.assert_array_equal(one.bootstrap_distribution, plain.bootstrap_distribution)


def test_stratified_two_samples_as_strata_match_two_independent_samples():
    # Pooling two independent samples and stratifying by sample gives the same draws, the same
    # bootstrap distribution and the same BCa interval (the jackknife groups are the strata).
    # The pooled statistic must not depend on positions (the jackknife removes one value), so
    # the second sample is stored negated and told apart by its sign.
    g = np.random.default_rng(8)
    x, y = g.lognormal(size=14), g.lognormal(size=11)

    def pooled_diff(z, axis=-1):
        pos = z > 0
        return np.sum(z * pos, axis=axis) / np.sum(pos, axis=axis) + np.sum(
            z * ~pos, axis=axis
        ) / np.sum(~pos, axis=axis)

    two = bootstrap_ci((x, y), _diff_of_means, n_resamples=1999, rng=3)
    strat = bootstrap_ci(
        (np.concatenate([x, -y]),), pooled_diff, strata=[0] * 14 + [1] * 11, n_resamples=1999, rng=3
    )
    assert strat.method == "stratified bootstrap BCa"
    np.testing.assert_allclose(strat.bootstrap_distribution, two.bootstrap_distribution, rtol=1e-12)
    np.testing.assert_allclose(strat.confidence_interval, two.confidence_interval, rtol=1e-10)


def test_stratified_jackknife_acceleration_by_hand():
    g = np.random.default_rng(12)
    x = g.gamma(1.5, size=20)
    labels = np.repeat([0, 1, 2], [6, 8, 6])
    units = bootstrap._units([x], False, labels)
    got = bootstrap._jackknife_acceleration([x], np.mean, units)
    num = den = 0.0
    for s in range(3):
        pos = np.flatnonzero(labels == s)
        jack = np.array([np.delete(x, i).mean() for i in pos])
        u = (pos.size - 1) * (jack.mean() - jack)
        num += np.sum(u**3) / pos.size**3
        den += np.sum(u**2) / pos.size**2
    assert got == pytest.approx(num / (6 * den**1.5), rel=1e-12)


def test_per_sample_strata_for_independent_samples():
    g = np.random.default_rng(13)
    x, y = g.normal(size=12), g.normal(size=9)
    sx, sy = np.repeat([0, 1], 6), np.repeat(["u", "v", "w"], 3)
    res = bootstrap_ci((x, y), _diff_of_means, strata=[sx, sy], n_resamples=500, rng=0)
    assert res.method == "stratified bootstrap BCa"
    units = bootstrap._units([x, y], False, [sx, sy])
    idx = next(bootstrap._resample_indices(units, 50, None, np.random.default_rng(0), 100))
    np.testing.assert_array_equal(sx[idx[0]], np.broadcast_to(sx, (50, 12)))
    np.testing.assert_array_equal(sy[idx[1]], np.broadcast_to(sy, (50, 9)))


# --------------------------------------------------------------------------------------------
# calibration


@pytest.mark.parametrize(
    ("name", "band"),
    # 300 replicates: binomial sd ≈ 0.017 at 0.9. BCa for the mean at n = 30 under-covers a
    # little (≈ 0.88 normal, ≈ 0.86 lognormal σ = 0.75 in longer runs), hence the bands.
    [("normal", (0.84, 0.95)), ("lognormal", (0.79, 0.93))],
)
def test_coverage_of_90_percent_bca_interval_of_the_mean(name, band):
    g = np.random.default_rng(2025)
    if name == "normal":
        draw, truth = (lambda: g.normal(1.0, 2.0, 30)), 1.0
    else:
        draw, truth = (lambda: g.lognormal(0.0, 0.75, 30)), math.exp(0.75**2 / 2)
    reps = 300
    hits = 0
    for _ in range(reps):
        low, high = bootstrap_ci(
            (draw(),), np.mean, confidence_level=0.9, n_resamples=999, rng=g
        ).confidence_interval
        hits += low <= truth <= high
    assert band[0] <= hits / reps <= band[1]


# --------------------------------------------------------------------------------------------
# reproducibility and the result object


def test_same_seed_same_result_and_generator_is_advanced():
    x = np.random.default_rng(0).normal(size=40)
    a = bootstrap_ci((x,), np.median, rng=123)
    b = bootstrap_ci((x,), np.median, rng=123)
    assert a == b and a.to_dict() == b.to_dict()
    np.testing.assert_array_equal(a.bootstrap_distribution, b.bootstrap_distribution)
    g = np.random.default_rng(123)
    first = bootstrap_ci((x,), np.median, rng=g)
    second = bootstrap_ci((x,), np.median, rng=g)
    assert first == a and second != first


def test_result_does_not_depend_on_memory_budget(monkeypatch):
    g = np.random.default_rng(1)
    data = (g.normal(size=30), g.normal(size=20))
    whole = bootstrap_ci(data, _diff_of_means, n_resamples=777, rng=5)
    monkeypatch.setattr(bootstrap, "_BATCH_BYTES", 24 * 100 * 7)  # 7 resamples per chunk
    chunked = bootstrap_ci(data, _diff_of_means, n_resamples=777, rng=5)
    assert chunked == whole
    np.testing.assert_array_equal(chunked.bootstrap_distribution, whole.bootstrap_distribution)


def test_result_is_frozen_json_safe_and_leaves_out_the_distribution():
    res = bootstrap_ci(([1.0, 3.0, 2.0, 5.0, 4.0, 8.0],), np.mean, n_resamples=200, rng=0)
    assert isinstance(res, BootstrapResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.statistic = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.bootstrap_distribution[0] = 0.0
    d = res.to_dict()
    assert "bootstrap_distribution" not in d
    assert set(d) == {
        "statistic",
        "confidence_interval",
        "confidence_level",
        "n_resamples",
        "method",
        "standard_error",
        "alternative",
        "warnings",
    }
    assert json.loads(json.dumps(d)) == d
    full = res.to_dict(include_distribution=True)
    assert len(full["bootstrap_distribution"]) == 200
    one_sided = bootstrap_ci(([1.0, 3.0, 2.0, 5.0, 4.0],), np.mean, alternative="less", rng=0)
    assert one_sided.confidence_interval[0] == -math.inf
    assert one_sided.to_dict()["confidence_interval"][0] == "-inf"


def test_flat_sequence_is_one_sample():
    x = [2.0, 4.0, 1.0, 7.0, 5.0, 3.0]
    assert bootstrap_ci(x, np.mean, rng=1) == bootstrap_ci((x,), np.mean, rng=1)
    assert bootstrap_ci(np.array(x), np.mean, rng=1) == bootstrap_ci((x,), np.mean, rng=1)


@settings(max_examples=25, deadline=None)
@given(
    arrays(np.float64, st.integers(5, 30), elements=st.floats(-1e3, 1e3)),
    st.sampled_from(["BCa", "percentile"]),
)
def test_interval_of_the_mean_lies_within_the_data(x, method):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        res = bootstrap_ci((x,), np.mean, method=method, n_resamples=199, rng=0)
    low, high = res.confidence_interval
    tol = 1e-9 * (1 + np.max(np.abs(x)))
    assert x.min() - tol <= low <= high <= x.max() + tol


# --------------------------------------------------------------------------------------------
# degenerate data: warn, record, never crash


def test_constant_sample_falls_back_to_percentile_with_warnings():
    with pytest.warns(DegenerateDataWarning) as rec:
        res = bootstrap_ci((np.full(10, 2.5),), np.mean, rng=0)
    assert res.confidence_interval == (2.5, 2.5)
    assert res.method == "bootstrap percentile (fallback from BCa)"
    assert res.standard_error == 0.0
    assert any("constant" in w for w in res.warnings)
    assert any("zero width" in w for w in res.warnings)
    assert any("BCa interval undefined" in w for w in res.warnings)
    assert {str(w.message) for w in rec} == set(res.warnings)


def test_all_resamples_on_one_side_falls_back_to_percentile():
    def n_distinct(x, axis=-1):
        s = np.sort(x, axis=axis)
        return np.sum(np.diff(s, axis=axis) != 0, axis=axis) + 1.0

    x = np.arange(12.0)  # a resample has all 12 values with probability 12!/12^12 ≈ 5e-5
    with pytest.warns(DegenerateDataWarning, match="below the estimate"):
        res = bootstrap_ci((x,), n_distinct, n_resamples=999, rng=0)
    assert res.method == "bootstrap percentile (fallback from BCa)"
    assert res.statistic == 12.0
    assert res.confidence_interval[1] < 12.0


def test_nan_statistics_give_an_undefined_interval_not_a_crash():
    def fragile(x, axis=-1):
        m = np.mean(x, axis=axis)
        return np.where(m > 3.0, np.nan, m)

    with pytest.warns(DegenerateDataWarning, match="NaN"):
        res = bootstrap_ci(([1.0, 2.0, 3.0, 4.0, 5.0, 6.0],), fragile, n_resamples=300, rng=0)
    assert all(math.isnan(v) for v in res.confidence_interval)
    assert res.to_dict()["confidence_interval"] == ["nan", "nan"]


def test_small_sample_warns():
    with pytest.warns(DegenerateDataWarning, match=r"data\[1\] has only 3 values"):
        res = bootstrap_ci(
            ([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.5, 2.0]), _diff_of_means, n_resamples=99, rng=0
        )
    assert len(res.warnings) == 1


# --------------------------------------------------------------------------------------------
# input errors


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(data=([1.0, np.nan, 3.0],)), r"`data\[0\]` must have finite values; got 1 NaN/inf"),
        (dict(data=([1.0, 2.0], [1.0, np.inf, 2.0])), r"`data\[1\]` must have finite values"),
        (dict(data=([1.0],)), r"`data\[0\]` must have at least 2 values; got 1"),
        (dict(data=([[1.0, 2.0], [3.0, 4.0]],)), r"`data\[0\]` must be 1-D"),
        (dict(data=()), "`data` must contain at least one sample"),
        (dict(data=5.0), "`data` must be a sequence of samples"),
        (dict(strata=[0, 1, 0]), r"`strata` must have one label per observation of `data\[0\]`"),
        (dict(strata=[0.0, np.nan, 1.0, 1.0, 0.0]), "`strata` labels must not be NaN"),
        (dict(confidence_level=0.0), r"`confidence_level` must be in \(0, 1\); got 0.0"),
        (dict(confidence_level=1.0), r"`confidence_level` must be in \(0, 1\)"),
        (dict(confidence_level=1.5), r"`confidence_level` must be in \(0, 1\); got 1.5"),
        (dict(method="studentized"), "`method` must be one of 'bca', 'percentile', 'basic'"),
        (dict(method=None), "`method` must be one of"),
        (dict(alternative="both"), "`alternative` must be one of 'two-sided', 'less', 'greater'"),
        (dict(n_resamples=0), "`n_resamples` must be an integer >= 1; got 0"),
        (dict(batch=0), "`batch` must be an integer >= 1; got 0"),
        (dict(paired="yes"), "`paired` must be True or False"),
        (dict(statistic=3), "`statistic` must be callable"),
        (dict(statistic=lambda x, axis=-1: x), "`statistic` must return one number"),
        (dict(rng="seed"), "`rng` must be None, an int seed or a numpy.random.Generator"),
    ],
)
def test_input_errors(kwargs, match):
    call = dict(data=([1.0, 2.0, 3.0, 4.0, 5.0],), statistic=np.mean, n_resamples=50, rng=0)
    call.update(kwargs)
    with pytest.raises(ParityInputError, match=match):
        bootstrap_ci(call.pop("data"), call.pop("statistic"), **call)


def test_paired_samples_must_have_equal_lengths():
    with pytest.raises(ParityInputError, match="same length; got lengths 5, 6"):
        bootstrap_ci(([1.0] * 5, [2.0] * 6), _diff_of_means, paired=True)


def test_statistic_that_is_not_vectorized_is_reported():
    def scalar_only(x, axis=-1):
        return float(np.mean(x))

    with pytest.raises(ParityInputError, match=r"one value per resample: shape \(50,\)"):
        bootstrap_ci(([1.0, 2.0, 3.0, 4.0, 5.0],), scalar_only, n_resamples=50, rng=0)


def test_per_sample_strata_errors():
    x, y = [1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    with pytest.raises(ParityInputError, match=r"`strata\[1\]` must have one label per"):
        bootstrap_ci((x, y), _diff_of_means, strata=[[0] * 5, [0] * 5])
    with pytest.raises(ParityInputError, match="got 3 arrays"):
        bootstrap_ci((x, y), _diff_of_means, strata=[[0] * 5, [0] * 6, [0]])
    with pytest.raises(ParityInputError, match="`strata` must be one 1-D array of labels; got 2"):
        bootstrap_ci((x, x), _diff_of_means, paired=True, strata=[[0] * 5, [0] * 5])


@pytest.mark.parametrize("spelling", ["bca", "BCa", "BCA"])
def test_method_spellings_give_one_result(spelling):
    data = np.random.default_rng(2).normal(size=30)
    res = bootstrap_ci(data, np.mean, method=spelling, n_resamples=199, rng=0)
    canonical = bootstrap_ci(data, np.mean, n_resamples=199, rng=0)
    assert res.method == "bootstrap BCa"
    assert res.confidence_interval == canonical.confidence_interval
