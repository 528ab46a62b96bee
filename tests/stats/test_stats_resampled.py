"""Tests of ``parity.stats._resampled``: a margin's tests on a bootstrap distribution.

Exact small cases (counted by hand), a brute-force count and numpy's own quantile definition
(``method="linear"``, the percentile bootstrap's) as references.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from parity.stats._resampled import interval_inside, margin_pvalues, percentile_interval


def test_pvalues_count_the_resamples_beyond_each_bound():
    d = np.array([0.90, 0.95, 1.00, 1.05, 1.10])  # one equal to each bound: it counts
    assert margin_pvalues(d, (0.95, 1.05)) == (3 / 6, 3 / 6)
    assert margin_pvalues(d, (0.5, 2.0)) == (1 / 6, 1 / 6)  # never below 1/(B + 1)
    assert margin_pvalues(d, (-math.inf, 1.0)) == (1 / 6, 4 / 6)


def test_pvalues_match_a_brute_force_count():
    rng = np.random.default_rng(3)
    d = rng.normal(1.0, 0.03, 999)
    low, high = 0.95, 1.05
    brute_low = (1 + sum(1 for v in d if v <= low)) / (1 + len(d))
    brute_high = (1 + sum(1 for v in d if v >= high)) / (1 + len(d))
    assert margin_pvalues(d, (low, high)) == (brute_low, brute_high)
    assert all(type(p) is float for p in margin_pvalues(d, (low, high)))


def test_percentile_interval_sides():
    d = np.random.default_rng(1).normal(size=2001)
    lo, hi = np.quantile(d, (0.025, 0.975))
    assert percentile_interval(d, 0.025, "two-sided") == (float(lo), float(hi))
    assert percentile_interval(d, 0.025, "lower") == (float(lo), math.inf)
    assert percentile_interval(d, 0.025, "upper") == (-math.inf, float(hi))
    # the interpolated quantile of 0 … 10 at 0.25 is 2.5
    assert percentile_interval(np.arange(11.0), 0.25, "two-sided") == (2.5, 7.5)
    with pytest.raises(ValueError, match="side"):
        percentile_interval(d, 0.05, "both")


def test_interval_inside_is_strict_and_infinite_bounds_hold():
    assert interval_inside((0.96, 1.04), (0.95, 1.05))
    assert not interval_inside((0.95, 1.04), (0.95, 1.05))  # on the bound: not inside
    assert not interval_inside((0.96, 1.05), (0.95, 1.05))
    assert interval_inside((0.96, math.inf), (0.95, math.inf))
    assert interval_inside((-math.inf, 1.04), (-math.inf, 1.05))
    assert not interval_inside((math.nan, math.nan), (0.95, 1.05))
