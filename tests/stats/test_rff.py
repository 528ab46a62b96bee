"""Tests of parity.stats.rff: the random-Fourier-feature MMD² permutation test for large n.

Kinds (DESIGN.md, "Tests"): hand-checkable feature identities; an oracle (the exact engine's
formulas on the Gram matrix of the very same features, every split enumerated); cross-method
agreement (RFF vs the exact MMD² within the Monte Carlo error of D features, p-values vs the
exact engine, chunk and block sizes, torch vs numpy); the split sampler's exact uniformity
(chi-square over every split of a tiny case); calibration under H0 and power under a shift;
the result contract and bad input.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
import sys
import warnings

import numpy as np
import pytest
import scipy.stats

from parity._install import install_hint
from parity.errors import DegenerateDataWarning, ParityInputError, ParityWarning
from parity.stats.permutation import two_sample_test
from parity.stats.rff import (
    DEFAULT_N_FEATURES,
    SplitSampler,
    allocate_frequencies,
    fourier_features,
    resolve_backend,
    rff_memory_bound,
    rff_two_sample_test,
)
from parity.stats.two_sample import mmd2, mmd2_from_sums, resolve_bandwidths, split_sums

# These tests pin parity 0.1's statistic, the MMD with one summed kernel (aggregation="sum"),
# exactly; the aggregated kernel collection (the default) is tested in test_aggregation.py.
rff_two_sample_test = functools.partial(rff_two_sample_test, aggregation="sum")
two_sample_test = functools.partial(two_sample_test, aggregation="sum")

pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")


def normal_pair(seed, n, m, d, shift=0.0):
    g = np.random.default_rng(seed)
    return g.normal(size=(n, d)), g.normal(size=(m, d)) + shift


def values(res):
    """Observed statistic followed by the null distribution."""
    r = res.results["mmd"]
    return np.concatenate([[r.statistic], r.null_distribution])


# --------------------------------------------------------------------------------------------
# features


def test_features_give_the_exact_diagonal_and_approach_the_kernel():
    z = np.random.default_rng(0).normal(size=(300, 3))
    bws = (0.7, 1.5, 3.0)
    a, c = z[:1], z[1:2]
    exact = sum(math.exp(-np.sum((a - c) ** 2) / (2 * s * s)) for s in bws)
    errors = []
    for n_features in (32, 8192):
        fmap = fourier_features(z, bws, n_features, rng=1)
        phi_a, phi_c = fmap(a), fmap(c)
        assert fmap.n_features == n_features
        assert (phi_a @ phi_a.T).item() == pytest.approx(len(bws), abs=1e-12)
        errors.append(abs((phi_a @ phi_c.T).item() - exact))
    assert errors[1] < 0.05
    assert errors[1] < errors[0]


def test_allocation_follows_the_monte_carlo_error_of_each_bandwidth():
    assert allocate_frequencies(100, [1.0, 1.0, 0.0]) == (46, 46, 8)
    assert allocate_frequencies(10, [0.0, 0.0]) == (5, 5)
    assert sum(allocate_frequencies(512, [0.9, 0.5, 0.1, 0.01, 0.0])) == 512
    z = np.random.default_rng(0).normal(size=(2000, 7))
    counts = fourier_features(z, resolve_bandwidths(z), 1024, rng=0).per_bandwidth
    assert list(counts) == sorted(counts, reverse=True)  # narrow kernels get more frequencies


# --------------------------------------------------------------------------------------------
# the statistic and the p-value against an oracle on the very same features


@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
def test_every_split_matches_the_engine_formula_on_the_feature_gram(estimator):
    x, y = normal_pair(3, 5, 6, 2, shift=0.8)
    res = rff_two_sample_test(
        x, y, 500, rng=7, n_features=64, mmd_estimator=estimator, precision="float64"
    )
    assert res.exact and res.n_resamples == math.comb(11, 5) == 462
    z = np.vstack([x, y])
    fmap = fourier_features(z, resolve_bandwidths(z), 64, np.random.default_rng(7))
    phi = fmap(z)
    oracle = []
    for rows in itertools.combinations(range(11), 5):
        order = list(rows) + [i for i in range(11) if i not in rows]
        gram = phi[order] @ phi[order].T
        oracle.append(mmd2_from_sums(split_sums(gram, 5), estimator))
    oracle = np.array(oracle)
    np.testing.assert_allclose(values(res)[1:], oracle, rtol=1e-9, atol=1e-12)
    assert res.results["mmd"].statistic == pytest.approx(oracle[0], rel=1e-9)
    expected_p = np.mean(oracle >= oracle[0] - 1e-10 * np.abs(oracle).max())
    assert res.pvalue == pytest.approx(expected_p)


def test_close_to_the_exact_mmd_within_the_monte_carlo_error_and_converges():
    """n = m = 2000, d = 5: |RFF − exact| ≤ 4 Monte Carlo sd of the D features (U and V).

    The Monte Carlo sd is estimated from the per-frequency terms of the V-statistic
    (``Σ_b F_b · var_j(term_j)``, i.i.d. frequencies; the scrambled Sobol' points do better).
    """
    x, y = normal_pair(11, 2000, 2000, 5, shift=0.1)
    z = np.vstack([x, y])
    bws = resolve_bandwidths(z)
    n_features, seed = 4096, 5
    fmap = fourier_features(z, bws, n_features, np.random.default_rng(seed))
    diff = fmap(x).mean(axis=0) - fmap(y).mean(axis=0)
    f = diff.size // 2
    terms = diff[:f] ** 2 + diff[f:] ** 2
    edges = np.cumsum((0, *fmap.per_bandwidth))
    mc_sd = math.sqrt(
        sum(
            k * np.var(terms[a:b])
            for k, a, b in zip(fmap.per_bandwidth, edges, edges[1:], strict=False)
        )
    )
    assert mc_sd < 0.05 * mmd2(x, y, estimator="biased")  # not vacuous: 3 % of the statistic
    for estimator in ("biased", "unbiased"):
        exact = mmd2(x, y, estimator=estimator)
        approx = rff_two_sample_test(
            x, y, 1, rng=seed, n_features=n_features, mmd_estimator=estimator
        ).results["mmd"]
        assert abs(approx.statistic - exact) <= 4 * mc_sd

    exact = mmd2(x, y, estimator="biased")
    rms = []
    for n_features in (64, 2048):
        err = [
            rff_two_sample_test(x, y, 1, rng=s, n_features=n_features, mmd_estimator="biased")
            .results["mmd"]
            .statistic
            - exact
            for s in range(6)
        ]
        rms.append(math.sqrt(np.mean(np.square(err))))
    assert rms[1] < rms[0] / 2.5  # Monte Carlo rate: sqrt(32) ≈ 5.7


def test_pvalue_agrees_with_the_exact_engine_on_a_moderate_shift():
    x, y = normal_pair(5, 400, 300, 3, shift=0.17)
    exact = two_sample_test(x, y, ("mmd",), 999, rng=0).pvalue
    approx = rff_two_sample_test(x, y, 999, rng=0, n_features=2048)
    assert 0.001 < exact < 0.5
    assert abs(approx.pvalue - exact) < 0.1 + 0.5 * exact
    e = two_sample_test(x, y, ("mmd",), 9, rng=0).results["mmd"].parameters["bandwidths"]
    assert approx.results["mmd"].parameters["bandwidths"] == e  # the same kernel


# --------------------------------------------------------------------------------------------
# streaming and backends


def test_chunk_and_block_sizes_give_identical_results():
    x, y = normal_pair(2, 21000, 19000, 3)
    runs = [
        rff_two_sample_test(x, y, 300, rng=4, n_features=32, chunk_size=c, block_size=b)
        for c, b in ((16384, 256), (40000, 1024), (10**6, 300))
    ]
    assert runs[0].details["chunk_size"] == 16384 and runs[1].details["chunk_size"] == 49152
    # The splits do not depend on the sizes; the float32 products do, at BLAS rounding (the
    # product's shape picks the kernel and its summation order): 2e-8 relative seen here.
    for other in runs[1:]:
        assert other.pvalue == runs[0].pvalue
        scale = np.max(np.abs(values(runs[0])))
        np.testing.assert_allclose(values(other), values(runs[0]), rtol=0, atol=1e-5 * scale)


def test_float32_products_agree_with_float64():
    x, y = normal_pair(8, 3000, 2500, 4)
    a = rff_two_sample_test(x, y, 200, rng=1, n_features=128, mmd_estimator="biased")
    b = rff_two_sample_test(
        x, y, 200, rng=1, n_features=128, mmd_estimator="biased", precision="float64"
    )
    assert a.precision == "float32" and b.precision == "float64"
    assert np.max(np.abs(values(a) - values(b))) < 1e-5 * np.mean(values(b))
    assert a.pvalue == b.pvalue


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_torch_cpu_backend_agrees_with_numpy(precision):
    pytest.importorskip("torch")
    x, y = normal_pair(9, 20000, 15000, 3, shift=0.02)
    kw = {"n_features": 64, "mmd_estimator": "biased", "precision": precision}
    a = rff_two_sample_test(x, y, 300, rng=2, **kw)
    b = rff_two_sample_test(x, y, 300, rng=2, device="cpu", **kw)
    assert b.details["backend"] == "torch" and b.details["device"] == "cpu"
    assert a.details["device"] == "numpy"
    rtol = 1e-5 if precision == "float32" else 1e-10
    assert np.max(np.abs(values(a) - values(b))) < rtol * np.mean(values(a))
    assert a.pvalue == b.pvalue


def test_exact_engine_on_a_torch_device_agrees_with_numpy():
    pytest.importorskip("torch")
    x, y = normal_pair(10, 1500, 1200, 3, shift=0.05)
    stats = ("mmd", "energy", "kl")
    a = two_sample_test(x, y, stats, 300, rng=3, precision="float64")
    b = two_sample_test(x, y, stats, 300, rng=3, precision="float64", device="cpu")
    assert a.details == {} and b.details == {"engine": "exact", "device": "cpu", "backend": "torch"}
    for name in stats:
        ra, rb = a.results[name], b.results[name]
        scale = np.abs(values(a) if name == "mmd" else ra.null_distribution).mean()
        assert np.max(np.abs(ra.null_distribution - rb.null_distribution)) < 1e-8 * scale
        assert ra.pvalue == rb.pvalue
    assert a.pvalue == b.pvalue


# --------------------------------------------------------------------------------------------
# the split sampler


@pytest.mark.parametrize(("n_total", "n", "tile"), [(7, 3, 2), (8, 2, 3), (6, 3, 6)])
def test_split_sampler_is_uniform_over_all_splits(n_total, n, tile):
    """Chi-square over all C(N, n) splits; several tiles make the hypergeometric counts matter."""
    draws = 200 * math.comb(n_total, n)
    splits = SplitSampler(n_total, n, draws, seed=[3, n_total], tile=tile).sample()
    assert np.all(splits.sum(axis=1) == n)
    codes = splits.astype(np.int64) @ (1 << np.arange(n_total))
    _, counts = np.unique(codes, return_counts=True)
    assert counts.size == math.comb(n_total, n)
    assert scipy.stats.chisquare(counts).pvalue > 1e-3


def test_split_sampler_blocks_are_the_same_splits():
    whole = SplitSampler(5000, 1200, 600, seed=[1]).sample()
    sampler = SplitSampler(5000, 1200, 600, seed=[1])
    counts = sampler.draw_counts(5000)
    part = np.empty((344, 5000), dtype=np.float32)
    sampler.fill(part, counts, 0, 256)
    np.testing.assert_array_equal(part, whole[256:600])
    assert np.all(whole.sum(axis=1) == 1200)


# --------------------------------------------------------------------------------------------
# calibration and power


def test_calibrated_under_h0():
    """200 data sets from one law: rejections at α = 0.05 within the 99% binomial interval."""
    alpha, reps = 0.05, 200
    g = np.random.default_rng(2024)
    rejections = 0
    for rep in range(reps):
        x, y = g.normal(size=(60, 2)), g.normal(size=(90, 2))
        p = rff_two_sample_test(x, y, 99, rng=rep, n_features=32).pvalue
        rejections += p <= alpha
    low, high = scipy.stats.binom.interval(0.99, reps, alpha)
    assert low <= rejections <= high


def test_power_against_a_mean_shift():
    g = np.random.default_rng(6)
    shift = np.array([0.5, 0.0, 0.0])
    rejected = sum(
        rff_two_sample_test(
            g.normal(size=(150, 3)), g.normal(size=(150, 3)) + shift, 99, rng=r
        ).pvalue
        <= 0.05
        for r in range(5)
    )
    assert rejected == 5
    x, y = normal_pair(1, 5000, 5000, 7, shift=0.15)
    res = rff_two_sample_test(x, y, 199, rng=0, n_features=256)
    assert res.pvalue == 1 / 200


# --------------------------------------------------------------------------------------------
# result contract


def test_result_names_the_method_and_is_deterministic():
    x, y = normal_pair(4, 300, 200, 2)
    a = rff_two_sample_test(x, y, 99, rng=3, n_features=48)
    b = rff_two_sample_test(x, y, 99, rng=3, n_features=48)
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    assert "random Fourier features" in a.method
    assert "random Fourier features" in a.results["mmd"].method
    assert a.details["engine"] == "rff" and a.details["n_features"] == 48
    assert sum(a.details["features_per_bandwidth"]) == 48
    assert a.details["memory_bound_bytes"] > 0
    params = a.results["mmd"].parameters
    assert params["estimator"] == "unbiased" and len(params["bandwidths"]) == 5
    assert "median pairwise distance" in params["bandwidth_rule"]
    assert 1 / 100 <= a.pvalue <= 1 and a.pvalue == a.results["mmd"].pvalue
    assert a.results["mmd"].null_distribution.shape == (99,)
    assert DEFAULT_N_FEATURES == 1024


def test_standardize_makes_the_test_unit_free():
    x, y = normal_pair(7, 200, 150, 3, shift=0.2)
    scale = np.array([1.0, 1000.0, 0.001])
    a = rff_two_sample_test(x, y, 99, rng=1, n_features=32, standardize=True)
    b = rff_two_sample_test(x * scale, y * scale, 99, rng=1, n_features=32, standardize=True)
    np.testing.assert_allclose(values(a), values(b), rtol=1e-8)
    assert a.pvalue == b.pvalue and a.standardized


def test_few_samples_warn_and_are_recorded():
    x, y = normal_pair(0, 3, 40, 1)
    with pytest.warns(DegenerateDataWarning, match="fewer than 5"):
        res = rff_two_sample_test(x, y, 50, rng=0, n_features=16)
    assert any("fewer than 5" in w for w in res.warnings)


def test_memory_bound_grows_with_n_only_through_the_pooled_copy():
    small = rff_memory_bound(10**6, 7, workers=2)
    large = rff_memory_bound(10**7, 7, workers=2)
    assert large - small == 9 * 10**6 * 7 * 8
    assert rff_memory_bound(2 * 10**6, 7, workers=2) < 0.5 * 2**30


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_features": 33}, "`n_features` must be even"),
        ({"n_features": 4}, r"`n_features` must be an even integer >= 2 × the number"),
        ({"mmd_estimator": "u"}, "`mmd_estimator` must be one of"),
        ({"precision": "half"}, "`precision` must be one of"),
        ({"chunk_size": 0}, "`chunk_size` must be an integer >= 1"),
        ({"block_size": 1.5}, "`block_size` must be an integer >= 1"),
        ({"tie_rtol": -1.0}, "`tie_rtol` must be a non-negative number"),
        ({"device": "tpu"}, "`device` must be None"),
        ({"device": 3}, "`device` must be None"),
        ({"bandwidths": [0.0]}, "`bandwidths` must be positive"),
    ],
)
def test_bad_options_raise_one_line_errors(kwargs, match):
    if kwargs.get("device") == "tpu":
        pytest.importorskip("torch")
    x, y = normal_pair(0, 20, 20, 2)
    with pytest.raises(ParityInputError, match=match):
        rff_two_sample_test(x, y, 10, rng=0, **kwargs)


def test_bad_samples_raise():
    with pytest.raises(ParityInputError, match="same dimension"):
        rff_two_sample_test(np.zeros((5, 2)), np.zeros((5, 3)), 10)
    with pytest.raises(ParityInputError, match="NaN"):
        rff_two_sample_test([1.0, np.nan, 2.0], [1.0, 2.0, 3.0], 10)


def test_cuda_without_a_gpu_says_what_is_available():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ParityInputError, match=r"`device` 'cuda' is not available.*\['cpu'\]"):
        resolve_backend("cuda", np.float32)


def test_missing_torch_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ParityInputError, match=re.escape(install_hint("torch"))):
        resolve_backend("cuda", np.float32)


def test_parity_warnings_are_not_raised_on_clean_data():
    x, y = normal_pair(0, 50, 50, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ParityWarning)
        rff_two_sample_test(x, y, 20, rng=0, n_features=16)
