"""Tests of parity.stats.bootstrap.bootstrap_ratio_of_means."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from parity.errors import DegenerateDataWarning, ParityInputError
from parity.stats import bootstrap
from parity.stats.bootstrap import RatioResult, bootstrap_ratio_of_means

# Any parity warning that a test does not expect with pytest.warns is a failure.
pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")


def _lognormal_pair(seed: int, n_ref: int = 25, n_cand: int = 40, ratio: float = 1.3):
    g = np.random.default_rng(seed)
    return g.lognormal(0.0, 0.6, n_ref), ratio * g.lognormal(0.0, 0.6, n_cand)


# --------------------------------------------------------------------------------------------
# exact cases and agreement with independent implementations


def test_statistic_is_ratio_of_means():
    res = bootstrap_ratio_of_means([1.0, 2.0, 3.0, 4.0, 5.0], [2, 4, 6, 8, 10.0], rng=0)
    assert res.statistic == 2.0
    assert res.reference_mean == 3.0 and res.candidate_mean == 6.0
    assert (res.n_reference, res.n_candidate) == (5, 5)
    assert res.method == "bootstrap BCa"
    assert res.n_resamples == 9999
    assert res.warnings == ()


def test_percentile_matches_brute_force_loop_on_the_same_resamples():
    ref, cand = _lognormal_pair(1, 12, 17)
    b = 500
    # The documented draw: row k of rng.random((B, n_ref + n_cand)) makes resample k.
    u = np.random.default_rng(42).random((b, ref.size + cand.size))
    ratios = []
    for row in u:
        ref_star = [ref[int(v * ref.size)] for v in row[: ref.size]]
        cand_star = [cand[int(v * cand.size)] for v in row[ref.size :]]
        ratios.append(np.mean(cand_star) / np.mean(ref_star))
    expected = np.quantile(ratios, [0.05, 0.95])
    res = bootstrap_ratio_of_means(ref, cand, method="percentile", n_resamples=b, rng=42)
    assert res.method == "bootstrap percentile"
    np.testing.assert_allclose(res.confidence_interval, expected, rtol=1e-12)
    assert res.standard_error == pytest.approx(np.std(ratios, ddof=1), rel=1e-10)


def test_result_does_not_depend_on_batch_size(monkeypatch):
    ref, cand = _lognormal_pair(2, 30, 20)
    whole = bootstrap_ratio_of_means(ref, cand, n_resamples=777, rng=5)
    monkeypatch.setattr(bootstrap, "_BATCH_BYTES", 32 * 50 * 7)  # 7 resamples per batch
    batched = bootstrap_ratio_of_means(ref, cand, n_resamples=777, rng=5)
    assert batched == whole


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_bca_agrees_with_scipy(seed):
    stats = pytest.importorskip("scipy.stats")
    ref, cand = _lognormal_pair(seed)

    def ratio(c, r, axis):
        return np.mean(c, axis=axis) / np.mean(r, axis=axis)

    oracle = stats.bootstrap(
        (cand, ref),
        ratio,
        vectorized=True,
        paired=False,
        method="BCa",
        confidence_level=0.90,
        n_resamples=9999,
        rng=np.random.default_rng(seed + 100),
    )
    res = bootstrap_ratio_of_means(ref, cand, confidence_level=0.90, rng=seed)
    assert res.method == "bootstrap BCa"
    expected = (oracle.confidence_interval.low, oracle.confidence_interval.high)
    # Monte Carlo sd of each endpoint is about 0.5% (measured over 20 seeds for both
    # implementations, means agreeing to 0.1%); 3% is about 4 sd of the difference.
    np.testing.assert_allclose(res.confidence_interval, expected, rtol=0.03)
    assert res.standard_error == pytest.approx(oracle.standard_error, rel=0.05)


def test_acceleration_matches_scipy_formula_for_equal_sizes():
    # With equal n, the per-sample influence formula equals the pooled jackknife formula.
    ref, cand = _lognormal_pair(7, 15, 15)
    loo_r = [np.mean(cand) / np.mean(np.delete(ref, i)) for i in range(ref.size)]
    loo_c = [np.mean(np.delete(cand, i)) / np.mean(ref) for i in range(cand.size)]
    theta = np.array(loo_r + loo_c)
    d = theta.mean() - theta
    pooled = np.sum(d**3) / (6 * np.sum(d**2) ** 1.5)
    # the per-sample means differ slightly from the pooled mean; agreement to a few percent
    assert bootstrap._acceleration(ref, cand) == pytest.approx(pooled, rel=0.05, abs=1e-4)


def test_coverage_of_90_percent_interval():
    # 200 replicates of lognormal data with a known ratio of means of 1.3.
    g = np.random.default_rng(2024)
    reps, true_ratio, hits = 200, 1.3, 0
    for _ in range(reps):
        ref = g.lognormal(0.0, 0.5, 30)
        cand = true_ratio * g.lognormal(0.0, 0.5, 40)
        low, high = bootstrap_ratio_of_means(ref, cand, n_resamples=1999, rng=g).confidence_interval
        hits += low <= true_ratio <= high
    # 0.90 ± 3.3 binomial standard errors (sd = sqrt(0.9·0.1/200) ≈ 0.021)
    assert 0.83 <= hits / reps <= 0.97


# --------------------------------------------------------------------------------------------
# degenerate data: warn, record, never crash


def test_both_means_zero_gives_ratio_one():
    with pytest.warns(DegenerateDataWarning):
        res = bootstrap_ratio_of_means(np.zeros(6), np.zeros(8), rng=0)
    assert res.statistic == 1.0
    assert res.confidence_interval == (1.0, 1.0)
    assert res.n_resamples == 0
    assert "reference mean is 0" in res.method
    assert any("both 0" in w for w in res.warnings)


def test_zero_reference_positive_candidate_gives_infinite_ratio():
    with pytest.warns(DegenerateDataWarning):
        res = bootstrap_ratio_of_means(np.zeros(6), [1.0, 2.0, 0.5, 3.0, 1.0], rng=0)
    assert res.statistic == math.inf
    assert res.confidence_interval == (math.inf, math.inf)
    assert res.to_dict()["confidence_interval"] == ["inf", "inf"]


def test_signed_zero_means_give_unbounded_interval():
    with pytest.warns(DegenerateDataWarning):
        res = bootstrap_ratio_of_means([-1.0, 1.0, -2.0, 2.0, 0.0], [-3.0, 3.0, 1, -1, 0], rng=0)
    assert res.statistic == 1.0
    assert res.confidence_interval == (-math.inf, math.inf)


def test_constant_samples_collapse_interval_to_the_point():
    with pytest.warns(DegenerateDataWarning):
        res = bootstrap_ratio_of_means(np.full(10, 0.1), np.full(7, 0.3), rng=0)
    assert res.statistic == pytest.approx(3.0)
    assert res.confidence_interval == (res.statistic, res.statistic)
    assert res.standard_error == 0.0
    assert sum("constant" in w for w in res.warnings) == 2


def test_one_constant_sample_still_bootstraps_the_other():
    cand = np.random.default_rng(0).normal(10.0, 1.0, 20)
    with pytest.warns(DegenerateDataWarning):
        res = bootstrap_ratio_of_means(np.full(20, 5.0), cand, rng=0)
    low, high = res.confidence_interval
    assert low < res.statistic < high
    assert res.method == "bootstrap BCa"


def test_small_samples_warn_and_are_recorded():
    with pytest.warns(DegenerateDataWarning):
        res = bootstrap_ratio_of_means([1.0, 2.0, 3.0], [2.0, 3.0, 4.0, 5.0, 6.0], rng=0)
    assert any("reference has only 3 values" in w for w in res.warnings)
    assert not any("candidate has only" in w for w in res.warnings)


def test_zeros_in_reference_make_unstable_resamples_but_no_crash():
    ref = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    with pytest.warns(DegenerateDataWarning):
        res = bootstrap_ratio_of_means(ref, [0.1, 0.2, 0.3, 0.2, 0.1, 0.2], rng=0)
    assert res.confidence_interval[1] == math.inf
    assert res.standard_error == math.inf
    json.dumps(res.to_dict())


def test_bca_falls_back_to_percentile_when_undefined():
    # leaving out the 9 makes the reference mean 0: the jackknife acceleration is undefined
    ref = [2.0, 3.0, -5.0, 9.0, 4.0, -4.0]
    with pytest.warns(DegenerateDataWarning):
        res = bootstrap_ratio_of_means(ref, [1.0, 2.0, 3.0, 4.0, 5.0], n_resamples=99, rng=0)
    assert res.method == "bootstrap percentile"
    assert any("used the percentile interval" in w for w in res.warnings)


def test_explicit_percentile_does_not_warn():
    ref, cand = _lognormal_pair(8)
    res = bootstrap_ratio_of_means(ref, cand, method="PERCENTILE", n_resamples=999, rng=0)
    assert res.method == "bootstrap percentile"
    assert res.warnings == ()


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"reference": [1.0, np.nan, 2.0]}, r"`reference` must have finite values; got 1 NaN"),
        ({"candidate": [1.0, np.inf]}, r"`candidate` must have finite values"),
        ({"reference": [1.0]}, r"`reference` must have at least 2 values; got 1"),
        ({"candidate": [[1.0, 2.0], [3.0, 4.0]]}, r"`candidate` must be 1-D.*\(2, 2\)"),
        ({"reference": ["a", "b"]}, r"`reference` must be a 1-D numeric array"),
        ({"confidence_level": 1.5}, r"`confidence_level` must be in \(0, 1\); got 1.5"),
        ({"confidence_level": 0.0}, r"`confidence_level` must be in \(0, 1\); got 0.0"),
        ({"n_resamples": 0}, r"`n_resamples` must be an integer >= 1; got 0"),
        ({"n_resamples": 2.5}, r"`n_resamples` must be an integer >= 1; got 2.5"),
        ({"method": "bca-ish"}, r"`method` must be 'BCa' or 'percentile'; got 'bca-ish'"),
        ({"rng": "seed"}, r"`rng` must be None, an int seed or a numpy.random.Generator"),
    ],
)
def test_bad_input_raises_one_line_error(kwargs, pattern):
    args = {"reference": [1.0, 2.0, 3.0, 4.0, 5.0], "candidate": [2.0, 3.0, 4.0, 5.0, 6.0]}
    args.update(kwargs)
    with pytest.raises(ParityInputError, match=pattern) as info:
        bootstrap_ratio_of_means(**args)
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------------------------
# determinism and serialisation


def test_same_seed_same_result_and_generator_equivalent_to_seed():
    ref, cand = _lognormal_pair(9)
    a = bootstrap_ratio_of_means(ref, cand, n_resamples=999, rng=11)
    b = bootstrap_ratio_of_means(ref, cand, n_resamples=999, rng=11)
    c = bootstrap_ratio_of_means(ref, cand, n_resamples=999, rng=np.random.default_rng(11))
    d = bootstrap_ratio_of_means(ref, cand, n_resamples=999, rng=12)
    assert a == b == c
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    assert d.confidence_interval != a.confidence_interval


def test_to_dict_json_round_trip():
    ref, cand = _lognormal_pair(10)
    res = bootstrap_ratio_of_means(ref, cand, n_resamples=999, rng=0)
    data = res.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {
        "statistic",
        "confidence_interval",
        "confidence_level",
        "n_resamples",
        "method",
        "standard_error",
        "reference_mean",
        "candidate_mean",
        "n_reference",
        "n_candidate",
        "warnings",
    }
    rebuilt = RatioResult(
        **{
            **data,
            "confidence_interval": tuple(data["confidence_interval"]),
            "warnings": tuple(data["warnings"]),
        }
    )
    assert rebuilt == res


def test_result_is_frozen():
    res = bootstrap_ratio_of_means([1.0, 2, 3, 4, 5], [1.0, 2, 3, 4, 6], n_resamples=99, rng=0)
    with pytest.raises(AttributeError):
        res.statistic = 2.0  # type: ignore[misc]


positive = arrays(
    np.float64,
    st.integers(5, 25),
    elements=st.floats(0.1, 100.0, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=30, deadline=None)
@given(ref=positive, cand=positive, seed=st.integers(0, 2**32 - 1))
def test_properties_on_positive_data(ref, cand, seed):
    if np.all(ref == ref[0]) or np.all(cand == cand[0]):
        return  # constant samples are covered by their own test (they warn)
    res = bootstrap_ratio_of_means(ref, cand, n_resamples=199, rng=seed, method="percentile")
    low, high = res.confidence_interval
    assert 0.0 < low <= high < math.inf
    assert res.statistic == pytest.approx(np.mean(cand) / np.mean(ref))
    # scaling the candidate scales the statistic and the interval
    scaled = bootstrap_ratio_of_means(
        ref, 3.0 * cand, n_resamples=199, rng=seed, method="percentile"
    )
    np.testing.assert_allclose(scaled.confidence_interval, (3 * low, 3 * high), rtol=1e-9)
    assert json.loads(json.dumps(res.to_dict())) == res.to_dict()
