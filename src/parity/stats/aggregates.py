"""Aggregate performance over runs × tasks (rliable's metrics) with stratified bootstrap intervals.

Pure numerics: score arrays in, numbers or frozen results out, no I/O.

Scores of one algorithm are an array of shape ``(runs, tasks)`` — ``scores[n, m]`` is the score
of run ``n`` on task ``m``, as in rliable (Agarwal et al., "Deep Reinforcement Learning at the
Edge of the Statistical Precipice", NeurIPS 2021) — or a ``dict`` of such arrays, one per
algorithm. The point estimates are rliable's definitions (``rliable/metrics.py``, v1.2.0):

* :func:`mean` — mean over tasks of the per-task mean scores;
* :func:`median` — median over tasks of the per-task mean scores;
* :func:`iqm` — interquartile mean of all runs × tasks, ``scipy.stats.trim_mean(scores,
  0.25, axis=None)``: the ``⌊N/4⌋`` smallest and largest of the ``N`` scores are dropped;
* :func:`optimality_gap` — ``gamma − mean(min(scores, gamma))`` over all runs × tasks;
* :func:`probability_of_improvement` — per task ``P(X > Y) + ½·P(X = Y)`` over all pairs of
  a run of ``X`` and a run of ``Y`` (the Mann–Whitney ``U`` of ``X`` divided by
  ``n_X·n_Y``), averaged over tasks.

Each is vectorized over leading batch axes: an input of shape ``(..., runs, tasks)`` gives an
output of shape ``(...)``.

The intervals (:func:`aggregate_ci`, :func:`probability_of_improvement_ci`) use rliable's
*stratified* bootstrap (``StratifiedBootstrap``, ``StratifiedIndependentBootstrap``): the runs
are resampled with replacement within each task, the tasks kept. Unlike rliable (whose
``random_state`` is ignored: it draws from numpy's global generator), the draws come from
``rng`` and are reproducible. Resamples are index matrices: resample ``k`` takes, on task
``t``, the runs ``idx[k, t, :]``. :func:`aggregate_ci` draws them in blocks of ``c =
max(1, 2**17 // (runs·tasks))`` resamples (the last block shorter), each block
``rng.integers(0, runs, (c, tasks, runs), dtype=np.uint16)`` (``np.uint32`` beyond 65,536 runs);
:func:`probability_of_improvement_ci` draws ``rng.integers(0, runs, (B, tasks, runs))`` for X,
then for Y, in batches that do not change the values. The IQM and the probability of
improvement have dedicated kernels (selecting integer ranks; counting multiplicities); any
other aggregate is evaluated on the gathered ``(c, runs, tasks)`` blocks.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from parity.errors import (
    DegenerateDataWarning,
    ParityInputError,
    check_positive_int,
    check_probability,
)
from parity.stats._common import RngLike, as_generator
from parity.stats.bootstrap import BootstrapResult, _draw_streams

__all__ = [
    "aggregate_ci",
    "iqm",
    "mean",
    "median",
    "optimality_gap",
    "probability_of_improvement",
    "probability_of_improvement_ci",
]

#: Upper bound on the memory of one batch of resamples of the probability of improvement.
_BATCH_BYTES = 64 * 2**20
#: Index entries per draw block of :func:`aggregate_ci`: a block holds
#: ``max(1, _DRAW_ENTRIES // (runs·tasks))`` resamples. Part of the draw (:func:`_index_blocks`).
_DRAW_ENTRIES = 2**17
#: Threads computing the IQMs of drawn blocks (the draws stay on the calling thread).
_MAX_WORKERS = 4
#: Below this many runs per task, the interval is flagged as unreliable.
_MIN_RELIABLE_RUNS = 5
_CI_METHODS = {"percentile": "percentile", "basic": "basic"}

ScoresLike = Any
Aggregate = Callable[..., Any] | str


# --------------------------------------------------------------------------------------------
# point estimates


def mean(scores: ScoresLike) -> Any:
    """Mean over tasks of the per-task mean scores (rliable's ``aggregate_mean``).

    Parameters
    ----------
    scores : array_like, shape (..., runs, tasks), or dict of such arrays
        Finite scores; leading axes are batch axes.

    Returns
    -------
    float, numpy.ndarray of shape (...), or dict
        A float for a 2-D array; a dict of results for a dict.

    Examples
    --------
    >>> mean([[1.0, 10.0], [3.0, 20.0]])  # task means 2 and 15
    8.5
    """
    return _apply(scores, _mean)


def median(scores: ScoresLike) -> Any:
    """Median over tasks of the per-task mean scores (rliable's ``aggregate_median``).

    Parameters
    ----------
    scores : array_like, shape (..., runs, tasks), or dict of such arrays
        Finite scores; leading axes are batch axes.

    Returns
    -------
    float, numpy.ndarray of shape (...), or dict

    Examples
    --------
    >>> median([[1.0, 10.0, 0.0], [3.0, 20.0, 1.0]])  # task means 2, 15, 0.5
    2.0
    """
    return _apply(scores, _median)


def iqm(scores: ScoresLike) -> Any:
    """Interquartile mean over all runs × tasks (rliable's ``aggregate_iqm``).

    ``scipy.stats.trim_mean(scores, 0.25, axis=None)``: of the ``N = runs·tasks`` scores the
    ``⌊N/4⌋`` smallest and the ``⌊N/4⌋`` largest are dropped and the rest averaged.

    Parameters
    ----------
    scores : array_like, shape (..., runs, tasks), or dict of such arrays
        Finite scores; leading axes are batch axes.

    Returns
    -------
    float, numpy.ndarray of shape (...), or dict

    Examples
    --------
    >>> iqm([[0.0, 1.0], [2.0, 3.0], [4.0, 100.0], [5.0, 6.0]])  # drops 0, 1 and 6, 100
    3.5
    >>> iqm({"a": [[1.0, 2.0], [3.0, 4.0]], "b": [[0.0, 0.0], [1.0, 9.0]]})
    {'a': 2.5, 'b': 0.5}
    """
    return _apply(scores, _iqm)


def optimality_gap(scores: ScoresLike, gamma: float = 1.0) -> Any:
    """Optimality gap ``gamma − mean(min(scores, gamma))`` over all runs × tasks (rliable's).

    Parameters
    ----------
    scores : array_like, shape (..., runs, tasks), or dict of such arrays
        Finite scores; leading axes are batch axes.
    gamma : float, default 1.0
        Threshold: scores above it count as ``gamma``.

    Returns
    -------
    float, numpy.ndarray of shape (...), or dict

    Examples
    --------
    >>> optimality_gap([[0.5, 2.0], [1.0, 0.0]])  # 1 − mean(0.5, 1, 1, 0)
    0.375
    """
    g = _check_gamma(gamma)
    return _apply(scores, lambda x: _optimality_gap(x, g))


def probability_of_improvement(x: Any, y: Any) -> Any:
    """Probability that algorithm X improves on Y, averaged over tasks (rliable's definition).

    Per task ``m``: ``P(X_m > Y_m) + ½·P(X_m = Y_m)`` over all ``n_X·n_Y`` pairs of a run of X
    and a run of Y, i.e. ``scipy.stats.mannwhitneyu(x[:, m], y[:, m]).statistic / (n_X·n_Y)``
    (mid-ranks for ties); the result is the mean over tasks. rliable sets a task to exactly
    ``0.5`` when the two columns are equal arrays, which is what this formula gives there too.

    Parameters
    ----------
    x, y : array_like, shape (..., runs_x, tasks) and (..., runs_y, tasks)
        Finite scores of X and Y on the same tasks; the leading (batch) axes broadcast.

    Returns
    -------
    float or numpy.ndarray of shape (...)

    Examples
    --------
    Task 0: X runs 3, 4 against Y runs 1, 3 give 1 + ½ + 1 + 1 = 3.5 of 4 pairs; task 1:
    X runs 1, 1 against Y runs 1, 2 give ½ + 0 + ½ + 0 = 1 of 4:

    >>> probability_of_improvement([[3.0, 1.0], [4.0, 1.0]], [[1.0, 1.0], [3.0, 2.0]])
    0.5625
    """
    xa = _as_scores("x", x)
    ya = _as_scores("y", y)
    _check_same_tasks(xa, ya)
    return _unwrap(_poi(xa, ya))


def _mean(x: np.ndarray) -> np.ndarray:
    return np.mean(np.mean(x, axis=-2), axis=-1)


def _median(x: np.ndarray) -> np.ndarray:
    return np.median(np.mean(x, axis=-2), axis=-1)


def _iqm(x: np.ndarray) -> np.ndarray:
    from scipy.stats import trim_mean

    return trim_mean(x.reshape(*x.shape[:-2], -1), 0.25, axis=-1)


def _optimality_gap(x: np.ndarray, gamma: float) -> np.ndarray:
    return gamma - np.mean(np.minimum(x, gamma).reshape(*x.shape[:-2], -1), axis=-1)


def _poi(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean over tasks of ``U/(n_x·n_y)``, ``U`` from mid-ranks of the pooled runs per task."""
    from scipy.stats import rankdata

    nx, ny = x.shape[-2], y.shape[-2]
    batch = np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    pooled = np.concatenate(
        [np.broadcast_to(x, (*batch, *x.shape[-2:])), np.broadcast_to(y, (*batch, *y.shape[-2:]))],
        axis=-2,
    )
    ranks = rankdata(pooled, axis=-2)
    u = np.sum(ranks[..., :nx, :], axis=-2) - nx * (nx + 1) / 2.0
    return np.mean(u / (nx * ny), axis=-1)


_NAMED: dict[str, Callable[..., Any]] = {
    "iqm": iqm,
    "median": median,
    "mean": mean,
    "optimality_gap": optimality_gap,
}
_KERNELS: dict[Any, Callable[[np.ndarray], np.ndarray]] = {
    iqm: _iqm,
    median: _median,
    mean: _mean,
    optimality_gap: lambda x: _optimality_gap(x, 1.0),
}


# --------------------------------------------------------------------------------------------
# intervals


def aggregate_ci(
    scores: ScoresLike,
    aggregate: Aggregate,
    *,
    n_resamples: int = 9999,
    confidence_level: float = 0.95,
    method: str = "percentile",
    rng: RngLike = None,
) -> BootstrapResult | dict[str, BootstrapResult]:
    """Stratified bootstrap interval of an aggregate of runs × tasks scores (rliable's).

    The runs are resampled with replacement within each task (rliable's
    ``StratifiedBootstrap``, ``task_bootstrap=False``): resample ``k`` takes, on task ``t``,
    the runs ``idx[k, t, :]``. The indices are drawn in blocks of ``c = max(1, 2**17 //
    (runs·tasks))`` resamples (the last block shorter): ``idx = rng.integers(0, runs, (c,
    tasks, runs), dtype=np.uint16)`` per block (``np.uint32`` beyond 65,536 runs), whatever
    the aggregate. The IQM is then computed without sorting: the cells are ranked once by
    score, and each resample's middle half is selected among its drawn ranks. The percentile
    interval is the ``α, 1 − α`` quantiles (linear interpolation, ``α = (1 −
    confidence_level)/2``) of the bootstrap distribution, as in rliable (via ``arch``); the
    basic interval is ``(2θ̂ − q_{1−α}, 2θ̂ − q_α)``.

    Parameters
    ----------
    scores : array_like, shape (runs, tasks), or dict of such arrays
        Finite scores, at least 2 runs. A dict gives a dict of results, in its order, all
        drawn from one generator in turn (as rliable's ``get_interval_estimates``).
    aggregate : callable or {"iqm", "median", "mean", "optimality_gap"}
        ``aggregate(x)`` with ``x`` of shape ``(b, runs, tasks)`` returning shape ``(b,)``
        — :func:`iqm`, :func:`median`, :func:`mean`, :func:`optimality_gap` (``gamma=1``; use
        ``functools.partial`` or a lambda for another) or any such vectorized function.
    n_resamples : int, default 9999
        Number of bootstrap resamples, ≥ 1.
    confidence_level : float, default 0.95
        Two-sided coverage, in (0, 1).
    method : {"percentile", "basic"}, default "percentile"
        Interval construction (case-insensitive). BCa is not offered: its jackknife would
        leave single runs out of single tasks, which the rectangular runs × tasks
        aggregates cannot take.
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same result.

    Returns
    -------
    BootstrapResult or dict of BootstrapResult
        ``method`` is ``"stratified bootstrap percentile"`` (or ``basic``).

    Raises
    ------
    ParityInputError
        For scores that are not numeric (..., runs, tasks) arrays of finite values with at
        least 2 runs and 1 task, an empty dict, an ``aggregate`` that is not callable, not a
        known name or does not return one value per resample, ``confidence_level`` outside
        (0, 1), ``n_resamples`` < 1, an unknown ``method`` or a bad ``rng``.

    Warns
    -----
    DegenerateDataWarning
        For fewer than 5 runs, or a bootstrap distribution that is constant (e.g. every task
        has equal scores in all runs) or has NaN values. Each is recorded in
        ``result.warnings``.

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> scores = g.normal(1.0, 0.3, size=(10, 5))  # 10 runs × 5 tasks
    >>> res = aggregate_ci(scores, iqm, n_resamples=2000, rng=0)
    >>> res.method, res.n_resamples
    ('stratified bootstrap percentile', 2000)
    >>> res.statistic == iqm(scores)
    True
    >>> bool(res.confidence_interval[0] < res.statistic < res.confidence_interval[1])
    True
    >>> out = aggregate_ci({"a": scores, "b": scores + 1}, "mean", n_resamples=500, rng=0)
    >>> sorted(out)
    ['a', 'b']
    """
    kind = _check_ci_method(method)
    level = check_probability("confidence_level", confidence_level)
    b = check_positive_int("n_resamples", n_resamples)
    fn, kernel = _check_aggregate(aggregate)
    gen = as_generator(rng)
    if isinstance(scores, Mapping):
        if not scores:
            raise ParityInputError("`scores` must hold at least one algorithm; got an empty dict")
        arrays = {str(k): _as_scores(f"scores[{k!r}]", v, min_runs=2) for k, v in scores.items()}
        out = {}
        for name, arr in arrays.items():
            out[name] = _aggregate_ci(arr, fn, kernel, b, level, kind, gen, f"scores[{name!r}]")
            for note in out[name].warnings:
                warnings.warn(note, DegenerateDataWarning, stacklevel=2)
        return out
    arr = _as_scores("scores", scores, min_runs=2)
    result = _aggregate_ci(arr, fn, kernel, b, level, kind, gen)
    for note in result.warnings:
        warnings.warn(note, DegenerateDataWarning, stacklevel=2)
    return result


def probability_of_improvement_ci(
    x: Any,
    y: Any,
    *,
    n_resamples: int = 9999,
    confidence_level: float = 0.95,
    method: str = "percentile",
    rng: RngLike = None,
) -> BootstrapResult:
    """Stratified bootstrap interval of the probability of improvement of X over Y.

    The runs of X and of Y are resampled independently, each within each task (rliable's
    ``StratifiedIndependentBootstrap``): ``rng.integers(0, runs_x, (n_resamples, tasks,
    runs_x))`` for X, then ``rng.integers(0, runs_y, (n_resamples, tasks, runs_y))`` for Y
    (the values do not depend on the batch size). A resample's probability is computed from
    the multiplicities of the drawn runs, without comparing all pairs: twice its ``U`` on a
    task is ``Σ_i c_i·(#drawn Y below x_i + #drawn Y at or below x_i)``, in exact integers.

    Parameters
    ----------
    x, y : array_like, shape (runs_x, tasks) and (runs_y, tasks)
        Finite scores of X and Y on the same tasks, at least 2 runs each.
    n_resamples : int, default 9999
        Number of bootstrap resamples, ≥ 1.
    confidence_level : float, default 0.95
        Two-sided coverage, in (0, 1).
    method : {"percentile", "basic"}, default "percentile"
        Interval construction (case-insensitive).
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same result.

    Returns
    -------
    BootstrapResult

    Raises
    ------
    ParityInputError
        For arrays that are not 2-D, have non-finite values, fewer than 2 runs or different
        numbers of tasks, ``confidence_level`` outside (0, 1), ``n_resamples`` < 1, an unknown
        ``method`` or a bad ``rng``.

    Warns
    -----
    DegenerateDataWarning
        For fewer than 5 runs, or a constant bootstrap distribution. Each is recorded in
        ``result.warnings``.

    Examples
    --------
    >>> g = np.random.default_rng(1)
    >>> x, y = g.normal(0.5, 1.0, (10, 4)), g.normal(0.0, 1.0, (12, 4))
    >>> res = probability_of_improvement_ci(x, y, n_resamples=2000, rng=0)
    >>> res.statistic == probability_of_improvement(x, y)
    True
    >>> bool(0.0 <= res.confidence_interval[0] <= res.statistic <= res.confidence_interval[1])
    True
    """
    kind = _check_ci_method(method)
    level = check_probability("confidence_level", confidence_level)
    b = check_positive_int("n_resamples", n_resamples)
    xa = _as_scores("x", x, min_runs=2, exact_ndim=True)
    ya = _as_scores("y", y, min_runs=2, exact_ndim=True)
    _check_same_tasks(xa, ya)
    gen = as_generator(rng)
    notes = _run_notes({"x": xa, "y": ya})
    theta_hat = float(_poi(xa, ya))
    theta_b = _poi_distribution(xa, ya, b, gen)
    result = _finish(theta_hat, theta_b, level, kind, notes)
    for note in result.warnings:
        warnings.warn(note, DegenerateDataWarning, stacklevel=2)
    return result


# --------------------------------------------------------------------------------------------
# engine


def _aggregate_ci(
    scores: np.ndarray,
    fn: Callable[[np.ndarray], Any],
    kernel: str,
    n_resamples: int,
    level: float,
    kind: str,
    gen: np.random.Generator,
    label: str = "scores",
) -> BootstrapResult:
    notes = _run_notes({label: scores})
    theta_hat = _scalar(fn(scores))
    if kernel == "iqm":
        theta_b = _iqm_distribution(scores, n_resamples, gen)
    else:
        theta_b = _generic_distribution(scores, fn, n_resamples, gen)
    return _finish(theta_hat, theta_b, level, kind, notes)


def _finish(
    theta_hat: float, theta_b: np.ndarray, level: float, kind: str, notes: list[str]
) -> BootstrapResult:
    """Percentile or basic interval from a bootstrap distribution."""
    b = theta_b.size
    alpha = (1.0 - level) / 2.0
    n_nan = int(np.count_nonzero(np.isnan(theta_b)))
    if n_nan:
        notes.append(f"{n_nan} of {b} bootstrap statistics are NaN; the interval is undefined")
        low = high = math.nan
    else:
        if np.all(theta_b == theta_b[0]):
            notes.append(
                f"all {b} bootstrap statistics equal {theta_b[0]:.6g}; the interval has zero width"
            )
        low, high = (float(v) for v in np.quantile(theta_b, (alpha, 1.0 - alpha)))
    if kind == "basic":
        low, high = 2 * theta_hat - high, 2 * theta_hat - low
    theta_b.setflags(write=False)
    return BootstrapResult(
        statistic=theta_hat,
        confidence_interval=(low, high),
        confidence_level=level,
        n_resamples=b,
        method=f"stratified bootstrap {kind}",
        standard_error=float(np.std(theta_b, ddof=1)) if b > 1 else math.nan,
        alternative="two-sided",
        warnings=tuple(notes),
        bootstrap_distribution=theta_b,
    )


def _cells(scores: np.ndarray) -> np.ndarray:
    """Scores laid out task by task: entry ``t·runs + r`` is run ``r`` of task ``t``."""
    return np.ascontiguousarray(scores.T).reshape(-1)


def _index_blocks(
    gen: np.random.Generator, runs: int, tasks: int, n_resamples: int
) -> Iterator[np.ndarray]:
    """The draws of :func:`aggregate_ci`: blocks of ``(c, tasks, runs)`` run indices.

    A block holds ``c = max(1, _DRAW_ENTRIES // (runs·tasks))`` resamples (the last block the
    rest) and is ``gen.integers(0, runs, (c, tasks, runs), dtype=np.uint16)`` (``np.uint32``
    beyond 65,536 runs). numpy draws 16-bit integers from 32-bit words and drops a half word
    left over at the end of a call, so the block size is part of the draw; it depends only on
    the shape of the scores.
    """
    rows = max(1, _DRAW_ENTRIES // (runs * tasks))
    dtype = np.uint16 if runs <= 2**16 else np.uint32
    for start in range(0, n_resamples, rows):
        yield gen.integers(0, runs, (min(rows, n_resamples - start), tasks, runs), dtype=dtype)


def _cell_index(idx: np.ndarray, runs: int) -> np.ndarray:
    """``(c, tasks·runs)`` cell numbers ``t·runs + idx[k, t, r]`` of a block of run indices.

    In place, in the indices' own integer type, when every cell number fits in it.
    """
    c, tasks, _ = idx.shape
    n = runs * tasks
    if n <= np.iinfo(idx.dtype).max + 1:
        idx += (np.arange(tasks, dtype=idx.dtype) * idx.dtype.type(runs))[:, None]
        return idx.reshape(c, n)
    return (idx + (np.arange(tasks, dtype=np.intp) * runs)[:, None]).reshape(c, n)


@dataclasses.dataclass(frozen=True)
class _IqmTable:
    """What the IQM of any resample needs, computed once from the scores.

    ``rank[cell]`` is the cell's position in one global order of the scores (ties broken by
    cell number); ``ordered[j]`` is the score at position ``j``; ``cut = ⌊N/4⌋``.
    """

    rank: np.ndarray
    ordered: np.ndarray
    runs: int
    cut: int


def _iqm_table(scores: np.ndarray) -> _IqmTable:
    """The global order of the cells of ``scores`` (runs × tasks), ranks as small integers."""
    runs, tasks = scores.shape
    n = runs * tasks
    cells = _cells(scores)
    order = np.argsort(cells, kind="stable")
    dtype = np.uint16 if n <= 2**16 else np.uint32 if n <= 2**32 else np.intp
    rank = np.empty(n, dtype=dtype)
    rank[order] = np.arange(n, dtype=dtype)
    return _IqmTable(rank=rank, ordered=cells[order], runs=runs, cut=int(0.25 * n))


def _iqm_block(table: _IqmTable, idx: np.ndarray) -> np.ndarray:
    """IQMs of a block of resamples ``idx`` (``(c, tasks, runs)`` run indices; consumed).

    A resample's scores, sorted, are the ordered scores at its sorted ranks, so its trimmed
    mean is the mean of ``ordered`` at the ranks in sorted positions ``[cut, N − cut)``. The
    ranks are small integers, which numpy sorts by radix (``kind="stable"``, linear time:
    faster than two ``np.partition`` selections of the middle half), and the middle half is
    then averaged in ascending order. The same numbers as ``scipy.stats.trim_mean(values,
    0.25)`` of the resample, averaged in another order (equal to rounding).
    """
    cells = _cell_index(idx, table.runs)
    n, cut = cells.shape[1], table.cut
    ranks = np.take(table.rank, cells)
    ranks.sort(axis=1, kind="stable")
    return np.take(table.ordered, ranks[:, cut : n - cut]).mean(axis=1)


def _iqm_distribution(scores: np.ndarray, n_resamples: int, gen: np.random.Generator) -> np.ndarray:
    """IQMs of the resamples of :func:`aggregate_ci` (its documented draws).

    The blocks are drawn in order on this thread and their IQMs computed on up to
    :data:`_MAX_WORKERS` others (numpy releases the GIL in both), each block into its own rows:
    the values do not depend on the number of threads.
    """
    runs, tasks = scores.shape
    table = _iqm_table(scores)
    out = np.empty(n_resamples)

    def work(start: int, idx: np.ndarray) -> None:
        out[start : start + idx.shape[0]] = _iqm_block(table, idx)

    blocks = _index_blocks(gen, runs, tasks, n_resamples)
    workers = min(os.cpu_count() or 1, _MAX_WORKERS)
    start = 0
    if workers < 2 or n_resamples <= max(1, _DRAW_ENTRIES // (runs * tasks)):
        for idx in blocks:
            work(start, idx)
            start += idx.shape[0]
        return out
    with ThreadPoolExecutor(workers) as pool:
        pending: collections.deque = collections.deque()
        for idx in blocks:
            pending.append(pool.submit(work, start, idx))
            start += idx.shape[0]
            if len(pending) > 2 * workers:  # bounded memory: a few blocks in flight
                pending.popleft().result()
        for job in pending:
            job.result()
    return out


def _generic_distribution(
    scores: np.ndarray, fn: Callable[[np.ndarray], Any], n_resamples: int, gen: np.random.Generator
) -> np.ndarray:
    """The aggregate on the gathered ``(c, runs, tasks)`` blocks of resampled scores."""
    runs, tasks = scores.shape
    cells = _cells(scores)
    out = np.empty(n_resamples)
    start = 0
    for idx in _index_blocks(gen, runs, tasks, n_resamples):
        c = idx.shape[0]
        values = np.swapaxes(np.take(cells, _cell_index(idx, runs)).reshape(c, tasks, runs), 1, 2)
        got = np.asarray(fn(values), dtype=np.float64)
        if got.shape != (c,):
            raise ParityInputError(
                f"`aggregate` must return one value per resample: shape ({c},) for scores of "
                f"shape ({c}, {runs}, {tasks}); got shape {got.shape}"
            )
        out[start : start + c] = got
        start += c
    return out


def _poi_distribution(
    x: np.ndarray, y: np.ndarray, n_resamples: int, gen: np.random.Generator
) -> np.ndarray:
    """Probabilities of improvement of the resamples from run multiplicities (exact integers).

    For a batch of ``b`` resamples, ``cx[k, t, i]`` counts run ``i`` of X drawn on task ``t``
    and ``cy[k, t, 1 + j]`` the ``j``-th smallest run of Y; after a cumulative sum
    ``cy[k, t, m]`` is the number of drawn Y runs among the ``m`` smallest. With ``lt``/``le``
    the number of Y runs below / at or below each run of X, twice the resample's ``U`` on task
    ``t`` is ``Σ_i cx·(cy[lt] + cy[le])``.
    """
    nx, tasks = x.shape
    ny = y.shape[0]
    y_sorted = np.sort(y, axis=0)
    y_order = np.argsort(y, axis=0, kind="stable")
    y_pos = np.empty((tasks, ny), dtype=np.int64)  # sorted position of run j of Y on task t
    y_pos[np.arange(tasks)[:, None], y_order.T] = np.arange(ny)
    y_pos_flat = y_pos.reshape(-1)
    lt = np.empty((tasks, nx), dtype=np.intp)
    le = np.empty((tasks, nx), dtype=np.intp)
    for t in range(tasks):
        lt[t] = np.searchsorted(y_sorted[:, t], x[:, t], side="left")
        le[t] = np.searchsorted(y_sorted[:, t], x[:, t], side="right")
    width = tasks * (nx + ny + 1)
    chunk = max(1, _BATCH_BYTES // (32 * width))
    streams = [(nx, (tasks, nx)), (ny, (tasks, ny))]
    task_ids = np.arange(tasks, dtype=np.int64)[:, None]
    out = np.empty(n_resamples)
    start = 0
    for ix, iy in _draw_streams(gen, streams, n_resamples, chunk):
        c = ix.shape[0]
        cell = (np.arange(c, dtype=np.int64)[:, None, None] * tasks) + task_ids  # (c, T, 1)
        cx = np.bincount((ix + cell * nx).reshape(-1), minlength=c * tasks * nx)
        cx = cx.reshape(c, tasks, nx)
        ypos = np.take(y_pos_flat, iy + task_ids * ny)
        cy = np.bincount((ypos + cell * (ny + 1) + 1).reshape(-1), minlength=c * tasks * (ny + 1))
        cy = cy.reshape(c, tasks, ny + 1)
        np.cumsum(cy, axis=2, out=cy)
        below = np.take_along_axis(cy, lt[None], axis=2) + np.take_along_axis(cy, le[None], axis=2)
        twice_u = np.einsum("ktr,ktr->kt", cx, below)
        out[start : start + c] = np.mean(twice_u / (2.0 * nx * ny), axis=1)
        start += c
    return out


# --------------------------------------------------------------------------------------------
# validation and helpers


def _as_scores(name: str, a: Any, *, min_runs: int = 1, exact_ndim: bool = False) -> np.ndarray:
    """``a`` as a finite float64 array of shape (..., runs, tasks) (exactly 2-D if asked)."""
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParityInputError(
            f"`{name}` must be a numeric (runs × tasks) array; got {type(a).__name__}"
        ) from None
    if arr.ndim < 2 or (exact_ndim and arr.ndim != 2):
        want = "2-D" if exact_ndim else "at least 2-D"
        raise ParityInputError(
            f"`{name}` must be a (runs × tasks) array, {want}; got shape {arr.shape}"
        )
    if arr.shape[-1] < 1:
        raise ParityInputError(
            f"`{name}` must have at least 1 task (column); got shape {arr.shape}"
        )
    if arr.shape[-2] < min_runs:
        raise ParityInputError(
            f"`{name}` must have at least {min_runs} runs (rows) per task"
            + (" to resample" if min_runs > 1 else "")
            + f"; got {arr.shape[-2]}"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        where = np.argwhere(bad)[:3]
        shown = ", ".join(str(tuple(int(i) for i in w)) for w in where)
        raise ParityInputError(
            f"`{name}` has {int(bad.sum())} NaN/inf values (at {shown}"
            + (", …" if bad.sum() > 3 else "")
            + "); scores must be finite"
        )
    return arr


def _check_same_tasks(x: np.ndarray, y: np.ndarray) -> None:
    if x.shape[-1] != y.shape[-1]:
        raise ParityInputError(
            f"`x` and `y` must have the same number of tasks (columns); "
            f"got {x.shape[-1]} and {y.shape[-1]}"
        )


def _check_gamma(gamma: Any) -> float:
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise ParityInputError(f"`gamma` must be a finite number; got {gamma!r}") from None
    if not math.isfinite(g):
        raise ParityInputError(f"`gamma` must be a finite number; got {gamma!r}")
    return g


def _check_ci_method(method: Any) -> str:
    key = method.lower() if isinstance(method, str) else None
    if key not in _CI_METHODS:
        extra = (
            " (BCa needs a jackknife that leaves single runs out of single tasks, which the "
            "rectangular runs × tasks aggregates cannot take)"
            if key == "bca"
            else ""
        )
        raise ParityInputError(f"`method` must be 'percentile' or 'basic'; got {method!r}{extra}")
    return _CI_METHODS[key]


def _check_aggregate(aggregate: Any) -> tuple[Callable[[np.ndarray], Any], str]:
    """The function to evaluate and the kernel to use (``"iqm"`` or ``"generic"``)."""
    if isinstance(aggregate, str):
        key = aggregate.lower()
        if key not in _NAMED:
            shown = ", ".join(repr(k) for k in _NAMED)
            raise ParityInputError(
                f"`aggregate` must be a callable or one of {shown}; got {aggregate!r}"
            )
        aggregate = _NAMED[key]
    if not callable(aggregate):
        raise ParityInputError(
            f"`aggregate` must be callable as aggregate(scores) or a name; "
            f"got {type(aggregate).__name__}"
        )
    kernel = _KERNELS.get(aggregate)
    if kernel is None:
        return aggregate, "generic"
    return kernel, "iqm" if aggregate is iqm else "generic"


def _run_notes(arrays: dict[str, np.ndarray]) -> list[str]:
    notes = []
    for name, arr in arrays.items():
        runs = arr.shape[-2]
        if runs < _MIN_RELIABLE_RUNS:
            notes.append(
                f"`{name}` has only {runs} runs per task (< {_MIN_RELIABLE_RUNS}); "
                "the bootstrap interval is unreliable"
            )
    return notes


def _scalar(value: Any) -> float:
    arr = np.asarray(value, dtype=np.float64)
    if arr.size != 1:
        raise ParityInputError(
            f"`aggregate` must return one number for a (runs × tasks) array; got shape {arr.shape}"
        )
    return float(arr.reshape(-1)[0])


def _unwrap(value: Any) -> Any:
    arr = np.asarray(value)
    return float(arr) if arr.ndim == 0 else arr


def _apply(scores: ScoresLike, fn: Callable[[np.ndarray], Any]) -> Any:
    if isinstance(scores, Mapping):
        return {k: _unwrap(fn(_as_scores(f"scores[{k!r}]", v))) for k, v in scores.items()}
    return _unwrap(fn(_as_scores("scores", scores)))
