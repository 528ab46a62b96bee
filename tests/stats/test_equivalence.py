"""Tests of parity.stats.equivalence: TOST, non-inferiority, superiority, the posterior
probability of equivalence and the attainability helper.

Oracles: statsmodels' ``ttost_ind`` / ``ttost_paired`` (run here), TOSTER's documented example,
direct computations of the contrast t statistics and a brute-force inversion for Fieller's
interval, Monte Carlo draws from the posteriors. Calibration: simulated data whose true effect
sits exactly on a bound, with the t statistics of thousands of replicates computed at once by
the module's own vectorized core (cross-checked against the public functions).
"""

from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from parity.errors import DegenerateDataWarning, ParityInputError
from parity.stats import equivalence as eq
from parity.stats.equivalence import (
    attainability,
    noninferiority,
    posterior_equivalence,
    superiority,
    tost,
    tost_from_summary,
)

# R's sleep data: extra sleep by group (TOSTER's example)
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]

quiet = pytest.mark.filterwarnings("ignore::parity.errors.DegenerateDataWarning")


def close(a, b, tol=1e-10):
    """Relative-or-absolute agreement to ``tol``."""
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# --------------------------------------------------------------------------------------------
# statsmodels oracles (statsmodels tests x1 − x2; ours is candidate − reference: x1 = candidate)


def _datasets():
    rng = np.random.default_rng(20240611)
    out = []
    for n_r, n_c, sd_r, sd_c, shift in [
        (10, 10, 1.0, 1.0, 0.0),
        (8, 15, 1.0, 2.5, 0.3),
        (25, 6, 3.0, 0.5, -0.4),
        (40, 40, 1.0, 1.2, 0.05),
    ]:
        out.append((rng.normal(5.0, sd_r, n_r), rng.normal(5.0 + shift, sd_c, n_c)))
    return out


MARGINS = [0.5, (-0.2, 0.9), (-1.5, 0.25)]


@pytest.mark.parametrize("equal_var, usevar", [(False, "unequal"), (True, "pooled")])
@pytest.mark.parametrize("margin", MARGINS)
@pytest.mark.parametrize("data", _datasets())
def test_unpaired_matches_statsmodels_ttost_ind(data, margin, equal_var, usevar):
    sm_ws = pytest.importorskip("statsmodels.stats.weightstats")
    ref, cand = data
    low, high = (-margin, margin) if np.isscalar(margin) else margin
    pv, (t1, p1, df1), (t2, p2, df2) = sm_ws.ttost_ind(cand, ref, low, high, usevar=usevar)
    res = tost(ref, cand, margin=margin, equal_var=equal_var)
    assert close(res.pvalue, pv)
    assert close(res.lower.statistic, t1) and close(res.lower.pvalue, p1)
    assert close(res.lower.df, df1)
    assert close(res.upper.statistic, t2) and close(res.upper.pvalue, p2)
    assert close(res.upper.df, df2)
    # the (1 − 2α) interval of the difference
    cm = sm_ws.CompareMeans(sm_ws.DescrStatsW(cand), sm_ws.DescrStatsW(ref))
    lo, hi = cm.tconfint_diff(alpha=2 * 0.05, usevar=usevar)
    assert close(res.confidence_interval[0], lo) and close(res.confidence_interval[1], hi)
    assert res.equivalent == (pv < 0.05)


@pytest.mark.parametrize("margin", MARGINS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paired_matches_statsmodels_ttost_paired(margin, seed):
    sm_ws = pytest.importorskip("statsmodels.stats.weightstats")
    rng = np.random.default_rng(seed)
    n = [6, 12, 30][seed]
    ref = rng.normal(3.0, 1.0, n)
    cand = ref + rng.normal(0.1 * seed, 0.4, n)
    low, high = (-margin, margin) if np.isscalar(margin) else margin
    pv, (t1, p1, df1), (t2, p2, df2) = sm_ws.ttost_paired(cand, ref, low, high)
    res = tost(ref, cand, margin=margin, paired=True)
    assert close(res.pvalue, pv)
    assert close(res.lower.statistic, t1) and close(res.lower.pvalue, p1)
    assert close(res.upper.statistic, t2) and close(res.upper.pvalue, p2)
    assert res.lower.df == df1 == res.upper.df == df2 == n - 1
    lo, hi = sm_ws.DescrStatsW(cand - ref).tconfint_mean(alpha=0.1)
    assert close(res.confidence_interval[0], lo) and close(res.confidence_interval[1], hi)
    assert res.difference_sd == pytest.approx(np.std(cand - ref, ddof=1), rel=1e-12)


def test_tosters_sleep_example():
    # TOSTER: t_TOST(extra ~ group, data = sleep, eqb = 0.5) on group1 − group2 (Welch):
    # p = 0.890, 90% CI [−3.0534, −0.1066]. Our difference is candidate − reference.
    res = tost(SLEEP_2, SLEEP_1, margin=0.5)
    assert round(res.pvalue, 3) == 0.890
    assert [round(x, 4) for x in res.confidence_interval] == [-3.0534, -0.1066]
    assert res.estimate == pytest.approx(-1.58)
    assert not res.equivalent
    # the lower test (H0: difference ≤ −0.5) binds; the upper one rejects
    assert res.pvalue == res.lower.pvalue and res.upper.rejected
    assert res.statistic == res.lower.statistic and res.df == res.lower.df
    # mirrored: group2 − group1 with the same bounds gives the same p and a mirrored interval
    mirror = tost(SLEEP_1, SLEEP_2, margin=0.5)
    assert mirror.pvalue == pytest.approx(res.pvalue, rel=1e-12)
    assert mirror.confidence_interval == pytest.approx((0.1066, 3.0534), abs=1e-4)


# --------------------------------------------------------------------------------------------
# relative margins: contrasts and Fieller's interval


def contrast_t(ref, cand, theta, kind):
    """Direct t statistic and df of the contrast μc − θ·μr (independent of the module)."""
    ref, cand = np.asarray(ref, float), np.asarray(cand, float)
    if kind == "paired":
        w = cand - theta * ref
        return w.mean() / (w.std(ddof=1) / math.sqrt(w.size)), w.size - 1.0
    n_r, n_c = ref.size, cand.size
    est = cand.mean() - theta * ref.mean()
    if kind == "pooled":
        sp2 = ((n_r - 1) * ref.var(ddof=1) + (n_c - 1) * cand.var(ddof=1)) / (n_r + n_c - 2)
        return est / math.sqrt(sp2 * (1 / n_c + theta**2 / n_r)), n_r + n_c - 2.0
    a, b = cand.var(ddof=1) / n_c, theta**2 * ref.var(ddof=1) / n_r
    return est / math.sqrt(a + b), (a + b) ** 2 / (a**2 / (n_c - 1) + b**2 / (n_r - 1))


def brute_force_fieller(ref, cand, kind, alpha, lo_guess, hi_guess):
    """Ratios where a one-sided contrast test at α flips, found by scanning and bisection."""

    def excess(theta):  # > 0 where one of the two one-sided tests rejects
        t, df = contrast_t(ref, cand, theta, kind)
        return abs(t) - stats.t.ppf(1 - alpha, df)

    est = np.mean(cand) / np.mean(ref)
    ends = []
    for guess in (lo_guess, hi_guess):
        far = est + 3.0 * (guess - est)
        grid = np.linspace(est, far, 3001)
        vals = np.array([excess(th) for th in grid])
        k = int(np.argmax(vals > 0))  # first grid point beyond the flip
        a, b = grid[k - 1], grid[k]
        for _ in range(80):
            m = 0.5 * (a + b)
            a, b = (m, b) if excess(m) <= 0 else (a, m)
        ends.append(0.5 * (a + b))
    return tuple(ends)


@pytest.mark.parametrize("kind", ["welch", "pooled", "paired"])
@pytest.mark.parametrize("seed", [0, 1])
def test_relative_contrast_statistics_and_fieller(kind, seed):
    rng = np.random.default_rng(100 + seed)
    n_r, n_c = (12, 12) if kind == "paired" else (9, 14)
    ref = rng.normal(10.0, 1.5, n_r)
    cand = (1.02 * ref + rng.normal(0, 0.6, n_r)) if kind == "paired" else rng.normal(10.4, 3, n_c)
    eps = (-0.08, 0.12)
    res = tost(
        ref, cand, margin=eps, relative=True, paired=kind == "paired", equal_var=kind == "pooled"
    )
    for sub, e in ((res.lower, eps[0]), (res.upper, eps[1])):
        t, df = contrast_t(ref, cand, 1 + e, kind)
        assert close(sub.statistic, t) and close(sub.df, df)
        p = stats.t.sf(t, df) if sub.alternative == "greater" else stats.t.cdf(t, df)
        assert close(sub.pvalue, p)
        assert sub.bound == pytest.approx(1 + e)
    # the relative form is NOT the absolute test with the estimated reference mean plugged in
    plugged = tost(ref, cand, margin=(eps[0] * ref.mean(), eps[1] * ref.mean()))
    assert not close(plugged.lower.statistic, res.lower.statistic, 1e-6)
    # Fieller's interval: where the contrast tests flip
    lo, hi = res.confidence_interval
    assert math.isfinite(lo) and math.isfinite(hi)
    blo, bhi = brute_force_fieller(ref, cand, kind, 0.05, lo, hi)
    assert lo == pytest.approx(blo, rel=1e-9) and hi == pytest.approx(bhi, rel=1e-9)
    assert res.estimate == pytest.approx(cand.mean() / ref.mean())
    # equivalence holds exactly when the interval lies inside the bounds
    assert res.equivalent == (res.bounds[0] < lo and hi < res.bounds[1])


@quiet
def test_fieller_unbounded_when_reference_mean_is_unclear():
    ref = [0.1, 2.0, 0.3, -1.5, 0.5, 0.4]  # mean 0.30, SE 0.47: not clearly above 0
    cand = [1.1, 1.2, 0.9, 1.0, 1.3, 1.0]
    res = tost(ref, cand, margin=0.2, relative=True)
    assert res.confidence_interval == (-math.inf, math.inf)
    assert any("unbounded" in n for n in res.warnings)
    assert not res.equivalent and not res.attainable
    # brute force: a huge ratio is not rejected by either contrast test
    t, df = contrast_t(ref, cand, 1e6, "welch")
    assert abs(t) < stats.t.ppf(0.95, df)
    # pooled (fixed df): the note describes the set exactly
    pooled = tost(ref, cand, margin=0.2, relative=True, equal_var=True)
    assert pooled.confidence_interval == (-math.inf, math.inf)
    assert any("unbounded" in n for n in pooled.warnings)
    ni = noninferiority(ref, cand, margin=0.2, relative=True)
    assert ni.confidence_interval == (-math.inf, math.inf)


@pytest.mark.parametrize("relative, margin", [(False, 0.4), (True, 0.05), (True, (-0.03, 0.1))])
@pytest.mark.parametrize("equal_var", [False, True])
def test_summary_form_equals_array_form(relative, margin, equal_var):
    rng = np.random.default_rng(7)
    ref, cand = rng.normal(10, 1, 15), rng.normal(10.1, 1.4, 11)
    a = tost(ref, cand, margin=margin, relative=relative, equal_var=equal_var)
    b = tost_from_summary(
        ref.mean(),
        ref.std(ddof=1),
        15,
        cand.mean(),
        cand.std(ddof=1),
        11,
        margin=margin,
        relative=relative,
        equal_var=equal_var,
    )
    da, db = a.to_dict(), b.to_dict()
    for key in ("pvalue", "statistic", "df", "estimate"):
        assert db[key] == pytest.approx(da[key], rel=1e-10)
    assert db["confidence_interval"] == pytest.approx(da["confidence_interval"], rel=1e-10)
    assert (a.equivalent, a.method, a.bounds) == (b.equivalent, b.method, b.bounds)


# --------------------------------------------------------------------------------------------
# calibration: rejection rate at the boundary ≤ α, power grows with n


ALPHA = 0.05
REPS = 4000


def binomial_band(reps, p=ALPHA, level=0.99):
    lo, hi = stats.binom.interval(level, reps, p)
    return lo / reps, hi / reps


def _design_of(ref, cand, kind):
    """Vectorized moments of (reps × n) replicate matrices, as the module's _Design."""
    common = {
        "n_r": ref.shape[1],
        "n_c": cand.shape[1],
        "mean_r": ref.mean(axis=1),
        "mean_c": cand.mean(axis=1),
        "var_r": ref.var(axis=1, ddof=1),
        "var_c": cand.var(axis=1, ddof=1),
    }
    if kind == "paired":
        d = cand - ref
        dc, rc = d - d.mean(axis=1, keepdims=True), ref - ref.mean(axis=1, keepdims=True)
        return eq._Design(
            kind="paired",
            diff=d.mean(axis=1),
            var_d=d.var(axis=1, ddof=1),
            cov_dr=(dc * rc).sum(axis=1) / (ref.shape[1] - 1),
            **common,
        )
    return eq._Design(kind=kind, diff=common["mean_c"] - common["mean_r"], **common)


def tost_pvalues(ref, cand, kind, low, high, relative):
    """TOST p-values of every replicate (rows), by the module's vectorized core."""
    design = _design_of(ref, cand, kind)
    args = [(low, 0.0), (high, 0.0)] if relative else [(0.0, low), (0.0, high)]
    p_lo = eq._contrast_test(design, *args[0], "greater")[2]
    p_hi = eq._contrast_test(design, *args[1], "less")[2]
    return np.maximum(p_lo, p_hi)


def simulate(rng, kind, n_r, n_c, mu_r, mu_c, sd_r, sd_c, reps=REPS):
    ref = rng.normal(mu_r, sd_r, (reps, n_r))
    if kind == "paired":  # correlated pairs with a shared seed effect
        cand = mu_c - mu_r + ref + rng.normal(0.0, sd_c, (reps, n_r))
    else:
        cand = rng.normal(mu_c, sd_c, (reps, n_c))
    return ref, cand


@pytest.mark.parametrize(
    "kind, n_r, n_c, sd_r, sd_c, exact_t",
    [
        ("welch", 8, 20, 1.0, 3.0, False),
        ("pooled", 12, 12, 2.0, 2.0, True),
        ("paired", 10, 10, 2.0, 0.5, True),
    ],
)
def test_size_at_the_absolute_margin(kind, n_r, n_c, sd_r, sd_c, exact_t):
    rng = np.random.default_rng(11)
    margin = 4.0  # wide: at the upper bound the TOST size is that of the upper test, α
    ref, cand = simulate(rng, kind, n_r, n_c, 0.0, margin, sd_r, sd_c)
    p = tost_pvalues(ref, cand, kind, -margin, margin, relative=False)
    rate = float(np.mean(p < ALPHA))
    lo, hi = binomial_band(REPS)
    assert rate <= hi, rate
    if exact_t:  # exact t-tests: the size is α, not just ≤ α
        assert rate >= lo, rate
    # the vectorized core is the public function's core
    for i in range(25):
        res = tost(ref[i], cand[i], margin=margin, paired=kind == "paired",
                   equal_var=kind == "pooled")  # fmt: skip
        assert res.pvalue == pytest.approx(p[i], rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("kind, exact_t", [("welch", False), ("pooled", True), ("paired", True)])
def test_size_at_the_relative_margin(kind, exact_t):
    rng = np.random.default_rng(12)
    eps = 0.05  # true ratio exactly 1 + ε; the lower bound is far, so the size is the upper test's
    sd_r, sd_c = (1.0, 1.0) if kind == "pooled" else (1.0, 2.0)
    n_c = 14 if kind != "paired" else 10
    ref, cand = simulate(rng, kind, 10, n_c, 10.0, 10.0 * (1 + eps), sd_r, sd_c)
    p = tost_pvalues(ref, cand, kind, -0.5, eps, relative=True)
    rate = float(np.mean(p < ALPHA))
    lo, hi = binomial_band(REPS)
    assert rate <= hi, rate
    if exact_t:  # the contrast t-tests are exact for normal data (pooled, paired)
        assert rate >= lo, rate
    for i in range(10):
        res = tost(ref[i], cand[i], margin=(-0.5, eps), relative=True, paired=kind == "paired",
                   equal_var=kind == "pooled")  # fmt: skip
        assert res.pvalue == pytest.approx(p[i], rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("relative", [False, True])
def test_power_grows_with_n(relative):
    rng = np.random.default_rng(13)
    power = []
    for n in (8, 16, 32, 64):
        ref, cand = simulate(rng, "welch", n, n, 10.0, 10.0, 1.0, 1.0, reps=2000)
        margin = 0.06 if relative else 0.6
        p = tost_pvalues(ref, cand, "welch", -margin, margin, relative)
        power.append(float(np.mean(p < ALPHA)))
    assert all(a < b for a, b in itertools.pairwise(power)), power
    assert power[0] < 0.2 and power[-1] > 0.9, power


def test_noninferiority_size_at_the_margin():
    rng = np.random.default_rng(14)
    ref, cand = simulate(rng, "pooled", 15, 15, 0.0, -0.5, 1.0, 1.0)
    design = _design_of(ref, cand, "pooled")
    p = eq._contrast_test(design, 0.0, -0.5, "greater")[2]
    rate = float(np.mean(p < ALPHA))
    lo, hi = binomial_band(REPS)
    assert lo <= rate <= hi
    res = noninferiority(ref[0], cand[0], margin=0.5, equal_var=True)
    assert res.pvalue == pytest.approx(p[0], rel=1e-12)


# --------------------------------------------------------------------------------------------
# properties

samples = st.lists(
    st.floats(-50, 50, allow_nan=False, allow_infinity=False), min_size=2, max_size=12
)
positive = st.lists(st.floats(1, 50, allow_nan=False), min_size=2, max_size=12)
margins = st.one_of(
    st.floats(0.01, 20),
    st.tuples(st.floats(-20, -0.01), st.floats(0.01, 20)),
)
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@quiet
@PROPS
@given(samples, samples, margins, st.booleans())
def test_property_ci_contains_estimate_and_p_is_max(ref, cand, margin, equal_var):
    res = tost(ref, cand, margin=margin, equal_var=equal_var)
    lo, hi = res.confidence_interval
    assert lo <= res.estimate <= hi
    assert res.pvalue == max(res.lower.pvalue, res.upper.pvalue)
    assert 0.0 <= res.pvalue <= 1.0
    assert res.equivalent == (res.pvalue < res.alpha)
    if res.equivalent:
        assert res.attainable
        assert res.bounds[0] < lo and hi < res.bounds[1]


@quiet
@PROPS
@given(positive, positive, st.floats(0.01, 0.9), st.booleans())
def test_property_relative_ci_contains_estimate(ref, cand, eps, equal_var):
    res = tost(ref, cand, margin=eps, relative=True, equal_var=equal_var)
    lo, hi = res.confidence_interval
    assert lo <= res.estimate <= hi
    assert res.pvalue == max(res.lower.pvalue, res.upper.pvalue)
    if res.equivalent:
        assert res.bounds[0] < lo and hi < res.bounds[1]


@quiet
@PROPS
@given(samples, samples, margins, st.sampled_from(["welch", "pooled", "paired"]))
def test_property_swap_mirrors(ref, cand, margin, kind):
    if kind == "paired":
        k = min(len(ref), len(cand))
        ref, cand = ref[:k], cand[:k]
    opts = {"paired": kind == "paired", "equal_var": kind == "pooled"}
    low, high = (-margin, margin) if np.isscalar(margin) else margin
    a = tost(ref, cand, margin=(low, high), **opts)
    b = tost(cand, ref, margin=(-high, -low), **opts)
    assert b.confidence_interval == pytest.approx(
        (-a.confidence_interval[1], -a.confidence_interval[0]), rel=1e-12, abs=1e-12
    )
    assert b.estimate == -a.estimate
    assert b.pvalue == pytest.approx(a.pvalue, rel=1e-9, abs=1e-300)
    assert b.equivalent == a.equivalent or abs(a.pvalue - a.alpha) < 1e-9


@quiet
@PROPS
@given(positive, positive, st.floats(0.01, 0.9), st.booleans(), st.booleans())
def test_property_noninferiority_is_one_tost_side(ref, cand, m, relative, higher):
    ni = noninferiority(ref, cand, margin=m, relative=relative, higher_is_better=higher)
    res = tost(ref, cand, margin=m, relative=relative)
    side = res.lower if higher else res.upper
    np.testing.assert_equal(
        (ni.pvalue, ni.statistic, ni.df), (side.pvalue, side.statistic, side.df)
    )
    assert ni.noninferior == side.rejected and ni.superior is None
    # superiority with margin 0 is the one-sided test against "no difference"
    sup = superiority(ref, cand, relative=relative, higher_is_better=higher)
    diff = tost(ref, cand, margin=(-m, m), relative=relative)
    assert 0.0 <= sup.pvalue <= 1.0 and sup.noninferior is None
    assert sup.estimate == diff.estimate


@quiet
@settings(max_examples=25, deadline=None)
@given(samples, samples, margins, st.booleans())
def test_property_posterior_is_a_probability(ref, cand, margin, equal_var):
    res = posterior_equivalence(ref, cand, margin=margin, equal_var=equal_var)
    parts = (res.probability, res.probability_below, res.probability_above)
    assert all(0.0 <= x <= 1.0 for x in parts)
    assert sum(parts) == pytest.approx(1.0, abs=1e-7)


@quiet
@PROPS
@given(samples, samples, margins)
def test_property_json_round_trip(ref, cand, margin):
    d = tost(ref, cand, margin=margin).to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d


# --------------------------------------------------------------------------------------------
# one-sided tests


def test_noninferiority_and_superiority_directions():
    ref = np.array([0.80, 0.82, 0.79, 0.81, 0.80, 0.78])
    better = ref + 0.05
    ni = noninferiority(ref, better, margin=0.02)
    assert ni.noninferior and ni.alternative == "greater" and ni.bounds == (-0.02, math.inf)
    assert ni.null_hypothesis == "μc − μr ≤ -0.02"
    assert ni.confidence_interval[1] == math.inf and ni.confidence_level == 0.95
    # lower is better: the same improvement is a regression
    ni_low = noninferiority(ref, better, margin=0.02, higher_is_better=False)
    assert not ni_low.noninferior and ni_low.alternative == "less"
    assert ni_low.confidence_interval[0] == -math.inf
    sup = superiority(ref, better, margin=0.01)
    assert sup.superior and sup.null_hypothesis == "μc − μr ≤ 0.01"
    assert not superiority(ref, better, margin=0.1).superior
    sup_low = superiority(ref, ref - 0.05, higher_is_better=False)
    assert sup_low.superior and sup_low.bounds == (-math.inf, 0.0)
    # the one-sided bound is the matching end of the (1 − 2α) TOST interval
    res = tost(ref, better, margin=0.1)
    assert ni.confidence_interval[0] == res.confidence_interval[0]


def test_relative_noninferiority_contrast():
    rng = np.random.default_rng(3)
    ref, cand = rng.normal(10, 1, 20), rng.normal(9.9, 1.5, 15)
    ni = noninferiority(ref, cand, margin=0.05, relative=True)
    t, df = contrast_t(ref, cand, 0.95, "welch")
    assert close(ni.statistic, t) and close(ni.df, df)
    assert close(ni.pvalue, stats.t.sf(t, df))
    assert ni.bound == pytest.approx(0.95) and ni.null_hypothesis == "μc/μr ≤ 0.95"


# --------------------------------------------------------------------------------------------
# posterior


def test_posterior_paired_is_the_t_cdf_difference():
    rng = np.random.default_rng(5)
    ref = rng.normal(1, 0.2, 9)
    cand = ref + rng.normal(0.03, 0.05, 9)
    res = posterior_equivalence(ref, cand, margin=(-0.05, 0.08), paired=True)
    d = cand - ref
    se = d.std(ddof=1) / 3.0
    by_hand = stats.t.cdf((0.08 - d.mean()) / se, 8) - stats.t.cdf((-0.05 - d.mean()) / se, 8)
    assert res.probability == pytest.approx(by_hand, rel=1e-12)
    assert res.probability_below == pytest.approx(stats.t.cdf((-0.05 - d.mean()) / se, 8))
    # with a flat prior, P(inside) = 1 − p_lower − p_upper of the paired TOST
    t = tost(ref, cand, margin=(-0.05, 0.08), paired=True)
    assert res.probability == pytest.approx(1 - t.lower.pvalue - t.upper.pvalue, rel=1e-10)


def test_posterior_pooled_is_the_t_cdf_difference():
    ref, cand = np.array(SLEEP_2), np.array(SLEEP_1)
    res = posterior_equivalence(ref, cand, margin=2.0, equal_var=True)
    t = tost(ref, cand, margin=2.0, equal_var=True)
    assert res.probability == pytest.approx(1 - t.lower.pvalue - t.upper.pvalue, rel=1e-10)


@pytest.mark.parametrize("relative, margin", [(False, 1.0), (True, 0.1)])
def test_posterior_welch_matches_monte_carlo(relative, margin):
    rng = np.random.default_rng(8)
    ref, cand = rng.normal(10, 1, 6), rng.normal(10.5, 3, 8)
    res = posterior_equivalence(ref, cand, margin=margin, relative=relative)
    draws = 1_000_000
    mu_r = ref.mean() + ref.std(ddof=1) / math.sqrt(6) * rng.standard_t(5, draws)
    mu_c = cand.mean() + cand.std(ddof=1) / math.sqrt(8) * rng.standard_t(7, draws)
    effect = mu_c / mu_r if relative else mu_c - mu_r
    lo, hi = res.bounds
    assert res.probability == pytest.approx(np.mean((effect > lo) & (effect < hi)), abs=3e-3)
    assert res.probability_below == pytest.approx(np.mean(effect <= lo), abs=3e-3)
    assert "Behrens–Fisher" in res.method


@pytest.mark.parametrize("equal_var", [False, True])
def test_posterior_relative_bivariate_matches_monte_carlo(equal_var):
    rng = np.random.default_rng(9)
    if equal_var:  # common σ: σ² ~ ν s_p² / χ²_ν, means normal given σ
        ref, cand = rng.normal(5, 1, 7), rng.normal(5.2, 1, 9)
        res = posterior_equivalence(ref, cand, margin=0.05, relative=True, equal_var=True)
        nu = 14
        sp2 = (6 * ref.var(ddof=1) + 8 * cand.var(ddof=1)) / nu
        sigma = np.sqrt(nu * sp2 / rng.chisquare(nu, 1_000_000))
        mu_r = ref.mean() + sigma / math.sqrt(7) * rng.standard_normal(sigma.size)
        mu_c = cand.mean() + sigma / math.sqrt(9) * rng.standard_normal(sigma.size)
    else:  # paired: Σ ~ Inv-Wishart(n − 1, S), μ | Σ ~ N(x̄, Σ/n) (Jeffreys prior)
        n = 7
        ref = rng.normal(5, 1, n)
        cand = 1.03 * ref + rng.normal(0, 0.4, n)
        res = posterior_equivalence(ref, cand, margin=0.05, relative=True, paired=True)
        x = np.column_stack([ref, cand])
        sig = stats.invwishart(df=n - 1, scale=(n - 1) * np.cov(x.T)).rvs(400_000, random_state=1)
        chol = np.linalg.cholesky(sig / n)
        mu = x.mean(0) + np.einsum("kij,kj->ki", chol, rng.standard_normal((sig.shape[0], 2)))
        mu_r, mu_c = mu[:, 0], mu[:, 1]
    ratio = mu_c / mu_r
    assert res.probability == pytest.approx(np.mean((ratio > 0.95) & (ratio < 1.05)), abs=4e-3)
    assert res.probability_below == pytest.approx(np.mean(ratio <= 0.95), abs=4e-3)


def test_posterior_agrees_in_direction_with_tost():
    rng = np.random.default_rng(10)
    ref = rng.normal(10, 1, 40)
    same = rng.normal(10, 1, 40)
    far = rng.normal(12, 1, 40)
    for relative, margin in ((False, 1.0), (True, 0.1)):
        yes = posterior_equivalence(ref, same, margin=margin, relative=relative)
        assert yes.probability > 0.95
        assert tost(ref, same, margin=margin, relative=relative).equivalent
        no = posterior_equivalence(ref, far, margin=margin, relative=relative)
        assert no.probability < 0.05 and no.probability_above > 0.95
        assert not tost(ref, far, margin=margin, relative=relative).equivalent


@quiet
def test_posterior_exact_difference_is_a_point_mass():
    ref = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    res = posterior_equivalence(ref, ref + 0.25, margin=0.5, paired=True)
    assert (res.probability, res.probability_below, res.probability_above) == (1.0, 0.0, 0.0)
    res = posterior_equivalence(ref, ref + 0.75, margin=0.5, paired=True)
    assert (res.probability, res.probability_above) == (0.0, 1.0)


# --------------------------------------------------------------------------------------------
# attainability


def test_min_detectable_absolute_best_case():
    ref, cand = [1.0, 2.0, 3.0], [1.5, 2.5, 3.5]
    det = attainability(ref, cand, margin=0.5)
    se = math.sqrt(1.0 / 3 + 1.0 / 3)
    assert det.best_case_pvalue == pytest.approx(stats.t.sf(0.5 / se, 4.0), rel=1e-12)
    assert det.best_case_estimate == 0.0 and not det.attainable
    # min_margin: the (1 − 2α) half-width t·SE at a zero difference
    assert det.min_margin == pytest.approx(stats.t.ppf(0.95, 4.0) * se, rel=1e-9)
    # n_required: the smallest n at which a zero observed difference would pass
    n = det.n_required
    ok = tost_from_summary(2.0, 1.0, n, 2.0, 1.0, n, margin=0.5)
    not_ok = tost_from_summary(2.0, 1.0, n - 1, 2.0, 1.0, n - 1, margin=0.5)
    assert ok.equivalent and not not_ok.equivalent
    assert "runs per system" in det.warnings[0]


@quiet
def test_tost_records_unattainable():
    rng = np.random.default_rng(1)
    ref, cand = rng.normal(10, 1, 4), rng.normal(10, 1, 4)
    res = tost(ref, cand, margin=0.2)
    assert not res.attainable and not res.equivalent
    assert any("cannot be shown" in n and "would be needed" in n for n in res.warnings)
    # asymmetric bounds: the best case is the centre of the bounds
    det = attainability(ref, cand, margin=(-0.1, 0.5))
    assert det.best_case_estimate == pytest.approx(0.2)


@pytest.mark.parametrize("kind", ["welch", "pooled", "paired"])
def test_min_detectable_relative_is_reachable(kind):
    rng = np.random.default_rng(2)
    ref = rng.normal(10, 1, 12)
    cand = ref + rng.normal(0, 0.5, 12) if kind == "paired" else rng.normal(10, 2, 12)
    opts = {"paired": kind == "paired", "equal_var": kind == "pooled", "relative": True}
    det = attainability(ref, cand, margin=(-0.04, 0.06), **opts)
    # moving the candidate to the best-case ratio reaches exactly the best-case p
    shifted = cand - cand.mean() + det.best_case_estimate * ref.mean()
    res = tost(ref, shifted, margin=(-0.04, 0.06), **opts)
    assert res.pvalue == pytest.approx(det.best_case_pvalue, rel=1e-6)
    assert res.lower.pvalue == pytest.approx(res.upper.pvalue, rel=1e-6)
    assert res.attainable == det.attainable


def test_min_detectable_noninferiority_at_no_difference():
    rng = np.random.default_rng(4)
    ref, cand = rng.normal(10, 1, 8), rng.normal(9, 1, 8)
    det = attainability(ref, cand, margin=0.5, test="non-inferiority")
    same = cand - cand.mean() + ref.mean()
    assert noninferiority(ref, same, margin=0.5).pvalue == pytest.approx(det.best_case_pvalue)
    assert det.best_case_estimate == 0.0


# --------------------------------------------------------------------------------------------
# exit 3 only when true: power and the runs that would make a success likely


def test_noninferiority_is_always_attainable_a_better_candidate_passes():
    # the case: at n = 20 a candidate observed equal to the reference is not shown
    # non-inferior, yet the same n with the candidate 12 higher is (p = 0.041)
    ref = np.loadtxt("examples/equivalence/official.csv", delimiter=",", skiprows=1)[:, 1]
    cand = np.loadtxt("examples/equivalence/reimplementation.csv", delimiter=",", skiprows=1)[:, 1]
    res = noninferiority(ref, cand, margin=5)
    assert not res.noninferior and res.attainable
    assert not any("cannot be shown" in n for n in res.warnings)
    (note,) = [n for n in res.warnings if "would give 80% power" in n]
    assert f"about {res.n_for_power} runs per system" in note
    assert "a true difference of 0 (no difference)" in note
    better = noninferiority(ref, cand + 12, margin=5)
    assert better.noninferior and better.pvalue == pytest.approx(0.041, abs=5e-4)
    assert better.n_for_power == res.n_for_power  # the spread decides it, not the means
    assert not any("power to show" in n for n in better.warnings)
    det = attainability(ref, cand, margin=5, test="non-inferiority")
    assert det.attainable and det.best_case_pvalue >= 0.05  # equal means would not pass
    assert (det.power, det.n_for_power) == (res.power, res.n_for_power)


@quiet
@pytest.mark.parametrize("kind", ["pooled", "paired"])
def test_noninferiority_power_matches_statsmodels(kind):
    power_mod = pytest.importorskip("statsmodels.stats.power")
    rng = np.random.default_rng(5)
    ref = rng.normal(10, 2, 15)
    cand = ref + rng.normal(0, 1.5, 15) if kind == "paired" else rng.normal(10, 2, 15)
    opts = {"paired": kind == "paired", "equal_var": kind == "pooled"}
    res = noninferiority(ref, cand, margin=0.8, **opts)
    if kind == "paired":
        sd = float(np.std(cand - ref, ddof=1))
        oracle = power_mod.TTestPower().power(0.8 / sd, nobs=15, alpha=0.05, alternative="larger")
    else:
        sd = math.sqrt((np.var(ref, ddof=1) + np.var(cand, ddof=1)) / 2)
        oracle = power_mod.TTestIndPower().power(
            0.8 / sd, nobs1=15, ratio=1.0, alpha=0.05, alternative="larger"
        )
    assert res.power == pytest.approx(oracle, rel=1e-6)


def _power_at(k: int, sd: float, test: str) -> float:
    """The pooled power at ``k`` runs a side, from two samples with standard deviation ``sd``."""
    same = np.array([-1.0, 1.0] * (k // 2) + [0.0] * (k % 2))
    same = same / np.std(same, ddof=1) * sd
    return attainability(same, same.copy(), margin=0.1, test=test, equal_var=True).power


def test_n_for_power_is_the_smallest_n_reaching_80_percent():
    rng = np.random.default_rng(6)
    ref, cand = rng.normal(1.0, 0.3, 10), rng.normal(1.0, 0.3, 10)
    for test in ("equivalence", "non-inferiority"):
        det = attainability(ref, cand, margin=0.1, test=test, equal_var=True)
        sd = math.sqrt((np.var(ref, ddof=1) + np.var(cand, ddof=1)) / 2)
        n = det.n_for_power

        assert _power_at(n, sd, test) >= 0.8 > _power_at(n - 1, sd, test)


def test_tost_power_is_a_safe_lower_bound_by_simulation():
    # a pilot with standard deviation exactly 1 a side; then 4000 pooled TOSTs of fresh
    # N(0, 1) samples (true difference 0) at the n said to give 80% power
    pilot = np.tile([-1.0, 1.0], 10) * math.sqrt(19 / 20)
    det = attainability(pilot, pilot.copy(), margin=0.6, equal_var=True)
    n = det.n_for_power
    rng = np.random.default_rng(7)
    x, y = rng.normal(0, 1, (4000, n)), rng.normal(0, 1, (4000, n))
    d = y.mean(axis=1) - x.mean(axis=1)
    se = np.sqrt((x.var(axis=1, ddof=1) + y.var(axis=1, ddof=1)) / 2 * (2 / n))
    t = stats.t.ppf(0.95, 2 * n - 2)
    power = np.mean(((d + 0.6) / se > t) & ((d - 0.6) / se < -t))
    noise = 3 * math.sqrt(0.8 * 0.2 / 4000)
    assert 0.8 - noise <= power <= 0.8 + 0.05  # not optimistic, and not far too cautious
    assert det.power < 0.8  # at the pilot's n = 20


@quiet
def test_tost_unattainable_only_when_the_interval_is_wider_than_the_band():
    # absolute margin: attainable exactly when 2·t_{1−α,df}·SE < high − low
    for n, expected in ((4, False), (40, True)):
        ref = np.tile([-1.0, 1.0], n // 2)
        res = tost(ref, ref + 0.3, margin=0.5, equal_var=True)
        se = math.sqrt(np.var(ref, ddof=1) * 2 / n)
        width = 2 * stats.t.ppf(0.95, 2 * n - 2) * se
        assert res.attainable == expected == bool(width < 1.0)
        assert not res.equivalent or expected
    far = tost(np.tile([-1.0, 1.0], 20), np.tile([-1.0, 1.0], 20) + 0.6, margin=0.5)
    assert far.attainable and not far.equivalent  # a better observed mean could pass: exit 1
    assert any("would give 80% power to show equivalence" in n for n in far.warnings)


def test_superiority_power_is_at_the_observed_effect():
    ref = np.tile([0.0, 2.0], 4)
    cand = ref + 0.5  # observed 0.5 better; t ≈ 0.94 at n = 8: not shown
    res = superiority(ref, cand)
    assert not res.superior and res.attainable and res.estimate > 0
    assert res.n_for_power is not None and res.n_for_power > 8
    assert any("equal to the observed" in n for n in res.warnings)
    worse = superiority(ref, cand - 2.0)
    assert worse.n_for_power is None
    assert any("unlikely to be shown at any n" in n for n in worse.warnings)


# --------------------------------------------------------------------------------------------
# degenerate data


@quiet
def test_both_constant_unpaired_is_exact_with_a_warning():
    with pytest.warns(DegenerateDataWarning, match="both samples are constant"):
        res = tost([0.8] * 6, [0.8] * 6, margin=0.01)
    assert res.equivalent and res.pvalue == 0.0 and res.confidence_interval == (0.0, 0.0)
    assert res.lower.statistic == math.inf and res.upper.statistic == -math.inf
    with pytest.warns(DegenerateDataWarning):
        far = tost([0.8] * 6, [0.9] * 6, margin=0.05)
    assert not far.equivalent and far.pvalue == 1.0 and far.attainable


@quiet
def test_identical_paired_results_are_exactly_equivalent():
    ref = np.linspace(0.5, 0.9, 8)
    with pytest.warns(DegenerateDataWarning, match="every paired difference equals 0"):
        res = tost(ref, ref.copy(), margin=0.01, paired=True)
    assert res.equivalent and res.pvalue == 0.0 and res.estimate == 0.0
    assert res.confidence_interval == (0.0, 0.0) and res.difference_sd == 0.0


@quiet
def test_constant_difference_on_the_margin_up_to_rounding_is_not_equivalent():
    ref = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    cand = np.array([1.1, 2.1, 3.1, 4.1, 5.1])  # differences 0.1 ± rounding
    res = tost(ref, cand, margin=0.1, paired=True)
    assert not res.equivalent and res.pvalue == 1.0 and math.isnan(res.upper.statistic)
    assert any("up to floating-point rounding" in n for n in res.warnings)
    assert tost(ref, cand, margin=0.2, paired=True).equivalent


@quiet
def test_one_constant_sample_uses_the_other_variance():
    rng = np.random.default_rng(6)
    cand = rng.normal(1, 0.1, 9)
    with pytest.warns(DegenerateDataWarning, match="reference is constant"):
        res = tost([1.0] * 7, cand, margin=0.2)
    assert res.df == pytest.approx(8.0)
    assert res.standard_error == pytest.approx(cand.std(ddof=1) / 3)


@quiet
def test_small_n_warns():
    with pytest.warns(DegenerateDataWarning, match="only 3 values"):
        tost([1.0, 2.0, 3.0], [1.0, 2.5, 3.0, 2.0, 1.0], margin=1.0)


# --------------------------------------------------------------------------------------------
# validation: one test per rule


def raises(match):
    return pytest.raises(ParityInputError, match=match)


def test_error_nan():
    with raises(r"`candidate` must have finite values; got 1 NaN/inf \(indices 1\)"):
        tost([1.0, 2.0, 3.0], [1.0, math.nan, 2.0], margin=1.0)


def test_error_too_few_values():
    with raises(r"`reference` must have at least 2 values; got 1"):
        tost([1.0], [1.0, 2.0], margin=1.0)


def test_error_not_1d():
    with raises(r"`reference` must be 1-D"):
        tost(np.ones((3, 2)), [1.0, 2.0], margin=1.0)


@pytest.mark.parametrize("margin", [0.0, -0.1, math.inf])
def test_error_margin_not_positive(margin):
    with raises(r"`margin` must be a finite number > 0"):
        tost([1.0, 2.0], [1.0, 2.0], margin=margin)


@pytest.mark.parametrize("margin", [(0.1, 0.2), (-0.2, -0.1), (-0.1, 0.0)])
def test_error_margin_pair_not_around_zero(margin):
    with raises(r"`margin` \(low, high\) must be finite with low < 0 < high"):
        tost([1.0, 2.0], [1.0, 2.0], margin=margin)


@pytest.mark.parametrize("margin", ["0.1", (0.1,), (-1, 2, 3), True])
def test_error_margin_not_a_number(margin):
    with raises(r"`margin` must be a number > 0 or a \(low, high\) pair"):
        tost([1.0, 2.0], [1.0, 2.0], margin=margin)


def test_error_relative_low_margin():
    with raises(r"relative `margin` must have low > -1"):
        tost([1.0, 2.0], [1.0, 2.0], margin=(-1.0, 0.5), relative=True)


@pytest.mark.parametrize("ref", [[-1.0, 0.5], [0.0, 0.0], [-3.0, 3.0]])
def test_error_relative_reference_mean_not_positive(ref):
    with raises(r"a relative margin needs a reference mean > 0"):
        tost(ref, [1.0, 2.0], margin=0.1, relative=True)


def test_error_relative_summary_reference_mean_not_positive():
    with raises(r"a relative margin needs a reference mean > 0"):
        tost_from_summary(-1.0, 1.0, 5, 1.0, 1.0, 5, margin=0.1, relative=True)


def test_error_paired_lengths():
    with raises(r"same length when paired=True .* got 3 and 2"):
        tost([1.0, 2.0, 3.0], [1.0, 2.0], margin=1.0, paired=True)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.7, -0.1, math.nan])
def test_error_alpha(alpha):
    with raises(r"`alpha` must be in \(0, 0.5\)"):
        tost([1.0, 2.0], [1.0, 2.0], margin=1.0, alpha=alpha)


def test_error_equal_var_with_paired():
    with raises(r"`equal_var` applies to unpaired samples only"):
        tost([1.0, 2.0], [1.0, 2.0], margin=1.0, paired=True, equal_var=True)


def test_error_noninferiority_margin():
    with raises(r"`margin` must be > 0 for non-inferiority"):
        noninferiority([1.0, 2.0], [1.0, 2.0], margin=0.0)


def test_error_noninferiority_margin_pair():
    with raises(r"`margin` must be a finite number"):
        noninferiority([1.0, 2.0], [1.0, 2.0], margin=(-0.1, 0.1))


def test_error_superiority_margin():
    with raises(r"`margin` must be ≥ 0 for superiority"):
        superiority([1.0, 2.0], [1.0, 2.0], margin=-0.1)


def test_error_relative_noninferiority_margin_too_large():
    with raises(r"relative `margin` must be < 1"):
        noninferiority([1.0, 2.0], [1.0, 2.0], margin=1.0, relative=True)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sd_ref": -1.0}, r"`sd_ref` must be ≥ 0"),
        ({"n_cand": 1}, r"`n_cand` must be an integer ≥ 2"),
        ({"n_ref": 4.5}, r"`n_ref` must be an integer ≥ 2"),
        ({"mean_cand": math.nan}, r"`mean_cand` must be a finite number"),
    ],
)
def test_error_summary_arguments(kwargs, match):
    args = {"mean_ref": 1.0, "sd_ref": 1.0, "n_ref": 5, "mean_cand": 1.0, "sd_cand": 1.0}
    args.update({"n_cand": 5, **kwargs})
    with raises(match):
        tost_from_summary(**args, margin=0.5)


def test_error_paired_relative_posterior_needs_three_pairs():
    with raises(r"at least 3 pairs"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        posterior_equivalence([1.0, 2.0], [1.1, 2.0], margin=0.1, relative=True, paired=True)


def test_error_min_detectable_test_name():
    with raises(r"`test` must be 'equivalence' or 'non-inferiority'"):
        attainability([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], margin=0.1, test="superiority")


def test_error_flag_not_bool():
    with raises(r"`paired` must be True or False"):
        tost([1.0, 2.0], [1.0, 2.0], margin=1.0, paired="yes")
