"""Two-sample statistics on (n × d) samples: MMD² (multi-bandwidth RBF), energy distance, binned KL.

Each public function is pure: arrays in, a float out. The quadratic-form statistics (MMD², energy
distance) are written as functions of four sums over a pooled Gram matrix ``G`` and a split of its
rows into the two samples, so that the permutation engine (:mod:`parity.stats.permutation`)
evaluates exactly the same formula for every permuted split.

Definitions (x has n rows, y has m rows, z = [x; y] is the pooled sample):

* ``mmd2`` with kernel ``k = sum_s exp(-||a - b||² / (2 s²))`` over the bandwidths ``s``:
  unbiased (U) ``Σ_{i≠j} k(x_i, x_j) / n(n-1) + Σ_{i≠j} k(y_i, y_j) / m(m-1)
  - 2 Σ k(x_i, y_j) / nm``;
  biased (V) keeps the diagonal and divides by n², m².
* ``energy_distance`` (Székely & Rizzo), V-statistic
  ``2 E||X - Y|| - E||X - X'|| - E||Y - Y'||`` with the sample means over all pairs.
  In one dimension it equals ``scipy.stats.energy_distance(x, y) ** 2``.
* ``binned_kl``: per dimension, histograms of x and y on the same edges (from the pooled sample),
  additive smoothing ``alpha`` per bin, ``KL(P_x || P_y) = Σ p log(p / q)`` summed over dimensions.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from parity.errors import DegenerateDataWarning, ParityInputError
from parity.limits import MAX_KL_BINS
from parity.stats._common import as_samples, check_same_dim, core_pool

DEFAULT_BANDWIDTH_FACTORS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
MMD_ESTIMATORS = ("unbiased", "biased")
KL_DIRECTIONS = ("forward", "reverse", "symmetric")

Estimator = Literal["unbiased", "biased"]
Direction = Literal["forward", "reverse", "symmetric"]


# --------------------------------------------------------------------------- distances, kernels


def row_block_pool() -> ThreadPoolExecutor:
    """The process's worker threads for :func:`for_row_blocks` (:func:`core_pool` ``rows``)."""
    return core_pool("rows")


def for_row_blocks(n_rows: int, n_cols: int, work) -> None:
    """Call ``work(rows)`` for row slices of about 2^17 elements, on all cores.

    The slices are disjoint, so ``work`` may write its rows of a shared output array; numpy
    releases the GIL inside its loops, so the threads run in parallel. ``work`` must not call
    :func:`for_row_blocks` itself (it runs on the shared pool).
    """
    step = max(1, 2**17 // max(n_cols, 1))
    slices = [slice(i, min(i + step, n_rows)) for i in range(0, n_rows, step)]
    if min(os.cpu_count() or 1, len(slices)) <= 1:
        for rows in slices:
            work(rows)
        return
    for _ in row_block_pool().map(work, slices):
        pass


#: Pair coordinates (rows × rows × d) a process computes with numpy before it imports
#: ``scipy.spatial.distance`` (about 0.25 s): numpy gives the same bits about 4× slower, so it
#: is faster for a few small calls (a command's one comparison) and costs at most about one
#: import's time in a process that computes many distances.
NUMPY_DISTANCE_BUDGET = 2**24
_NUMPY_METRICS = ("sqeuclidean", "euclidean", "cityblock")
_numpy_work = 0


def distance_function(size: int, metric: str = "sqeuclidean"):
    """``f(a, b)``, equal bit for bit to ``scipy.spatial.distance.cdist(a, b, metric)`` in
    float64, for work of ``size`` pair coordinates (rows × rows × d) in all: :func:`numpy_cdist`
    for ``sqeuclidean``, ``euclidean`` and ``cityblock`` while the process has done less than
    :data:`NUMPY_DISTANCE_BUDGET` of such work and scipy.spatial is not imported, else scipy's
    function. Stacks of samples (``(..., rows, d)``) give stacks of distance matrices.

    Examples
    --------
    >>> f = distance_function(4, "euclidean")
    >>> f(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]))
    array([[5.]])
    """
    import sys

    global _numpy_work
    within = _numpy_work + size <= NUMPY_DISTANCE_BUDGET and "scipy.spatial" not in sys.modules
    if metric in _NUMPY_METRICS and within:
        _numpy_work += size
        return lambda a, b: numpy_cdist(a, b, metric)
    from scipy.spatial.distance import cdist

    def scipy_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if np.ndim(a) == 2:
            return cdist(a, b, metric)
        return np.stack([cdist(u, v, metric) for u, v in zip(a, b, strict=True)])

    return scipy_distances


def numpy_cdist(a: np.ndarray, b: np.ndarray, metric: str = "sqeuclidean") -> np.ndarray:
    """``scipy.spatial.distance.cdist(a, b, metric)`` for ``sqeuclidean``, ``euclidean`` and
    ``cityblock`` with numpy: the coordinate terms are added in scipy's order (first coordinate
    first, from 0), so the sums are the same floating-point numbers. Broadcasts over leading
    axes (``(..., rows, d)``).

    Examples
    --------
    >>> numpy_cdist(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [1.0, 1.0]]), "cityblock")
    array([[7., 2.]])
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    out = np.zeros((*a.shape[:-1], b.shape[-2]))
    term = np.empty_like(out)
    for k in range(a.shape[-1]):
        np.subtract(a[..., :, k, None], b[..., None, :, k], out=term)
        if metric == "cityblock":
            np.abs(term, out=term)
        else:
            np.multiply(term, term, out=term)
        out += term
    return np.sqrt(out, out=out) if metric == "euclidean" else out


def pdist(z: np.ndarray, metric: str) -> np.ndarray:
    """``scipy.spatial.distance.pdist(z, metric)``: the distances of the pairs ``i < j`` in
    its order, from :func:`cdist` (the same bits).

    Examples
    --------
    >>> pdist(np.array([[0.0], [1.0], [3.0]]), "euclidean")
    array([1., 3., 2.])
    """
    z = np.asarray(z, dtype=np.float64)
    n = z.shape[0]
    distances = distance_function(n * n * z.shape[1], metric)
    step = max(1, 2**20 // max(n, 1))
    parts = []
    for start in range(0, n, step):
        block = distances(z[start : start + step], z)
        rows = np.arange(start, start + block.shape[0])[:, None]
        parts.append(block[rows < np.arange(n)[None, :]])  # row-major: pdist's order
    return np.concatenate(parts) if parts else np.empty(0)


def pairwise_sq_distances(z: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """Squared Euclidean distances between all rows of ``z``, as an (N × N) array of ``dtype``.

    Computed in float64 from exact differences (:func:`cdist`), row block by row block on all
    cores, then stored as ``dtype``; identical rows are exactly 0 apart.

    Examples
    --------
    >>> pairwise_sq_distances(np.array([[0.0], [3.0]]))
    array([[0., 9.],
           [9., 0.]])
    """
    z = np.asarray(z, dtype=np.float64)
    n = z.shape[0]
    out = np.empty((n, n), dtype=dtype)
    distances = distance_function(n * n * z.shape[1])

    def work(rows: slice) -> None:
        out[rows] = distances(z[rows], z)

    for_row_blocks(n, n, work)
    return out


def pairwise_distances(z: np.ndarray, metric: str, dtype: type = np.float64) -> np.ndarray:
    """Distances (a :func:`cdist` metric) between all rows of ``z``, as an
    (N × N) array of ``dtype``, computed in float64 row block by row block on all cores.

    Examples
    --------
    >>> pairwise_distances(np.array([[0.0, 0.0], [1.0, 2.0]]), "cityblock")
    array([[0., 3.],
           [3., 0.]])
    """
    z = np.asarray(z, dtype=np.float64)
    out = np.empty((z.shape[0], z.shape[0]), dtype=dtype)
    distances = distance_function(z.size * z.shape[0], metric)

    def work(rows: slice) -> None:
        out[rows] = distances(z[rows], z)

    for_row_blocks(z.shape[0], z.shape[0], work)
    return out


def unit_scale(z: np.ndarray) -> float:
    """The power of two at or below the largest deviation from the column means (1 if none).

    Distances are computed on ``z / unit_scale(z)`` so that squaring neither underflows nor
    overflows, whatever the units of the data; a power of two keeps the rescaling exact.

    Examples
    --------
    >>> unit_scale(np.array([[1.0], [3.0]]))
    1.0
    """
    z = np.asarray(z, dtype=np.float64)
    scale = float(np.max(np.abs(z - z.mean(axis=0)))) if z.size else 0.0
    if not (scale > 0 and np.isfinite(scale)):
        return 1.0
    return float(np.ldexp(1.0, int(np.frexp(scale)[1]) - 1))


MEDIAN_MAX_ROWS = 2048


def lexicographic_order(z: np.ndarray) -> np.ndarray:
    """Row indices of ``z`` sorted lexicographically (first column first), as ``np.lexsort``.

    One argsort of the first column when it has no ties (the usual case for continuous data,
    about 30× faster than ``np.lexsort`` on 7 columns), else ``np.lexsort``; same order.

    Examples
    --------
    >>> lexicographic_order(np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 1.0]]))
    array([2, 1, 0])
    """
    order = np.argsort(z[:, 0], kind="stable")
    first = z[order, 0]
    if z.shape[1] == 1 or not np.any(first[1:] == first[:-1]):
        return order
    return np.lexsort(z.T[::-1])


def median_heuristic(z: np.ndarray, max_rows: int = MEDIAN_MAX_ROWS) -> tuple[float, int]:
    """Median Euclidean distance over distinct pairs of rows of the pooled sample ``z``.

    With more than ``max_rows`` rows the median is taken over the pairs of ``max_rows`` rows
    spread evenly through ``z`` sorted lexicographically: the choice depends on the pooled sample
    as a set, not on which rows came from which sample, so a permutation test stays exact.
    Falls back to the mean positive distance when over half of the pairs coincide, and to 1
    when all points coincide (both with a :class:`~parity.errors.DegenerateDataWarning`).

    Returns
    -------
    (median, rows_used)

    Examples
    --------
    >>> median_heuristic(np.array([[0.0], [1.0], [3.0]]))  # pair distances 1, 2, 3
    (2.0, 3)
    """
    import warnings

    z = np.asarray(z, dtype=np.float64)
    if z.shape[0] > max_rows:
        order = lexicographic_order(z)
        z = z[order[np.linspace(0, z.shape[0] - 1, max_rows).round().astype(np.intp)]]
    n = z.shape[0]
    unit = unit_scale(z)
    pairs = unit * np.sqrt(pairwise_sq_distances(z / unit)[np.triu_indices(n, 1)])
    median = float(np.median(pairs))
    if median > 0:
        return median, n
    positive = pairs[pairs > 0]
    if positive.size:
        warnings.warn(
            "median heuristic: over half of the pairwise distances are 0; "
            "using the mean positive distance as the bandwidth",
            DegenerateDataWarning,
            stacklevel=3,
        )
        return float(positive.mean()), n
    warnings.warn(
        "median heuristic: all points coincide; using bandwidth 1",
        DegenerateDataWarning,
        stacklevel=3,
    )
    return 1.0, n


def resolve_bandwidths(
    z: np.ndarray,
    bandwidths: float | Sequence[float] | None = None,
    factors: Sequence[float] = DEFAULT_BANDWIDTH_FACTORS,
) -> tuple[float, ...]:
    """RBF bandwidths: the given ones, or the median heuristic on ``z`` times each factor.

    Examples
    --------
    >>> resolve_bandwidths(np.zeros((2, 1)), bandwidths=[0.5, 1.0])
    (0.5, 1.0)
    >>> resolve_bandwidths(np.array([[0.0], [2.0]]), factors=(0.5, 1.0))
    (1.0, 2.0)
    """
    if bandwidths is None:
        if len(factors) == 0 or any(not np.isfinite(f) or f <= 0 for f in factors):
            raise ParityInputError(
                f"`bandwidth_factors` must be a non-empty list of positive numbers; got {factors!r}"
            )
        median, _ = median_heuristic(z)
        return tuple(float(median * f) for f in factors)
    values = np.atleast_1d(np.asarray(bandwidths, dtype=np.float64))
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ParityInputError(f"`bandwidths` must be positive finite numbers; got {bandwidths!r}")
    return tuple(float(v) for v in values)


KERNELS = ("gaussian", "laplace")
DEFAULT_KERNELS: tuple[str, ...] = ("gaussian",)
KERNEL_METRICS = {"gaussian": "euclidean", "laplace": "cityblock"}
COLLECTION_QUANTILES = (0.05, 0.95)  # the grid spans half the 5% to twice the 95% quantile
COLLECTION_RATIO = 2.0  # neighbouring bandwidths differ by this factor
MAX_COLLECTION = 12  # kernels per kernel type at most (the ratio widens beyond)


def check_kernels(kernels: Any) -> tuple[str, ...]:
    """Kernel type names of the MMD's collection, checked (case-insensitive).

    Examples
    --------
    >>> check_kernels("Laplace")
    ('laplace',)
    """
    names = (kernels,) if isinstance(kernels, str) else tuple(kernels)
    names = tuple(k.lower() if isinstance(k, str) else k for k in names)
    if not names or any(k not in KERNELS for k in names) or len(set(names)) != len(names):
        raise ParityInputError(f"`kernels` must be distinct names from {KERNELS}; got {kernels!r}")
    return names


def spread_rows(z: np.ndarray, max_rows: int = MEDIAN_MAX_ROWS) -> np.ndarray:
    """At most ``max_rows`` rows of ``z`` spread evenly through its lexicographic order.

    The choice depends on the pooled sample as a set, not on which rows came from which
    sample, so statistics tuned on it keep a permutation test exact.

    Examples
    --------
    >>> spread_rows(np.array([[3.0], [1.0], [2.0]]), 2).ravel().tolist()
    [1.0, 3.0]
    """
    if z.shape[0] <= max_rows:
        return z
    order = lexicographic_order(z)
    return z[order[np.linspace(0, z.shape[0] - 1, max_rows).round().astype(np.intp)]]


def geometric_collection(low: float, high: float) -> tuple[float, ...]:
    """Bandwidths ``low · 2^j`` from ``low`` up to the last one at or below ``high`` (the ratio
    widened, ends kept, when that would make more than 12).

    Examples
    --------
    >>> geometric_collection(0.5, 3.0)
    (0.5, 1.0, 2.0)
    """
    ratio = COLLECTION_RATIO
    steps = max(0, math.floor(math.log(high / low) / math.log(ratio) + 1e-9)) if high > low else 0
    if steps + 1 > MAX_COLLECTION:
        ratio = (high / low) ** (1 / (MAX_COLLECTION - 1))
        steps = MAX_COLLECTION - 1
    return tuple(float(low * ratio**j) for j in range(steps + 1))


def linear_quantiles(values: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """``np.quantile(values, quantiles)`` (its default linear method), equal to the last bit,
    from partial sorts of ``values`` in place (which reorders ``values``).

    np.quantile partitions a copy at every bracketing rank at once (plus the first and the
    last), which numpy's selection does far slower than one rank at a time: here each lower
    rank, largest first, is selected within the prefix the previous selection left (one
    ``partition`` per rank), and the rank above it is the minimum of what lies right of it.
    The interpolation is numpy's own (``_lerp``). ``values`` is a non-empty 1-D float array
    without NaNs.

    Examples
    --------
    >>> linear_quantiles(np.array([4.0, 1.0, 3.0, 2.0]), (0.05, 0.95)).tolist()
    [1.15, 3.8499999999999996]
    """
    n = values.size
    virtual = (n - 1) * np.asarray(quantiles, dtype=np.float64)
    below = np.floor(virtual)
    lo = np.minimum(below.astype(np.intp), n - 1)
    stop = n
    for k in sorted(set(lo.tolist()), reverse=True):
        values[:stop].partition(k)
        stop = k
    a = values[lo]
    b = np.array([values[k + 1 :].min() if k + 1 < n else values[k] for k in lo.tolist()])
    gamma = np.where(virtual >= n - 1, virtual + 1, virtual - below)
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def collection_from_distances(distances: np.ndarray) -> tuple[float, ...]:
    """The bandwidth collection of a set of pairwise distances (zeros left out).

    From half the 5% quantile, where the kernel resolves the finest structure the data has,
    up to twice the 95% quantile, where it is almost linear in the squared distance (beyond
    that every kernel gives the same test), in factors of 2: the range MMDAgg and MMD-FUSE use,
    on a geometric grid so that fine scales are as well covered as coarse ones.
    Falls back to (1,) when all points coincide (with a DegenerateDataWarning).

    Examples
    --------
    >>> collection_from_distances(np.array([1.0, 2.0, 4.0]))
    (0.55, 1.1, 2.2, 4.4)
    """
    import warnings

    positive = distances[distances > 0]
    if positive.size == 0:
        warnings.warn(
            "kernel collection: all points coincide; using bandwidth 1",
            DegenerateDataWarning,
            stacklevel=3,
        )
        return (1.0,)
    low, high = linear_quantiles(positive, COLLECTION_QUANTILES)
    return geometric_collection(float(low) / 2, float(high) * 2)


def bandwidth_collection(z: np.ndarray, kernel: str = "gaussian") -> tuple[float, ...]:
    """The bandwidth collection of one kernel type for the pooled sample ``z``.

    Distances (Euclidean for ``gaussian``, L1 for ``laplace``) over distinct pairs of at most
    2048 rows spread through ``z`` (:func:`spread_rows`), fed to
    :func:`collection_from_distances`.

    Examples
    --------
    >>> bandwidth_collection(np.array([[0.0], [1.0], [3.0]]))
    (0.55, 1.1, 2.2, 4.4)
    """
    rows = spread_rows(np.asarray(z, dtype=np.float64))
    unit = unit_scale(rows)
    distances = unit * pdist(rows / unit, KERNEL_METRICS[check_kernels(kernel)[0]])
    return collection_from_distances(distances)


def kernel_rows(
    kernel: str, bandwidth: float, sq: np.ndarray, l1: np.ndarray | None, dtype, out=None
):
    """Kernel values from squared Euclidean (``gaussian``) or L1 (``laplace``) distances.

    ``gaussian``: ``exp(-d² / (2 λ²))``; ``laplace``: ``exp(-d₁ / λ)``. With ``out`` (an array
    of ``dtype`` and the distances' shape) the values are written there, without temporaries;
    the same operations, so the same bytes.

    Examples
    --------
    >>> kernel_rows("laplace", 1.0, None, np.array([[0.0, 1.0]]), np.float64).round(4)
    array([[1.    , 0.3679]])
    """
    if kernel == "gaussian":
        distances, scale = sq, dtype(-0.5 / (bandwidth * bandwidth))
    else:
        distances, scale = l1, dtype(-1.0 / bandwidth)
    values = np.multiply(distances.astype(dtype, copy=False), scale, out=out)
    return np.exp(values, out=values)


def rbf_gram(sq_distances: np.ndarray, bandwidths: Sequence[float]) -> np.ndarray:
    """Sum of RBF kernels ``exp(-d² / (2 s²))`` over ``bandwidths``, from squared distances.

    Computed in the precision of ``sq_distances``, row block by row block on all cores.

    Examples
    --------
    >>> rbf_gram(np.array([[0.0, 2.0], [2.0, 0.0]]), [1.0]).round(4)
    array([[1.    , 0.3679],
           [0.3679, 1.    ]])
    """
    n = sq_distances.shape[0]
    out = np.empty_like(sq_distances)
    scales = [-0.5 / (s * s) for s in bandwidths]

    def work(rows: slice) -> None:
        block = sq_distances[rows]
        acc = np.exp(block * scales[0])
        for c in scales[1:]:
            acc += np.exp(block * c)
        out[rows] = acc

    for_row_blocks(n, n, work)
    return out


def gram_matrices(
    z: np.ndarray,
    bandwidths: Sequence[float] | None = None,
    euclidean: bool = False,
    dtype: type = np.float64,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The RBF-sum and/or Euclidean Gram matrices of the rows of ``z``, in one pass.

    Each row block's squared distances are computed once in float64 (exact differences) and
    turned into the kernel sum over ``bandwidths`` (when given) and the distances (when
    ``euclidean``), both stored as ``dtype``; the N × N squared distances are never stored.
    Equivalent to ``rbf_gram(pairwise_sq_distances(z), bandwidths)`` and
    ``euclidean_gram(pairwise_sq_distances(z))``.

    Examples
    --------
    >>> kernel, dist = gram_matrices(np.array([[0.0], [2.0]]), [1.0], euclidean=True)
    >>> dist
    array([[0., 2.],
           [2., 0.]])
    """
    z = np.asarray(z, dtype=np.float64)
    n = z.shape[0]
    kernel = np.empty((n, n), dtype=dtype) if bandwidths is not None else None
    dist = np.empty((n, n), dtype=dtype) if euclidean else None
    scales = [np.dtype(dtype).type(-0.5 / (s * s)) for s in bandwidths or ()]
    distances = distance_function(z.size * n)

    def work(rows: slice) -> None:
        sq = distances(z[rows], z)
        if dist is not None:
            dist[rows] = np.sqrt(sq)
        if kernel is not None:
            sq = sq.astype(dtype, copy=False)
            acc = np.exp(sq * scales[0])
            for c in scales[1:]:
                acc += np.exp(sq * c)
            kernel[rows] = acc

    for_row_blocks(n, n, work)
    return kernel, dist


# --------------------------------------------------------------------------- quadratic forms


@dataclass(frozen=True, slots=True)
class SplitSums:
    """Sums of a Gram matrix ``G`` over a split of the pooled rows into x (n rows) and y (m rows).

    ``xx``, ``yy``, ``xy`` are the block sums (diagonals included); ``trace_x`` and ``trace_y``
    the sums of ``G``'s diagonal over the rows of x and of y. Fields may be arrays (one entry per
    split), which is how the permutation engine evaluates many splits at once.
    """

    xx: np.ndarray | float
    yy: np.ndarray | float
    xy: np.ndarray | float
    trace_x: np.ndarray | float
    trace_y: np.ndarray | float
    n: int
    m: int

    @property
    def scale(self):
        """Gross magnitude ``xx/n² + yy/m² + 2 xy/nm`` that the statistic is a difference of."""
        n, m = self.n, self.m
        return self.xx / n**2 + self.yy / m**2 + 2 * np.abs(self.xy) / (n * m)


def split_sums(gram: np.ndarray, n: int) -> SplitSums:
    """:class:`SplitSums` of ``gram`` for the split rows[:n] | rows[n:], in float64.

    Examples
    --------
    >>> s = split_sums(np.ones((3, 3)), 1)
    >>> (s.xx, s.yy, s.xy)
    (1.0, 4.0, 2.0)
    """
    g = np.asarray(gram, dtype=np.float64)
    diag = np.diagonal(g)
    return SplitSums(
        xx=float(g[:n, :n].sum()),
        yy=float(g[n:, n:].sum()),
        xy=float(g[:n, n:].sum()),
        trace_x=float(diag[:n].sum()),
        trace_y=float(diag[n:].sum()),
        n=n,
        m=g.shape[0] - n,
    )


def mmd2_from_sums(s: SplitSums, estimator: Estimator = "unbiased"):
    """MMD² from the block sums of a kernel Gram matrix (U- or V-statistic)."""
    n, m = s.n, s.m
    cross = 2 * s.xy / (n * m)
    if estimator == "biased":
        return s.xx / n**2 + s.yy / m**2 - cross
    return (s.xx - s.trace_x) / (n * (n - 1)) + (s.yy - s.trace_y) / (m * (m - 1)) - cross


def energy_from_sums(s: SplitSums):
    """Energy distance (V-statistic) from the block sums of a Euclidean distance matrix."""
    n, m = s.n, s.m
    return 2 * s.xy / (n * m) - s.xx / n**2 - s.yy / m**2


def _check_estimator(estimator: str) -> None:
    if estimator not in MMD_ESTIMATORS:
        raise ParityInputError(f"`estimator` must be one of {MMD_ESTIMATORS}; got {estimator!r}")


def _pooled(x, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = as_samples("reference", x)
    y = as_samples("candidate", y)
    check_same_dim(x, y)
    return x, y, np.vstack([x, y])


def mmd2(
    reference,
    candidate,
    *,
    bandwidths: float | Sequence[float] | None = None,
    bandwidth_factors: Sequence[float] = DEFAULT_BANDWIDTH_FACTORS,
    estimator: Estimator = "unbiased",
) -> float:
    """Squared maximum mean discrepancy with a (multi-bandwidth) RBF kernel.

    Parameters
    ----------
    reference, candidate : array_like, shape (n, d) and (m, d)
        The two samples; 1-D input means d = 1.
    bandwidths : float or sequence of float, optional
        RBF bandwidths ``s`` of ``exp(-||a - b||² / (2 s²))``; the kernels are summed.
        Default: the median pairwise distance of the pooled sample times each factor.
    bandwidth_factors : sequence of float
        Factors of the median heuristic, used when ``bandwidths`` is None.
    estimator : {"unbiased", "biased"}
        U-statistic (diagonal terms excluded) or V-statistic.

    Returns
    -------
    float
        MMD² estimate (the unbiased one can be slightly negative).

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0]); y = x + 10
    >>> round(mmd2(x, y, bandwidths=1.0, estimator="biased"), 4)  # 2 × (3 + 4e^-½ + 2e^-2) / 9
    1.266
    """
    _check_estimator(estimator)
    x, _, z = _pooled(reference, candidate)
    bws = resolve_bandwidths(z, bandwidths, bandwidth_factors)
    unit = unit_scale(z)
    gram, _ = gram_matrices(z / unit, [b / unit for b in bws])
    return float(mmd2_from_sums(split_sums(gram, x.shape[0]), estimator))


def energy_distance(reference, candidate) -> float:
    """Energy distance of Székely & Rizzo, ``2E||X-Y|| - E||X-X'|| - E||Y-Y'||`` (V-statistic).

    In one dimension it equals ``scipy.stats.energy_distance(reference, candidate) ** 2``.

    Examples
    --------
    >>> energy_distance([0.0, 1.0], [0.0, 1.0])
    0.0
    >>> energy_distance([0.0, 0.0], [3.0, 3.0])
    6.0
    """
    x, _, z = _pooled(reference, candidate)
    unit = unit_scale(z)
    _, gram = gram_matrices(z / unit, euclidean=True)
    return unit * float(energy_from_sums(split_sums(gram, x.shape[0])))


# --------------------------------------------------------------------------- binned KL


#: Entries (N × total bins) up to which :meth:`Binning.indicator_t` is a dense matrix.
DENSE_INDICATOR_MAX = 1 << 22


@dataclass(frozen=True, slots=True)
class Binning:
    """Shared histogram bins of a pooled sample: per-point bin ids and per-dimension bin counts.

    ``codes`` (N × d) holds each point's bin index offset so that dimension ``j`` uses the global
    bin ids ``offsets[j] .. offsets[j] + n_bins[j] - 1``.
    """

    edges: tuple[np.ndarray, ...]
    codes: np.ndarray
    n_bins: np.ndarray
    offsets: np.ndarray

    @property
    def total_bins(self) -> int:
        """Number of bins over all dimensions."""
        return int(self.n_bins.sum())

    def counts(self, rows: slice = slice(None)) -> np.ndarray:
        """Points per global bin (total_bins,) among ``rows``, without a one-hot matrix."""
        return np.bincount(self.codes[rows].ravel(), minlength=self.total_bins).astype(np.float64)

    def indicator_t(self, dtype: type = np.float64):
        """The transposed one-hot matrix (total_bins × N): dense, from :meth:`indicator`, when
        it has at most :data:`DENSE_INDICATOR_MAX` entries and scipy.sparse is not imported
        yet (a BLAS product, without the import's 0.1 s), else a sparse CSR matrix (``N·d``
        stored ones instead of ``N·total_bins``). Products with 0/1 splits give the same exact
        counts either way."""
        import sys

        n, d = self.codes.shape
        if n * self.total_bins <= DENSE_INDICATOR_MAX and "scipy.sparse" not in sys.modules:
            return np.ascontiguousarray(self.indicator(dtype).T)
        from scipy import sparse

        ones = np.ones(n * d, dtype=dtype)
        cols = np.repeat(np.arange(n), d)
        return sparse.csr_matrix((ones, (self.codes.ravel(), cols)), shape=(self.total_bins, n))

    def indicator(self, dtype: type = np.float64) -> np.ndarray:
        """One-hot matrix (N × total_bins): row i has a 1 in each dimension's bin of point i."""
        out = np.zeros((self.codes.shape[0], self.total_bins), dtype=dtype)
        rows = np.repeat(np.arange(self.codes.shape[0]), self.codes.shape[1])
        out[rows, self.codes.ravel()] = 1
        return out


def shared_bins(z: np.ndarray, bins: int | str = "auto", name: str = "bins") -> Binning:
    """Histogram edges per dimension from the pooled sample ``z`` (``numpy.histogram_bin_edges``).

    ``bins`` is a positive integer or a numpy rule name (``"auto"``, ``"fd"``, ``"sturges"``, …);
    ``name`` is the parameter named in errors.

    Examples
    --------
    >>> shared_bins(np.array([[0.0], [1.0], [2.0], [3.0]]), bins=2).n_bins
    array([2])
    """
    valid_int = isinstance(bins, int | np.integer) and not isinstance(bins, bool) and bins >= 1
    if not (valid_int or isinstance(bins, str)):
        raise ParityInputError(
            f"`{name}` must be a positive integer or a numpy binning rule name; got {bins!r}"
        )
    if valid_int and int(bins) * z.shape[1] > MAX_KL_BINS:
        raise ParityInputError(
            f"`{name}` = {bins} bins × {z.shape[1]:,} dimensions exceeds {MAX_KL_BINS:,} bins "
            "(parity.limits.MAX_KL_BINS)"
        )
    edges, codes = [], np.empty(z.shape, dtype=np.intp)
    for j in range(z.shape[1]):
        try:
            e = np.histogram_bin_edges(z[:, j], bins=bins)
        except ValueError as exc:
            raise ParityInputError(
                f"`{name}` {bins!r} is not a numpy binning rule: {exc}"
            ) from None
        edges.append(e)
        # Right-open bins, last one closed, as numpy.histogram.
        codes[:, j] = np.clip(np.searchsorted(e, z[:, j], side="right") - 1, 0, e.size - 2)
    n_bins = np.array([e.size - 1 for e in edges], dtype=np.intp)
    if int(n_bins.sum()) > MAX_KL_BINS:
        raise ParityInputError(
            f"`{name}`: the binned KL needs {int(n_bins.sum()):,} bins over {z.shape[1]:,} "
            f"dimensions; at most {MAX_KL_BINS:,} are allowed (parity.limits.MAX_KL_BINS); "
            "give fewer bins per dimension or leave out the kl statistic"
        )
    offsets = np.concatenate([[0], np.cumsum(n_bins)[:-1]]).astype(np.intp)
    return Binning(tuple(edges), codes + offsets, n_bins, offsets)


def kl_from_counts(
    counts_x: np.ndarray,
    counts_y: np.ndarray,
    binning: Binning,
    n: int,
    m: int,
    smoothing: float = 0.5,
    direction: Direction = "forward",
) -> np.ndarray:
    """Binned KL summed over dimensions from per-bin counts (total_bins × k splits).

    Examples
    --------
    >>> b = shared_bins(np.array([[0.0], [1.0]]), bins=2)
    >>> kl = kl_from_counts(np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]]), b, 1, 1, 1.0)
    >>> round(float(kl[0]), 6)  # p = (2/3, 1/3), q = (1/3, 2/3): KL = log(2) / 3
    0.231049
    """
    per_bin_alpha = smoothing
    dim_bins = np.repeat(binning.n_bins, binning.n_bins)[:, None]
    p = (counts_x + per_bin_alpha) / (n + dim_bins * per_bin_alpha)
    q = (counts_y + per_bin_alpha) / (m + dim_bins * per_bin_alpha)
    log_ratio = np.log(p) - np.log(q)
    if direction == "forward":
        terms = p * log_ratio
    elif direction == "reverse":
        terms = -q * log_ratio
    else:
        terms = (p - q) * log_ratio
    return terms.sum(axis=0)


def _check_kl_args(smoothing: float, direction: str) -> None:
    if direction not in KL_DIRECTIONS:
        raise ParityInputError(f"`direction` must be one of {KL_DIRECTIONS}; got {direction!r}")
    if not np.isfinite(smoothing) or smoothing <= 0:
        raise ParityInputError(
            f"`smoothing` must be a positive pseudo-count per bin (empty bins make KL infinite); "
            f"got {smoothing!r}"
        )


def binned_kl(
    reference,
    candidate,
    *,
    bins: int | str = "auto",
    smoothing: float = 0.5,
    direction: Direction = "forward",
) -> float:
    """KL divergence between per-dimension histograms of the two samples, summed over dimensions.

    Parameters
    ----------
    reference, candidate : array_like, shape (n, d) and (m, d)
        Reference and candidate samples.
    bins : int or str
        Bins per dimension, or a ``numpy.histogram_bin_edges`` rule; edges come from the pooled
        sample, so both histograms share them.
    smoothing : float
        Additive pseudo-count per bin (0.5 is the Krichevsky–Trofimov / Jeffreys choice):
        ``p_k = (count_k + smoothing) / (n + K * smoothing)``.
    direction : {"forward", "reverse", "symmetric"}
        ``forward`` is KL(P_reference ‖ P_candidate) (how badly the candidate's histogram codes
        the reference), ``reverse`` is KL(P_candidate ‖ P_reference), ``symmetric`` their sum
        (Jeffreys divergence).

    Examples
    --------
    >>> binned_kl([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], bins=2)
    0.0
    """
    _check_kl_args(smoothing, direction)
    x, y, z = _pooled(reference, candidate)
    binning = shared_bins(z, bins)
    n, m = x.shape[0], y.shape[0]
    counts_x = binning.counts(slice(0, n))[:, None]
    counts_y = binning.counts(slice(n, None))[:, None]
    return float(kl_from_counts(counts_x, counts_y, binning, n, m, smoothing, direction)[0])


__all__ = [
    "DEFAULT_BANDWIDTH_FACTORS",
    "DEFAULT_KERNELS",
    "KERNELS",
    "bandwidth_collection",
    "binned_kl",
    "distance_function",
    "energy_distance",
    "gram_matrices",
    "median_heuristic",
    "mmd2",
    "numpy_cdist",
    "pairwise_sq_distances",
    "pdist",
    "rbf_gram",
    "shared_bins",
]
