"""State dynamics of one trajectory or a few: recurrence, loops, stalls, drift, divergence.

A trajectory is a ``(T × d)`` array of states, one row per step (e.g. the embeddings of an
agent's steps). States are compared by their direction: every function first scales each row
to unit length, ``u_t = x_t / ‖x_t‖`` (a zero row stays zero), and the similarity of two steps
is the cosine ``S_ij = u_i · u_j`` (two zero rows have similarity 1, a zero and a non-zero row
0). Distances are Euclidean between unit rows, ``‖u_i − u_j‖ ∈ [0, 2]``. Pure numpy, no I/O.

Definitions, with a cosine threshold ``θ`` (default 0.9) and minimum line length ``l_min = 2``:

* **Recurrence matrix** ``R_ij = [S_ij ≥ θ]`` for ``i ≠ j``; the main diagonal is excluded
  (``R_ii = 0``). **Recurrence rate** ``RR = Σ R / (T(T − 1))``.
* **Laminarity** (stalls) ``LAM`` = share of the recurrent points of ``R`` that lie on a
  vertical line (consecutive ``i`` in one column ``j``) of length ``≥ l_min``.
* **Determinism** (cycles) ``DET`` = share of recurrent points lying on a diagonal line
  (``R_{i+s, j+s} = 1`` for ``s = 0 … l − 1``) of length ``≥ l_min``, computed on the
  trajectory with its stalls merged: consecutive steps with ``S_{t−1,t} ≥ θ`` form one segment,
  represented by its first step. A stall is one state there, so it raises ``LAM`` but not
  ``DET``; a return to earlier behaviour (a cycle) raises ``DET``. Both are 0 when there is no
  recurrent point; all three are NaN for ``T < 2``.
* **Loop**: the smallest period ``p ≥ 1`` for which the steps from some ``t0`` to the end
  repeat, ``S_{t, t+p} ≥ θ`` for every ``t0 ≤ t < T − p``, over a span ``T − t0`` of at least
  ``max(3p, 4)`` steps (three periods and four steps); ``t0`` is the earliest such step.
* **Stall**: the longest stretch of consecutive steps each similar to the one before
  (``S_{t−1,t} ≥ θ``), in steps.
* **Drift**: mean step distance ``mean_t ‖u_{t+1} − u_t‖``; late drift, the mean distance
  ``‖u_t − u_0‖`` of the last ``w = ⌈T/4⌉`` steps from the first step; straightness, net
  displacement over path length ``‖u_{T−1} − u_0‖ / Σ_t ‖u_{t+1} − u_t‖`` in [0, 1].
* **Divergence rate** of two trajectories: steps are aligned by index and cut to the shorter
  one; ``λ̂`` is the least-squares slope of ``log max(‖u^a_t − u^b_t‖, ε)`` against ``t``
  (``ε = 10⁻³``), defined from 3 aligned steps. Identical trajectories give exactly 0.
* **Constraint index** ``C`` of a set of trajectories: the mean over pairs of the aligned
  similarity ``Σ_{t < min(T_a, T_b)} max(0, S^{ab}_tt) / max(T_a, T_b)`` (steps past the shorter
  trajectory count 0), in [0, 1]; 1 when every trajectory is the same.

Examples
--------
>>> import numpy as np
>>> cycle = np.eye(3)[[0, 1, 2] * 4]                 # A B C A B C … (12 steps)
>>> find_loop(cycle).period, find_loop(cycle).start
(3, 0)
>>> r = rqa(cycle)
>>> round(r.determinism, 3), r.laminarity
(1.0, 0.0)
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from parity.errors import ParityInputError, check_positive_int
from parity.stats._common import ResultMixin

__all__ = [
    "DEFAULT_THRESHOLD",
    "DIVERGENCE_EPSILON",
    "DIVERGENCE_MIN_STEPS",
    "LOOP_MIN_REPEATS",
    "LOOP_MIN_SPAN",
    "L_MIN",
    "DivergenceResult",
    "DriftResult",
    "LoopResult",
    "RQAResult",
    "action_entropy",
    "constraint_index",
    "divergence_rate",
    "drift",
    "find_loop",
    "longest_stall",
    "recurrence_matrix",
    "rqa",
    "similarity_matrix",
    "trajectory_similarity",
    "unit_rows",
]

#: Cosine similarity from which two steps count as the same behaviour.
DEFAULT_THRESHOLD = 0.9
#: Minimum length of a diagonal (determinism) or vertical (laminarity) line.
L_MIN = 2
#: A loop must repeat its cycle at least this many times (the first pass included) …
LOOP_MIN_REPEATS = 3
#: … and span at least this many steps.
LOOP_MIN_SPAN = 4
#: Floor of the aligned distance in the divergence rate (distances of unit vectors are ≤ 2).
DIVERGENCE_EPSILON = 1e-3
#: Fewest aligned steps for which a divergence rate is computed.
DIVERGENCE_MIN_STEPS = 3


# --------------------------------------------------------------------------------------------
# results


@dataclasses.dataclass(frozen=True, slots=True)
class RQAResult(ResultMixin):
    """Recurrence quantification of one trajectory (main diagonal excluded).

    Attributes
    ----------
    recurrence_rate, determinism, laminarity : float
        As defined in the module docstring; NaN for fewer than 2 steps.
    threshold : float
        Cosine threshold ``θ``.
    l_min : int
        Minimum line length.
    n_steps : int
        ``T``.
    n_segments : int
        Steps left once stalls are merged (the trajectory on which determinism is computed).
    """

    recurrence_rate: float
    determinism: float
    laminarity: float
    threshold: float
    l_min: int
    n_steps: int
    n_segments: int


@dataclasses.dataclass(frozen=True, slots=True)
class LoopResult(ResultMixin):
    """The loop at the end of a trajectory, if any.

    Attributes
    ----------
    found : bool
        Whether a loop was found.
    start : int or None
        First step ``t0`` of the repeating stretch (0-based).
    period : int or None
        Smallest period ``p``.
    span : int
        Steps in the repeating stretch, ``T − t0`` (0 when none).
    repeats : float
        ``span / p``, the number of passes through the cycle (0 when none).
    threshold : float
        Cosine threshold used.
    """

    found: bool
    start: int | None
    period: int | None
    span: int
    repeats: float
    threshold: float


@dataclasses.dataclass(frozen=True, slots=True)
class DriftResult(ResultMixin):
    """How far and how straight a trajectory moves (distances between unit rows).

    Attributes
    ----------
    step_distance : float
        Mean ``‖u_{t+1} − u_t‖`` (NaN for ``T < 2``).
    late_drift : float
        Mean ``‖u_t − u_0‖`` over the last ``window`` steps (NaN for ``T < 2``).
    straightness : float
        ``net_displacement / path_length`` in [0, 1] (NaN when the path length is 0).
    path_length, net_displacement : float
        ``Σ_t ‖u_{t+1} − u_t‖`` and ``‖u_{T−1} − u_0‖``.
    window : int
        ``⌈T/4⌉`` (at least 1).
    """

    step_distance: float
    late_drift: float
    straightness: float
    path_length: float
    net_displacement: float
    window: int


@dataclasses.dataclass(frozen=True, slots=True)
class DivergenceResult(ResultMixin):
    """Divergence rate of two step-aligned trajectories.

    Attributes
    ----------
    rate : float
        Least-squares slope ``λ̂`` of the log distance against the step (NaN with fewer than
        ``DIVERGENCE_MIN_STEPS`` aligned steps).
    intercept : float
        Intercept of that line.
    n_aligned : int
        ``min(T_a, T_b)``.
    epsilon : float
        Floor of the distance before the log.
    log_distance : numpy.ndarray
        ``log max(‖u^a_t − u^b_t‖, ε)`` for each aligned step.
    """

    rate: float
    intercept: float
    n_aligned: int
    epsilon: float
    log_distance: np.ndarray


# --------------------------------------------------------------------------------------------
# input and similarity


def _as_trajectory(name: str, states: Any) -> np.ndarray:
    """``states`` as a finite float64 array of shape (T, d), T ≥ 0."""
    try:
        arr = np.asarray(states, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParityInputError(
            f"`{name}` must be a numeric (T × d) array; got {type(states).__name__}"
        ) from None
    if arr.ndim != 2:
        raise ParityInputError(
            f"`{name}` must be 2-D (T steps × d features); got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        rows = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        raise ParityInputError(
            f"`{name}` must be finite; got NaN/inf in {rows.size} rows (first row {rows[0]})"
        )
    return arr


def _check_threshold(threshold: Any) -> float:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = math.nan
    if not -1.0 <= value <= 1.0:
        raise ParityInputError(f"`threshold` must be a cosine in [-1, 1]; got {threshold!r}")
    return value


def unit_rows(states: Any) -> np.ndarray:
    """Each row scaled to unit Euclidean length; zero rows stay zero.

    Examples
    --------
    >>> unit_rows([[3.0, 4.0], [0.0, 0.0]]).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    x = _as_trajectory("states", states)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _cross_similarity(ua: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """Cosines between the unit rows of ``ua`` and ``ub``; zero·zero counts as 1."""
    s = ua @ ub.T
    za = ~ua.any(axis=1)
    zb = ~ub.any(axis=1)
    if za.any() and zb.any():
        s[np.ix_(za, zb)] = 1.0
    return np.clip(s, -1.0, 1.0)


def similarity_matrix(states: Any) -> np.ndarray:
    """The (T × T) cosine similarity matrix ``S`` of a trajectory's steps.

    Examples
    --------
    >>> similarity_matrix([[1.0, 0.0], [0.0, 2.0], [1.0, 0.0]]).tolist()
    [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    """
    u = unit_rows(states)
    return _cross_similarity(u, u)


def recurrence_matrix(states: Any, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Boolean ``R_ij = [S_ij ≥ θ]`` for ``i ≠ j``, with the main diagonal excluded (False).

    Examples
    --------
    >>> recurrence_matrix([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]]).astype(int).tolist()
    [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    """
    theta = _check_threshold(threshold)
    r = similarity_matrix(states) >= theta
    np.fill_diagonal(r, False)
    return r


# --------------------------------------------------------------------------------------------
# recurrence quantification


def _points_on_lines(lines: np.ndarray, l_min: int) -> int:
    """Number of True entries lying in runs of length ``≥ l_min`` along each row of ``lines``."""
    if lines.size == 0:
        return 0
    padded = np.zeros((lines.shape[0], lines.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = lines
    step = np.diff(padded, axis=1)
    lengths = np.flatnonzero(step == -1) - np.flatnonzero(step == 1)
    return int(lengths[lengths >= l_min].sum())


def _upper_diagonals(r: np.ndarray) -> np.ndarray:
    """Row ``k − 1`` holds the ``k``-th upper diagonal of ``r`` (k = 1 … T − 1), zero-padded."""
    t = r.shape[0]
    if t < 2:
        return np.zeros((0, 0), dtype=bool)
    k = np.arange(1, t)[:, None]
    i = np.arange(t - 1)[None, :]
    inside = i + k < t
    return np.where(inside, r[i, np.minimum(i + k, t - 1)], False)


def _segment_starts(s: np.ndarray, theta: float) -> np.ndarray:
    """First step of each stretch of consecutive steps with ``S_{t−1,t} ≥ θ``."""
    t = s.shape[0]
    if t == 0:
        return np.zeros(0, dtype=int)
    moves = np.diagonal(s, 1) < theta
    return np.concatenate([[0], np.flatnonzero(moves) + 1])


def rqa(states: Any, threshold: float = DEFAULT_THRESHOLD, l_min: int = L_MIN) -> RQAResult:
    """Recurrence rate, determinism (cycles) and laminarity (stalls) of one trajectory.

    See the module docstring for the exact definitions: the main diagonal is excluded,
    determinism is computed with stalls merged, lines count from ``l_min`` steps.

    Parameters
    ----------
    states : array_like, shape (T, d)
        The trajectory.
    threshold : float, default 0.9
        Cosine similarity ``θ`` from which two steps recur.
    l_min : int, default 2
        Minimum line length.

    Returns
    -------
    RQAResult

    Examples
    --------
    A stall (the same step five times in a row) between distinct steps:

    >>> x = np.eye(8)[[0, 1, 2, 2, 2, 2, 2, 3, 4, 5]]
    >>> r = rqa(x)
    >>> round(r.laminarity, 3), r.determinism, r.n_segments
    (0.9, 0.0, 6)
    """
    theta = _check_threshold(threshold)
    l_min = check_positive_int("l_min", l_min, minimum=2)
    s = similarity_matrix(states)
    t = s.shape[0]
    starts = _segment_starts(s, theta)
    if t < 2:
        nan = math.nan
        return RQAResult(nan, nan, nan, theta, l_min, t, int(starts.size))
    r = s >= theta
    np.fill_diagonal(r, False)
    n_points = int(r.sum())
    rate = n_points / (t * (t - 1))
    laminar = _points_on_lines(r.T, l_min) / n_points if n_points else 0.0
    rc = r[np.ix_(starts, starts)]
    n_cycle_points = int(rc.sum())
    diagonal = 2 * _points_on_lines(_upper_diagonals(rc), l_min)
    determinism = diagonal / n_cycle_points if n_cycle_points else 0.0
    return RQAResult(rate, determinism, laminar, theta, l_min, t, int(starts.size))


# --------------------------------------------------------------------------------------------
# loops, stalls, drift


def find_loop(
    states: Any,
    threshold: float = DEFAULT_THRESHOLD,
    min_repeats: int = LOOP_MIN_REPEATS,
    min_span: int = LOOP_MIN_SPAN,
) -> LoopResult:
    """The loop the trajectory ends in: smallest period ``p`` and earliest start ``t0``.

    For ``p = 1, 2, …`` the repeating stretch is the longest final stretch with
    ``S_{t, t+p} ≥ θ`` for every ``t`` in it; it starts at ``t0`` and spans the steps
    ``t0 … T − 1``. The first ``p`` whose span is at least ``max(min_repeats·p, min_span)``
    is the loop's period.

    Parameters
    ----------
    states : array_like, shape (T, d)
        The trajectory.
    threshold : float, default 0.9
        Cosine similarity from which two steps repeat.
    min_repeats : int, default 3
        Passes through the cycle (the first one included) a loop needs.
    min_span : int, default 4
        Steps a loop needs, whatever its period.

    Returns
    -------
    LoopResult

    Examples
    --------
    Ten distinct steps, then a period-3 cycle from step 10:

    >>> x = np.eye(13)[list(range(10)) + [10, 11, 12] * 4]
    >>> res = find_loop(x)
    >>> res.found, res.start, res.period, res.repeats
    (True, 10, 3, 4.0)
    >>> find_loop(np.eye(6)).found
    False
    """
    theta = _check_threshold(threshold)
    min_repeats = check_positive_int("min_repeats", min_repeats, minimum=2)
    min_span = check_positive_int("min_span", min_span, minimum=2)
    s = similarity_matrix(states)
    t = s.shape[0]
    for p in range(1, t // min_repeats + 1):
        match = np.diagonal(s, p) >= theta
        if not match[-1]:
            continue
        misses = np.flatnonzero(~match)
        start = int(misses[-1]) + 1 if misses.size else 0
        span = t - start
        if span >= max(min_repeats * p, min_span):
            return LoopResult(True, start, p, span, span / p, theta)
    return LoopResult(False, None, None, 0, 0.0, theta)


def longest_stall(states: Any, threshold: float = DEFAULT_THRESHOLD) -> int:
    """Steps in the longest stretch of consecutive steps each similar to the one before.

    A single step is a stretch of 1; an empty trajectory gives 0.

    Examples
    --------
    >>> longest_stall(np.eye(5)[[0, 1, 1, 1, 2, 3, 3]])
    3
    """
    theta = _check_threshold(threshold)
    s = similarity_matrix(states)
    if s.shape[0] == 0:
        return 0
    starts = _segment_starts(s, theta)
    return int(np.max(np.diff(np.append(starts, s.shape[0]))))


def drift(states: Any, window: int | None = None) -> DriftResult:
    """Mean step distance, late drift and straightness of a trajectory (unit rows).

    Parameters
    ----------
    states : array_like, shape (T, d)
        The trajectory.
    window : int, optional
        Steps at the end whose distance from the first step is averaged; default ``⌈T/4⌉``.

    Returns
    -------
    DriftResult

    Examples
    --------
    >>> d = drift(np.eye(3)[[0, 1, 2]])
    >>> round(d.step_distance, 4), round(d.late_drift, 4), round(d.straightness, 4)
    (1.4142, 1.4142, 0.5)
    """
    u = unit_rows(states)
    t = u.shape[0]
    w = max(1, math.ceil(t / 4)) if window is None else check_positive_int("window", window)
    if t < 2:
        nan = math.nan
        return DriftResult(nan, nan, nan, 0.0, 0.0, w)
    steps = np.linalg.norm(np.diff(u, axis=0), axis=1)
    path = float(steps.sum())
    net = float(np.linalg.norm(u[-1] - u[0]))
    late = float(np.linalg.norm(u[-min(w, t - 1) :] - u[0], axis=1).mean())
    straight = min(1.0, net / path) if path > 0 else math.nan
    return DriftResult(float(steps.mean()), late, straight, path, net, w)


def action_entropy(actions: Iterable[Hashable]) -> float:
    """Shannon entropy, in bits, of the frequencies of the actions (e.g. tool names).

    0 when every action is the same, ``log2(k)`` for ``k`` equally frequent actions, NaN for
    no action.

    Examples
    --------
    >>> action_entropy(["search", "read", "search", "read"])
    1.0
    >>> action_entropy(["search"] * 3)
    0.0
    """
    counts = np.array(sorted(Counter(actions).values()), dtype=np.float64)
    if counts.size == 0:
        return math.nan
    p = counts / counts.sum()
    return float(max(0.0, -np.sum(p * np.log2(p))))


# --------------------------------------------------------------------------------------------
# between trajectories


def divergence_rate(
    a: Any,
    b: Any,
    epsilon: float = DIVERGENCE_EPSILON,
    min_steps: int = DIVERGENCE_MIN_STEPS,
) -> DivergenceResult:
    """Divergence rate ``λ̂`` of two trajectories aligned step by step.

    Steps are aligned by index and cut to the shorter trajectory; the distance of step ``t``
    is ``d_t = max(‖u^a_t − u^b_t‖, ε)`` between unit rows, and ``λ̂`` is the least-squares
    slope of ``log d_t`` against ``t``: about the exponential rate at which the two runs move
    apart per step. Identical trajectories give ``d_t = ε`` throughout, so ``λ̂ = 0``.

    Parameters
    ----------
    a, b : array_like, shapes (T_a, d) and (T_b, d)
        The two trajectories.
    epsilon : float, default 1e-3
        Floor of the distance (> 0).
    min_steps : int, default 3
        Fewest aligned steps for a rate; fewer give NaN.

    Returns
    -------
    DivergenceResult

    Examples
    --------
    >>> same = np.eye(4)
    >>> divergence_rate(same, same).rate
    0.0
    >>> apart = np.array([[1.0, 0.0]] * 5)
    >>> b = np.array([[1.0, 0.0], [1.0, 0.01], [1.0, 0.1], [1.0, 1.0], [0.0, 1.0]])
    >>> bool(divergence_rate(apart, b).rate > 1.0)
    True
    """
    ua, ub = unit_rows(a), unit_rows(b)
    if ua.shape[1] != ub.shape[1]:
        raise ParityInputError(
            f"`a` and `b` must have the same number of features d; got {ua.shape[1]} and "
            f"{ub.shape[1]}"
        )
    eps = float(epsilon)
    if not (math.isfinite(eps) and eps > 0):
        raise ParityInputError(f"`epsilon` must be a positive number; got {epsilon!r}")
    min_steps = check_positive_int("min_steps", min_steps, minimum=2)
    n = min(ua.shape[0], ub.shape[0])
    dist = np.linalg.norm(ua[:n] - ub[:n], axis=1)
    log_d = np.log(np.maximum(dist, eps))
    if n < min_steps:
        return DivergenceResult(math.nan, math.nan, n, eps, log_d)
    t = np.arange(n, dtype=np.float64)
    tc = t - t.mean()
    centred = log_d - log_d.mean()
    slope = float(np.dot(tc, centred) / np.dot(tc, tc))
    if np.all(centred == 0):
        slope = 0.0
    intercept = float(log_d.mean() - slope * t.mean())
    return DivergenceResult(slope, intercept, n, eps, log_d)


def trajectory_similarity(a: Any, b: Any) -> float:
    """Step-aligned similarity of two trajectories, in [0, 1].

    ``Σ_{t < min(T_a, T_b)} max(0, cos(a_t, b_t)) / max(T_a, T_b)``: steps past the end of the
    shorter trajectory count 0, so 1 means the same steps in the same order. Two empty
    trajectories have similarity 1.

    Examples
    --------
    >>> trajectory_similarity(np.eye(3), np.eye(3))
    1.0
    >>> trajectory_similarity(np.eye(3), np.eye(3)[:2])
    0.6666666666666666
    """
    ua, ub = unit_rows(a), unit_rows(b)
    longest = max(ua.shape[0], ub.shape[0])
    if longest == 0:
        return 1.0
    n = min(ua.shape[0], ub.shape[0])
    if n and ua.shape[1] != ub.shape[1]:
        raise ParityInputError(
            f"`a` and `b` must have the same number of features d; got {ua.shape[1]} and "
            f"{ub.shape[1]}"
        )
    cos = np.diagonal(_cross_similarity(ua[:n], ub[:n])) if n else np.zeros(0)
    return float(min(1.0, np.maximum(cos, 0.0).sum() / longest))


def constraint_index(trajectories: Sequence[Any]) -> float:
    """Constraint index ``C``: mean pairwise :func:`trajectory_similarity`, in [0, 1].

    1 when every trajectory is the same (the behaviour is fully constrained by the task);
    NaN for fewer than two trajectories.

    Examples
    --------
    >>> constraint_index([np.eye(3)] * 3)
    1.0
    >>> round(constraint_index([np.eye(3), np.eye(3)[::-1], np.eye(3)]), 4)
    0.5556
    """
    items = list(trajectories)
    if len(items) < 2:
        return math.nan
    sims = [
        trajectory_similarity(items[i], items[j])
        for i in range(len(items))
        for j in range(i + 1, len(items))
    ]
    return float(np.mean(sims))
