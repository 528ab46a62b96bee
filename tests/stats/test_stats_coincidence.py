"""Tests of ``parity.stats.coincidence``: exact tests of coincidences against chance.

The exact null distributions are checked against full enumeration (every permutation, every
subset) and against scipy (``permutation_test`` with pairings, ``hypergeom``); calibration and
power by simulation.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from parity.errors import ParityInputError
from parity.stats import identical_runs_test, same_seed_matches_test


def _matches(cand, ref):
    return sum(1 for c, r in zip(cand, ref, strict=True) if c is not None and c == r)


def _enumerated(cand, ref):
    """P(X ≥ observed) and E[X] over every re-pairing of the reference's seeds."""
    obs = _matches(cand, ref)
    hits = [_matches(cand, [ref[i] for i in p]) for p in itertools.permutations(range(len(ref)))]
    return np.mean(np.array(hits) >= obs), np.mean(hits), max(hits)


@pytest.mark.parametrize("case", range(40))
def test_same_seed_matches_equals_full_enumeration(case):
    g = np.random.default_rng([7, case])
    n = int(g.integers(1, 8))
    values = int(g.integers(1, 4))

    def labels():
        out = [int(v) for v in g.integers(0, values, n)]
        return [None if g.random() < 0.15 else v for v in out]

    cand, ref = labels(), labels()
    if case % 3 == 0:  # some copies
        cand = [r if g.random() < 0.5 else c for c, r in zip(cand, ref, strict=True)]
    res = same_seed_matches_test(cand, ref)
    p, mean, most = _enumerated(cand, ref)
    assert res.n == n and res.matches == _matches(cand, ref)
    assert res.pvalue == pytest.approx(p, rel=1e-12, abs=1e-15)
    assert res.expected == pytest.approx(mean, rel=1e-12, abs=1e-15)
    assert res.min_pvalue == pytest.approx(_enumerated_at_least(cand, ref, most), rel=1e-12)
    cross = sum(
        1
        for i in range(n)
        for j in range(n)
        if i != j and cand[i] is not None and cand[i] == ref[j]
    )
    assert res.cross_matches == cross
    if n >= 2:
        assert res.chance_rate == pytest.approx(cross / (n * (n - 1)))
    else:
        assert math.isnan(res.chance_rate)
    full = same_seed_matches_test(ref, ref)
    assert res.full_copy_pvalue == full.pvalue


def _enumerated_at_least(cand, ref, x):
    hits = [_matches(cand, [ref[i] for i in p]) for p in itertools.permutations(range(len(ref)))]
    return np.mean(np.array(hits) >= x)


@pytest.mark.parametrize("case", range(20))
def test_ignoring_repeated_labels_is_the_test_on_the_labels_each_side_has_once(case):
    g = np.random.default_rng([9, case])
    n = int(g.integers(2, 8))
    ref = [int(v) for v in g.integers(0, 5, n)]
    cand = [
        r if g.random() < 0.4 else int(v) for r, v in zip(ref, g.integers(0, 5, n), strict=True)
    ]
    res = same_seed_matches_test(cand, ref, ignore_repeated=True)
    once_c = [c if cand.count(c) == 1 else None for c in cand]
    once_r = [r if ref.count(r) == 1 else None for r in ref]
    p, mean, _ = _enumerated(once_c, once_r)
    assert res.pvalue == pytest.approx(p, rel=1e-12, abs=1e-15)
    assert res.expected == pytest.approx(mean, rel=1e-12, abs=1e-15)
    assert res.matches == _matches(once_c, once_r)
    assert res.matches + res.repeated_matches == _matches(cand, ref)
    copy = same_seed_matches_test(once_r, once_r)
    assert res.full_copy_pvalue == copy.pvalue
    assert same_seed_matches_test(cand, ref).repeated_matches == 0


def test_same_seed_matches_agrees_with_scipy_permutation_test():
    """scipy enumerates the pairings itself (both samples' orders): an independent reference."""
    g = np.random.default_rng(3)
    for _ in range(5):
        ref = g.integers(0, 3, 5)
        cand = np.where(g.random(5) < 0.4, ref, g.integers(0, 3, 5))
        res = sps.permutation_test(
            (cand, ref),
            lambda x, y, axis: np.sum(x == y, axis=axis),
            vectorized=True,
            permutation_type="pairings",
            alternative="greater",
            n_resamples=np.inf,
        )
        mine = same_seed_matches_test(cand.tolist(), ref.tolist())
        assert mine.pvalue == pytest.approx(res.pvalue, rel=1e-12)
        assert mine.matches == res.statistic


def test_copies_of_distinct_results_have_the_fixed_point_probability():
    """k copies among n distinct results: P = (n − k)!/n!, and a full copy 1/n!."""
    for n, k in ((50, 1), (50, 3), (10, 10), (30, 0)):
        ref = [f"r{i}" for i in range(n)]
        cand = ref[:k] + [f"c{i}" for i in range(k, n)]
        res = same_seed_matches_test(cand, ref)
        assert res.matches == k and res.cross_matches == 0 and res.chance_rate == 0.0
        assert res.pvalue == pytest.approx(math.factorial(n - k) / math.factorial(n), rel=1e-12)
        assert res.full_copy_pvalue == pytest.approx(1 / math.factorial(n), rel=1e-12)
        assert res.min_pvalue == res.pvalue  # the copies are the only coincidences


def test_when_every_result_is_the_same_nothing_can_be_told():
    res = same_seed_matches_test([0] * 50, [0] * 50)
    assert (res.matches, res.cross_matches, res.chance_rate) == (50, 2450, 1.0)
    assert res.pvalue == res.min_pvalue == res.full_copy_pvalue == 1.0
    empty = same_seed_matches_test([None, None], ["a", "b"])
    assert (empty.matches, empty.pvalue, empty.min_pvalue) == (0, 1.0, 1.0)
    assert empty.full_copy_pvalue == 0.5


def test_same_seed_matches_is_calibrated_on_independent_small_integer_runs():
    """Independent Poisson(3) scores (about 20 % of pairs coincide): P(p ≤ α) ≤ α."""
    g = np.random.default_rng(11)
    reps, n = 2000, 30
    p = np.array(
        [
            same_seed_matches_test(g.poisson(3, n).tolist(), g.poisson(3, n).tolist()).pvalue
            for _ in range(reps)
        ]
    )
    for alpha in (0.01, 0.05, 0.2):
        rate = float(np.mean(p <= alpha))
        # discrete, hence conservative; 3 binomial standard errors of slack
        assert rate <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / reps), (alpha, rate)
    assert np.mean(p <= 0.2) > 0.05  # not degenerate


def test_same_seed_matches_power_on_copies_among_small_integers():
    """Copy 10 of 30 Poisson(3) scores: detected most of the time at α = 0.05."""
    g = np.random.default_rng(12)
    hits = 0
    for _ in range(200):
        ref = g.poisson(3, 30)
        cand = g.poisson(3, 30)
        cand[:10] = ref[:10]
        hits += same_seed_matches_test(cand.tolist(), ref.tolist()).pvalue <= 0.05
    assert hits / 200 > 0.8


def _enumerated_identical(values, others):
    pool = list(values) + list(others)
    n = len(values)
    subsets = list(itertools.combinations(range(len(pool)), n))
    same = sum(
        1 for s in subsets if pool[s[0]] is not None and all(pool[i] == pool[s[0]] for i in s)
    )
    return same / len(subsets)


@pytest.mark.parametrize("case", range(30))
def test_identical_runs_equals_full_enumeration(case):
    g = np.random.default_rng([8, case])
    n, m = int(g.integers(2, 6)), int(g.integers(0, 6))
    k = int(g.integers(1, 3))
    values = [int(g.integers(0, k))] * n if case % 2 else [int(v) for v in g.integers(0, k, n)]
    others = [int(v) for v in g.integers(0, k, m)]
    res = identical_runs_test(values, others)
    p_all = _enumerated_identical(values, others)
    assert res.min_pvalue == pytest.approx(p_all, rel=1e-12, abs=1e-15)
    assert res.all_identical == (len(set(values)) == 1)
    assert res.pvalue == (res.min_pvalue if res.all_identical else 1.0)
    assert res.other_matches == (others.count(values[0]) if res.all_identical else 0)


def test_identical_runs_is_hypergeometric():
    """One label shared by c of N pooled runs: P(all n drawn have it) = hypergeom.pmf(n)."""
    for n, m, shared in ((10, 10, 3), (50, 50, 45), (5, 20, 0)):
        others = [0] * shared + list(range(1, m - shared + 1))
        res = identical_runs_test([0] * n, others)
        expected = sps.hypergeom(n + m, n + shared, n).pmf(n)
        assert res.pvalue == pytest.approx(expected, rel=1e-10)
    assert identical_runs_test([0.0] * 50, [0.0] * 50).pvalue == 1.0
    assert identical_runs_test([1], [1, 1]).pvalue == 1.0  # one run: nothing to test
    assert not identical_runs_test([None, None], [1]).all_identical


def test_bad_inputs():
    with pytest.raises(ParityInputError, match="one label per seed each; got 2 and 3"):
        same_seed_matches_test([1, 2], [1, 2, 3])
    with pytest.raises(ParityInputError, match=r"`reference\[1\]` must be hashable"):
        same_seed_matches_test([1, 2], [1, [2]])
    with pytest.raises(ParityInputError, match="`values` must be a sequence of labels"):
        identical_runs_test("abc", [])
