"""Tests of parity.stats.conditional: the within-observation permutation test.

Kinds (DESIGN.md, "Tests"): exact enumeration against a brute-force itertools loop over every
within-observation relabelling, statistics against per-observation loops over
parity.stats.mmd2 / energy_distance, cross-method agreement (random vs exact, the two random
split generators, float32 vs float64), calibration under H0 and power against a within-
observation alternating offset that the pooled test cannot see, contributions, bad input.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import warnings

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats

import parity.stats.conditional as conditional_module
from parity.errors import DegenerateDataWarning, ParityInputError, ParityWarning
from parity.stats import conditional_two_sample_test, energy_distance, mmd2, two_sample_test
from parity.stats.two_sample import DEFAULT_BANDWIDTH_FACTORS

# These tests pin parity 0.1's statistic, the MMD with one summed kernel (aggregation="sum"),
# exactly; the aggregated kernel collection (the default) is tested in test_aggregation.py.
conditional_two_sample_test = functools.partial(conditional_two_sample_test, aggregation="sum")
two_sample_test = functools.partial(two_sample_test, aggregation="sum")

pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")

BOTH = ("mmd", "energy")


def heterogeneous(seed, n, k_ref, k_cand, d, offset=0.0, spread=5.0):
    """Observations with very different centres; the candidate shifted by ``offset`` × ±1."""
    g = np.random.default_rng(seed)
    centres = g.normal(scale=spread, size=(n, 1, d))
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None, None]
    x = centres + g.normal(size=(n, k_ref, d))
    y = centres + g.normal(size=(n, k_cand, d)) + offset * sign
    return x, y


def brute_bandwidths(x, y, factors=DEFAULT_BANDWIDTH_FACTORS):
    """Median over all within-observation pairwise distances × factors."""
    distances = np.concatenate(
        [scipy.spatial.distance.pdist(np.vstack([xi, yi])) for xi, yi in zip(x, y, strict=True)]
    )
    return [float(np.median(distances) * f) for f in factors]


def brute_terms(x, y, mask_rows, bandwidths, estimator="unbiased"):
    """Per-observation MMD² and energy terms of one relabelling (mask_rows[i]: x-rows of i)."""
    mmd_terms, energy_terms = [], []
    for xi, yi, rows in zip(x, y, mask_rows, strict=True):
        z = np.vstack([xi, yi])
        mask = np.zeros(z.shape[0], dtype=bool)
        mask[list(rows)] = True
        mmd_terms.append(mmd2(z[mask], z[~mask], bandwidths=bandwidths, estimator=estimator))
        energy_terms.append(energy_distance(z[mask], z[~mask]))
    return np.array(mmd_terms), np.array(energy_terms)


def brute_force(x, y, bandwidths, estimator="unbiased"):
    """Both statistics on every within-observation relabelling, in itertools.product order."""
    k = x.shape[1] + y.shape[1]
    combos = list(itertools.combinations(range(k), x.shape[1]))
    values = []
    for choice in itertools.product(combos, repeat=x.shape[0]):
        m, e = brute_terms(x, y, choice, bandwidths, estimator)
        values.append((math.fsum(m), math.fsum(e)))
    return np.array(values)


def brute_pvalues(null):
    """Per-statistic p-values and the Westfall–Young min-p family p-value of an exact null."""
    tol = 1e-9 * np.maximum(1.0, np.abs(null[0]))
    pcols = np.array([[np.mean(null[:, j] >= v - tol[j]) for v in null[:, j]] for j in (0, 1)])
    min_p = pcols.min(axis=0)
    return pcols[:, 0], float(np.mean(min_p <= min_p[0] * (1 + 1e-12)))


def run(x, y, statistics=BOTH, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParityWarning)
        return conditional_two_sample_test(x, y, statistics, **kwargs)


# --------------------------------------------------------------------------- exact cases


@pytest.mark.parametrize(
    ("seed", "n", "k_ref", "k_cand", "d", "estimator"),
    [
        (0, 2, 2, 2, 1, "unbiased"),
        (1, 2, 2, 3, 2, "unbiased"),
        (2, 3, 2, 2, 2, "biased"),
        (3, 1, 3, 4, 3, "unbiased"),
    ],
)
def test_exact_enumeration_equals_brute_force(seed, n, k_ref, k_cand, d, estimator):
    x, y = heterogeneous(seed, n, k_ref, k_cand, d, offset=0.8, spread=2.0)
    total = math.comb(k_ref + k_cand, k_ref) ** n
    res = run(x, y, n_resamples=total, rng=0, mmd_estimator=estimator)
    assert res.exact and res.n_resamples == total
    bws = brute_bandwidths(x, y)
    np.testing.assert_allclose(res.results["mmd"].parameters["bandwidths"], bws, rtol=1e-12)
    null = brute_force(x, y, bws, estimator)
    for j, name in enumerate(BOTH):
        got = res.results[name]
        np.testing.assert_allclose(got.null_distribution, null[:, j], rtol=0, atol=1e-12)
        assert got.statistic == pytest.approx(null[0, j], abs=1e-12)
        assert "within-observation permutation" in got.method
    pvalues, family = brute_pvalues(null)
    assert res.results["mmd"].pvalue == pytest.approx(pvalues[0], abs=1e-12)
    assert res.results["energy"].pvalue == pytest.approx(pvalues[1], abs=1e-12)
    assert res.pvalue == pytest.approx(family, abs=1e-12)
    assert "within-observation permutation" in res.method


def test_exact_hand_checkable_extreme_case():
    """2 observations of 2 + 2 well-separated samples. In each, 2 of the 6 splits (the observed
    one and its mirror) give the largest energy distance, so 2 × 2 = 4 of the 6² = 36
    relabellings tie with the observed statistic: p = 4/36, also the smallest attainable."""
    x = np.array([[[0.0], [0.1]], [[50.0], [50.1]]])
    y = np.array([[[10.0], [10.1]], [[60.0], [60.1]]])
    res = run(x, y, ("energy",), n_resamples=36)
    assert res.exact and res.n_resamples == 36
    assert res.pvalue == pytest.approx(4 / 36)
    assert res.min_attainable_pvalue == pytest.approx(4 / 36)


# --------------------------------------------------------------------------- statistic, shares


@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
def test_statistic_equals_per_observation_loop(estimator):
    x, y = heterogeneous(4, 30, 4, 6, 3, offset=0.3)
    res = run(x, y, n_resamples=19, rng=0, mmd_estimator=estimator, top=30)
    assert not res.exact
    bws = res.results["mmd"].parameters["bandwidths"]
    np.testing.assert_allclose(bws, brute_bandwidths(x, y), rtol=1e-12)
    m, e = brute_terms(x, y, [range(4)] * 30, bws, estimator)
    assert res.results["mmd"].statistic == pytest.approx(math.fsum(m), rel=1e-12, abs=1e-12)
    assert res.results["energy"].statistic == pytest.approx(math.fsum(e), rel=1e-12)
    for name, terms in (("mmd", m), ("energy", e)):
        listed = res.details["contributions"][name]
        assert [row[0] for row in listed] == list(np.argsort(-terms, kind="stable"))
        np.testing.assert_allclose([row[1] for row in listed], np.sort(terms)[::-1], atol=1e-12)
        np.testing.assert_allclose(
            [row[2] for row in listed], np.sort(terms)[::-1] / terms.sum(), rtol=1e-9
        )


def test_contributions_point_at_the_changed_observations():
    x, y = heterogeneous(5, 40, 8, 8, 2, spread=3.0)
    changed = [3, 17, 29]
    y[changed] += 3.0
    res = run(x, y, n_resamples=99, rng=0, top=4)
    assert res.pvalue == pytest.approx(0.01)
    for name in BOTH:
        rows = res.details["contributions"][name]
        assert len(rows) == 4
        assert sorted(row[0] for row in rows[:3]) == changed
        assert rows[3][1] < 0.5 * rows[2][1]
    assert res.details == {**res.details, "design": "conditional", "n_observations": 40}
    assert (res.details["k_reference"], res.details["k_candidate"]) == (8, 8)
    assert (res.n_x, res.n_y, res.dim) == (320, 320, 2)


def test_two_dimensional_input_is_one_column():
    x, y = heterogeneous(6, 10, 3, 5, 1, offset=0.5)
    a = run(x[..., 0], y[..., 0], n_resamples=99, rng=3)
    b = run(x, y, n_resamples=99, rng=3)
    assert a.to_dict() == b.to_dict()


# --------------------------------------------------------------------------- cross-method


@pytest.mark.parametrize("part_rows", [16, 3, 2])
def test_random_pvalues_agree_with_exact(monkeypatch, part_rows):
    """Random splits drawn from 1, 2 (hypergeometric) or 3 (multivariate) parts of rows."""
    monkeypatch.setattr(conditional_module, "PART_ROWS", part_rows)
    x, y = heterogeneous(7, 4, 2, 3, 1, offset=0.6, spread=1.0)
    exact = run(x, y, n_resamples=10**4, rng=0)
    assert exact.exact and exact.n_resamples == 10**4
    b = 3000
    res = run(x, y, n_resamples=b - 1, rng=1)
    assert not res.exact
    for name in BOTH:
        p = exact.results[name].pvalue
        sd = math.sqrt(p * (1 - p) / b)
        assert abs(res.results[name].pvalue - p) < 4 * sd + 1 / b
        observed = exact.results[name].statistic
        assert res.results[name].statistic == pytest.approx(observed, rel=1e-12)


def test_random_splits_beyond_63_bit_counts_are_permutations_of_the_observed_split():
    rows = conditional_module.random_splits(np.random.default_rng(0), 80, 40, 50)
    assert rows.shape == (50, 80) and np.all(rows.sum(axis=1) == 40)
    assert len({r.tobytes() for r in rows}) == 50


@pytest.mark.parametrize("part_rows", [16, 4, 2])
def test_random_splits_are_uniform(monkeypatch, part_rows):
    monkeypatch.setattr(conditional_module, "PART_ROWS", part_rows)
    rows = conditional_module.random_splits(np.random.default_rng(part_rows), 7, 3, 35_000)
    assert rows.dtype == np.uint8 and np.all(rows.sum(axis=1) == 3)
    codes = rows @ (1 << np.arange(7))
    counts = np.bincount(codes, minlength=128)[
        [sum(1 << i for i in c) for c in itertools.combinations(range(7), 3)]
    ]
    assert counts.sum() == 35_000
    assert scipy.stats.chisquare(counts).pvalue > 1e-3


def test_float32_and_float64_agree():
    x, y = heterogeneous(8, 50, 6, 6, 2, offset=0.2)
    r64 = run(x, y, n_resamples=199, rng=2, precision="float64")
    r32 = run(x, y, n_resamples=199, rng=2, precision="float32")
    assert r32.precision == "float32" and r32.tie_rtol == 1e-6
    assert "float32" in r32.results["mmd"].method
    for name in BOTH:
        assert r32.results[name].pvalue == r64.results[name].pvalue
        np.testing.assert_allclose(
            r32.results[name].null_distribution, r64.results[name].null_distribution, atol=1e-5
        )


def test_same_seed_same_result_and_json_round_trip():
    x, y = heterogeneous(9, 20, 4, 4, 2)
    a = run(x, y, n_resamples=99, rng=5)
    b = run(x, y, n_resamples=99, rng=5)
    c = run(x, y, n_resamples=99, rng=6)
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    assert not np.array_equal(
        a.results["mmd"].null_distribution, c.results["mmd"].null_distribution
    )
    assert json.loads(json.dumps(a.to_dict()))["details"]["design"] == "conditional"
    assert 0 < a.pvalue <= 1 and 0.01 <= a.min_attainable_pvalue <= 0.02


def test_standardized_exact_pvalues_invariant_to_column_affine_maps():
    x, y = heterogeneous(10, 2, 2, 3, 2, offset=0.5, spread=1.0)
    a = np.array([3.0, 0.01])
    base = run(x, y, n_resamples=100, standardize=True)
    moved = run(x * a + 7.0, y * a + 7.0, n_resamples=100, standardize=True)
    assert base.exact and moved.exact
    for name in BOTH:
        assert moved.results[name].pvalue == base.results[name].pvalue


def test_labels_swapped_give_the_same_statistics_when_sizes_match():
    x, y = heterogeneous(11, 15, 5, 5, 2, offset=0.4)
    a = run(x, y, n_resamples=99, rng=1)
    b = run(y, x, n_resamples=99, rng=1)
    for name in BOTH:
        assert b.results[name].statistic == pytest.approx(a.results[name].statistic, rel=1e-12)


# --------------------------------------------------------------------------- calibration, power


def binomial_99(n, p=0.05):
    low, high = scipy.stats.binom.interval(0.99, n, p)
    return low, high


def test_type_one_error_is_calibrated():
    """H0 with heterogeneous, skewed observations: rejection rate at α = 0.05 in its 99%
    binomial interval, for each statistic and the family. With B = 99, P(p ≤ 0.05) = 5/100."""
    reps = 300
    rejections = np.zeros(3)
    for seed in range(reps):
        g = np.random.default_rng(1000 + seed)
        scale = g.uniform(0.2, 5.0, size=(12, 1, 1))
        x = scale * g.exponential(size=(12, 3, 1))
        y = scale * g.exponential(size=(12, 4, 1))
        res = run(x, y, n_resamples=99, rng=seed)
        pvalues = [res.results["mmd"].pvalue, res.results["energy"].pvalue, res.pvalue]
        rejections += np.array(pvalues) <= 0.05
    low, high = binomial_99(reps)
    assert np.all((low <= rejections) & (rejections <= high)), rejections


def test_more_powerful_than_pooled_on_an_alternating_offset():
    """60 observations with centres spread 5σ apart, 8 + 8 samples each, the candidate offset by
    +0.5σ or -0.5σ in turn: the pooled distributions are almost equal (pooled power ≈ α), the
    conditional test sees the offset within every observation (power ≈ 1)."""
    reps = 20
    conditional = pooled = 0
    for seed in range(reps):
        x, y = heterogeneous(seed, 60, 8, 8, 2, offset=0.5)
        conditional += run(x, y, n_resamples=99, rng=seed).pvalue <= 0.05
        flat_x, flat_y = x.reshape(-1, 2), y.reshape(-1, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ParityWarning)
            pooled += two_sample_test(flat_x, flat_y, BOTH, 99, rng=seed).pvalue <= 0.05
    assert conditional >= 19
    assert pooled <= binomial_99(reps)[1]


# --------------------------------------------------------------------------- degenerate, bad input


def test_coinciding_samples_warn_and_are_recorded():
    x = np.zeros((3, 2, 1))
    with pytest.warns(DegenerateDataWarning, match="coincide"):
        res = conditional_two_sample_test(x, x, n_resamples=99)
    assert res.warnings and "coincide" in res.warnings[0]
    assert res.pvalue == 1.0


def test_few_samples_in_all_warn_and_are_recorded():
    x, y = heterogeneous(12, 2, 2, 3, 1)
    with pytest.warns(DegenerateDataWarning, match=r"fewer than 5 .* \(4 reference, 6 cand"):
        res = conditional_two_sample_test(x, y, n_resamples=100)
    assert res.exact and len(res.warnings) == 1


def test_no_parity_warning_on_ordinary_data():
    x, y = heterogeneous(13, 10, 3, 3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ParityWarning)
        res = conditional_two_sample_test(x, y, n_resamples=99, rng=0)
    assert res.warnings == ()


@pytest.mark.parametrize(
    ("x_shape", "y_shape", "kwargs", "match"),
    [
        ((3, 2, 1), (4, 2, 1), {}, r"same number of observations .* got 3 and 4"),
        ((3, 2, 1), (3, 2, 2), {}, r"same dimension d .* got 1 and 2"),
        ((3, 1, 1), (3, 2, 1), {}, r"`reference` must have at least 2 samples .* got 1"),
        ((3,), (3,), {}, r"`reference` must be 2-D .* got shape \(3,\)"),
        ((3, 2, 1), (3, 2, 1), {"statistics": ("kl",)}, r"'kl' is not supported"),
        ((3, 2, 1), (3, 2, 1), {"statistics": ("mmd", "mmd")}, r"distinct names"),
        ((3, 2, 1), (3, 2, 1), {"precision": "half"}, r"`precision` must be one of"),
        ((3, 2, 1), (3, 2, 1), {"mmd_estimator": "v"}, r"`mmd_estimator` must be one of"),
        ((3, 2, 1), (3, 2, 1), {"top": -1}, r"`top` must be an integer >= 0"),
        ((3, 2, 1), (3, 2, 1), {"tie_rtol": -1.0}, r"`tie_rtol` must be a non-negative"),
        ((3, 2, 1), (3, 2, 1), {"bandwidth_factors": ()}, r"`bandwidth_factors` must be"),
        ((3, 2, 1), (3, 2, 1), {"bandwidths": [-1.0]}, r"`bandwidths` must be positive"),
        ((3, 2, 1), (3, 2, 1), {"n_resamples": 0}, r"`n_resamples` must be an integer"),
    ],
)
def test_bad_input_names_the_parameter(x_shape, y_shape, kwargs, match):
    g = np.random.default_rng(0)
    with pytest.raises(ParityInputError, match=match):
        conditional_two_sample_test(g.normal(size=x_shape), g.normal(size=y_shape), **kwargs)


def test_nan_names_the_observations():
    x = np.zeros((6, 2, 1))
    x[4, 1, 0] = np.nan
    with pytest.raises(ParityInputError, match=r"`reference` has 1 NaN/inf .*observations 4\)"):
        conditional_two_sample_test(x, np.zeros((6, 2, 1)))
