"""Tests of parity.stats.two_sample: MMD², energy distance, binned KL and their helpers.

Kinds (DESIGN.md, "Tests"): hand-computable exact cases, independent references (brute-force
double loops over pairs, scipy, numpy.histogram), degenerate-data warnings, bad input. The
permutation engine built on these statistics is tested in tests/test_permutation.py.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats

from parity.errors import DegenerateDataWarning, ParityInputError
from parity.stats.two_sample import (
    DEFAULT_BANDWIDTH_FACTORS,
    binned_kl,
    energy_distance,
    linear_quantiles,
    median_heuristic,
    mmd2,
    numpy_cdist,
    pairwise_sq_distances,
    pdist,
    rbf_gram,
    resolve_bandwidths,
    shared_bins,
)

# Any parity warning that a test does not expect with pytest.warns is a failure.
pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")

E = math.exp


# --------------------------------------------------------------------------------------------
# independent references: brute force over pairs, one pair at a time


def brute_mmd2(x, y, bandwidths, estimator="unbiased"):
    """MMD² by double loops over pairs with k(a, b) = Σ_s exp(-||a - b||² / (2 s²))."""
    x, y = np.atleast_2d(np.asarray(x, float).T).T, np.atleast_2d(np.asarray(y, float).T).T

    def k(a, b):
        d2 = math.fsum((ai - bi) ** 2 for ai, bi in zip(a, b, strict=True))
        return math.fsum(math.exp(-d2 / (2 * s * s)) for s in bandwidths)

    n, m = len(x), len(y)
    if estimator == "unbiased":
        kxx = math.fsum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
        kyy = math.fsum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    else:
        kxx = math.fsum(k(x[i], x[j]) for i in range(n) for j in range(n)) / n**2
        kyy = math.fsum(k(y[i], y[j]) for i in range(m) for j in range(m)) / m**2
    kxy = math.fsum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return math.fsum([kxx, kyy, -2 * kxy])


def brute_energy(x, y):
    """Energy distance V-statistic 2·mean||x-y|| - mean||x-x'|| - mean||y-y'|| by double loops."""
    x, y = np.atleast_2d(np.asarray(x, float).T).T, np.atleast_2d(np.asarray(y, float).T).T

    def dist(a, b):
        return math.sqrt(math.fsum((ai - bi) ** 2 for ai, bi in zip(a, b, strict=True)))

    def mean_dist(a, b):
        return math.fsum(dist(u, v) for u in a for v in b) / (len(a) * len(b))

    return math.fsum([2 * mean_dist(x, y), -mean_dist(x, x), -mean_dist(y, y)])


def gross_energy(x, y):
    """Gross magnitude of the energy distance: the sum of the three mean distances."""
    d = scipy.spatial.distance.cdist
    return 2 * d(x, y).mean() + d(x, x).mean() + d(y, y).mean()


def histogram_kl(x, y, bins, smoothing, direction):
    """Binned KL with numpy.histogram on edges of the pooled sample, summed over dimensions."""
    x, y = np.atleast_2d(np.asarray(x, float).T).T, np.atleast_2d(np.asarray(y, float).T).T
    total = 0.0
    for j in range(x.shape[1]):
        edges = np.histogram_bin_edges(np.concatenate([x[:, j], y[:, j]]), bins=bins)
        cx, _ = np.histogram(x[:, j], bins=edges)
        cy, _ = np.histogram(y[:, j], bins=edges)
        k = cx.size
        p = (cx + smoothing) / (len(x) + k * smoothing)
        q = (cy + smoothing) / (len(y) + k * smoothing)
        forward = np.sum(p * np.log(p / q))
        reverse = np.sum(q * np.log(q / p))
        total += {"forward": forward, "reverse": reverse, "symmetric": forward + reverse}[direction]
    return total


def normal_pair(seed, n, m, d, shift=0.0):
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, d))
    y = g.normal(size=(m, d)) + shift
    return x, y


# --------------------------------------------------------------------------------------------
# MMD²: hand-computed


def rbf(d, s):
    return E(-(d * d) / (2 * s * s))


@pytest.mark.parametrize("bandwidths", [[1.0], [2.0], [1.0, 2.0], [0.5, 1.0, 3.0]])
def test_mmd2_hand_computed_1d(bandwidths):
    # x = (0, 1), y = (2, 4): |x1-x2| = 1, |y1-y2| = 2, cross distances 2, 4, 1, 3.
    # With k(d) = Σ_s exp(-d²/(2s²)):
    #   unbiased = 2k(1)/2 + 2k(2)/2 - 2(k(2) + k(4) + k(1) + k(3))/4
    #            = (k(1) + k(2) - k(3) - k(4))/2
    #   biased   = (2k(0) + 2k(1))/4 + (2k(0) + 2k(2))/4 - (k(1) + k(2) + k(3) + k(4))/2
    #            = k(0) - (k(3) + k(4))/2,  with k(0) = number of bandwidths.
    # For s = 1: unbiased = (e^-½ + e^-2 - e^-4.5 - e^-8)/2 ≈ 0.365211,
    #            biased = 1 - (e^-4.5 + e^-8)/2.
    def k(d):
        return sum(rbf(d, s) for s in bandwidths)

    x, y = [0.0, 1.0], [2.0, 4.0]
    unbiased = (k(1) + k(2) - k(3) - k(4)) / 2
    biased = len(bandwidths) - (k(3) + k(4)) / 2
    assert mmd2(x, y, bandwidths=bandwidths) == pytest.approx(unbiased, rel=1e-13)
    assert mmd2(x, y, bandwidths=bandwidths, estimator="biased") == pytest.approx(biased, rel=1e-13)
    if bandwidths == [1.0]:
        assert unbiased == pytest.approx((E(-0.5) + E(-2) - E(-4.5) - E(-8)) / 2, rel=1e-15)
        assert unbiased == pytest.approx(0.365211, abs=1e-6)
        assert biased == pytest.approx(1 - (E(-4.5) + E(-8)) / 2, rel=1e-15)


def test_mmd2_scalar_bandwidth_equals_list_of_one():
    x, y = normal_pair(0, 6, 5, 2)
    assert mmd2(x, y, bandwidths=1.5) == mmd2(x, y, bandwidths=[1.5])


def test_mmd2_hand_computed_2d():
    # x = {(0,0), (3,4)}, y = {(0,0), (0,1)}, s = 5: squared distances xx 25, yy 1,
    # cross 0, 1, 25, 18.  k(d²) = exp(-d²/50).
    #   unbiased = k(25) + k(1) - (k(0) + k(1) + k(25) + k(18))/2
    #   biased   = (2 + 2k(25))/4 + (2 + 2k(1))/4 - (k(0) + k(1) + k(25) + k(18))/2
    x, y = [[0.0, 0.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 1.0]]

    def k(d2):
        return E(-d2 / 50)

    cross = (1 + k(1) + k(25) + k(18)) / 2
    assert mmd2(x, y, bandwidths=5.0) == pytest.approx(k(25) + k(1) - cross, rel=1e-12)
    biased = (2 + 2 * k(25)) / 4 + (2 + 2 * k(1)) / 4 - cross
    assert mmd2(x, y, bandwidths=5.0, estimator="biased") == pytest.approx(biased, rel=1e-12)


def test_mmd2_docstring_case_biased_far_apart():
    # x = (0,1,2), y = x + 10, s = 1: cross terms ≤ e^-32, so biased = 2(3 + 4e^-½ + 2e^-2)/9.
    x = np.array([0.0, 1.0, 2.0])
    expected = 2 * (3 + 4 * E(-0.5) + 2 * E(-2)) / 9
    assert mmd2(x, x + 10, bandwidths=1.0, estimator="biased") == pytest.approx(expected, rel=1e-12)


def test_mmd2_biased_is_zero_for_equal_samples():
    x, _ = normal_pair(3, 7, 2, 3)
    assert mmd2(x, x[::-1], bandwidths=[0.5, 2.0], estimator="biased") == pytest.approx(
        0.0, abs=1e-14
    )


# --------------------------------------------------------------------------------------------
# MMD²: independent reference


@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
@pytest.mark.parametrize(
    ("seed", "n", "m", "d", "bandwidths"),
    [
        (0, 7, 9, 1, [1.0]),
        (1, 8, 6, 3, [0.5, 1.0, 2.0]),
        (2, 5, 5, 7, [1.0, 4.0]),
        (3, 10, 4, 2, [0.3, 0.6, 1.2, 2.4, 4.8]),
    ],
)
def test_mmd2_matches_brute_force_double_loop(estimator, seed, n, m, d, bandwidths):
    x, y = normal_pair(seed, n, m, d, shift=0.3)
    got = mmd2(x, y, bandwidths=bandwidths, estimator=estimator)
    assert got == pytest.approx(brute_mmd2(x, y, bandwidths, estimator), rel=1e-10)


def test_mmd2_default_bandwidths_are_median_times_factors():
    # N = 10 pooled rows: 45 pairs (odd), so the median pair distance is one pair's distance.
    x, y = normal_pair(4, 4, 6, 2, shift=0.5)
    median = float(np.median(scipy.spatial.distance.pdist(np.vstack([x, y]))))
    bws = [median * f for f in DEFAULT_BANDWIDTH_FACTORS]
    assert mmd2(x, y) == pytest.approx(brute_mmd2(x, y, bws), rel=1e-10)
    factors = (0.5, 3.0)
    bws = [median * f for f in factors]
    got = mmd2(x, y, bandwidth_factors=factors, estimator="biased")
    assert got == pytest.approx(brute_mmd2(x, y, bws, "biased"), rel=1e-10)


def test_mmd2_detects_a_shift_and_is_near_zero_without():
    x, y = normal_pair(5, 200, 200, 2)
    same = mmd2(x, y)
    shifted = mmd2(x, y + 1.0)
    assert abs(same) < 0.02 < shifted


def test_pairwise_sq_distances_and_rbf_gram_match_brute_force():
    x, _ = normal_pair(6, 9, 1, 3)
    d2 = pairwise_sq_distances(x)
    ref = scipy.spatial.distance.cdist(x, x, "sqeuclidean")
    np.testing.assert_allclose(d2, ref, rtol=1e-10, atol=1e-12)
    assert np.all(np.diagonal(d2) == 0)
    assert pairwise_sq_distances(x, np.float32).dtype == np.float32
    g = rbf_gram(d2, [1.0, 2.0])
    np.testing.assert_allclose(g, np.exp(-ref / 2) + np.exp(-ref / 8), rtol=1e-10)


def test_resolve_bandwidths():
    z = np.array([[0.0], [1.0], [3.0]])  # median pair distance 2
    assert resolve_bandwidths(z, bandwidths=[0.5, 1.0]) == (0.5, 1.0)
    assert resolve_bandwidths(z, bandwidths=2) == (2.0,)
    assert resolve_bandwidths(z, factors=(0.5, 1.0, 2.0)) == (1.0, 2.0, 4.0)


# --------------------------------------------------------------------------------------------
# energy distance


def test_energy_hand_computed_1d():
    # x = (0, 2), y = (1, 5): mean|x-y| = (1+5+1+3)/4 = 2.5, mean|x-x'| = (0+2+2+0)/4 = 1,
    # mean|y-y'| = (0+4+4+0)/4 = 2  →  2·2.5 - 1 - 2 = 2.
    assert energy_distance([0.0, 2.0], [1.0, 5.0]) == pytest.approx(2.0, rel=1e-14)
    assert energy_distance([0.0, 0.0], [3.0, 3.0]) == pytest.approx(6.0, rel=1e-14)
    assert energy_distance([0.0, 1.0], [0.0, 1.0]) == 0.0


def test_energy_hand_computed_2d():
    # x = {(0,0), (3,4)}, y = {(0,0), (0,1)}: cross distances 0, 1, 5, √18 = 3√2,
    # mean = (6 + 3√2)/4; mean|x-x'| = 2·5/4 = 2.5; mean|y-y'| = 2·1/4 = 0.5
    # → (6 + 3√2)/2 - 3 = 1.5·√2.
    x, y = [[0.0, 0.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 1.0]]
    assert energy_distance(x, y) == pytest.approx(1.5 * math.sqrt(2), rel=1e-13)


@pytest.mark.parametrize(
    ("seed", "n", "m", "d"), [(0, 6, 9, 1), (1, 8, 8, 2), (2, 5, 11, 3), (3, 12, 7, 7)]
)
def test_energy_matches_brute_force_double_loop(seed, n, m, d):
    x, y = normal_pair(seed, n, m, d, shift=0.4)
    assert energy_distance(x, y) == pytest.approx(brute_energy(x, y), rel=1e-10)


@pytest.mark.parametrize(("seed", "n", "m"), [(0, 10, 13), (1, 30, 30), (2, 3, 50)])
def test_energy_1d_equals_scipy_energy_distance_squared(seed, n, m):
    g = np.random.default_rng(seed)
    x, y = g.normal(size=n), g.standard_t(3, size=m) + 0.2
    ref = scipy.stats.energy_distance(x, y) ** 2
    assert energy_distance(x, y) == pytest.approx(ref, rel=1e-10)
    # 1-D input and (n × 1) columns are the same thing
    assert energy_distance(x[:, None], y[:, None]) == energy_distance(x, y)


def test_energy_is_translation_invariant_and_scales_linearly():
    x, y = normal_pair(7, 9, 8, 3, shift=0.5)
    base = energy_distance(x, y)
    assert energy_distance(x + 100.0, y + 100.0) == pytest.approx(base, rel=1e-9)
    assert energy_distance(3 * x, 3 * y) == pytest.approx(3 * base, rel=1e-10)


def test_energy_of_a_sample_with_itself_is_zero_in_several_dimensions():
    worst = 0.0
    for seed in range(30):
        for d in (5, 7):
            x = 5 * np.random.default_rng(seed).normal(size=(4, d))
            worst = max(worst, abs(energy_distance(x, x.copy())) / gross_energy(x, x))
    assert worst <= 1e-10, f"|energy(x, x)| / gross magnitude up to {worst:.3g}"


# --------------------------------------------------------------------------------------------
# binned KL


def test_binned_kl_hand_computed_directions():
    # pooled (0, 0, 1, 1, 1, 2), 2 bins → edges (0, 1, 2): bins [0, 1) and [1, 2].
    # x = (0, 0, 1): counts (2, 1);  y = (1, 1, 2): counts (0, 3).  K = 2, smoothing ½:
    # p = (2.5, 1.5)/4 = (5/8, 3/8),  q = (0.5, 3.5)/4 = (1/8, 7/8)
    # forward = 5/8·ln 5 + 3/8·ln(3/7);  reverse = 1/8·ln(1/5) + 7/8·ln(7/3).
    x, y = [0.0, 0.0, 1.0], [1.0, 1.0, 2.0]
    forward = 5 / 8 * math.log(5) + 3 / 8 * math.log(3 / 7)
    reverse = 1 / 8 * math.log(1 / 5) + 7 / 8 * math.log(7 / 3)
    assert binned_kl(x, y, bins=2) == pytest.approx(forward, rel=1e-13)
    assert binned_kl(x, y, bins=2, direction="reverse") == pytest.approx(reverse, rel=1e-13)
    symmetric = binned_kl(x, y, bins=2, direction="symmetric")
    assert symmetric == pytest.approx(forward + reverse, rel=1e-13)
    # smoothing 1: p = (3, 2)/5, q = (1, 4)/5 → 3/5·ln 3 + 2/5·ln(1/2)
    one = 0.6 * math.log(3) + 0.4 * math.log(0.5)
    assert binned_kl(x, y, bins=2, smoothing=1.0) == pytest.approx(one, rel=1e-13)


def test_binned_kl_hand_computed_2d_sums_dimensions():
    # Column 0 as in the 1-D case (forward 5/8·ln5 + 3/8·ln(3/7)); column 1 has
    # x = (0, 1, 1) → counts (1, 2), y = (0, 0, 1) → counts (2, 1) with pooled edges (0, .5, 1):
    # p = (1.5, 2.5)/4, q = (2.5, 1.5)/4 → 3/8·ln(3/5) + 5/8·ln(5/3) = 1/4·ln(5/3).
    x = [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    y = [[1.0, 0.0], [1.0, 0.0], [2.0, 1.0]]
    col0 = 5 / 8 * math.log(5) + 3 / 8 * math.log(3 / 7)
    col1 = 0.25 * math.log(5 / 3)
    assert binned_kl(x, y, bins=2) == pytest.approx(col0 + col1, rel=1e-13)


def test_binned_kl_docstring_and_identical_histograms():
    assert binned_kl([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], bins=2) == 0.0
    x, _ = normal_pair(1, 12, 1, 2)
    for direction in ("forward", "reverse", "symmetric"):
        assert binned_kl(x, x[::-1], bins=4, direction=direction) == 0.0


@pytest.mark.parametrize("bins", [3, 7, "auto", "sturges", "fd"])
@pytest.mark.parametrize("smoothing", [0.5, 1.0, 0.01])
def test_binned_kl_matches_numpy_histogram(bins, smoothing):
    x, y = normal_pair(11, 40, 55, 3, shift=0.3)
    for direction in ("forward", "reverse", "symmetric"):
        got = binned_kl(x, y, bins=bins, smoothing=smoothing, direction=direction)
        ref = histogram_kl(x, y, bins, smoothing, direction)
        assert got == pytest.approx(ref, rel=1e-10)


def test_binned_kl_symmetric_is_forward_plus_reverse_and_reverse_is_swapped_forward():
    x, y = normal_pair(12, 30, 25, 2, shift=0.5)
    f = binned_kl(x, y, bins=5)
    r = binned_kl(x, y, bins=5, direction="reverse")
    assert binned_kl(x, y, bins=5, direction="symmetric") == pytest.approx(f + r, rel=1e-12)
    assert f >= 0 and r >= 0
    # equal sizes: the reverse KL of (x, y) is the forward KL of (y, x)
    x, y = normal_pair(12, 30, 30, 2, shift=0.5)
    assert binned_kl(x, y, bins=5, direction="reverse") == pytest.approx(
        binned_kl(y, x, bins=5), rel=1e-12
    )


def test_shared_bins_matches_numpy_histogram_counts():
    z = np.random.default_rng(13).normal(size=(101, 3))
    z[7] = z[:, :].max(axis=0)  # a point on every last edge (closed last bin)
    binning = shared_bins(z, bins=6)
    assert binning.n_bins.tolist() == [6, 6, 6]
    assert binning.offsets.tolist() == [0, 6, 12]
    counts = binning.indicator().sum(axis=0)
    for j in range(3):
        ref, _ = np.histogram(z[:, j], bins=6)
        np.testing.assert_array_equal(counts[6 * j : 6 * j + 6], ref)
    np.testing.assert_array_equal(binning.indicator().sum(axis=1), np.full(101, 3.0))
    assert shared_bins(np.array([[0.0], [1.0], [2.0], [3.0]]), bins=2).n_bins.tolist() == [2]


# --------------------------------------------------------------------------------------------
# median heuristic


def test_median_heuristic_hand_computed():
    assert median_heuristic(np.array([[0.0], [1.0], [3.0]])) == (2.0, 3)  # distances 1, 2, 3
    # 3-4-5 triangle: distances 3, 4, 5
    got, rows = median_heuristic(np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]]))
    assert rows == 3 and got == pytest.approx(4.0, rel=1e-14)
    # 6 points, 15 pairs (odd count): the median is the 8th smallest pair distance.
    z = np.array([0.0, 1.0, 3.0, 7.0, 12.0, 20.0])[:, None]
    pairs = sorted(abs(a - b) for a, b in itertools.combinations(z[:, 0], 2))
    assert len(pairs) == 15
    assert median_heuristic(z) == (pytest.approx(pairs[7], rel=1e-14), 6)


def test_median_heuristic_even_number_of_pairs_is_the_median_distance():
    # 4 points, 6 pair distances 1, 2, 3, 4, 6, 7 → median (3 + 4)/2 = 3.5
    got, rows = median_heuristic(np.array([[0.0], [1.0], [3.0], [7.0]]))
    assert rows == 4
    assert got == pytest.approx(3.5, rel=1e-12)


def test_median_heuristic_mean_positive_fallback_warns():
    # 5 points, 10 pairs: 6 are 0 (the four zeros) and 4 are 2 → median 0 → mean positive = 2.
    z = np.array([[0.0], [0.0], [0.0], [0.0], [2.0]])
    with pytest.warns(DegenerateDataWarning, match="over half"):
        got = median_heuristic(z)
    assert got == (pytest.approx(2.0, rel=1e-14), 5)


def test_median_heuristic_all_identical_warns_and_gives_one():
    z = np.full((6, 2), 3.7)
    with pytest.warns(DegenerateDataWarning, match="coincide"):
        assert median_heuristic(z) == (1.0, 6)


def test_median_heuristic_subsample_is_independent_of_row_order():
    g = np.random.default_rng(21)
    z = g.normal(size=(60, 2))
    z[10:15] = z[0]  # duplicated rows must not matter either
    max_rows = 18  # 153 pairs (odd)
    got, rows = median_heuristic(z, max_rows=max_rows)
    assert rows == max_rows
    for _ in range(5):
        assert median_heuristic(z[g.permutation(60)], max_rows=max_rows) == (got, rows)
    # the rows used: spread evenly through z sorted lexicographically
    ordered = np.array(sorted(map(tuple, z)))
    picked = ordered[np.linspace(0, 59, max_rows).round().astype(int)]
    ref = float(np.median(scipy.spatial.distance.pdist(picked)))
    assert got == pytest.approx(ref, rel=1e-12)
    # the full-data path on a permuted sample agrees to rounding
    full, n_full = median_heuristic(z)
    assert n_full == 60
    assert median_heuristic(z[::-1])[0] == pytest.approx(full, rel=1e-12)


def test_median_heuristic_subsample_lexicographic_order_uses_later_columns_for_ties():
    # first column has only two values; the lexicographic order must use column 1 within them.
    g = np.random.default_rng(22)
    z = np.column_stack([g.integers(0, 2, 40).astype(float), g.normal(size=40)])
    a = median_heuristic(z, max_rows=10)
    b = median_heuristic(z[g.permutation(40)], max_rows=10)
    assert a == b


# --------------------------------------------------------------------------------------------
# degenerate data


def test_mmd2_on_identical_points_warns_and_is_zero():
    x = np.ones((5, 3))
    with pytest.warns(DegenerateDataWarning, match="coincide"):
        value = mmd2(x, x.copy())
    assert value == pytest.approx(0.0, abs=1e-12)
    with pytest.warns(DegenerateDataWarning):
        assert mmd2(x, x, estimator="biased") == pytest.approx(0.0, abs=1e-12)


def test_constant_data_with_fixed_bandwidths_and_other_statistics_do_not_warn():
    x = np.ones((5, 2))
    assert mmd2(x, x, bandwidths=1.0) == pytest.approx(0.0, abs=1e-12)
    assert energy_distance(x, x) == 0.0
    assert binned_kl(x, x) == 0.0


# --------------------------------------------------------------------------------------------
# bad input


def _raises(match, fn, *args, **kwargs):
    with pytest.raises(ParityInputError, match=match):
        fn(*args, **kwargs)


X, Y = normal_pair(30, 6, 7, 2)


@pytest.mark.parametrize("fn", [mmd2, energy_distance, binned_kl])
def test_bad_arrays(fn):
    bad = X.copy()
    bad[3, 1] = np.nan
    bad[5, 0] = np.inf
    _raises(r"`reference`.*rows 3, 5", fn, bad, Y)
    _raises(r"`candidate`.*NaN", fn, X, np.where(Y > 1e9, Y, np.nan))
    _raises(r"same dimension.*2 and 3", fn, X, np.ones((4, 3)))
    _raises(r"`reference`.*at least 2", fn, X[:1], Y)
    _raises(r"`candidate`.*at least 2", fn, X, Y[:1])
    _raises(r"`reference`.*1-D or 2-D", fn, np.ones((2, 2, 2)), Y)
    _raises(r"`reference`.*numeric", fn, ["a", "b"], Y)


@pytest.mark.parametrize("bandwidths", [-1.0, [1.0, -0.5], [0.0], [], [np.nan], [np.inf]])
def test_bad_bandwidths(bandwidths):
    _raises(r"`bandwidths`", mmd2, X, Y, bandwidths=bandwidths)


@pytest.mark.parametrize("factors", [(), (1.0, 0.0), (-1.0,), (np.nan,)])
def test_bad_bandwidth_factors(factors):
    _raises(r"`bandwidth_factors`", mmd2, X, Y, bandwidth_factors=factors)


def test_bad_estimator():
    _raises(r"`estimator`.*'U'", mmd2, X, Y, bandwidths=1.0, estimator="U")


@pytest.mark.parametrize("smoothing", [0, 0.0, -0.5, np.nan, np.inf])
def test_bad_smoothing(smoothing):
    _raises(r"`smoothing`", binned_kl, X, Y, smoothing=smoothing)


def test_bad_direction():
    _raises(r"`direction`.*'both'", binned_kl, X, Y, direction="both")


@pytest.mark.parametrize("bins", [0, -3, 2.5, True, "no-such-rule"])
def test_bad_bins(bins):
    _raises(r"`bins`", binned_kl, X, Y, bins=bins)


@pytest.mark.parametrize("bins", [2.0, None, [0.0, 1.0, 2.0], np.nan])
def test_bad_bins_of_other_types_raise_parity_input_error(bins):
    with pytest.raises(ParityInputError, match=r"`bins`"):
        binned_kl(X, Y, bins=bins)


@pytest.mark.parametrize("seed", range(6))
def test_linear_quantiles_equal_numpy_quantile_to_the_bit(seed):
    gen = np.random.default_rng(seed)
    for n in (1, 2, 3, 7, 100, 1001):
        for values in (gen.random(n), gen.integers(0, 4, n).astype(float)):
            for qs in ((0.05, 0.95), tuple(gen.random(3)), (0.0, 1.0)):
                expected = np.quantile(values, qs)
                assert np.array_equal(linear_quantiles(values.copy(), qs), expected)


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "cityblock"])
@pytest.mark.parametrize("d", [1, 2, 7, 33, 300])
def test_numpy_cdist_has_the_bits_of_scipy_cdist(metric, d):
    g = np.random.default_rng(d)
    a = g.normal(size=(17, d)) * 10.0 ** g.uniform(-6, 6, size=d)
    b = g.standard_t(2, size=(23, d))
    assert np.array_equal(numpy_cdist(a, b, metric), scipy.spatial.distance.cdist(a, b, metric))
    stack = g.normal(size=(4, 5, d))
    expected = np.stack([scipy.spatial.distance.cdist(s, s, metric) for s in stack])
    assert np.array_equal(numpy_cdist(stack, stack, metric), expected)


def test_pdist_has_the_bits_of_scipy_pdist():
    z = np.random.default_rng(5).normal(size=(3000, 3))  # several row blocks
    for metric in ("euclidean", "cityblock"):
        assert np.array_equal(pdist(z, metric), scipy.spatial.distance.pdist(z, metric))
    assert pdist(z[:1], "euclidean").size == 0


def test_a_small_test_without_scipy_imported_has_the_same_bits(tmp_path):
    """Without scipy.spatial and scipy.sparse imported, the default test computes its distances
    with numpy and its KL counts with a dense product; importing both switches to scipy's
    functions, with the same bytes of result."""
    import subprocess
    import sys

    code = """
import sys, numpy as np
from parity.stats import two_sample_test
g = np.random.default_rng(0)
x, y = g.normal(size=(300, 3)), g.normal(size=(300, 3)) + 0.1
first = two_sample_test(x, y, n_resamples=199, rng=1).to_dict()
print(sorted(m for m in ("scipy.spatial", "scipy.sparse") if m in sys.modules))
import scipy.spatial.distance, scipy.sparse
assert two_sample_test(x, y, n_resamples=199, rng=1).to_dict() == first
print("same")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "same"], out.stderr
