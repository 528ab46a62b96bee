"""Tests of parity.stats.aggregates: rliable's aggregate metrics and stratified bootstrap CIs."""

from __future__ import annotations

import functools
import itertools
import json

import numpy as np
import pytest

from parity.errors import DegenerateDataWarning, ParityInputError
from parity.stats import aggregates
from parity.stats.aggregates import (
    aggregate_ci,
    iqm,
    mean,
    median,
    optimality_gap,
    probability_of_improvement,
    probability_of_improvement_ci,
)
from parity.stats.bootstrap import BootstrapResult

pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")

scipy_stats = pytest.importorskip("scipy.stats")

# --------------------------------------------------------------------------------------------
# reference values computed by rliable 1.2.0 (numpy 2.4.6, scipy 1.17.1) in the benchmark venv
# (.venv-rliable, see the Makefile `bench` target), with:
#
#     import numpy as np
#     from rliable import metrics
#     g = np.random.default_rng(20240607)
#     x = np.round(g.normal(1.0, 0.5, size=(7, 4)), 2)
#     y = np.round(g.normal(0.8, 0.5, size=(5, 4)), 2)
#     y[:, 1] = x[:5, 1]  # ties across algorithms
#     for name, f in [("iqm", metrics.aggregate_iqm), ("median", metrics.aggregate_median),
#                     ("mean", metrics.aggregate_mean),
#                     ("optimality_gap", metrics.aggregate_optimality_gap)]:
#         print(name, repr(float(f(x))), repr(float(f(y))))
#     print(repr(float(metrics.aggregate_optimality_gap(x, gamma=1.5))))
#     print(repr(float(metrics.probability_of_improvement(x, y))),
#           repr(float(metrics.probability_of_improvement(y, x))),
#           repr(float(metrics.probability_of_improvement(x, x))))

X = np.array(
    [
        [0.96, 0.79, -0.44, 2.62],
        [1.07, 1.66, 1.18, 0.64],
        [1.41, -0.06, 1.15, 1.28],
        [0.51, 0.5, 1.29, 1.3],
        [0.43, 0.28, 2.05, 1.26],
        [1.01, 0.42, 0.56, 0.72],
        [0.72, 0.71, 2.03, 1.29],
    ]
)
Y = np.array(
    [
        [0.09, 0.79, -0.18, 0.37],
        [0.61, 1.66, 0.18, 0.75],
        [0.84, -0.06, 0.58, 1.24],
        [0.8, 0.5, 0.67, 0.94],
        [0.39, 0.28, 1.3, 0.76],
    ]
)
RLIABLE = {
    "iqm": (0.9528571428571428, 0.622),
    "median": (0.9949999999999999, 0.5900000000000001),
    "mean": (0.9764285714285714, 0.6255000000000001),
    "optimality_gap": (0.25928571428571423, 0.4345000000000001),
}
RLIABLE_GAP_1_5 = 0.607857142857143
RLIABLE_POI = (0.6821428571428572, 0.31785714285714284, 0.5)


def _scores(seed: int, runs: int = 8, tasks: int = 5) -> np.ndarray:
    g = np.random.default_rng(seed)
    return g.gamma(2.0, 0.5, size=(runs, tasks)) * g.uniform(0.5, 2.0, size=tasks)


# --------------------------------------------------------------------------------------------
# point estimates


@pytest.mark.parametrize("name", sorted(RLIABLE))
def test_point_estimates_equal_rliable(name):
    fn = getattr(aggregates, name)
    assert fn(X) == pytest.approx(RLIABLE[name][0], rel=1e-14, abs=1e-15)
    assert fn(Y) == pytest.approx(RLIABLE[name][1], rel=1e-14, abs=1e-15)
    assert isinstance(fn(X), float)


def test_optimality_gap_gamma_and_poi_equal_rliable():
    assert optimality_gap(X, gamma=1.5) == pytest.approx(RLIABLE_GAP_1_5, rel=1e-14)
    assert probability_of_improvement(X, Y) == pytest.approx(RLIABLE_POI[0], rel=1e-14)
    assert probability_of_improvement(Y, X) == pytest.approx(RLIABLE_POI[1], rel=1e-14)
    assert probability_of_improvement(X, X) == RLIABLE_POI[2]


def test_point_estimates_against_direct_formulas():
    s = _scores(1, runs=9, tasks=6)
    flat = np.sort(s.ravel())
    cut = len(flat) // 4  # 54 scores: drop 13 at each end
    assert iqm(s) == pytest.approx(flat[cut:-cut].mean(), rel=1e-14)
    assert iqm(s) == pytest.approx(scipy_stats.trim_mean(s, 0.25, axis=None), rel=1e-14)
    task_means = [np.mean(s[:, t]) for t in range(6)]
    assert mean(s) == pytest.approx(sum(task_means) / 6, rel=1e-14)
    assert median(s) == pytest.approx(float(np.median(task_means)), rel=1e-14)
    assert optimality_gap(s, gamma=0.8) == pytest.approx(
        0.8 - np.mean([min(v, 0.8) for v in s.ravel()]), rel=1e-14
    )


def test_probability_of_improvement_counts_all_pairs_with_ties_one_half():
    g = np.random.default_rng(4)
    x = g.integers(0, 4, size=(6, 3)).astype(float)  # many ties
    y = g.integers(0, 4, size=(9, 3)).astype(float)
    per_task = []
    for t in range(3):
        wins = sum((a > b) + 0.5 * (a == b) for a, b in itertools.product(x[:, t], y[:, t]))
        per_task.append(wins / (6 * 9))
        u = scipy_stats.mannwhitneyu(x[:, t], y[:, t], alternative="greater").statistic
        assert u / 54 == pytest.approx(per_task[-1], rel=1e-14)
    assert probability_of_improvement(x, y) == pytest.approx(np.mean(per_task), rel=1e-14)


def test_point_estimates_are_vectorized_over_leading_axes():
    stack = np.stack([_scores(s) for s in range(4)])  # (4, runs, tasks)
    for fn in (iqm, mean, median, optimality_gap):
        got = fn(stack)
        assert got.shape == (4,)
        np.testing.assert_allclose(got, [fn(a) for a in stack], rtol=1e-14)
    y = _scores(9, runs=6)
    got = probability_of_improvement(stack, y)
    np.testing.assert_allclose(got, [probability_of_improvement(a, y) for a in stack], rtol=1e-14)


def test_dict_of_algorithms():
    out = iqm({"x": X, "y": Y})
    assert out == {"x": iqm(X), "y": iqm(Y)}


# --------------------------------------------------------------------------------------------
# stratified bootstrap: draws, kernels, intervals


def _documented_draws(runs, tasks, n_resamples, gen):
    """The documented draw of aggregate_ci: blocks of c = max(1, 2**17 // (runs·tasks))
    resamples (the last one shorter), each rng.integers(0, runs, (c, tasks, runs), uint16)."""
    rows = max(1, 2**17 // (runs * tasks))
    sizes = [min(rows, n_resamples - k) for k in range(0, n_resamples, rows)]
    return np.concatenate([gen.integers(0, runs, (c, tasks, runs), dtype=np.uint16) for c in sizes])


def _by_hand_distribution(scores, fn, n_resamples, seed):
    """Resample k takes, on task t, the runs idx[k, t, :] of the documented draws."""
    runs, tasks = scores.shape
    idx = _documented_draws(runs, tasks, n_resamples, np.random.default_rng(seed))
    out = []
    for k in range(n_resamples):
        resample = np.stack([scores[idx[k, t], t] for t in range(tasks)], axis=1)
        assert resample.shape == (runs, tasks)  # every task keeps its number of runs
        out.append(fn(resample))
    return np.array(out)


@pytest.mark.parametrize("name", ["iqm", "mean", "median", "optimality_gap"])
@pytest.mark.parametrize(("runs", "tasks"), [(8, 5), (60, 30)])  # one block; 5 blocks of 72
def test_bootstrap_distribution_follows_the_documented_draws(name, runs, tasks):
    s = _scores(2, runs=runs, tasks=tasks)
    fn = getattr(aggregates, name)
    res = aggregate_ci(s, fn, n_resamples=300, confidence_level=0.9, rng=17)
    expected = _by_hand_distribution(s, fn, 300, 17)
    np.testing.assert_allclose(res.bootstrap_distribution, expected, rtol=1e-13)
    np.testing.assert_allclose(
        res.confidence_interval, np.quantile(expected, [0.05, 0.95]), rtol=1e-13
    )
    assert res.statistic == fn(s)
    assert res.method == "stratified bootstrap percentile"
    assert res.n_resamples == 300
    assert isinstance(res, BootstrapResult)


@pytest.mark.parametrize(
    ("runs", "tasks", "decimals"),
    [(2, 1, 1), (3, 1, 1), (2, 2, 1), (5, 3, 0), (11, 7, 1), (9, 6, 12), (100, 26, 2)],
)
def test_iqm_block_equals_brute_force_trim_mean_for_fixed_draws(runs, tasks, decimals):
    # fixed draws (a multiset per task: repeats, runs never drawn), scores with ties within and
    # across tasks; each resample's IQM by brute force: gather, sort, scipy's trim_mean
    g = np.random.default_rng(runs * 100 + tasks)
    s = np.round(g.gamma(2.0, 0.5, size=(runs, tasks)), decimals)
    idx = g.integers(0, runs, (40, tasks, runs), dtype=np.uint16)
    idx[0] = 0  # every task draws its first run only
    idx[1] = np.arange(runs, dtype=np.uint16)  # the original sample
    resamples = [np.stack([s[idx[k, t], t] for t in range(tasks)], axis=1) for k in range(40)]
    brute = [scipy_stats.trim_mean(np.sort(r, axis=None), 0.25) for r in resamples]
    got = aggregates._iqm_block(aggregates._iqm_table(s), idx.copy())
    np.testing.assert_allclose(got, brute, rtol=1e-13, atol=1e-15)
    assert got[1] == pytest.approx(iqm(s), rel=1e-13)


def test_iqm_block_with_wide_cell_numbers():
    # more than 65,536 cells: cell numbers and ranks no longer fit 16 bits
    g = np.random.default_rng(3)
    runs, tasks = 300, 230
    s = np.round(g.normal(size=(runs, tasks)), 2)
    idx = g.integers(0, runs, (3, tasks, runs), dtype=np.uint16)
    brute = [scipy_stats.trim_mean(s.T[np.arange(tasks)[:, None], i], 0.25, None) for i in idx]
    table = aggregates._iqm_table(s)
    assert table.rank.dtype == np.uint32
    np.testing.assert_allclose(aggregates._iqm_block(table, idx), brute, rtol=1e-13)


def test_iqm_kernel_equals_the_generic_path_with_ties():
    s = np.round(_scores(3, runs=11, tasks=7), 1)  # ties within and across tasks
    fast = aggregate_ci(s, iqm, n_resamples=2000, rng=5)
    slow = aggregate_ci(s, lambda a: iqm(a), n_resamples=2000, rng=5)
    np.testing.assert_allclose(fast.bootstrap_distribution, slow.bootstrap_distribution, rtol=1e-13)
    assert aggregate_ci(s, "IQM", n_resamples=2000, rng=5) == fast


def test_resampled_values_stay_in_their_task():
    s = _scores(4, runs=6, tasks=4)
    seen = []

    def check(values):  # called once on the scores, then on (b, runs, tasks) batches
        for t in range(values.shape[-1]):
            assert np.isin(values[..., t], s[:, t]).all()
        seen.append(values.shape)
        return values.mean(axis=(-2, -1))

    aggregate_ci(s, check, n_resamples=100, rng=0)
    assert seen[0] == (6, 4) and len(seen) > 1
    assert all(len(shape) == 3 and shape[1:] == (6, 4) for shape in seen[1:])


def test_basic_interval_reflects_the_percentile_interval():
    s = _scores(5)
    p = aggregate_ci(s, mean, n_resamples=999, rng=2)
    b = aggregate_ci(s, mean, n_resamples=999, rng=2, method="basic")
    assert b.method == "stratified bootstrap basic"
    lo, hi = p.confidence_interval
    assert b.confidence_interval == pytest.approx((2 * p.statistic - hi, 2 * p.statistic - lo))


def test_results_do_not_depend_on_batch_size(monkeypatch):
    s = _scores(6)
    x, y = _scores(7, runs=9), _scores(8, runs=6)
    before = [
        aggregate_ci(s, iqm, n_resamples=501, rng=3),
        aggregate_ci(s, median, n_resamples=501, rng=3),
        probability_of_improvement_ci(x, y, n_resamples=501, rng=3),
    ]
    monkeypatch.setattr(aggregates, "_BATCH_BYTES", 32 * 7 * 70)  # a few resamples per batch
    after = [
        aggregate_ci(s, iqm, n_resamples=501, rng=3),
        aggregate_ci(s, median, n_resamples=501, rng=3),
        probability_of_improvement_ci(x, y, n_resamples=501, rng=3),
    ]
    for a, b in zip(before, after, strict=True):
        assert a == b
        np.testing.assert_array_equal(a.bootstrap_distribution, b.bootstrap_distribution)


def test_probability_of_improvement_ci_follows_the_documented_draws():
    x = np.round(_scores(9, runs=7, tasks=3), 1)
    y = np.round(_scores(10, runs=5, tasks=3), 1)
    b = 400
    res = probability_of_improvement_ci(x, y, n_resamples=b, rng=21)
    g = np.random.default_rng(21)
    ix = g.integers(0, 7, (b, 3, 7))  # all of X's draws first, then Y's
    iy = g.integers(0, 5, (b, 3, 5))
    expected = [
        probability_of_improvement(
            np.stack([x[ix[k, t], t] for t in range(3)], axis=1),
            np.stack([y[iy[k, t], t] for t in range(3)], axis=1),
        )
        for k in range(b)
    ]
    np.testing.assert_allclose(res.bootstrap_distribution, expected, rtol=1e-14)
    assert res.statistic == probability_of_improvement(x, y)
    np.testing.assert_allclose(res.confidence_interval, np.quantile(expected, [0.025, 0.975]))


def test_same_seed_same_result_and_dict_draws_in_turn():
    s, t = _scores(11), _scores(12, runs=6)
    a = aggregate_ci(s, iqm, n_resamples=300, rng=8)
    assert a == aggregate_ci(s, iqm, n_resamples=300, rng=8)
    assert a.to_dict() == aggregate_ci(s, iqm, n_resamples=300, rng=8).to_dict()
    both = aggregate_ci({"s": s, "t": t}, iqm, n_resamples=300, rng=8)
    g = np.random.default_rng(8)
    assert both == {
        "s": aggregate_ci(s, iqm, n_resamples=300, rng=g),
        "t": aggregate_ci(t, iqm, n_resamples=300, rng=g),
    }
    assert json.loads(json.dumps(a.to_dict())) == a.to_dict()


def test_other_gamma_through_partial():
    s = _scores(13)
    gap = functools.partial(optimality_gap, gamma=1.5)
    res = aggregate_ci(s, gap, n_resamples=200, rng=0)
    assert res.statistic == optimality_gap(s, gamma=1.5)
    expected = _by_hand_distribution(s, gap, 200, 0)
    np.testing.assert_allclose(res.bootstrap_distribution, expected, rtol=1e-13)


def test_coverage_of_95_percent_interval_of_the_mean():
    # 150 replicates, 10 runs × 4 tasks of normal scores: the stratified percentile interval of
    # the mean covers the true mean close to 95 % (a little less at 10 runs: ≈ 0.93).
    g = np.random.default_rng(77)
    mu = np.array([0.2, 1.0, 3.0, -1.0])
    hits = 0
    for _ in range(150):
        s = mu + g.normal(0.0, 1.0, size=(10, 4))
        lo, hi = aggregate_ci(s, mean, n_resamples=999, rng=g).confidence_interval
        hits += lo <= mu.mean() <= hi
    assert 0.86 <= hits / 150 <= 0.99


# --------------------------------------------------------------------------------------------
# degenerate data


def test_constant_scores_warn_zero_width():
    s = np.tile([0.5, 1.0, 2.0], (6, 1))
    with pytest.warns(DegenerateDataWarning, match="zero width"):
        res = aggregate_ci(s, iqm, n_resamples=100, rng=0)
    assert res.confidence_interval == (res.statistic, res.statistic)


def test_few_runs_warn():
    with pytest.warns(DegenerateDataWarning, match="only 3 runs per task"):
        res = aggregate_ci(_scores(14, runs=3), mean, n_resamples=100, rng=0)
    assert len(res.warnings) == 1
    with pytest.warns(DegenerateDataWarning, match=r"`scores\['b'\]` has only 3 runs"):
        aggregate_ci({"a": _scores(1), "b": _scores(2, runs=3)}, mean, n_resamples=50, rng=0)
    with pytest.warns(DegenerateDataWarning, match="`y` has only 4 runs"):
        probability_of_improvement_ci(_scores(1), _scores(2, runs=4), n_resamples=50, rng=0)


# --------------------------------------------------------------------------------------------
# input errors


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: iqm([1.0, 2.0, 3.0]), r"`scores` must be a \(runs × tasks\) array"),
        (lambda: iqm([[1.0, np.nan], [2.0, 3.0]]), r"`scores` has 1 NaN/inf values \(at \(0, 1\)"),
        (lambda: mean(np.empty((3, 0))), "at least 1 task"),
        (lambda: median("abc"), "numeric"),
        (lambda: optimality_gap(X, gamma=np.inf), "`gamma` must be a finite number"),
        (lambda: probability_of_improvement(X, Y[:, :3]), "same number of tasks"),
        (lambda: aggregate_ci(X[:1], iqm), "at least 2 runs"),
        (lambda: aggregate_ci(X, "trimmed"), "`aggregate` must be a callable or one of 'iqm'"),
        (lambda: aggregate_ci(X, 3), "`aggregate` must be callable"),
        (lambda: aggregate_ci(X, iqm, method="bca"), "'percentile' or 'basic'; got 'bca' "),
        (lambda: aggregate_ci(X, iqm, method="student"), "'percentile' or 'basic'"),
        (lambda: aggregate_ci(X, iqm, confidence_level=1.0), r"in \(0, 1\); got 1.0"),
        (lambda: aggregate_ci(X, iqm, confidence_level=-0.1), r"in \(0, 1\)"),
        (lambda: aggregate_ci(X, iqm, n_resamples=0), "`n_resamples` must be an integer >= 1"),
        (lambda: aggregate_ci(X, iqm, rng=1.5), "`rng` must be None, an int seed"),
        (lambda: aggregate_ci({}, iqm), "at least one algorithm"),
        (lambda: aggregate_ci({"a": [[np.inf, 1.0]] * 3}, iqm), r"`scores\['a'\]` has 3 NaN"),
        (lambda: aggregate_ci(X, lambda a: a.mean()), "one value per resample"),
        (lambda: aggregate_ci(X, lambda a: a), "must return one number"),
        (lambda: aggregate_ci(np.stack([X, X]), iqm), r"exactly 2-D|\(runs × tasks\)"),
        (lambda: probability_of_improvement_ci(X, Y[:1]), "`y` must have at least 2 runs"),
        (lambda: probability_of_improvement_ci(X, Y, method="bca"), "'percentile' or 'basic'"),
        (lambda: probability_of_improvement_ci(X[None], Y), "2-D"),
    ],
)
def test_input_errors(call, match):
    with pytest.raises(ParityInputError, match=match):
        call()


def test_iqm_values_do_not_depend_on_the_threads(monkeypatch):
    s = _scores(15, runs=40, tasks=20)  # 163 resamples per block: 13 blocks
    threaded = aggregate_ci(s, iqm, n_resamples=2000, rng=4)
    monkeypatch.setattr(aggregates, "_MAX_WORKERS", 1)
    serial = aggregate_ci(s, iqm, n_resamples=2000, rng=4)
    assert threaded == serial
    np.testing.assert_array_equal(threaded.bootstrap_distribution, serial.bootstrap_distribution)
    expected = _by_hand_distribution(s, iqm, 2000, 4)
    np.testing.assert_allclose(serial.bootstrap_distribution, expected, rtol=1e-13)
