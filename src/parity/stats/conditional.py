"""Conditional parity on shared observations: a within-observation permutation test.

An optimized policy is usually evaluated on the same n observations as the original: for each
observation i, k_ref actions from the reference and k_cand from the candidate (arrays
n × k × d). Pooling all actions loses that pairing: a change that is small against the spread
across observations but large within one (a tiny offset whose sign depends on the observation)
leaves the pooled distributions equal. This test keeps the pairing.

Statistic. ``T = Σ_i D(x_i, y_i)``, the sum over observations of a within-observation
two-sample statistic ``D``: MMD² with one multi-bandwidth RBF kernel for all observations, or the
energy distance (definitions in :mod:`parity.stats.two_sample`).

Null. Reference/candidate labels are permuted within each observation, independently across
observations: the test is exact under "the conditional distributions of the two policies are
equal at every observation". When the number of distinct relabellings ``Π_i C(K, k_ref)``
(``K = k_ref + k_cand``) is at most B they are all enumerated (exact p-value); otherwise B random
ones are drawn and ``p = (1 + #{null ≥ observed}) / (1 + B)``, with the relative tie tolerance and
the Westfall–Young min-p family p-value of :mod:`parity.stats.permutation`.

Computation. The engine works on *strata* (here: observations) of equal size, stacked: per
stratum Gram blocks (g × K × K), never the full (gK)² matrix. For a block of relabellings held as
0/1 rows (g × b × K), one batched product with the stacked Gram blocks of all statistics gives
every ``a'Ga`` and ``a'G1``; strata are processed in chunks whose products fit in cache. In exact
mode each stratum's statistic is tabulated over its C(K, k) splits and the null is the sum of the
tables over the Cartesian product of strata. :mod:`parity.stats.text` uses the same engine with
prompts as strata (of unequal sizes, grouped by size).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np

from parity.errors import DegenerateDataWarning, ParityInputError, check_positive_int
from parity.stats._common import RngLike, as_generator
from parity.stats._engine import (
    DEFAULT_AGGREGATION,
    Statistic,
    StatisticResult,
    TwoSampleTestResult,
    assemble,
    check_aggregation,
    family_method,
    recording_warnings,
    resolve_tie_rtol,
)
from parity.stats.permutation import (
    AUTO_FLOAT32_FROM,
    BLOCK_BYTES,
    PRECISIONS,
    split_blocks,
    standardize_pooled,
)
from parity.stats.permutation import warn_few_samples as _warn_few_samples
from parity.stats.two_sample import (
    DEFAULT_BANDWIDTH_FACTORS,
    DEFAULT_KERNELS,
    MMD_ESTIMATORS,
    SplitSums,
    check_kernels,
    collection_from_distances,
    distance_function,
    energy_from_sums,
    kernel_rows,
    mmd2_from_sums,
    resolve_bandwidths,
    unit_scale,
)

CONDITIONAL_STATISTICS = ("mmd", "energy")
MIN_PER_SIDE = 2  # samples per observation and side (the unbiased MMD² needs 2)
CHUNK_BYTES = 4 * 2**20  # working set of one chunk of strata (its products stay in cache)
PART_ROWS = 16  # random splits are drawn part by part, from tables of all 2^16 row patterns
MEDIAN_MAX_PAIRS = 2**22  # within-observation pairs used by the median heuristic


# --------------------------------------------------------------------------- the stratified engine


@dataclass(frozen=True, slots=True)
class Component:
    """A quadratic-form component of the engine: ``combine`` maps per-stratum sums to values."""

    name: str
    combine: Callable[[SplitSums], Any]
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StratumGroup:
    """Strata of equal sizes, stacked: ``grams`` is (g × S × K × K), rows ordered [x; y].

    ``strata`` holds the caller's index of each stratum; ``n_x`` the x-rows of each (the first
    ``n_x`` rows: the observed split); S is the number of statistics, in the engine's order.
    """

    strata: np.ndarray
    n_x: int
    grams: np.ndarray
    dtype: type = np.float64
    stacked: np.ndarray = field(init=False)
    totals: np.ndarray = field(init=False)
    diag: np.ndarray = field(init=False)
    constant_diag: bool = field(init=False)

    def __post_init__(self) -> None:
        g, s, k, _ = self.grams.shape
        grams = self.grams.astype(self.dtype, copy=False)
        # Row k of the stacked block is [G_1[k, :], ..., G_S[k, :]]; each G is symmetric, so
        # splits (b × K) @ stacked (K × SK) gives every statistic's G a at once.
        stacked = np.ascontiguousarray(grams.transpose(0, 2, 1, 3).reshape(g, k, s * k))
        diag = np.diagonal(grams, axis1=2, axis2=3).astype(np.float64)
        object.__setattr__(self, "stacked", stacked)
        object.__setattr__(self, "totals", grams.sum(axis=(2, 3), dtype=np.float64))
        object.__setattr__(self, "diag", diag)
        object.__setattr__(self, "constant_diag", bool(np.all(diag == diag[..., :1])))

    @property
    def size(self) -> int:
        """Rows K of each stratum."""
        return self.grams.shape[2]

    @property
    def n_splits(self) -> int:
        """Distinct splits C(K, n_x) of one stratum."""
        return math.comb(self.size, self.n_x)

    def evaluate(self, rows: np.ndarray, lo: int, hi: int, stats: Sequence[Component]):
        """Per-stratum values and gross magnitudes, (c × b × S) each, of strata ``lo:hi``.

        ``rows`` (c × b × K) holds 0/1 splits of those strata; one batched product
        ``rows @ stacked`` gives ``G a`` for every split and statistic, and the float64 sums
        ``a'Ga``, ``a'G1`` come from it (``G`` symmetric).
        """
        a = rows.astype(self.dtype, copy=False)
        c, b, k = a.shape
        s = len(stats)
        product = np.matmul(a, self.stacked[lo:hi]).reshape(c, b, s, k)
        if self.dtype == np.float64:
            xx = np.einsum("gbk,gbsk->gbs", a, product)
        else:
            xx = np.einsum("gbk,gbsk->gbs", a, product, dtype=np.float64)
        x_rows = product.sum(axis=3, dtype=np.float64)
        totals = self.totals[lo:hi, None, :]
        trace = self.diag[lo:hi].sum(axis=2)[:, None, :]
        if self.constant_diag:
            trace_x = np.broadcast_to(self.n_x * self.diag[lo:hi, None, :, 0], xx.shape)
        else:
            trace_x = np.einsum("gbk,gsk->gbs", a, self.diag[lo:hi], dtype=np.float64)
        values = np.empty((c, b, s))
        scales = np.empty((c, b, s))
        for j, stat in enumerate(stats):
            sums = SplitSums(
                xx=xx[..., j],
                yy=totals[..., j] - 2 * x_rows[..., j] + xx[..., j],
                xy=x_rows[..., j] - xx[..., j],
                trace_x=trace_x[..., j],
                trace_y=trace[..., j] - trace_x[..., j],
                n=self.n_x,
                m=k - self.n_x,
            )
            values[..., j] = stat.combine(sums)
            scales[..., j] = sums.scale
        return values, scales


@dataclass(frozen=True, slots=True)
class StratifiedNull:
    """The engine's output: each statistic's values on every evaluated relabelling.

    ``null`` (R × S) starts with the observed relabelling; ``observed`` (strata × S) holds each
    stratum's term of the observed statistic; ``scale`` (S,) the observed gross magnitude.
    """

    null: np.ndarray
    observed: np.ndarray
    scale: np.ndarray
    exact: bool
    n_relabellings: int


def _count_relabellings(groups: Sequence[StratumGroup], limit: int) -> int:
    """Π over strata of C(K, n_x), or ``limit + 1`` as soon as the product exceeds ``limit``."""
    total = 1
    for group in groups:
        for _ in range(group.grams.shape[0]):
            total *= group.n_splits
            if total > limit:
                return limit + 1
    return total


def _all_splits(k: int, n_x: int) -> np.ndarray:
    """Every split of k rows with n_x x-rows as (C × k) uint8 rows, the observed one first."""
    total = math.comb(k, n_x)
    block = next(
        split_blocks(k, n_x, total, exact=True, rng=None, block_size=total, dtype=np.uint8)
    )
    return np.ascontiguousarray(block.T)


def _chunk_strata(group: StratumGroup, b: int, n_stats: int) -> int:
    """Strata per chunk so that one chunk's float64 products stay within CHUNK_BYTES."""
    return max(1, CHUNK_BYTES // (8 * b * group.size * (n_stats + 1)))


def _evaluate_group(group, rows, stats, out_values, out_scales=None) -> None:
    """Evaluate ``rows`` (g × b × K) chunk by chunk into out_values[g, b, S] (and scales)."""
    step = _chunk_strata(group, rows.shape[1], len(stats))
    for lo in range(0, rows.shape[0], step):
        hi = min(lo + step, rows.shape[0])
        values, scales = group.evaluate(rows[lo:hi], lo, hi, stats)
        out_values[lo:hi] = values
        if out_scales is not None:
            out_scales[lo:hi] = scales


def _exact_null(groups, n_strata, stats) -> StratifiedNull:
    """Tabulate every stratum over its splits; the null is the sum over the Cartesian product."""
    s = len(stats)
    tables: list[np.ndarray | None] = [None] * n_strata
    observed = np.empty((n_strata, s))
    scale = np.zeros(s)
    for group in groups:
        splits = _all_splits(group.size, group.n_x)
        g = group.grams.shape[0]
        values = np.empty((g, splits.shape[0], s))
        scales = np.empty((g, splits.shape[0], s))
        _evaluate_group(group, np.broadcast_to(splits, (g, *splits.shape)), stats, values, scales)
        for j, stratum in enumerate(group.strata):
            tables[stratum] = values[j]
        observed[group.strata] = values[:, 0]
        scale += scales[:, 0].sum(axis=0)
    null = tables[0]
    for table in tables[1:]:
        null = (null[:, None, :] + table[None, :, :]).reshape(-1, s)
    return StratifiedNull(null, observed, scale, True, null.shape[0])


@functools.cache
def _patterns(h: int) -> tuple[np.ndarray, np.ndarray]:
    """All 2^h 0/1 rows of width h sorted by their number of ones, and where each count starts.

    ``table[offsets[c] : offsets[c + 1]]`` are the C(h, c) rows with c ones.
    """
    table = ((np.arange(2**h)[:, None] >> np.arange(h)) & 1).astype(np.uint8)
    ones = table.sum(axis=1)
    table = table[np.argsort(ones, kind="stable")]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(ones, minlength=h + 1))])
    table.flags.writeable = False
    return table, offsets


def _ways(parts: Sequence[int], n_x: int) -> list[list[int]]:
    """``ways[j][c]``: the number of 0/1 patterns of parts j, j+1, … with c ones in all."""
    ways = [[1] + [0] * n_x]
    for h in reversed(parts):
        after = ways[0]
        ways.insert(
            0,
            [
                sum(math.comb(h, a) * after[c - a] for a in range(min(h, c) + 1))
                for c in range(n_x + 1)
            ],
        )
    return ways


def _unrank_ones(rank: np.ndarray, h: int, r: int, after: list[int]):
    """How many of r ones fall in a part of h rows, and the rank within that choice.

    Ranks are blocked by a = 0, 1, …: block a holds ``C(h, a) × after[r - a]`` patterns.
    """
    blocks = np.array(
        [math.comb(h, a) * after[r - a] if a <= r else 0 for a in range(h + 1)], dtype=np.int64
    )
    ends = np.cumsum(blocks)
    ones = np.searchsorted(ends, rank, side="right")
    return ones, rank - (ends - blocks)[ones]


def random_splits(rng: np.random.Generator, k: int, n_x: int, size: int) -> np.ndarray:
    """``size`` uniformly random splits of k rows with n_x x-rows, as (size × k) uint8 rows.

    Each split is one uniform integer rank in [0, C(k, n_x)), unranked part by part: the rows
    are cut into parts of at most PART_ROWS, the rank chooses how many x-rows each part holds
    and then which (a lookup in a table of the part's patterns). Exactly uniform. When
    C(k, n_x) does not fit in 63 bits, each row is a random permutation of the observed split.

    Examples
    --------
    >>> rows = random_splits(np.random.default_rng(0), 20, 7, 1000)
    >>> rows.shape, bool(np.all(rows.sum(axis=1) == 7))
    ((1000, 20), True)
    """
    total = math.comb(k, n_x)
    if total >= 2**63:
        base = np.zeros(k, dtype=np.uint8)
        base[:n_x] = 1
        return rng.permuted(np.tile(base, (size, 1)), axis=1)
    parts = [p.size for p in np.array_split(np.arange(k), -(-k // PART_ROWS))]
    ways = _ways(parts, n_x)
    rank = rng.integers(0, total, size=size, dtype=np.int64)
    remaining = np.full(size, n_x, dtype=np.int64)
    out = []
    for j, h in enumerate(parts):
        table, offsets = _patterns(h)
        if j == len(parts) - 1:
            ones = remaining
        elif j == 0:
            ones, rank = _unrank_ones(rank, h, n_x, ways[1])
        else:
            ones = np.empty_like(remaining)
            placed = sum(parts[:j])
            for r in range(max(0, n_x - placed), n_x + 1):
                rows = remaining == r
                ones[rows], rank[rows] = _unrank_ones(rank[rows], h, r, ways[j + 1])
        rest = np.array(ways[j + 1], dtype=np.int64)[remaining - ones]
        index, rank = np.divmod(rank, rest)
        out.append(table[offsets[ones] + index])
        remaining -= ones
    return np.concatenate(out, axis=1)


def _random_rows(rng, group: StratumGroup, b: int, first: bool) -> np.ndarray:
    """(g × b × K) uint8 random splits of every stratum; the observed split first if ``first``."""
    g, k = group.grams.shape[0], group.size
    rows = random_splits(rng, k, group.n_x, g * (b - first)).reshape(g, b - first, k)
    if first:
        observed = np.zeros((g, 1, k), dtype=np.uint8)
        observed[..., : group.n_x] = 1
        rows = np.concatenate([observed, rows], axis=1)
    return rows


def _random_null(groups, n_strata, stats, n_resamples, rng) -> StratifiedNull:
    """The observed relabelling and ``n_resamples`` random ones, in blocks."""
    s = len(stats)
    n_values = n_resamples + 1
    # Bytes per relabelling of all strata: the uint8 rows and random_splits' int64 temporaries.
    rows_per_split = sum(g.grams.shape[0] * (g.size + 64) for g in groups)
    largest = max(g.size for g in groups)
    block = min(BLOCK_BYTES // rows_per_split, BLOCK_BYTES // (8 * (s + 1) * largest))
    block = int(min(max(block, 16), n_values))
    null = np.zeros((n_values, s))
    observed = np.empty((n_strata, s))
    scale = np.zeros(s)
    for start in range(0, n_values, block):
        b = min(block, n_values - start)
        for group in groups:
            rows = _random_rows(rng, group, b, first=start == 0)
            values = np.empty((rows.shape[0], b, s))
            scales = np.empty_like(values) if start == 0 else None
            _evaluate_group(group, rows, stats, values, scales)
            null[start : start + b] += values.sum(axis=0)
            if start == 0:
                observed[group.strata] = values[:, 0]
                scale += scales[:, 0].sum(axis=0)
    return StratifiedNull(null, observed, scale, False, n_values)


def stratified_null(
    groups: Sequence[StratumGroup],
    stats: Sequence[Component],
    n_resamples: int,
    rng: np.random.Generator,
) -> StratifiedNull:
    """Statistics ``Σ_strata D`` on relabellings within every stratum, shared by all statistics.

    Exact enumeration when the number of distinct relabellings is at most ``n_resamples``,
    else the observed relabelling and ``n_resamples`` uniformly random ones.
    """
    n_strata = sum(g.grams.shape[0] for g in groups)
    if _count_relabellings(groups, n_resamples) <= n_resamples:
        return _exact_null(groups, n_strata, stats)
    return _random_null(groups, n_strata, stats, n_resamples, rng)


def _method(outcome: StratifiedNull, unit: str | None, n_resamples: int, precision: str) -> str:
    where = f"within-{unit} " if unit else ""
    what = "relabellings" if unit else "splits"
    if outcome.exact:
        base = f"exact {where}permutation test (all {outcome.n_relabellings} {what})"
    else:
        base = f"{where}permutation test ({n_resamples} random {what})"
    if precision == "float32":
        base += ", float32 Gram products with float64 accumulation"
    return base


def assemble_result(
    outcome: StratifiedNull,
    statistics: Sequence[Statistic],
    *,
    unit: str | None,
    n_resamples: int,
    precision: str,
    tie_rtol: float,
    counts: tuple[int, int, int],
    standardized: bool,
    notes: tuple[str, ...],
    details: dict[str, Any],
) -> TwoSampleTestResult:
    """The family result of ``outcome`` (its columns grouped into ``statistics``).

    ``counts`` is (n_x, n_y, dim) of the result. Same rules as
    :func:`parity.stats.permutation.two_sample_test` (:mod:`parity.stats._engine`).
    """
    where = f" (within-{unit} permutation)" if unit else ""
    return assemble(
        outcome.null,
        outcome.scale,
        statistics,
        exact=outcome.exact,
        n_resamples=n_resamples,
        method=_method(outcome, unit, n_resamples, precision),
        family_method=family_method(statistics, where),
        precision=precision,
        tie_rtol=tie_rtol,
        counts=counts,
        standardized=standardized,
        notes=notes,
        details=details,
    )


def strongest_column(result: StatisticResult, stat: Statistic) -> int:
    """The null column of ``stat`` whose component has the smallest p-value (its only one when
    it is not aggregated): the one whose per-stratum terms are worth showing."""
    kernels = result.parameters.get("kernels")
    if not kernels:
        return stat.columns[0]
    return stat.columns[int(np.argmin([k["pvalue"] for k in kernels]))]


def warn_few_samples_in_all(n_x: int, n_y: int) -> None:
    """The few-samples warning, with the sizes summed over strata."""
    _warn_few_samples(n_x, n_y, f"{n_x} reference, {n_y} candidate in all")


def top_contributions(terms: np.ndarray, labels: Sequence[Any], top: int) -> list[list[Any]]:
    """The ``top`` largest per-stratum terms as ``[label, value, share]``, largest first.

    ``share`` is the term over the statistic (the sum of all terms); ``None`` when that sum is
    not positive. Ties keep the strata's order.

    Examples
    --------
    >>> top_contributions(np.array([0.1, 0.6, 0.3]), ["a", "b", "c"], 2)
    [['b', 0.6, 0.6], ['c', 0.3, 0.3]]
    """
    total = float(terms.sum())
    order = np.argsort(-terms, kind="stable")[:top]
    return [
        [labels[i], float(terms[i]), float(terms[i] / total) if total > 0 else None] for i in order
    ]


def resolve_precision(precision: str, largest_stratum: int, tie_rtol: float | None):
    """(precision, dtype, tie_rtol) from the options; ``auto`` picks float32 from K = 2048."""
    if precision not in PRECISIONS:
        raise ParityInputError(f"`precision` must be one of {PRECISIONS}; got {precision!r}")
    if precision == "auto":
        precision = "float32" if largest_stratum >= AUTO_FLOAT32_FROM else "float64"
    tie_rtol = resolve_tie_rtol(tie_rtol, precision)
    return precision, (np.float32 if precision == "float32" else np.float64), tie_rtol


# --------------------------------------------------------------------------- the conditional test


def _as_conditional(name: str, a: Any) -> np.ndarray:
    """``a`` as a finite float64 (n × k × d) array; 2-D input means d = 1."""
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParityInputError(
            f"`{name}` must be a numeric array (n × k × d); got {type(a).__name__}"
        ) from None
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ParityInputError(
            f"`{name}` must be 2-D (n × k) or 3-D (observations × samples × d); "
            f"got shape {arr.shape}"
        )
    if arr.shape[0] < 1 or arr.shape[2] < 1:
        raise ParityInputError(
            f"`{name}` needs at least one observation and one column; got shape {arr.shape}"
        )
    if arr.shape[1] < MIN_PER_SIDE:
        raise ParityInputError(
            f"`{name}` must have at least {MIN_PER_SIDE} samples per observation (axis 1); "
            f"got {arr.shape[1]}"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=(1, 2)))
        shown = ", ".join(str(r) for r in rows[:5]) + (", …" if rows.size > 5 else "")
        raise ParityInputError(
            f"`{name}` has {int(bad.sum())} NaN/inf values (observations {shown}); "
            "values must be finite"
        )
    return arr


def _check_statistics(statistics) -> tuple[str, ...]:
    statistics = (statistics,) if isinstance(statistics, str) else tuple(statistics)
    if "kl" in statistics:
        raise ParityInputError(
            "`statistics`: 'kl' is not supported by the conditional test (a per-observation "
            f"histogram of a few samples is meaningless); choose from {CONDITIONAL_STATISTICS}"
        )
    unknown = [s for s in statistics if s not in CONDITIONAL_STATISTICS]
    if not statistics or unknown or len(set(statistics)) != len(statistics):
        raise ParityInputError(
            f"`statistics` must be distinct names from {CONDITIONAL_STATISTICS}; "
            f"got {list(statistics)!r}"
        )
    return statistics


def within_sq_distances(z: np.ndarray, metric: str = "sqeuclidean") -> np.ndarray:
    """Squared Euclidean distances within each observation: (n × K × d) → (n × K × K), float64.

    Exact differences (:func:`parity.stats.two_sample.distance_function`, the bits of
    ``scipy.spatial.distance.cdist``), so identical rows are exactly 0 apart;
    ``metric="cityblock"`` gives L1 distances instead.

    Examples
    --------
    >>> within_sq_distances(np.array([[[0.0], [3.0]], [[1.0], [1.0]]]))[:, 0, 1]
    array([9., 0.])
    """
    z = np.asarray(z, dtype=np.float64)
    return distance_function(z.size * z.shape[1], metric)(z, z)


def within_distances(sq: np.ndarray, max_pairs: int = MEDIAN_MAX_PAIRS) -> tuple[np.ndarray, int]:
    """Euclidean distances of the within-observation pairs of distinct rows, and how many
    observations they come from (evenly spaced by index beyond ``max_pairs`` pairs, so that the
    choice does not depend on the labels).

    Examples
    --------
    >>> within_distances(within_sq_distances(np.array([[[0.0], [1.0], [3.0]]])))
    (array([1., 3., 2.]), 1)
    """
    n, k, _ = sq.shape
    per_observation = k * (k - 1) // 2
    used = max(1, min(n, max_pairs // max(per_observation, 1)))
    chosen = np.linspace(0, n - 1, used).round().astype(np.intp) if used < n else slice(None)
    upper = np.triu_indices(k, 1)
    return np.sqrt(sq[chosen][:, upper[0], upper[1]]).ravel(), used


def within_median(sq: np.ndarray, max_pairs: int = MEDIAN_MAX_PAIRS) -> tuple[float, int, int]:
    """Median Euclidean distance over the within-observation pairs of distinct rows.

    ``sq`` is (n × K × K) squared distances. The pairs are those of the same observation's
    pooled rows, over all observations; when there are more than ``max_pairs`` the observations
    are taken evenly spaced (by index), so the choice does not depend on the labels. Falls back
    to the mean positive distance when over half of the pairs coincide, and to 1 when all do
    (both with a :class:`~parity.errors.DegenerateDataWarning`).

    Returns
    -------
    (median, pairs_used, observations_used)

    Examples
    --------
    >>> sq = within_sq_distances(np.array([[[0.0], [1.0], [3.0]], [[0.0], [4.0], [4.0]]]))
    >>> within_median(sq)  # distances 1, 2, 3 and 4, 4, 0
    (2.5, 6, 2)
    """
    distances, used = within_distances(sq, max_pairs)
    median = float(np.median(distances))
    if median > 0:
        return median, distances.size, used
    positive = distances[distances > 0]
    if positive.size:
        warnings.warn(
            "median heuristic: over half of the within-observation distances are 0; "
            "using the mean positive distance as the bandwidth",
            DegenerateDataWarning,
            stacklevel=3,
        )
        return float(positive.mean()), distances.size, used
    warnings.warn(
        "median heuristic: all samples coincide within every observation; using bandwidth 1",
        DegenerateDataWarning,
        stacklevel=3,
    )
    return 1.0, distances.size, used


def _bandwidths(sq, bandwidths, factors) -> tuple[tuple[float, ...], str | None]:
    """The RBF bandwidths of ``sum`` and, for the median heuristic, the rule that produced
    them."""
    if bandwidths is not None:
        return resolve_bandwidths(np.zeros((1, 1)), bandwidths), None
    if len(factors) == 0 or any(not np.isfinite(f) or f <= 0 for f in factors):
        raise ParityInputError(
            f"`bandwidth_factors` must be a non-empty list of positive numbers; got {factors!r}"
        )
    median, pairs, used = within_median(sq)
    rule = (
        f"median within-observation pairwise distance over {pairs} pairs of {used} of "
        f"{sq.shape[0]} observations × {list(factors)}"
    )
    return tuple(float(median * f) for f in factors), rule


def _collection(z, sq, kind, bandwidths) -> tuple[tuple[float, ...], str | None]:
    """The bandwidths of one kernel type of ``agg``/``fuse``: from the within-observation
    distances (Euclidean or L1) by :func:`parity.stats.two_sample.collection_from_distances`."""
    if bandwidths is not None:
        return resolve_bandwidths(np.zeros((1, 1)), bandwidths), None
    metric = sq if kind == "gaussian" else within_sq_distances(z, "cityblock") ** 2
    distances, used = within_distances(metric)
    rule = (
        f"powers of 2 from half the 5% quantile up to twice the 95% quantile of {distances.size} "
        f"within-observation distances of {used} of {sq.shape[0]} observations"
    )
    return collection_from_distances(distances), rule


def _scaled_energy(sums: SplitSums, unit: float):
    return unit * energy_from_sums(sums)


def _conditional_plans(z, k_ref, statistics, dtype, options):
    """The stratum group (one stratum per observation), its components and the statistics."""
    n, _, d = z.shape
    unit = unit_scale(z.reshape(-1, d))
    sq = within_sq_distances(z / unit)
    grams, components, stats = [], [], []
    mmd = partial(mmd2_from_sums, estimator=options["mmd_estimator"])
    for name in statistics:
        first = len(components)
        if name == "energy":
            grams.append(np.sqrt(sq))
            components.append(Component("energy", partial(_scaled_energy, unit=unit), {}))
            stats.append(Statistic("energy", (first,), {"estimator": "V"}))
            continue
        parameters = {"estimator": options["mmd_estimator"]}
        if options["aggregation"] == "sum":
            bws, rule = _bandwidths(sq * unit**2, options["bandwidths"], options["factors"])
            kernel = np.zeros_like(sq)
            for s in bws:
                kernel += np.exp(sq * (-0.5 / (s / unit) ** 2))
            parameters.update(bandwidths=list(bws), kernel="sum of RBF")
            if rule is not None:
                parameters["bandwidth_rule"] = rule
            grams.append(kernel)
            components.append(Component("mmd", mmd, {}))
            stats.append(Statistic("mmd", (first,), parameters))
            continue
        described = []
        for kind in options["kernels"]:
            l1 = within_sq_distances(z / unit, "cityblock") if kind == "laplace" else None
            bws, rule = _collection(z, sq * unit**2, kind, options["bandwidths"])
            for bw in bws:
                grams.append(kernel_rows(kind, bw / unit, sq, l1, np.float64))
                components.append(Component("mmd", mmd, {}))
                described.append({"kernel": kind, "bandwidth": bw})
            if rule is not None:
                parameters["bandwidth_rule"] = rule
        parameters["kernel"] = " and ".join(options["kernels"])
        columns = tuple(range(first, len(components)))
        aggregation = options["aggregation"] if len(columns) > 1 else None
        stats.append(Statistic("mmd", columns, parameters, aggregation, tuple(described)))
    group = StratumGroup(np.arange(n), k_ref, np.stack(grams, axis=1), dtype)
    return group, components, stats


def conditional_two_sample_test(
    reference,
    candidate,
    statistics: Sequence[str] | str = CONDITIONAL_STATISTICS,
    n_resamples: int = 1000,
    rng: RngLike = None,
    *,
    aggregation: Literal["agg", "fuse", "sum"] = DEFAULT_AGGREGATION,
    kernels: Sequence[str] | str = DEFAULT_KERNELS,
    standardize: bool = False,
    bandwidths: float | Sequence[float] | None = None,
    bandwidth_factors: Sequence[float] = DEFAULT_BANDWIDTH_FACTORS,
    mmd_estimator: Literal["unbiased", "biased"] = "unbiased",
    precision: Literal["auto", "float32", "float64"] = "auto",
    tie_rtol: float | None = None,
    top: int = 10,
) -> TwoSampleTestResult:
    """Within-observation permutation test of two policies evaluated on the same observations.

    The statistic is ``Σ_i D(x_i, y_i)`` over observations i, with ``D`` the within-observation
    MMD² or energy distance; labels are permuted within each observation only, so the test is
    exact under "same conditional distribution at every observation".

    Parameters
    ----------
    reference, candidate : array_like, shape (n, k_ref, d) and (n, k_cand, d)
        Samples of each policy at each of the same n observations (2-D (n, k) means d = 1);
        k_ref and k_cand may differ, both must be at least 2.
    statistics : sequence of {"mmd", "energy"}
        Statistics to test on the same relabellings ("kl" is not supported here).
    n_resamples : int
        Number B of random relabellings; when the number of distinct within-observation
        relabellings ``C(k_ref + k_cand, k_ref) ** n`` is at most B, all are enumerated.
    rng : None, int or numpy.random.Generator
        Source of the random relabellings.
    aggregation, kernels
        As in :func:`parity.stats.permutation.two_sample_test`; the bandwidth collection (and
        the median heuristic of ``sum``) come from the distances over all within-observation
        pairs of samples (both policies' samples of the same observation, over all
        observations; evenly spaced observations beyond 2^22 pairs), computed once, so that
        every observation uses the same kernels.
    standardize : bool
        Centre and scale each column by its standard deviation over all samples first.
    bandwidths, bandwidth_factors, mmd_estimator
        As in :func:`parity.stats.permutation.two_sample_test`.
    precision : {"auto", "float32", "float64"}
        Precision of the Gram products (reductions are float64); ``auto`` picks float32 when
        ``k_ref + k_cand >= 2048``.
    tie_rtol : float, optional
        Relative tie tolerance, as in :func:`parity.stats.permutation.two_sample_test`.
    top : int
        Number of observations listed in ``details["contributions"]``.

    Returns
    -------
    TwoSampleTestResult
        ``details`` holds ``design`` ("conditional"), ``n_observations``, ``k_reference``,
        ``k_candidate`` and ``contributions``: per statistic, the ``top`` observations with the
        largest terms as ``[observation_index, value, share]`` (share of the statistic; for an
        aggregated MMD, of its kernel with the smallest p-value).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(scale=5.0, size=(100, 1, 2))
    >>> x = centres + rng.normal(size=(100, 8, 2))
    >>> sign = np.where(np.arange(100) % 2 == 0, 1.0, -1.0)[:, None, None]
    >>> y = centres + rng.normal(size=(100, 8, 2)) + 0.7 * sign
    >>> res = conditional_two_sample_test(x, y, n_resamples=199, rng=1)
    >>> res.pvalue
    0.01
    """
    statistics = _check_statistics(statistics)
    n_resamples = check_positive_int("n_resamples", n_resamples)
    top = check_positive_int("top", top, minimum=0)
    if mmd_estimator not in MMD_ESTIMATORS:
        raise ParityInputError(
            f"`mmd_estimator` must be one of {MMD_ESTIMATORS}; got {mmd_estimator!r}"
        )
    x = _as_conditional("reference", reference)
    y = _as_conditional("candidate", candidate)
    if x.shape[0] != y.shape[0]:
        raise ParityInputError(
            "`reference` and `candidate` must have the same number of observations (axis 0); "
            f"got {x.shape[0]} and {y.shape[0]}"
        )
    if x.shape[2] != y.shape[2]:
        raise ParityInputError(
            "`reference` and `candidate` must have the same dimension d (axis 2); "
            f"got {x.shape[2]} and {y.shape[2]}"
        )
    n, k_ref, d = x.shape
    k_cand = y.shape[1]
    precision, dtype, tie_rtol = resolve_precision(precision, k_ref + k_cand, tie_rtol)
    generator = as_generator(rng)
    z = np.concatenate([x, y], axis=1)
    if standardize:
        z = standardize_pooled(z.reshape(-1, d)).reshape(z.shape)
    options = {
        "aggregation": check_aggregation(aggregation),
        "kernels": check_kernels(kernels),
        "bandwidths": bandwidths,
        "factors": bandwidth_factors,
        "mmd_estimator": mmd_estimator,
    }
    notes: list[str] = []
    with recording_warnings(notes):
        warn_few_samples_in_all(n * k_ref, n * k_cand)
        group, components, stats = _conditional_plans(z, k_ref, statistics, dtype, options)

    outcome = stratified_null([group], components, n_resamples, generator)
    details = {
        "design": "conditional",
        "n_observations": n,
        "k_reference": k_ref,
        "k_candidate": k_cand,
    }
    result = assemble_result(
        outcome,
        stats,
        unit="observation",
        n_resamples=n_resamples,
        precision=precision,
        tie_rtol=tie_rtol,
        counts=(n * k_ref, n * k_cand, d),
        standardized=standardize,
        notes=tuple(notes),
        details=details,
    )
    labels = list(range(n))
    details["contributions"] = {
        stat.name: top_contributions(
            outcome.observed[:, strongest_column(result.results[stat.name], stat)], labels, top
        )
        for stat in stats
    }
    return result


__all__ = [
    "CONDITIONAL_STATISTICS",
    "Component",
    "conditional_two_sample_test",
    "within_median",
    "within_sq_distances",
]
