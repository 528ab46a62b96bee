"""Tests of parity.stats.multiple: Holm, Bonferroni, Benjamini–Hochberg adjusted p-values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.errors import ParityInputError
from parity.stats.multiple import benjamini_hochberg, bonferroni, holm

ADJUSTERS = [holm, bonferroni, benjamini_hochberg]
ORACLE_NAMES = {holm: "holm", bonferroni: "bonferroni", benjamini_hochberg: "fdr_bh"}

# p-value families: floats in [0, 1], with ties drawn from a small pool mixed in.
pvalue_lists = st.lists(
    st.one_of(
        st.floats(0.0, 1.0, allow_nan=False),
        st.sampled_from([0.0, 0.001, 0.01, 0.04, 0.05, 0.5, 1.0]),
    ),
    min_size=1,
    max_size=40,
)


# --------------------------------------------------------------------------------------------
# hand-computable cases


def test_hand_computed_values():
    p = [0.01, 0.04, 0.03, 0.5]
    # Holm: sorted 0.01, 0.03, 0.04, 0.5 → 4·0.01, max(·, 3·0.03), max(·, 2·0.04), max(·, 0.5)
    np.testing.assert_allclose(holm(p), [0.04, 0.09, 0.09, 0.5], rtol=0, atol=1e-15)
    np.testing.assert_allclose(bonferroni(p), [0.04, 0.16, 0.12, 1.0], rtol=0, atol=1e-15)
    # BH: 4/1·0.01, min(4/3·0.03, 4/4... ) → 0.04, 0.16/3, 0.16/3, 0.5
    np.testing.assert_allclose(
        benjamini_hochberg(p), [0.04, 0.16 / 3, 0.16 / 3, 0.5], rtol=0, atol=1e-15
    )


@pytest.mark.parametrize("adjust", ADJUSTERS)
def test_empty_and_single(adjust):
    out = adjust([])
    assert out.dtype == np.float64 and out.shape == (0,)
    np.testing.assert_array_equal(adjust([0.3]), [0.3])
    np.testing.assert_array_equal(adjust(np.array([0.0, 1.0])), [0.0, 1.0])


@pytest.mark.parametrize("adjust", ADJUSTERS)
def test_capped_at_one_and_returns_new_float_array(adjust):
    p = np.array([0.9, 0.8, 0.7], dtype=np.float32)
    out = adjust(p)
    assert out.dtype == np.float64
    assert np.all(out <= 1.0)
    assert out is not p


@pytest.mark.parametrize("adjust", ADJUSTERS)
def test_ties_get_equal_adjusted_values(adjust):
    out = adjust([0.02, 0.01, 0.02, 0.02, 0.3])
    assert out[0] == out[2] == out[3]


# --------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("adjust", ADJUSTERS)
def test_nan_and_out_of_range_name_positions(adjust):
    with pytest.raises(
        ParityInputError, match=r"`pvalues` must be in \[0, 1\].*1 \(nan\), 3 \(1\.5\)"
    ):
        adjust([0.1, float("nan"), 0.2, 1.5])
    with pytest.raises(ParityInputError, match=r"0 \(-0\.1\)"):
        adjust([-0.1, 0.2])


@pytest.mark.parametrize("adjust", ADJUSTERS)
@pytest.mark.parametrize("bad", [[[0.1, 0.2]], 0.5, "0.1", ["a", "b"], [None, 0.1]])
def test_bad_shapes_and_types(adjust, bad):
    with pytest.raises(ParityInputError, match="`pvalues`"):
        adjust(bad)


# --------------------------------------------------------------------------------------------
# oracle: statsmodels


@pytest.mark.parametrize("adjust", ADJUSTERS)
@pytest.mark.parametrize("seed", range(6))
def test_agrees_with_statsmodels(adjust, seed):
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    g = np.random.default_rng(seed)
    m = int(g.integers(1, 200))
    p = g.uniform(0, 1, m) ** 3  # many small p-values
    # ties: repeat some values, and add exact 0 and 1
    p[g.integers(0, m, m // 3)] = p[0]
    p = np.round(p, int(g.integers(2, 6)))
    if m > 4:
        p[1], p[2] = 0.0, 1.0
    expected = multitest.multipletests(p, alpha=0.05, method=ORACLE_NAMES[adjust])[1]
    np.testing.assert_allclose(adjust(p), expected, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# properties


@settings(max_examples=200, deadline=None)
@given(pvalue_lists)
def test_properties(p):
    raw = np.asarray(p)
    h, b, bh = holm(p), bonferroni(p), benjamini_hochberg(p)
    for adj in (h, b, bh):
        assert adj.shape == raw.shape
        assert np.all((adj >= raw) & (adj <= 1.0))
        # monotone in the raw order: p_i <= p_j ⇒ adj_i <= adj_j
        order = np.argsort(raw, kind="stable")
        assert np.all(np.diff(adj[order]) >= 0.0)
    assert np.all(h <= b)
    assert np.all(bh <= h)


@settings(max_examples=100, deadline=None)
@given(pvalue_lists, st.randoms(use_true_random=False))
def test_invariant_to_order(p, random):
    perm = list(range(len(p)))
    random.shuffle(perm)
    shuffled = [p[i] for i in perm]
    for adjust in ADJUSTERS:
        np.testing.assert_array_equal(adjust(shuffled), adjust(p)[perm])
