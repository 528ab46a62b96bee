"""Tests of parity.stats.thresholds.otsu_threshold."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.errors import DegenerateDataWarning, ParityInputError
from parity.stats.thresholds import ThresholdResult, otsu_threshold

# Any parity warning that a test does not expect with pytest.warns is a failure.
pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")


def _brute_force(x, bins):
    """Try every interior bin edge: lower class = bins left of it, variance from bin centers."""
    counts, edges = np.histogram(x, bins=bins, range=(np.min(x), np.max(x)))
    centers = (edges[:-1] + edges[1:]) / 2
    n = counts.sum()
    best_value, best_splits = -1.0, []
    for k in range(1, bins):  # edge k separates bins 0..k-1 from bins k..bins-1
        c0, c1 = counts[:k], counts[k:]
        if c0.sum() == 0 or c1.sum() == 0:
            continue
        w0, w1 = c0.sum() / n, c1.sum() / n
        mu0 = np.sum(c0 * centers[:k]) / c0.sum()
        mu1 = np.sum(c1 * centers[k:]) / c1.sum()
        value = w0 * w1 * (mu0 - mu1) ** 2
        if value > best_value * (1 + 1e-12):
            best_value, best_splits = value, [k]
        elif value >= best_value * (1 - 1e-12):
            best_splits.append(k)
    return best_value, best_splits, counts, edges, centers


# --------------------------------------------------------------------------------------------
# exact cases


def test_two_well_separated_clusters():
    g = np.random.default_rng(0)
    low = g.uniform(0.0, 1.0, 300)
    high = g.uniform(5.0, 6.0, 200)
    x = np.concatenate([low, high])
    res = otsu_threshold(x)
    assert low.max() < res.threshold < high.min()
    # halfway across the gap of empty bins (bin resolution: (max − min)/256)
    width = (x.max() - x.min()) / 256
    assert abs(res.threshold - (low.max() + high.min()) / 2) <= width
    assert res.bin_center < res.threshold
    # between-class variance: w0·w1·(μ0 − μ1)² with bin-center means, close to the data's
    exact = 0.6 * 0.4 * (low.mean() - high.mean()) ** 2
    assert res.between_class_variance == pytest.approx(exact, rel=1e-3)
    assert res.method == "Otsu (histogram with 256 bins)"
    assert (res.bins, res.n, res.warnings) == (256, 500, ())


def test_hand_computed_small_case():
    # edges 0, 1, 2, 3, 4 (4 bins over [0, 4]); counts 2, 1, 0, 2; centers 0.5, 1.5, 2.5, 3.5.
    x = [0.0, 0.5, 1.0, 3.2, 4.0]
    res = otsu_threshold(x, bins=4)
    # w0·w1·(μ0 − μ1)² for the splits after bins 0, 1 and 2:
    candidates = {
        0: (2 / 5) * (3 / 5) * (0.5 - (1.5 + 3.5 * 2) / 3) ** 2,
        1: (3 / 5) * (2 / 5) * ((0.5 * 2 + 1.5) / 3 - 3.5) ** 2,
        2: (3 / 5) * (2 / 5) * ((0.5 * 2 + 1.5) / 3 - 3.5) ** 2,  # bin 2 is empty: same split
    }
    assert max(candidates, key=candidates.get) == 1
    # the best partition is {0, 0.5, 1} | {3.2, 4}: between edge 2 and edge 3, middle 2.5
    assert res.threshold == 2.5
    assert res.bin_center == 1.5
    assert res.between_class_variance == pytest.approx(candidates[1], rel=1e-14)


def test_threshold_is_a_bin_edge_without_empty_bins():
    # 4 bins over [0, 3], edges 0, .75, 1.5, 2.25, 3: one value per bin, no empty bin
    x = np.repeat([0.0, 1.0, 2.0, 3.0], [10, 10, 1, 30])
    res = otsu_threshold(x, bins=4)
    _, splits, counts, edges, centers = _brute_force(x, 4)
    assert counts.tolist() == [10, 10, 1, 30] and len(splits) == 1
    assert res.threshold == edges[splits[0]]
    assert res.bin_center == centers[splits[0] - 1]
    # the class rule x >= threshold reproduces the histogram partition
    assert np.array_equal(x >= res.threshold, x >= edges[splits[0]])


def test_constant_data_warns_and_returns_the_value():
    with pytest.warns(DegenerateDataWarning, match="all 7 values equal 2.5"):
        res = otsu_threshold(np.full(7, 2.5))
    assert res.threshold == res.bin_center == 2.5
    assert res.between_class_variance == 0.0
    assert res.method == "none (constant data)"
    assert len(res.warnings) == 1
    with pytest.warns(DegenerateDataWarning):
        assert otsu_threshold([4.0]).threshold == 4.0


def test_two_values():
    res = otsu_threshold([1.0, 1.0, 3.0], bins=2)
    assert res.threshold == 2.0  # the only interior edge
    assert res.between_class_variance == pytest.approx((2 / 3) * (1 / 3) * (1.5 - 2.5) ** 2)


def test_accepts_any_shape_and_integer_input():
    img = np.zeros((20, 30), dtype=np.uint8)
    img[5:15, 10:20] = 200
    img[0, 0] = 90
    res = otsu_threshold(img)
    assert 90 < res.threshold < 200
    assert res.n == 600


def test_result_json_and_frozen():
    res = otsu_threshold(np.r_[np.zeros(5), np.ones(5)])
    assert isinstance(res, ThresholdResult)
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d) == {
        "threshold",
        "between_class_variance",
        "bin_center",
        "bins",
        "n",
        "method",
        "warnings",
    }
    with pytest.raises(AttributeError):
        res.threshold = 0.3


# --------------------------------------------------------------------------------------------
# brute force over all bin edges


@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force_over_all_bin_edges(seed):
    g = np.random.default_rng(seed)
    kind = seed % 4
    if kind == 0:
        x = np.concatenate([g.normal(0, 1, 400), g.normal(4, 0.5, 150)])
    elif kind == 1:
        x = g.exponential(1.0, 300)
    elif kind == 2:
        x = np.round(g.normal(0, 1, 200), 1)  # ties and empty bins
    else:
        x = np.concatenate([g.uniform(0, 1, 50), g.uniform(3, 4, 50), g.uniform(9, 10, 60)])
    bins = int(g.choice([2, 3, 16, 64, 256]))
    res = otsu_threshold(x, bins=bins)
    value, splits, _, edges, centers = _brute_force(x, bins)
    assert res.between_class_variance == pytest.approx(value, rel=1e-10)
    # the maximizing splits; several only when they differ by empty bins (same partition)
    partitions = {tuple(x < edges[k]) for k in splits}
    assert len(partitions) == 1
    lower = x < res.threshold
    assert tuple(lower) in partitions
    # the threshold is the middle of the gap of empty bins around the chosen split
    assert res.threshold == pytest.approx((edges[splits[0]] + edges[splits[-1]]) / 2, rel=1e-12)
    assert res.bin_center == centers[splits[0] - 1]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=60),
    st.integers(2, 40),
)
def test_properties(values, bins):
    x = np.array(values)
    if x.min() == x.max():
        return
    try:
        np.histogram_bin_edges(x, bins=bins)
    except ValueError:  # a range too narrow for `bins` distinct floats, e.g. [0, 5e-324]
        with pytest.raises(ParityInputError, match="`bins` must fit the range"):
            otsu_threshold(x, bins=bins)
        return
    res = otsu_threshold(x, bins=bins)
    assert x.min() < res.threshold <= x.max()
    lower = x < res.threshold
    assert lower.any() and not lower.all()  # two non-empty classes
    assert res.between_class_variance >= 0.0
    value, *_ = _brute_force(x, bins)
    assert res.between_class_variance == pytest.approx(value, rel=1e-9, abs=1e-300)
    # invariant to the order of the values
    assert otsu_threshold(x[::-1], bins=bins) == res


# --------------------------------------------------------------------------------------------
# oracle: scikit-image (optional, not a dependency)


@pytest.mark.parametrize("seed", range(5))
def test_bin_center_agrees_with_scikit_image(seed):
    filters = pytest.importorskip("skimage.filters")
    g = np.random.default_rng(seed)
    x = np.concatenate([g.normal(0, 1, 500), g.normal(3 + seed, 1.5, 300)])
    res = otsu_threshold(x)
    assert res.bin_center == pytest.approx(filters.threshold_otsu(x, nbins=256), rel=1e-12)


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("x", "match"),
    [
        ([], "`x` must have at least one value"),
        ([1.0, np.nan, 2.0, np.inf], r"finite; got 2 NaN/inf values \(flat positions 1, 3\)"),
        ([1.0, 1.0 + 2**-52], "`bins` must fit the range of `x`; got 256 bins for"),
        ("abc", "`x` must be a numeric array"),
        ([1.0, "a"], "`x` must be a numeric array"),
    ],
)  # fmt: skip
def test_bad_values(x, match):
    with pytest.raises(ParityInputError, match=match):
        otsu_threshold(x)


@pytest.mark.parametrize("bins", [1, 0, 2.5, -3, True])
def test_bad_bins(bins):
    with pytest.raises(ParityInputError, match="`bins`"):
        otsu_threshold([1.0, 2.0, 3.0], bins=bins)
