"""Tests of parity.stats.intervals: Clopper–Pearson and Wilson intervals for a proportion."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.errors import ParityInputError
from parity.stats.intervals import ProportionInterval, clopper_pearson, wilson

ALTERNATIVES = ["two-sided", "less", "greater"]
LEVELS = [0.5, 0.8, 0.9, 0.95, 0.99, 0.999]


def _grid():
    for n in [1, 2, 3, 5, 10, 17, 50, 100, 1000]:
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            yield k, n


GRID = list(_grid())


# --------------------------------------------------------------------------------------------
# hand-computable cases


@pytest.mark.parametrize("n", [1, 10, 30, 300, 3000])
def test_zero_events_upper_bound_closed_form(n):
    res = clopper_pearson(0, n, alternative="less")
    assert res.confidence_interval[0] == 0.0
    assert res.confidence_interval[1] == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-13)
    # two-sided: the upper bound uses alpha / 2
    two = clopper_pearson(0, n, confidence_level=0.9)
    assert two.confidence_interval[1] == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-13)


def test_rule_of_three():
    for n in [100, 1000, 10000]:
        upper = clopper_pearson(0, n, alternative="less").confidence_interval[1]
        # 1 − 0.05^(1/n) = −ln(0.05)/n + O(1/n²), −ln(0.05) = 2.9957…
        assert 2.9 / n < upper < 3.0 / n
        assert upper == pytest.approx(3.0 / n, rel=0.02)
        assert upper == pytest.approx(-math.log(0.05) / n, rel=2.0 / n)


def test_all_events_lower_bound_closed_form():
    res = clopper_pearson(10, 10, alternative="greater")
    assert res.confidence_interval == pytest.approx((0.05 ** (1 / 10), 1.0), rel=1e-13)
    assert clopper_pearson(10, 10).confidence_interval[1] == 1.0


def test_n_one():
    # k = 1, n = 1: lower bound solves p = alpha/2
    assert clopper_pearson(1, 1).confidence_interval == pytest.approx((0.025, 1.0), rel=1e-13)
    assert clopper_pearson(0, 1).confidence_interval == pytest.approx((0.0, 0.975), rel=1e-13)


def test_result_fields_and_json():
    res = clopper_pearson(3, 12, confidence_level=0.9, alternative="greater")
    assert isinstance(res, ProportionInterval)
    assert (res.statistic, res.k, res.n) == (0.25, 3, 12)
    assert res.confidence_level == 0.9 and res.alternative == "greater"
    assert res.method == "Clopper-Pearson exact"
    assert res.confidence_interval[1] == 1.0
    d = json.loads(json.dumps(res.to_dict()))
    assert d["confidence_interval"] == list(res.confidence_interval)
    assert d["method"] == "Clopper-Pearson exact"
    assert wilson(3, 12).method == "Wilson score"
    assert wilson(3, 12, continuity=True).method == "Wilson score with continuity correction"
    with pytest.raises(AttributeError):
        res.k = 4  # frozen


def test_integer_valued_floats_and_numpy_ints_are_accepted():
    a = clopper_pearson(np.int64(3), 12.0)
    b = clopper_pearson(3, 12)
    assert a == b and isinstance(a.k, int) and isinstance(a.n, int)


def test_wilson_hand_computed():
    # k = 5, n = 10, z = 1.959964: center 0.5, half-width z/(2(n+z²))·sqrt(4·10·0.25 + z²)
    z = 1.959963984540054
    half = z / (2 * (10 + z * z)) * math.sqrt(10 + z * z)
    assert wilson(5, 10).confidence_interval == pytest.approx((0.5 - half, 0.5 + half), rel=1e-14)


# --------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    ("k", "n", "match"),
    [
        (-1, 10, "`k` must be an integer in \\[0, n\\]"),
        (11, 10, "`k` must be an integer in \\[0, n\\] = \\[0, 10\\]; got 11"),
        (0, 0, "`n` must be an integer >= 1"),
        (1, -3, "`n` must be an integer >= 1"),
        (2.5, 10, "`k` must be an integer; got 2.5"),
        (2, 10.5, "`n` must be an integer; got 10.5"),
        (True, 10, "`k` must be an integer"),
        ("3", 10, "`k` must be an integer"),
        (float("nan"), 10, "`k` must be an integer"),
        (None, 10, "`k` must be an integer"),
    ],
)
@pytest.mark.parametrize("func", [clopper_pearson, wilson])
def test_bad_counts(func, k, n, match):
    with pytest.raises(ParityInputError, match=match):
        func(k, n)


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.1, float("nan"), "high"])
@pytest.mark.parametrize("func", [clopper_pearson, wilson])
def test_bad_confidence_level(func, level):
    with pytest.raises(ParityInputError, match="`confidence_level`"):
        func(3, 10, confidence_level=level)


@pytest.mark.parametrize("func", [clopper_pearson, wilson])
def test_bad_alternative(func):
    with pytest.raises(ParityInputError, match=r"`alternative` must be .*; got 'upper'"):
        func(3, 10, alternative="upper")


def test_bad_continuity():
    with pytest.raises(ParityInputError, match="`continuity`"):
        wilson(3, 10, continuity="yes")


# --------------------------------------------------------------------------------------------
# oracle: scipy.stats.binomtest(k, n).proportion_ci


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(
    ("func", "kwargs", "scipy_method"),
    [
        (clopper_pearson, {}, "exact"),
        (wilson, {}, "wilson"),
        (wilson, {"continuity": True}, "wilsoncc"),
    ],
)
def test_agrees_with_scipy_binomtest(func, kwargs, scipy_method, alternative):
    from scipy.stats import binomtest

    for k, n in GRID:
        for level in LEVELS:
            res = func(k, n, confidence_level=level, alternative=alternative, **kwargs)
            ci = binomtest(k, n, alternative=alternative).proportion_ci(
                method=scipy_method, confidence_level=level
            )
            # scipy finds the exact bounds with brentq (xtol 2e-12); ours are beta quantiles.
            np.testing.assert_allclose(
                res.confidence_interval, (ci.low, ci.high), rtol=0, atol=1e-12
            )
            assert res.statistic == k / n


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_exact_bounds_solve_the_binomial_tail_equations(alternative):
    """Each Clopper–Pearson bound is where the binomial tail probability equals alpha."""
    from scipy.stats import binom

    for k, n in GRID:
        for level in (0.9, 0.95, 0.99):
            low, high = clopper_pearson(k, n, level, alternative).confidence_interval
            a = (1 - level) / 2 if alternative == "two-sided" else 1 - level
            if low > 0:
                assert binom.sf(k - 1, n, low) == pytest.approx(a, rel=1e-9)
            if high < 1:
                assert binom.cdf(k, n, high) == pytest.approx(a, rel=1e-9)


# --------------------------------------------------------------------------------------------
# coverage, computed exactly from the binomial pmf


def _coverage(func, n, p, level, alternative):
    from scipy.stats import binom

    covered = 0.0
    for k in range(n + 1):
        low, high = func(k, n, level, alternative).confidence_interval
        if low <= p <= high:
            covered += binom.pmf(k, n, p)
    return covered


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("n", [7, 25, 60])
def test_clopper_pearson_coverage_at_least_nominal(n, alternative):
    for p in (0.013, 0.1, 0.37, 0.5, 0.81, 0.96):
        for level in (0.9, 0.95):
            assert _coverage(clopper_pearson, n, p, level, alternative) >= level - 1e-12


def test_wilson_coverage_is_near_nominal_but_not_guaranteed():
    # Wilson is approximate: its exact coverage oscillates around the nominal level.
    cov = [_coverage(wilson, 40, p, 0.95, "two-sided") for p in np.linspace(0.05, 0.95, 19)]
    assert 0.93 < np.mean(cov) < 0.97
    assert min(cov) < 0.95  # not conservative everywhere, unlike Clopper–Pearson


# --------------------------------------------------------------------------------------------
# properties


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 500),
    frac=st.floats(0, 1),
    level=st.floats(0.5, 0.999),
    alternative=st.sampled_from(ALTERNATIVES),
)
def test_interval_properties(n, frac, level, alternative):
    k = round(frac * n)
    cp = clopper_pearson(k, n, level, alternative)
    for res in (cp, wilson(k, n, level, alternative), wilson(k, n, level, alternative, True)):
        low, high = res.confidence_interval
        assert 0.0 <= low <= res.statistic <= high <= 1.0
        if alternative == "less":
            assert low == 0.0
        if alternative == "greater":
            assert high == 1.0
    # the one-sided bound is tighter than the two-sided one at the same level
    two = clopper_pearson(k, n, level)
    if alternative == "less":
        assert cp.confidence_interval[1] <= two.confidence_interval[1]
    if alternative == "greater":
        assert cp.confidence_interval[0] >= two.confidence_interval[0]
