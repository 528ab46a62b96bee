"""Tests of parity.stats.ranking.auc: AUC with Brunner–Munzel and stratified bootstrap CIs."""

from __future__ import annotations

import contextlib
import json
import math
import warnings
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.errors import DegenerateDataWarning, ParityInputError
from parity.stats import ranking
from parity.stats.ranking import AUCResult, auc

# Any parity warning that a test does not expect with pytest.warns is a failure.
pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")

BM_METHOD = "Brunner-Munzel t interval (DeLong placement variance, Satterthwaite df)"


def _data(seed, n_pos=30, n_neg=40, shift=0.8, decimals=None):
    g = np.random.default_rng(seed)
    pos = g.normal(shift, 1.0, n_pos)
    neg = g.normal(0.0, 1.0, n_neg)
    if decimals is not None:
        pos, neg = np.round(pos, decimals), np.round(neg, decimals)
    return pos, neg


def _join(pos, neg):
    scores = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(len(pos), bool), np.zeros(len(neg), bool)])
    return scores, labels


def _pairwise_auc(pos, neg):
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    return float(np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])))


# --------------------------------------------------------------------------------------------
# the statistic


@pytest.mark.parametrize("seed", range(8))
def test_auc_equals_mann_whitney_u_over_n_pos_n_neg_with_many_ties(seed):
    from scipy.stats import mannwhitneyu

    g = np.random.default_rng(seed)
    n_pos, n_neg = (int(v) for v in g.integers(2, 80, 2))
    pos = g.integers(0, 7, n_pos).astype(float)  # at most 7 distinct values: many ties
    neg = g.integers(0, 5, n_neg).astype(float)
    scores, labels = _join(pos, neg)
    order = g.permutation(scores.size)  # classes interleaved
    with pytest.warns(DegenerateDataWarning) if min(n_pos, n_neg) < 5 else contextlib.nullcontext():
        res = auc(scores[order], labels[order].astype(int))
    expected = mannwhitneyu(pos, neg).statistic / (n_pos * n_neg)
    assert res.statistic == pytest.approx(expected, rel=0, abs=1e-15)
    assert res.statistic == pytest.approx(_pairwise_auc(pos, neg), rel=0, abs=1e-15)
    assert (res.n_positive, res.n_negative) == (n_pos, n_neg)


def test_hand_computed_small_case():
    # positives 2, 3; negatives 1, 2: pairs (2,1)=1, (2,2)=½, (3,1)=1, (3,2)=1 → AUC 3.5/4.
    # positive placements 1.5/2, 2/2 and negative placements 2/2, 1.5/2: both variances 1/32,
    # so s² = 1/64 + 1/64 = 1/32 and the Satterthwaite df is (1/32)² / (2·(1/64)²/1) = 2.
    with pytest.warns(DegenerateDataWarning):
        res = auc([2.0, 3.0, 1.0, 2.0], [True, True, False, False])
    assert res.statistic == 0.875
    assert res.standard_error == pytest.approx(math.sqrt(1 / 32), rel=1e-15)
    assert res.df == pytest.approx(2.0, rel=1e-14)
    t975_df2 = 4.302652729749464  # scipy.stats.t.ppf(0.975, 2)
    low = 0.875 - t975_df2 * math.sqrt(1 / 32)
    assert res.confidence_interval == pytest.approx((low, 1.0), rel=1e-13)
    assert res.method == BM_METHOD + ", clipped to [0, 1]"
    # t = 0.375 / sqrt(1/32) = 2.1213…, two-sided p with 2 df = 1 − t/sqrt(t² + 2)
    t = 0.375 / math.sqrt(1 / 32)
    assert res.pvalue == pytest.approx(1 - t / math.sqrt(t * t + 2), rel=1e-12)
    assert sum("n < 5" in w for w in res.warnings) == 2
    assert any("clipped" in w for w in res.warnings)


def test_positive_class_is_label_one_and_higher_scores_mean_positive():
    pos, neg = _data(1)
    scores, labels = _join(pos, neg)
    res = auc(scores, labels)
    assert res.statistic > 0.5
    assert auc(scores, ~labels).statistic == pytest.approx(1 - res.statistic, abs=1e-15)
    assert auc(-scores, labels).statistic == pytest.approx(1 - res.statistic, abs=1e-15)
    # booleans, ints and floats give the same result
    assert auc(scores, labels.astype(int)) == res
    assert auc(scores, labels.astype(float)) == res
    assert auc(list(scores), list(labels)) == res


# --------------------------------------------------------------------------------------------
# Brunner–Munzel: oracle scipy.stats.brunnermunzel and R reference values


@pytest.mark.parametrize("seed", range(10))
def test_brunner_munzel_agrees_with_scipy(seed):
    from scipy.stats import brunnermunzel

    g = np.random.default_rng(seed)
    n_pos, n_neg = (int(v) for v in g.integers(5, 120, 2))
    decimals = [None, 0, 1][seed % 3]
    pos, neg = _data(seed, n_pos, n_neg, shift=float(g.uniform(-1, 1.5)), decimals=decimals)
    scores, labels = _join(pos, neg)
    res = auc(scores, labels)
    # scipy's x is the negatives and y the positives: its p̂ = P(X < Y) + ½P(X = Y) is the AUC
    # and its statistic is (p̂ − ½) / s with the same placement variance and df.
    oracle = brunnermunzel(neg, pos)
    assert (res.statistic - 0.5) / res.standard_error == pytest.approx(
        oracle.statistic, rel=1e-12, abs=1e-12
    )
    assert res.pvalue == pytest.approx(oracle.pvalue, rel=1e-10, abs=1e-15)
    assert res.n_resamples == 0
    assert res.method.startswith(BM_METHOD)
    assert res.confidence_interval[0] <= res.statistic <= res.confidence_interval[1]


def test_brunner_munzel_df_matches_the_rank_formula():
    # The Satterthwaite df of scipy's implementation, written with its rank variances.
    from scipy.stats import rankdata

    pos, neg = _data(3, 17, 23, decimals=1)
    x, y = neg, pos
    nx, ny = x.size, y.size
    rc = rankdata(np.concatenate([x, y]))
    rcx, rcy = rc[:nx], rc[nx:]
    sx = np.sum((rcx - rankdata(x) - rcx.mean() + (nx + 1) / 2) ** 2) / (nx - 1)
    sy = np.sum((rcy - rankdata(y) - rcy.mean() + (ny + 1) / 2) ** 2) / (ny - 1)
    df = (nx * sx + ny * sy) ** 2 / ((nx * sx) ** 2 / (nx - 1) + (ny * sy) ** 2 / (ny - 1))
    se = math.sqrt(sx / (nx * ny**2) + sy / (ny * nx**2))
    res = auc(*_join(pos, neg))
    assert res.df == pytest.approx(df, rel=1e-12)
    assert res.standard_error == pytest.approx(se, rel=1e-12)


def test_brunner_munzel_pain_scores_reference():
    # Brunner & Munzel (2000), Neubert & Brunner (2007); R: brunnermunzel::brunnermunzel.test(Y, N)
    # and lawstat::brunner.munzel.test(Y, N) print: statistic 3.1375, df 17.683,
    # p-value 0.005786, 95 percent CI 0.5952169 0.9827052, estimate 0.788961.
    y = [1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 1, 1]
    n = [3, 3, 4, 3, 1, 2, 3, 1, 1, 5, 4]
    res = auc(y + n, [0] * len(y) + [1] * len(n))
    assert res.statistic == pytest.approx(0.788961, abs=5e-7)
    assert (res.statistic - 0.5) / res.standard_error == pytest.approx(3.1375, abs=5e-5)
    assert res.df == pytest.approx(17.683, abs=5e-4)
    assert res.pvalue == pytest.approx(0.005786, abs=5e-7)
    assert res.confidence_interval == pytest.approx((0.5952169, 0.9827052), abs=5e-8)
    assert res.warnings == ()


def test_brunner_munzel_hollander_wolfe_reference_is_clipped_at_zero():
    # R: brunnermunzel.test(x, y) prints statistic -1.4673, df 15.147, p-value 0.1628,
    # CI -0.02962941 0.59753064, estimate 0.2839506. Here y is the positive class.
    x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    with pytest.warns(DegenerateDataWarning, match="clipped"):
        res = auc(x + y, [0] * 9 + [1] * 9)
    assert res.statistic == pytest.approx(0.2839506, abs=5e-8)
    assert (res.statistic - 0.5) / res.standard_error == pytest.approx(-1.4673, abs=5e-5)
    assert res.df == pytest.approx(15.147, abs=5e-4)
    assert res.pvalue == pytest.approx(0.1628, abs=5e-5)
    assert res.confidence_interval == pytest.approx((0.0, 0.59753064), abs=5e-9)
    assert res.method == BM_METHOD + ", clipped to [0, 1]"


@pytest.mark.parametrize("flip", [False, True])
def test_perfect_separation_uses_documented_fallback(flip):
    pos, neg = np.arange(10.0, 20.0), np.arange(0.0, 12.0) - 5
    scores, labels = _join(pos, neg)
    labels = ~labels if flip else labels
    with pytest.warns(DegenerateDataWarning) as record:
        res = auc(scores, labels)
    assert "perfectly separated" in res.warnings[0]
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    assert res.statistic == (0.0 if flip else 1.0)
    se = math.sqrt(1 / (2 * n_pos * n_neg))
    assert res.standard_error == pytest.approx(se, rel=1e-15)
    assert res.df == 1000.0
    half = 1.9623390808264078 * se  # scipy.stats.t.ppf(0.975, 1000)
    expected = (0.0, half) if flip else (1.0 - half, 1.0)
    assert res.confidence_interval == pytest.approx(expected, rel=1e-12)
    assert "zero placement variance" in res.method and res.method.endswith("clipped to [0, 1]")
    assert 0.0 < res.pvalue < 1e-10
    assert len(record) == len(res.warnings) == 2  # fallback and clipping


def test_all_scores_tied_gives_half_and_pvalue_one():
    with pytest.warns(DegenerateDataWarning, match="same placement"):
        res = auc(np.full(20, 3.0), [0, 1] * 10)
    assert len(res.warnings) == 1
    assert res.statistic == 0.5
    assert res.pvalue == 1.0
    half = 1.9623390808264078 * math.sqrt(1 / 200)
    assert res.confidence_interval == pytest.approx((0.5 - half, 0.5 + half), rel=1e-12)


def test_one_class_with_constant_placements_is_not_degenerate():
    # every negative has the same 5 positives above it; the positives' placements vary
    pos = np.array([-1.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    neg = np.zeros(5)
    with pytest.warns(DegenerateDataWarning, match="clipped"):
        res = auc(*_join(pos, neg))
    assert res.statistic == 25 / 30
    assert res.method.startswith(BM_METHOD)
    assert res.df == pytest.approx(5.0, rel=1e-12)  # only the positives contribute: n⁺ − 1
    # placements of the positives / n⁻: 0, 1, 1, 1, 1, 1 → variance 1/6, s² = 1/36
    assert res.standard_error == pytest.approx(1 / 6, rel=1e-14)


def test_brunner_munzel_calibration_and_coverage():
    g = np.random.default_rng(2024)
    reps = 400
    # type-I error under H0 with equal distributions (exponential, skewed)
    rejections = 0
    for _ in range(reps):
        res = auc(*_join(g.exponential(1, 25), g.exponential(1, 35)))
        rejections += res.pvalue <= 0.05
    # 0.05 ± 3.3 binomial sd (sd = sqrt(.05·.95/400) ≈ 0.011)
    assert 0.015 <= rejections / reps <= 0.087
    # coverage of the 95% interval for a normal shift of 0.8: AUC = Φ(0.8/√2)
    true = NormalDist().cdf(0.8 / math.sqrt(2))
    hits = 0
    for _ in range(reps):
        low, high = auc(*_join(g.normal(0.8, 1, 30), g.normal(0, 1, 40))).confidence_interval
        hits += low <= true <= high
    assert 0.91 <= hits / reps <= 0.985


# --------------------------------------------------------------------------------------------
# stratified bootstrap


def _brute_force_bootstrap_aucs(pos, neg, n_resamples, seed):
    """The documented draw, one resample at a time, with a pairwise AUC (no counting tricks)."""
    ps, ns = np.sort(pos), np.sort(neg)
    u = np.random.default_rng(seed).random((n_resamples, ps.size + ns.size))
    out = []
    for row in u:
        p_star = [ps[int(v * ps.size)] for v in row[: ps.size]]
        n_star = [ns[int(v * ns.size)] for v in row[ps.size :]]
        out.append(_pairwise_auc(p_star, n_star))
    return np.array(out)


def _brute_force_bca(pos, neg, aucs, level):
    """BCa from first principles: leave-one-out loops with the pairwise AUC."""
    nd = NormalDist()
    theta = _pairwise_auc(pos, neg)
    z0 = nd.inv_cdf((np.sum(aucs < theta) + np.sum(aucs <= theta)) / (2 * aucs.size))
    num = den = 0.0
    for k, sample in enumerate((pos, neg)):
        loo = []
        for i in range(len(sample)):
            rest = np.delete(sample, i)
            loo.append(_pairwise_auc(rest, neg) if k == 0 else _pairwise_auc(pos, rest))
        loo = np.array(loo)
        n = loo.size
        u = (n - 1) * (loo.mean() - loo)
        num += np.sum(u**3) / n**3
        den += np.sum(u**2) / n**2
    a = num / (6 * den**1.5)
    alpha = (1 - level) / 2
    levels = []
    for z in (nd.inv_cdf(alpha), nd.inv_cdf(1 - alpha)):
        levels.append(nd.cdf(z0 + (z0 + z) / (1 - a * (z0 + z))))
    return np.quantile(aucs, levels)


@pytest.mark.parametrize(("n_pos", "n_neg", "decimals"), [(9, 12, 1), (15, 7, 0), (20, 25, None)])
def test_bootstrap_percentile_matches_brute_force_on_the_same_resamples(n_pos, n_neg, decimals):
    pos, neg = _data(5, n_pos, n_neg, decimals=decimals)
    b = 400
    aucs = _brute_force_bootstrap_aucs(pos, neg, b, seed=42)
    res = auc(*_join(pos, neg), method="bootstrap-percentile", n_resamples=b, rng=42)
    assert res.method == "stratified bootstrap percentile"
    np.testing.assert_allclose(
        res.confidence_interval, np.quantile(aucs, [0.025, 0.975]), rtol=0, atol=1e-12
    )
    assert res.standard_error == pytest.approx(np.std(aucs, ddof=1), rel=1e-10)
    assert res.n_resamples == b and res.pvalue is None and res.df is None


@pytest.mark.parametrize(("n_pos", "n_neg", "decimals"), [(9, 12, 1), (14, 10, 0)])
def test_bootstrap_bca_matches_brute_force_on_the_same_resamples(n_pos, n_neg, decimals):
    pos, neg = _data(6, n_pos, n_neg, shift=1.0, decimals=decimals)
    b = 400
    aucs = _brute_force_bootstrap_aucs(pos, neg, b, seed=3)
    res = auc(*_join(pos, neg), method="bootstrap", n_resamples=b, rng=3, confidence_level=0.9)
    assert res.method == "stratified bootstrap BCa"
    expected = _brute_force_bca(pos, neg, aucs, 0.9)
    np.testing.assert_allclose(res.confidence_interval, expected, rtol=0, atol=1e-12)


def test_bootstrap_does_not_depend_on_batch_size(monkeypatch):
    pos, neg = _data(7, 33, 21, decimals=1)
    scores, labels = _join(pos, neg)
    whole = auc(scores, labels, method="bootstrap", n_resamples=777, rng=5)
    monkeypatch.setattr(ranking, "_BATCH_ENTRIES", 54 * 7)  # 7 resamples per batch
    batched = auc(scores, labels, method="bootstrap", n_resamples=777, rng=5)
    assert batched == whole


def test_bootstrap_is_reproducible_and_order_invariant():
    pos, neg = _data(8, 25, 25)
    scores, labels = _join(pos, neg)
    a = auc(scores, labels, method="bootstrap", n_resamples=500, rng=np.random.default_rng(9))
    b = auc(scores, labels, method="bootstrap", n_resamples=500, rng=9)
    perm = np.random.default_rng(0).permutation(scores.size)
    c = auc(scores[perm], labels[perm], method="bootstrap", n_resamples=500, rng=9)
    assert a == b == c


@pytest.mark.parametrize("seed", [0, 1])
def test_bootstrap_bca_agrees_with_scipy_bootstrap(seed):
    from scipy.stats import bootstrap

    pos, neg = _data(seed, 30, 40, shift=1.0, decimals=1)

    def stat(p, n, axis=-1):
        p, n = np.moveaxis(p, axis, -1), np.moveaxis(n, axis, -1)
        gt = p[..., :, None] > n[..., None, :]
        eq = p[..., :, None] == n[..., None, :]
        return np.mean(gt + 0.5 * eq, axis=(-2, -1))

    oracle = bootstrap(
        (pos, neg), stat, paired=False, method="BCa", n_resamples=4000, rng=seed + 10
    )
    res = auc(*_join(pos, neg), method="bootstrap", n_resamples=4000, rng=seed)
    # different resamples: Monte Carlo sd of each endpoint is about 0.004
    expected = (oracle.confidence_interval.low, oracle.confidence_interval.high)
    np.testing.assert_allclose(res.confidence_interval, expected, atol=0.02)
    assert res.standard_error == pytest.approx(oracle.standard_error, rel=0.1)


def test_bootstrap_and_brunner_munzel_agree_for_large_samples():
    pos, neg = _data(10, 300, 400, shift=0.7)
    scores, labels = _join(pos, neg)
    bm = auc(scores, labels)
    boot = auc(scores, labels, method="bootstrap", n_resamples=2000, rng=1)
    np.testing.assert_allclose(boot.confidence_interval, bm.confidence_interval, atol=0.01)
    assert boot.standard_error == pytest.approx(bm.standard_error, rel=0.1)


def test_bootstrap_coverage():
    g = np.random.default_rng(77)
    true = NormalDist().cdf(0.8 / math.sqrt(2))
    reps, hits = 150, 0
    for _ in range(reps):
        res = auc(*_join(g.normal(0.8, 1, 30), g.normal(0, 1, 40)), method="bootstrap",
                  n_resamples=999, rng=g)  # fmt: skip
        hits += res.confidence_interval[0] <= true <= res.confidence_interval[1]
    # 0.95 ± 3.3 binomial sd (sd ≈ 0.018)
    assert 0.89 <= hits / reps <= 1.0


def test_bootstrap_perfect_separation_collapses_with_a_warning():
    pos, neg = np.arange(10.0, 20.0), np.arange(0.0, 12.0) - 5
    with pytest.warns(DegenerateDataWarning) as record:
        res = auc(*_join(pos, neg), method="bootstrap", n_resamples=200, rng=0)
    assert res.statistic == 1.0
    assert res.confidence_interval == (1.0, 1.0)
    assert res.standard_error == 0.0
    assert res.method == "stratified bootstrap percentile"  # BCa undefined
    assert any("perfectly separated" in w and "collapses" in w for w in res.warnings)
    assert any("used the percentile interval" in w for w in res.warnings)
    assert len(record) == len(res.warnings)


def test_bootstrap_single_resample():
    res = auc(*_join(*_data(1)), method="bootstrap-percentile", n_resamples=1, rng=0)
    assert res.confidence_interval[0] == res.confidence_interval[1]
    assert math.isnan(res.standard_error)


# --------------------------------------------------------------------------------------------
# properties


@settings(max_examples=60, deadline=None)
@given(
    pos=st.lists(st.integers(-3, 3), min_size=5, max_size=20),
    neg=st.lists(st.integers(-3, 3), min_size=5, max_size=20),
    method=st.sampled_from(["brunner-munzel", "bootstrap", "bootstrap-percentile"]),
)
def test_properties(pos, neg, method):
    scores, labels = _join(np.array(pos, float), np.array(neg, float))
    perm = np.random.default_rng(len(pos)).permutation(scores.size)
    with warnings.catch_warnings():  # ties, separation and clipping are all legal here
        warnings.simplefilter("ignore", DegenerateDataWarning)
        res = auc(scores, labels, method=method, n_resamples=200, rng=0)
        shuffled = auc(scores[perm], labels[perm], method=method, n_resamples=200, rng=0)
    assert res.statistic == pytest.approx(_pairwise_auc(pos, neg), abs=1e-15)
    low, high = res.confidence_interval
    assert 0.0 <= low <= high <= 1.0
    if method == "brunner-munzel":
        assert low <= res.statistic <= high
        assert 0.0 < res.pvalue <= 1.0
    d = json.loads(json.dumps(res.to_dict()))
    assert d["statistic"] == res.statistic
    assert shuffled == res  # invariant to the order of the observations


def test_result_is_frozen_and_json_safe():
    res = auc(*_join(*_data(2)))
    assert isinstance(res, AUCResult)
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d) == {
        "statistic",
        "confidence_interval",
        "confidence_level",
        "method",
        "pvalue",
        "standard_error",
        "df",
        "n_positive",
        "n_negative",
        "n_resamples",
        "warnings",
    }
    with pytest.raises(AttributeError):
        res.statistic = 0.3


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("scores", "labels", "match"),
    [
        ([0.1, np.nan, 0.3, 0.4, np.inf], [0, 1, 0, 1, 1], r"`scores` must be finite.*1, 4"),
        ([[0.1, 0.2], [0.3, 0.4]], [0, 1], "`scores` must be 1-D"),
        (["a", "b", "c", "d"], [0, 1, 0, 1], "`scores` must be a 1-D numeric"),
        ([0.1, 0.2, 0.3, 0.4], [0, 1, 0], r"`labels` must be 1-D with one label per score \(4\)"),
        ([0.1, 0.2, 0.3, 0.4], [0, 1, 2, -1], r"2 other values \(positions 2 \(2\), 3 \(-1\)\)"),
        ([0.1, 0.2, 0.3, 0.4], [0, 1, np.nan, 1], r"positions 2 \(nan\)"),
        ([0.1, 0.2, 0.3, 0.4], ["a", "b", "a", "b"], "`labels` must be booleans or 0/1"),
        ([0.1, 0.2, 0.3, 0.4], [1, 1, 1, 0], "at least 2 positives and 2 negatives; got 3 pos"),
        ([0.1, 0.2, 0.3], [1, 1, 1], "got 3 positives and 0 negatives"),
    ],
)  # fmt: skip
def test_bad_data(scores, labels, match):
    with pytest.raises(ParityInputError, match=match):
        auc(scores, labels)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"confidence_level": 1.0}, "`confidence_level`"),
        ({"method": "delong"}, "`method` must be 'brunner-munzel', 'bootstrap'"),
        ({"method": None}, "`method`"),
        ({"n_resamples": 0}, "`n_resamples`"),
        ({"n_resamples": 2.5}, "`n_resamples`"),
        ({"rng": "seed"}, "`rng`"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ParityInputError, match=match):
        auc(*_join(*_data(0)), **kwargs)


def test_method_is_case_insensitive():
    scores, labels = _join(*_data(0))
    assert auc(scores, labels, method="Brunner-Munzel") == auc(scores, labels)
    assert auc(scores, labels, method="BOOTSTRAP", n_resamples=50, rng=1) == auc(
        scores, labels, method="bootstrap-bca", n_resamples=50, rng=1
    )
