"""Tests of parity.stats.permutation: the shared-split permutation engine and its p-values.

Kinds (DESIGN.md, "Tests"): hand-checkable split enumeration and counting; an independent
oracle (scipy.stats.permutation_test enumerating every split) for exact p-values; cross-method
agreement (random vs exact, float32 vs float64, block sizes, seeds, a brute-force Westfall–Young
recomputation); calibration under H0 and power under a shift; hypothesis properties; bad input.
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
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from parity.errors import DegenerateDataWarning, ParityInputError, ParityWarning
from parity.stats.permutation import (
    STATISTICS,
    exceedance_counts,
    split_blocks,
    two_sample_test,
)
from parity.stats.two_sample import binned_kl, energy_distance, mmd2

# These tests pin parity 0.1's statistic, the MMD with one summed kernel (aggregation="sum"),
# exactly; the aggregated kernel collection (the default) is tested in test_aggregation.py.
two_sample_test = functools.partial(two_sample_test, aggregation="sum")

# Any parity warning that a test does not expect with pytest.warns is a failure.
pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")


def run(x, y, statistics=STATISTICS, **kwargs):
    """two_sample_test with parity warnings silenced (they stay recorded in result.warnings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParityWarning)
        return two_sample_test(x, y, statistics, **kwargs)


def normal_pair(seed, n, m, d, shift=0.0):
    g = np.random.default_rng(seed)
    return g.normal(size=(n, d)), g.normal(size=(m, d)) + shift


# --------------------------------------------------------------------------------------------
# an independent oracle: scipy.stats.permutation_test over index arrays


class Oracle:
    """The three statistics on any split of the pooled rows, from brute-force matrices.

    Distances come from explicit differences (identical rows are exactly 0), block sums from
    math.fsum (correctly rounded, so splits that are mathematically tied give equal floats).
    """

    def __init__(self, z, bandwidths, bins, smoothing, direction):
        self.z = np.asarray(z, float)
        diff = self.z[:, None, :] - self.z[None, :, :]
        sq = np.einsum("ijk,ijk->ij", diff, diff)
        self.dist = np.sqrt(sq)
        self.kern = sum(np.exp(-sq / (2 * s * s)) for s in bandwidths)
        self.kern_off = self.kern.copy()
        np.fill_diagonal(self.kern_off, 0.0)
        self.edges = [np.histogram_bin_edges(self.z[:, j], bins=bins) for j in range(z.shape[1])]
        self.smoothing, self.direction = smoothing, direction

    @staticmethod
    def _sum(matrix, a, b):
        return math.fsum(matrix[np.ix_(a, b)].ravel())

    def mmd(self, a, b, estimator="unbiased"):
        n, m = len(a), len(b)
        cross = -2 * self._sum(self.kern, a, b) / (n * m)
        if estimator == "biased":
            return math.fsum(
                [self._sum(self.kern, a, a) / n**2, self._sum(self.kern, b, b) / m**2, cross]
            )
        xx = self._sum(self.kern_off, a, a) / (n * (n - 1))
        return math.fsum([xx, self._sum(self.kern_off, b, b) / (m * (m - 1)), cross])

    def energy(self, a, b):
        n, m = len(a), len(b)
        return math.fsum(
            [
                2 * self._sum(self.dist, a, b) / (n * m),
                -self._sum(self.dist, a, a) / n**2,
                -self._sum(self.dist, b, b) / m**2,
            ]
        )

    def kl(self, a, b):
        terms = []
        alpha = self.smoothing
        for j, e in enumerate(self.edges):
            cx, _ = np.histogram(self.z[a, j], bins=e)
            cy, _ = np.histogram(self.z[b, j], bins=e)
            p = (cx + alpha) / (len(a) + cx.size * alpha)
            q = (cy + alpha) / (len(b) + cy.size * alpha)
            if self.direction in ("forward", "symmetric"):
                terms.extend(p * np.log(p / q))
            if self.direction in ("reverse", "symmetric"):
                terms.extend(q * np.log(q / p))
        return math.fsum(terms)

    def scale(self, name, a, b, estimator="unbiased"):
        """Gross magnitude xx/n² + yy/m² + 2|xy|/nm of a quadratic statistic (|KL| for kl)."""
        if name == "kl":
            return abs(self.kl(a, b))
        g = self.kern if name == "mmd" else self.dist
        n, m = len(a), len(b)
        xx, yy, xy = self._sum(g, a, a), self._sum(g, b, b), self._sum(g, a, b)
        return xx / n**2 + yy / m**2 + 2 * abs(xy) / (n * m)

    def pvalue(self, name, n, estimator="unbiased"):
        """Exact p-value from scipy.stats.permutation_test enumerating every split."""
        n_total = self.z.shape[0]
        if name == "mmd":

            def stat(a, b):
                return self.mmd(a, b, estimator)
        else:
            stat = getattr(self, name)
        res = scipy.stats.permutation_test(
            (np.arange(n), np.arange(n, n_total)),
            stat,
            permutation_type="independent",
            alternative="greater",
            vectorized=False,
            n_resamples=math.comb(n_total, n),
        )
        return float(res.pvalue), res.null_distribution


ORACLE_CASES = [
    # (n, m, d, seed, shift, mmd_estimator, kl_direction, kl_bins, kl_smoothing)
    (5, 6, 2, 0, 0.8, "unbiased", "forward", 3, 0.5),
    (5, 6, 1, 1, 0.5, "biased", "reverse", 4, 1.0),
    (4, 4, 2, 2, 1.0, "unbiased", "symmetric", 2, 0.5),
    (4, 4, 3, 3, 0.0, "biased", "forward", 3, 0.25),
    (6, 5, 3, 4, 1.2, "unbiased", "symmetric", "auto", 0.5),
    (3, 7, 2, 5, 1.5, "unbiased", "forward", 3, 2.0),
]


@pytest.mark.parametrize(
    ("n", "m", "d", "seed", "shift", "estimator", "direction", "bins", "smoothing"), ORACLE_CASES
)
def test_exact_pvalues_equal_scipy_permutation_test(
    n, m, d, seed, shift, estimator, direction, bins, smoothing
):
    x, y = normal_pair(seed, n, m, d, shift)
    bandwidths = [0.7, 1.9]
    n_splits = math.comb(n + m, n)
    res = run(
        x,
        y,
        n_resamples=n_splits,
        rng=seed,
        bandwidths=bandwidths,
        mmd_estimator=estimator,
        kl_bins=bins,
        kl_smoothing=smoothing,
        kl_direction=direction,
        precision="float64",
    )
    assert res.exact is True
    assert res.n_resamples == n_splits
    oracle = Oracle(np.vstack([x, y]), bandwidths, bins, smoothing, direction)
    for name in STATISTICS:
        r = res.results[name]
        expected, null = oracle.pvalue(name, n, estimator)
        assert r.pvalue == expected, name
        assert r.n_resamples == n_splits
        assert "exact" in r.method and str(n_splits) in r.method
        # the null distribution holds every split, the observed one first, as a multiset equal
        # to scipy's
        assert r.null_distribution.shape == (n_splits,)
        assert r.null_distribution[0] == r.statistic
        np.testing.assert_allclose(
            np.sort(r.null_distribution), np.sort(null), rtol=1e-9, atol=1e-12
        )
    # the observed statistics equal the pure functions
    assert res.results["mmd"].statistic == pytest.approx(
        mmd2(x, y, bandwidths=bandwidths, estimator=estimator), rel=1e-12, abs=1e-14
    )
    assert res.results["energy"].statistic == pytest.approx(energy_distance(x, y), rel=1e-12)
    kl = binned_kl(x, y, bins=bins, smoothing=smoothing, direction=direction)
    assert res.results["kl"].statistic == pytest.approx(kl, rel=1e-12)
    assert res.results["mmd"].parameters["bandwidths"] == bandwidths
    assert res.results["mmd"].parameters["estimator"] == estimator
    assert res.results["kl"].parameters["direction"] == direction
    if min(n, m) < 5:
        assert any("fewer than 5" in w for w in res.warnings)


def test_exact_pvalue_with_default_bandwidths_equals_scipy():
    # The median heuristic is computed once on the pooled sample, so the test stays exact.
    x, y = normal_pair(7, 5, 6, 2, shift=0.7)
    res = run(x, y, ("mmd",), n_resamples=462, precision="float64")
    bws = res.results["mmd"].parameters["bandwidths"]
    assert len(bws) == 5 and "median" in res.results["mmd"].parameters["bandwidth_rule"]
    assert res.results["mmd"].statistic == pytest.approx(mmd2(x, y), rel=1e-12)
    oracle = Oracle(np.vstack([x, y]), bws, 3, 0.5, "forward")
    assert res.pvalue == res.results["mmd"].pvalue == oracle.pvalue("mmd", 5)[0]


def test_exact_pvalue_hand_counted_extreme_split():
    # x = (0, 1, 2), y = (10, 11, 12): the observed split is the most extreme of the 20; its
    # mirror (x and y swapped) has the same energy distance → p = 2/20 for energy and MMD.
    x, y = np.array([0.0, 1.0, 2.0]), np.array([10.0, 11.0, 12.0])
    res = run(x, y, ("energy", "mmd"), n_resamples=20, bandwidths=1.0)
    assert res.exact and res.n_resamples == 20
    assert res.results["energy"].pvalue == 0.1
    assert res.results["mmd"].pvalue == 0.1
    assert res.pvalue == 0.1
    assert res.min_attainable_pvalue == 0.1
    assert "fewer than 5 samples" in res.warnings[0]


# --------------------------------------------------------------------------------------------
# split enumeration and counting


def test_split_blocks_exact_enumerates_every_split_once():
    blocks = list(split_blocks(6, 2, 10**6, exact=True, rng=None, block_size=4))
    assert [b.shape for b in blocks] == [(6, 4)] * 3 + [(6, 3)]
    a = np.hstack(blocks)
    assert a.shape == (6, 15)
    assert set(np.unique(a)) == {0.0, 1.0}
    np.testing.assert_array_equal(a.sum(axis=0), np.full(15, 2))
    np.testing.assert_array_equal(a[:, 0], [1, 1, 0, 0, 0, 0])  # the observed split first
    cols = {tuple(np.flatnonzero(c)) for c in a.T}
    assert cols == set(itertools.combinations(range(6), 2))
    blocks32 = list(split_blocks(6, 2, 1, exact=True, rng=None, block_size=100, dtype=np.float32))
    assert len(blocks32) == 1 and blocks32[0].dtype == np.float32
    np.testing.assert_array_equal(blocks32[0], a)


def test_split_blocks_random_observed_first_and_independent_of_block_size():
    def draw(block_size):
        rng = np.random.default_rng(123)
        return list(split_blocks(9, 4, 50, exact=False, rng=rng, block_size=block_size))

    reference = np.hstack(draw(1000))
    assert reference.shape == (9, 51)
    np.testing.assert_array_equal(reference[:, 0], [1] * 4 + [0] * 5)
    np.testing.assert_array_equal(reference.sum(axis=0), np.full(51, 4))
    for block_size in (2, 3, 7, 51):
        blocks = draw(block_size)
        assert all(b.shape[1] <= block_size for b in blocks)
        np.testing.assert_array_equal(np.hstack(blocks), reference)


def test_split_blocks_random_splits_are_uniform():
    # 4 rows, 2 in x: 6 splits, 6000 draws → each about 1000 times (chi-square, df = 5).
    rng = np.random.default_rng(99)
    a = np.hstack(list(split_blocks(4, 2, 6000, exact=False, rng=rng, block_size=512)))[:, 1:]
    index = {c: i for i, c in enumerate(itertools.combinations(range(4), 2))}
    counts = np.bincount([index[tuple(np.flatnonzero(c))] for c in a.T], minlength=6)
    assert counts.sum() == 6000
    assert scipy.stats.chisquare(counts).pvalue > 1e-3, counts


def test_exceedance_counts_hand_and_brute_force():
    np.testing.assert_array_equal(
        exceedance_counts(np.array([3.0, 1.0, 2.0, 3.0]), 0.0), [2, 4, 3, 2]
    )
    # a tolerance of 0.5 makes 2.6 count as ≥ 3
    np.testing.assert_array_equal(exceedance_counts(np.array([3.0, 2.6, 1.0]), 0.5), [2, 2, 3])
    g = np.random.default_rng(5)
    v = g.integers(0, 8, 200) / 4.0 + g.normal(scale=1e-3, size=200) * (g.random(200) < 0.3)
    for tol in (0.0, 1e-3, 0.3):
        ref = np.array([np.sum(v >= vi - tol) for vi in v])
        np.testing.assert_array_equal(exceedance_counts(v, tol), ref)


# --------------------------------------------------------------------------------------------
# cross-method agreement


def test_random_pvalues_agree_with_exact_within_monte_carlo_error():
    # n = m = 7: C(14, 7) = 3432 splits > B = 2000, so B = 2000 is random and 3432 is exact.
    x, y = normal_pair(8, 7, 7, 2, shift=0.9)
    options = {"bandwidths": [0.5, 1.5], "kl_bins": 3, "precision": "float64"}
    exact = run(x, y, n_resamples=3432, **options)
    assert exact.exact and exact.n_resamples == 3432
    for seed in (0, 1):
        rand = run(x, y, n_resamples=2000, rng=seed, **options)
        assert not rand.exact and rand.n_resamples == 2000
        for name in STATISTICS:
            p0, p = exact.results[name].pvalue, rand.results[name].pvalue
            se = math.sqrt(max(p0 * (1 - p0), 1 / 2000) / 2000)
            assert abs(p - p0) <= 4 * se, (name, p, p0, se)
            assert p >= 1 / 2001
            assert rand.results[name].null_distribution.shape == (2000,)
            assert "2000 random splits" in rand.results[name].method
        se = math.sqrt(max(exact.pvalue * (1 - exact.pvalue), 1 / 2000) / 2000)
        assert abs(rand.pvalue - exact.pvalue) <= 4 * se
    # some p-values are in the interesting range, so the check means something
    assert 0.005 < min(r.pvalue for r in exact.results.values()) < 0.5


@pytest.mark.parametrize(
    ("seed", "n", "m", "d", "n_resamples", "shift"),
    [(0, 5, 6, 2, 462, 0.6), (1, 40, 35, 3, 199, 0.3), (2, 60, 60, 5, 299, 0.0)],
)
def test_float32_and_float64_give_the_same_pvalues(seed, n, m, d, n_resamples, shift):
    x, y = normal_pair(seed, n, m, d, shift)
    r32 = run(x, y, n_resamples=n_resamples, rng=seed, precision="float32", kl_bins=4)
    r64 = run(x, y, n_resamples=n_resamples, rng=seed, precision="float64", kl_bins=4)
    assert (r32.precision, r32.tie_rtol) == ("float32", 1e-6)
    assert (r64.precision, r64.tie_rtol) == ("float64", 1e-10)
    assert "float32" in r32.results["mmd"].method
    oracle = Oracle(
        np.vstack([x, y]), r64.results["mmd"].parameters["bandwidths"], 4, 0.5, "forward"
    )
    a, b = np.arange(n), np.arange(n, n + m)
    for name in STATISTICS:
        assert r32.results[name].pvalue == r64.results[name].pvalue, name
        gross = oracle.scale(name, a, b) if name != "kl" else 1.0
        diff = abs(r32.results[name].statistic - r64.results[name].statistic)
        assert diff <= 1e-6 * gross, (name, diff, gross)
    assert r32.pvalue == r64.pvalue
    # the KL counts are exact in float32, so its null distributions are identical
    np.testing.assert_array_equal(
        r32.results["kl"].null_distribution, r64.results["kl"].null_distribution
    )


def test_float32_error_of_every_permutation_on_a_large_sample():
    # n = m = 1500, d = 7 (N = 3000): every one of the 60 statistics per quadratic statistic
    # computed with float32 Gram products against the float64 ones, relative to the gross
    # magnitude. The module docstring claims < 1e-8 (at N = 10 000); we require < 1e-7.
    n, d = 1500, 7
    x, y = normal_pair(2024, n, n, d)
    r32 = run(x, y, ("mmd", "energy"), n_resamples=59, rng=3, precision="float32")
    r64 = run(x, y, ("mmd", "energy"), n_resamples=59, rng=3, precision="float64")
    z = np.vstack([x, y])
    sq = scipy.spatial.distance.cdist(z, z, "sqeuclidean")
    bws = r64.results["mmd"].parameters["bandwidths"]
    assert r32.results["mmd"].parameters["bandwidths"] == bws
    grams = {"mmd": sum(np.exp(-sq / (2 * s * s)) for s in bws), "energy": np.sqrt(sq)}
    report = []
    for name, g in grams.items():
        scale = g[:n, :n].sum() / n**2 + g[n:, n:].sum() / n**2 + 2 * g[:n, n:].sum() / n**2
        v32 = np.r_[r32.results[name].statistic, r32.results[name].null_distribution]
        v64 = np.r_[r64.results[name].statistic, r64.results[name].null_distribution]
        rel = float(np.max(np.abs(v32 - v64)) / scale)
        report.append(f"{name}: max |float32 - float64| / gross = {rel:.3g}")
        assert r32.results[name].pvalue == r64.results[name].pvalue
    message = "; ".join(report)
    print(message)
    assert all(float(r.rsplit("= ", 1)[1]) < 1e-7 for r in report), message


def test_block_size_does_not_change_the_result():
    x, y = normal_pair(9, 20, 25, 2, shift=0.3)
    a = run(x, y, n_resamples=300, rng=11)
    b = run(x, y, n_resamples=300, rng=11, block_size=7)
    c = run(x, y, n_resamples=300, rng=11, block_size=2)
    for other in (b, c):
        assert other.pvalue == a.pvalue
        for name in STATISTICS:
            assert other.results[name].pvalue == a.results[name].pvalue
            np.testing.assert_allclose(
                other.results[name].null_distribution,
                a.results[name].null_distribution,
                rtol=0,
                atol=1e-12,  # the same splits; only rounding of the blocked products differs
            )
    # exact mode as well
    xs, ys = x[:5], y[:5]
    e1 = run(xs, ys, n_resamples=252)
    e2 = run(xs, ys, n_resamples=252, block_size=7)
    assert e1.exact and e2.exact
    assert e1.to_dict()["pvalue"] == e2.to_dict()["pvalue"]
    for name in STATISTICS:
        assert e1.results[name].pvalue == e2.results[name].pvalue


def test_same_seed_same_result_different_seed_different_null():
    x, y = normal_pair(10, 15, 18, 3, shift=0.2)
    a = run(x, y, n_resamples=199, rng=5)
    b = run(x, y, n_resamples=199, rng=5)
    c = run(x, y, n_resamples=199, rng=6)
    d = run(x, y, n_resamples=199, rng=np.random.default_rng(5))
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict()) == json.dumps(d.to_dict())
    for name in STATISTICS:
        assert not np.array_equal(
            a.results[name].null_distribution, c.results[name].null_distribution
        )
        assert a.results[name].statistic == c.results[name].statistic


# --------------------------------------------------------------------------------------------
# family p-value (Westfall–Young single-step min-p)


def test_family_pvalue_of_one_statistic_is_its_pvalue():
    x, y = normal_pair(12, 20, 20, 2, shift=0.4)
    for name in STATISTICS:
        res = run(x, y, (name,), n_resamples=199, rng=1)
        assert list(res.results) == [name]
        assert res.pvalue == res.results[name].pvalue == res.statistic


@pytest.mark.parametrize("seed", range(6))
def test_family_pvalue_between_min_p_and_bonferroni(seed):
    shift = [0.0, 0.2, 0.4][seed % 3]
    x, y = normal_pair(100 + seed, 25, 30, 2, shift)
    for stats in (STATISTICS, ("mmd", "energy"), ("energy", "kl")):
        res = run(x, y, stats, n_resamples=199, rng=seed)
        ps = [res.results[s].pvalue for s in stats]
        assert res.statistic == min(ps)
        assert min(ps) <= res.pvalue <= min(1.0, len(stats) * min(ps)) + 1e-12
        assert 0 < res.min_attainable_pvalue <= res.pvalue
        assert res.method.endswith(", ".join(stats))


def brute_force_min_p(res, oracle, n, m, with_observed_first):
    """Westfall–Young single-step min-p from the returned null distributions, by loops."""
    a, b = np.arange(n), np.arange(n, n + m)
    columns = []
    for name, r in res.results.items():
        values = (
            r.null_distribution if with_observed_first else np.r_[r.statistic, r.null_distribution]
        )
        tol = res.tie_rtol * oracle.scale(name, a, b)
        total = len(values)
        columns.append([sum(1 for t in values if t >= v - tol) / total for v in values])
    minp = np.min(np.array(columns), axis=0)
    per_stat = {name: col[0] for name, col in zip(res.results, columns, strict=True)}
    return sum(1 for v in minp if v <= minp[0]) / len(minp), per_stat, float(minp[0])


@pytest.mark.parametrize("seed", range(4))
def test_family_pvalue_equals_brute_force_westfall_young_random_mode(seed):
    x, y = normal_pair(200 + seed, 12, 15, 2, shift=0.35 * seed)
    res = run(x, y, n_resamples=299, rng=seed, bandwidths=[0.6, 1.8], kl_bins=3)
    assert not res.exact
    oracle = Oracle(np.vstack([x, y]), [0.6, 1.8], 3, 0.5, "forward")
    family, per_stat, minp0 = brute_force_min_p(res, oracle, 12, 15, with_observed_first=False)
    assert res.pvalue == pytest.approx(family, rel=1e-12)
    assert res.statistic == pytest.approx(minp0, rel=1e-12)
    for name, p in per_stat.items():
        assert res.results[name].pvalue == pytest.approx(p, rel=1e-12)


def test_family_pvalue_equals_brute_force_westfall_young_exact_mode():
    x, y = normal_pair(300, 5, 6, 2, shift=0.8)
    res = run(x, y, n_resamples=462, bandwidths=[0.6, 1.8], kl_bins=3)
    assert res.exact
    oracle = Oracle(np.vstack([x, y]), [0.6, 1.8], 3, 0.5, "forward")
    family, per_stat, _ = brute_force_min_p(res, oracle, 5, 6, with_observed_first=True)
    assert res.pvalue == pytest.approx(family, rel=1e-12)
    for name, p in per_stat.items():
        assert res.results[name].pvalue == pytest.approx(p, rel=1e-12)


def test_min_attainable_pvalue_exact_symmetric_statistic():
    # n = m = 4: the mirror split ties with the observed one → the smallest p is 2/70.
    x, y = normal_pair(13, 4, 4, 2)
    res = run(x, y, ("energy",), n_resamples=70)
    assert res.min_attainable_pvalue == pytest.approx(2 / 70, rel=1e-14)
    # n ≠ m, continuous data: every split is distinct → 1/C(9, 4) = 1/126 for one statistic;
    # with two, the splits maximizing each have min-p 1/126: 1/126 if they coincide, else 2/126.
    x, y = normal_pair(14, 4, 5, 2)
    res = run(x, y, ("energy",), n_resamples=126)
    assert res.min_attainable_pvalue == pytest.approx(1 / 126, rel=1e-14)
    res = run(x, y, ("energy", "mmd"), n_resamples=126, bandwidths=1.0)
    top = {int(np.argmax(r.null_distribution)) for r in res.results.values()}
    assert res.min_attainable_pvalue == pytest.approx(len(top) / 126, rel=1e-14)


# --------------------------------------------------------------------------------------------
# calibration and power


def test_type_one_error_is_calibrated():
    # H0: both samples N(0, I_2), n = m = 30, B = 199, 300 replicates from one SeedSequence.
    # With B = 199 continuous statistics, P(p ≤ 0.05) = 10/200 = 0.05 exactly.
    alpha, reps = 0.05, 300
    rejections = dict.fromkeys(("family", *STATISTICS), 0)
    for child in np.random.SeedSequence(20240901).spawn(reps):
        g = np.random.default_rng(child)
        x, y = g.normal(size=(30, 2)), g.normal(size=(30, 2))
        res = two_sample_test(x, y, n_resamples=199, rng=g)
        rejections["family"] += res.pvalue <= alpha
        for name in STATISTICS:
            rejections[name] += res.results[name].pvalue <= alpha
    summary = {k: v / reps for k, v in rejections.items()}
    print(f"type-I error at alpha = 0.05 over {reps} replicates: {summary}")
    for name in ("family", "mmd", "energy"):
        ci = scipy.stats.binomtest(rejections[name], reps).proportion_ci(0.99)
        assert ci.low <= alpha <= ci.high, (name, summary)
    # the binned KL has ties (discrete counts) and may only be conservative
    ci = scipy.stats.binomtest(rejections["kl"], reps).proportion_ci(0.99)
    assert ci.low <= alpha, summary


def test_power_against_half_sigma_shift():
    # n = m = 200, d = 2, mean shift 0.5σ in one coordinate: the family test rejects at 0.05
    # in ≥ 95% of 60 replicates.
    reps, rejected = 60, 0
    for child in np.random.SeedSequence(77).spawn(reps):
        g = np.random.default_rng(child)
        x = g.normal(size=(200, 2))
        y = g.normal(size=(200, 2)) + np.array([0.5, 0.0])
        rejected += two_sample_test(x, y, n_resamples=199, rng=g).pvalue <= 0.05
    print(f"power at 0.5 sigma shift: {rejected}/{reps}")
    assert rejected >= 57, rejected


# --------------------------------------------------------------------------------------------
# properties


def samples(max_rows=5, max_dim=3):
    """Pairs of (n × d), (m × d) float arrays with entries 0 or 1e-6 ≤ |v| ≤ 10.

    Magnitudes below about 1e-150 make squared distances underflow (a known bug, see
    test_mmd_median_heuristic_survives_tiny_scales), so they are kept out of the properties.
    """
    magnitude = st.floats(1e-6, 10, allow_nan=False, allow_infinity=False)
    elements = st.one_of(st.just(0.0), magnitude, magnitude.map(lambda v: -v))

    @st.composite
    def pair(draw):
        d = draw(st.integers(1, max_dim))
        n = draw(st.integers(2, max_rows))
        m = draw(st.integers(2, max_rows))
        x = draw(hnp.arrays(np.float64, (n, d), elements=elements))
        y = draw(hnp.arrays(np.float64, (m, d), elements=elements))
        return x, y

    return pair()


@settings(max_examples=30, deadline=None)
@given(data=samples(), seed=st.integers(0, 2**32 - 1), b=st.integers(1, 60))
def test_pvalues_in_unit_interval_and_json_round_trip(data, seed, b):
    x, y = data
    res = run(x, y, n_resamples=b, rng=seed)
    n_values = res.n_resamples if res.exact else res.n_resamples + 1
    for r in res.results.values():
        assert 0 < r.pvalue <= 1
        assert r.pvalue >= 1 / n_values
        assert math.isfinite(r.statistic)
    assert 0 < res.pvalue <= 1
    assert min(r.pvalue for r in res.results.values()) <= res.pvalue
    back = json.loads(json.dumps(res.to_dict()))
    assert back["pvalue"] == res.pvalue
    assert back["exact"] == res.exact
    assert back["n_resamples"] == res.n_resamples
    for name, r in res.results.items():
        assert back["results"][name]["pvalue"] == r.pvalue
        assert back["results"][name]["statistic"] == r.statistic
        assert back["results"][name]["null_distribution"] == r.null_distribution.tolist()
        assert back["results"][name]["parameters"] == json.loads(json.dumps(r.parameters))


@settings(max_examples=30, deadline=None)
@given(data=samples(), seed=st.integers(0, 2**32 - 1))
def test_exact_pvalues_invariant_to_row_order_within_each_sample(data, seed):
    x, y = data
    n, m = len(x), len(y)
    g = np.random.default_rng(seed)
    splits = math.comb(n + m, n)
    options = {"n_resamples": splits, "precision": "float64"}
    a = run(x, y, **options)
    b = run(x[g.permutation(n)], y[g.permutation(m)], **options)
    assert a.exact and b.exact
    for name in STATISTICS:
        assert a.results[name].pvalue == b.results[name].pvalue, name
    assert a.pvalue == b.pvalue


@settings(max_examples=30, deadline=None)
@given(data=samples(), seed=st.integers(0, 2**32 - 1))
def test_quadratic_statistics_symmetric_in_x_and_y(data, seed):
    x, y = data
    y = np.vstack([y, x])[: len(x)]  # n == m
    assert y.shape == x.shape
    bws = [0.5, 2.0]
    gross = 2 * scipy.spatial.distance.cdist(x, y).mean() + 1.0
    assert mmd2(x, y, bandwidths=bws) == pytest.approx(mmd2(y, x, bandwidths=bws), abs=1e-12)
    assert energy_distance(x, y) == pytest.approx(energy_distance(y, x), abs=1e-7 * gross)
    a = run(x, y, ("mmd", "energy"), n_resamples=99, rng=seed, bandwidths=bws)
    b = run(y, x, ("mmd", "energy"), n_resamples=99, rng=seed, bandwidths=bws)
    assert a.results["mmd"].statistic == pytest.approx(b.results["mmd"].statistic, abs=1e-12)
    assert a.results["energy"].statistic == pytest.approx(
        b.results["energy"].statistic, abs=1e-7 * gross
    )


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    scale=st.lists(st.floats(0.01, 100.0), min_size=2, max_size=2),
    offset=st.lists(st.floats(-100.0, 100.0), min_size=2, max_size=2),
)
def test_standardized_exact_pvalues_invariant_to_column_affine_maps(seed, scale, offset):
    x, y = normal_pair(seed % 1000, 5, 6, 2, shift=0.5)
    a = run(x, y, n_resamples=462, standardize=True, kl_bins=3)
    t = np.asarray(scale), np.asarray(offset)
    b = run(x * t[0] + t[1], y * t[0] + t[1], n_resamples=462, standardize=True, kl_bins=3)
    assert a.standardized and b.standardized
    for name in STATISTICS:
        assert a.results[name].pvalue == b.results[name].pvalue
        assert a.results[name].parameters["standardized"] is True


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("case", ["scaled-normal-1e-155", "two-points-3e-162"])
def test_mmd_median_heuristic_survives_tiny_scales(case):
    # The median heuristic makes MMD² scale-free: multiplying the data by c changes nothing.
    if case == "scaled-normal-1e-155":
        x, y = normal_pair(0, 6, 7, 2, shift=1.0)
        c = 1e-155
    else:
        x, y = np.zeros((2, 1)), np.ones((3, 1))
        c = 3e-162
    expected = run(x, y, ("mmd",), n_resamples=2000)
    assert expected.exact
    got = run(x * c, y * c, ("mmd",), n_resamples=2000)
    assert math.isfinite(got.results["mmd"].statistic)
    assert got.results["mmd"].statistic == pytest.approx(expected.results["mmd"].statistic)
    assert got.pvalue == expected.pvalue


# --------------------------------------------------------------------------------------------
# degenerate data


def test_constant_data_warns_and_is_recorded():
    x = np.full((6, 2), 1.5)
    with pytest.warns(DegenerateDataWarning, match="coincide"):
        res = two_sample_test(x, x.copy(), n_resamples=99, rng=0)
    assert any("coincide" in w for w in res.warnings)
    for name in STATISTICS:
        assert res.results[name].pvalue == 1.0
    assert res.pvalue == 1.0


def test_small_samples_warn_and_are_recorded():
    x, y = normal_pair(15, 4, 6, 1)
    with pytest.warns(DegenerateDataWarning, match="fewer than 5"):
        res = two_sample_test(x, y, ("energy",), n_resamples=10)
    assert res.warnings == (
        "fewer than 5 samples on one side (n = 4, m = 6): the test has almost no power",
    )


def test_no_warning_on_ordinary_data():
    x, y = normal_pair(16, 10, 10, 2)
    res = two_sample_test(x, y, n_resamples=50, rng=0)  # ParityWarning is an error here
    assert res.warnings == ()


# --------------------------------------------------------------------------------------------
# bad input


X, Y = normal_pair(40, 8, 9, 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"statistics": ("mmd", "wasserstein")}, r"`statistics`.*'wasserstein'"),
        ({"statistics": "ks"}, r"`statistics`.*'ks'"),
        ({"statistics": ("mmd", "energy", "mmd")}, r"`statistics`.*distinct"),
        ({"statistics": ()}, r"`statistics`"),
        ({"n_resamples": 0}, r"`n_resamples`.*got 0"),
        ({"n_resamples": -5}, r"`n_resamples`.*got -5"),
        ({"n_resamples": 10.5}, r"`n_resamples`"),
        ({"precision": "float16"}, r"`precision`.*'float16'"),
        ({"bandwidths": [1.0, -2.0]}, r"`bandwidths`.*-2"),
        ({"bandwidths": 0.0}, r"`bandwidths`"),
        ({"bandwidth_factors": ()}, r"`bandwidth_factors`"),
        ({"mmd_estimator": "V"}, r"`mmd_estimator`.*'V'"),
        ({"kl_smoothing": 0}, r"`kl_smoothing`.*got 0"),
        ({"kl_smoothing": -1.0}, r"`kl_smoothing`"),
        ({"kl_direction": "both"}, r"`kl_direction`.*'both'"),
        ({"kl_bins": 0}, r"bins`.*got 0"),
        ({"kl_bins": 1.5}, r"bins`.*1.5"),
        ({"kl_bins": "magic"}, r"bins`.*'magic'"),
        ({"tie_rtol": -1e-6}, r"`tie_rtol`"),
        ({"block_size": 1}, r"`block_size`.*got 1"),
        ({"rng": "seed"}, r"`rng`"),
    ],
)
def test_bad_options_name_the_parameter(kwargs, match):
    with pytest.raises(ParityInputError, match=match):
        two_sample_test(X, Y, **kwargs)


def test_bad_kl_bins_message_names_kl_bins():
    with pytest.raises(ParityInputError, match=r"`kl_bins`"):
        two_sample_test(X, Y, kl_bins=0)


def test_bad_arrays_name_the_parameter_and_rows():
    bad = X.copy()
    bad[2, 0] = np.nan
    bad[6, 1] = np.nan
    with pytest.raises(ParityInputError, match=r"`reference` has 2 NaN.*rows 2, 6"):
        two_sample_test(bad, Y)
    bad_y = Y.copy()
    bad_y[4] = np.inf
    with pytest.raises(ParityInputError, match=r"`candidate`.*rows 4"):
        two_sample_test(X, bad_y)
    with pytest.raises(ParityInputError, match=r"same dimension.*2 and 3"):
        two_sample_test(X, np.ones((5, 3)))
    with pytest.raises(ParityInputError, match=r"`reference`.*at least 2.*got 1"):
        two_sample_test(X[:1], Y)
    with pytest.raises(ParityInputError, match=r"`candidate`.*at least 2.*got 1"):
        two_sample_test(X, [[0.0, 1.0]])
    with pytest.raises(ParityInputError, match=r"`reference`.*1-D or 2-D"):
        two_sample_test(np.zeros((3, 2, 2)), Y)
    assert issubclass(ParityInputError, ValueError)
