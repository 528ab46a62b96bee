"""The permutation engine: exact two-sample p-values for several statistics at once.

For a split of the pooled sample z = [x; y] into x-rows and y-rows, write ``a`` for the 0/1
indicator of the x-rows. A quadratic-form statistic (MMD², energy distance) is a function of
``a'Ga``, ``a'G1``, ``1'G1`` and ``a'diag(G)`` for one pooled Gram matrix ``G`` (see
:class:`parity.stats.two_sample.SplitSums`). So for a block of b splits held as the columns of an
(N × b) 0/1 matrix ``A``, one matrix product ``G @ A`` gives all b statistics. ``G`` is computed
once; memory is bounded by the block size. The binned KL statistic is handled the same way: the
per-bin counts of a block of splits are one product of the (N × bins) one-hot matrix with ``A``.

Precision. With ``precision="float32"`` the product ``G @ A`` runs in float32 (``A`` is exactly
0/1), and every reduction after it accumulates in float64. The product's rounding error is a tiny
fraction of the *gross* magnitude of the statistic (``xx/n² + yy/m² + 2xy/nm``): measured at
6.4e-9 of it at N = 3 000 (``tests/test_permutation.py``) and 3.2e-9 at N = 10 000, against
the tie tolerance ``tie_rtol = 1e-6`` used in float32 mode; a null value within the tolerance
below the observed one counts as a tie (as ≥), which can only make the p-value larger.
``precision="float64"`` does everything in float64 (tie tolerance 1e-10) at about twice the cost.

p-values. All statistics share the same splits. With B random splits the p-value is
``(1 + #{null ≥ observed}) / (1 + B)``; when the number of distinct splits ``C(n+m, n)`` is at
most B every split is enumerated and the p-value is exact. The family p-value is the
Westfall–Young single-step min-p: each split's smallest per-statistic p-value, compared with the
observed one, over the same splits, which controls the family-wise error exactly.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np

from parity.errors import DegenerateDataWarning, ParityInputError, check_positive_int
from parity.stats._backend import resolve_backend
from parity.stats._common import RngLike, as_generator, as_samples, check_same_dim
from parity.stats._engine import (
    DEFAULT_AGGREGATION,
    TIE_RTOL,
    Statistic,
    StatisticResult,
    TwoSampleTestResult,
    assemble,
    check_aggregation,
    exceedance_counts,
    family_method,
    recording_warnings,
    resolve_tie_rtol,
)
from parity.stats.two_sample import (
    DEFAULT_BANDWIDTH_FACTORS,
    DEFAULT_KERNELS,
    KL_DIRECTIONS,
    MEDIAN_MAX_ROWS,
    MMD_ESTIMATORS,
    Binning,
    SplitSums,
    bandwidth_collection,
    check_kernels,
    energy_from_sums,
    for_row_blocks,
    kernel_rows,
    kl_from_counts,
    mmd2_from_sums,
    pairwise_distances,
    pairwise_sq_distances,
    resolve_bandwidths,
    shared_bins,
    unit_scale,
)

STATISTICS = ("mmd", "energy", "kl")
STATISTIC_LABELS = {
    "mmd": "MMD²",
    "energy": "energy distance",
    "kl": "binned KL",
    "mmd_hamming": "MMD² (Hamming kernel)",
    "mmd_ngram": "MMD² (n-gram cosine kernel)",
}
AGGREGATE_MEANINGS = {
    "agg": "−log10 of the smallest per-kernel p",
    "fuse": "log-sum-exp of standardized MMD²s",
}


def statistic_label(name: str, parameters: Mapping[str, Any] | None = None) -> str:
    """How reports name a statistic; an aggregated MMD says what its value is.

    Examples
    --------
    >>> statistic_label("mmd", {"aggregation": "agg", "kernels": [{}, {}]})
    'MMD² over 2 kernels (agg: −log10 of the smallest per-kernel p)'
    """
    label = STATISTIC_LABELS.get(name, name)
    aggregation = (parameters or {}).get("aggregation")
    if aggregation not in AGGREGATE_MEANINGS:
        return label
    count = len((parameters or {}).get("kernels", ()))
    return f"{label} over {count} kernels ({aggregation}: {AGGREGATE_MEANINGS[aggregation]})"


PRECISIONS = ("auto", "float32", "float64")
AUTO_FLOAT32_FROM = 2048  # pooled sample size from which precision="auto" picks float32
BLOCK_BYTES = 256 * 2**20  # memory budget of one block of splits (its (N × b) arrays)
GRAM_CACHE_BYTES = 2 * 2**30  # Gram matrices kept across blocks of splits, at most
MIN_SAMPLES_WARNING = 5


# --------------------------------------------------------------------------- components


@dataclass(frozen=True, slots=True)
class _Quadratic:
    """A quadratic-form component: its Gram matrix, row block by row block, and its formula.

    ``rows(sq, l1, out)`` turns the squared Euclidean (and L1) distances of a row block to
    every pooled row into that block of the Gram matrix, written into ``out``; ``combine`` maps
    the float64 split sums to the component's values.
    """

    rows: Callable[[np.ndarray, np.ndarray | None, np.ndarray], Any]
    combine: Callable[[SplitSums], Any]
    needs_l1: bool = False


def _rbf_sum_rows(sq, l1, out, scales, dtype):
    sq = sq.astype(dtype, copy=False)
    np.exp(np.multiply(sq, dtype(scales[0]), out=out), out=out)
    for c in scales[1:]:
        out += np.exp(sq * dtype(c))


def _distance_rows(sq, l1, out, dtype):
    if sq.dtype == out.dtype:
        np.sqrt(sq, out=out)
    else:
        out[...] = np.sqrt(sq)


def _scaled_energy(sums: SplitSums, unit: float):
    """Energy distance in the data's units from sums over distances in units of ``unit``."""
    return unit * energy_from_sums(sums)


def mmd_components(
    z: np.ndarray, unit: float, options: dict[str, Any]
) -> tuple[list[tuple[str, float]], dict[str, Any]]:
    """The MMD's kernels as (kernel type, bandwidth) pairs, and the statistic's parameters.

    ``agg``/``fuse``: every kernel type of ``options["kernels"]`` at every bandwidth of its
    collection (:func:`parity.stats.two_sample.bandwidth_collection`), or at the given
    ``bandwidths``; ``sum``: one component, the sum of Gaussian kernels at the median distance
    times each factor (or at the given bandwidths).
    """
    aggregation = options["aggregation"]
    estimator = options["mmd_estimator"]
    if aggregation == "sum":
        bws = resolve_bandwidths(z, options["bandwidths"], options["bandwidth_factors"])
        parameters = {"bandwidths": list(bws), "estimator": estimator, "kernel": "sum of RBF"}
        if options["bandwidths"] is None:
            rows = min(z.shape[0], MEDIAN_MAX_ROWS)
            parameters["bandwidth_rule"] = (
                f"median pairwise distance over {rows} of {z.shape[0]} pooled rows × "
                f"{list(options['bandwidth_factors'])}"
            )
        return [("sum", bw) for bw in bws], parameters
    kernels = []
    for kind in options["kernels"]:
        if options["bandwidths"] is None:
            bws = bandwidth_collection(z, kind)
        else:
            bws = resolve_bandwidths(z, options["bandwidths"])
        kernels += [(kind, bw) for bw in bws]
    parameters = {"estimator": estimator, "kernel": " and ".join(options["kernels"])}
    if options["bandwidths"] is None:
        rows = min(z.shape[0], MEDIAN_MAX_ROWS)
        parameters["bandwidth_rule"] = (
            f"powers of 2 from half the 5% quantile up to twice the 95% quantile of the pairwise "
            f"distances over {rows} of {z.shape[0]} pooled rows"
        )
    return kernels, parameters


def _build_components(z, n, statistics, dtype, options) -> tuple[list, list, list[Statistic]]:
    """The quadratic components, the binned components and the family's statistics."""
    unit = unit_scale(z)
    quadratic, binned, stats = [], [], []
    column = 0
    for name in statistics:
        if name == "mmd":
            kernels, parameters = mmd_components(z, unit, options)
            combine = partial(mmd2_from_sums, estimator=options["mmd_estimator"])
            if kernels[0][0] == "sum":
                scales = [-0.5 / (bw / unit) ** 2 for _, bw in kernels]
                rows = partial(_rbf_sum_rows, scales=scales, dtype=dtype)
                quadratic.append(_Quadratic(rows, combine))
                stats.append(Statistic("mmd", (column,), parameters))
                column += 1
                continue
            for kind, bw in kernels:
                rows = _kernel_rows_fn(kind, bw / unit, dtype)
                quadratic.append(_Quadratic(rows, combine, needs_l1=kind == "laplace"))
            components = tuple({"kernel": kind, "bandwidth": bw} for kind, bw in kernels)
            columns = tuple(range(column, column + len(kernels)))
            aggregation = options["aggregation"] if len(kernels) > 1 else None
            stats.append(Statistic("mmd", columns, parameters, aggregation, components))
            column += len(kernels)
        elif name == "energy":
            rows = partial(_distance_rows, dtype=dtype)
            quadratic.append(_Quadratic(rows, partial(_scaled_energy, unit=unit)))
            stats.append(Statistic("energy", (column,), {"estimator": "V"}))
            column += 1
    for name in statistics:  # binned columns come after the quadratic ones
        if name == "kl":
            binning = shared_bins(z, options["kl_bins"], name="kl_bins")
            smoothing, direction = options["kl_smoothing"], options["kl_direction"]
            parameters = {
                "bins": binning.n_bins.tolist(),
                "smoothing": smoothing,
                "direction": direction,
            }
            onehot_t = binning.indicator_t(np.float64)
            binned.append(_BinnedPlan("kl", onehot_t, binning, n, smoothing, direction, parameters))
            stats.append(Statistic("kl", (column,), parameters))
            column += 1
    return quadratic, binned, stats


def _kernel_rows_fn(kind: str, bandwidth: float, dtype):
    def rows(sq, l1, out):
        kernel_rows(kind, bandwidth, sq, l1, dtype, out=out)

    return rows


#: Entries (bins × splits) of one chunk of binned-KL counts: each of the few temporaries of
#: :func:`kl_from_counts` is then at most 32 MB, whatever the number of dimensions.
KL_CHUNK_ENTRIES = 1 << 22


@dataclass(frozen=True, slots=True)
class _BinnedPlan:
    """The binned KL statistic: per-bin counts of each split from the one-hot matrix
    (total_bins × N, :meth:`~parity.stats.two_sample.Binning.indicator_t`), a chunk of splits
    at a time (:data:`KL_CHUNK_ENTRIES`)."""

    name: str
    onehot_t: Any  # a dense array or a scipy.sparse CSR matrix
    binning: Binning
    n: int
    smoothing: float
    direction: str
    parameters: dict[str, Any]

    def evaluate(self, splits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The statistic, and its magnitude, for each 0/1 split (column) of ``splits``."""
        pooled = self.binning.counts()[:, None]
        m = self.onehot_t.shape[1] - self.n
        step = max(1, KL_CHUNK_ENTRIES // max(1, self.binning.total_bins))
        parts = []
        for lo in range(0, splits.shape[1], step):
            counts_x = np.asarray(self.onehot_t @ splits[:, lo : lo + step], dtype=np.float64)
            parts.append(
                kl_from_counts(
                    counts_x,
                    pooled - counts_x,
                    self.binning,
                    self.n,
                    m,
                    self.smoothing,
                    self.direction,
                )
            )
        kl = np.concatenate(parts)
        return kl, np.abs(kl)


class _Grams:
    """The quadratic components' Gram matrices, built from the pooled distances on demand.

    The squared Euclidean (and, for Laplace kernels, L1) distances are computed once, in float64
    from exact differences and stored in the products' dtype; each component's N × N Gram matrix
    is built from them row block by row block on all cores when first asked for, and kept for
    later blocks of splits only when ``keep`` (several blocks, and all of them fit in
    GRAM_CACHE_BYTES), else rebuilt: one Gram matrix at a time is in memory beside the distances.
    """

    def __init__(self, z: np.ndarray, components: list, dtype: type, keep: bool) -> None:
        self.z, self.components, self.dtype, self.keep = z, components, dtype, keep
        self.sq = pairwise_sq_distances(z, dtype)
        self.l1 = None
        if any(c.needs_l1 for c in components):
            self.l1 = pairwise_distances(z, "cityblock", dtype)
        self.cache: dict[int, np.ndarray] = {}
        self.totals = np.zeros((len(components), 2))  # 1'G1 and trace(G) per component

    def __getitem__(self, c: int) -> np.ndarray:
        if c in self.cache:
            return self.cache[c]
        n_total = self.sq.shape[0]
        gram = np.empty((n_total, n_total), dtype=self.dtype)
        rows_of = self.components[c].rows

        def work(rows: slice) -> None:
            rows_of(self.sq[rows], None if self.l1 is None else self.l1[rows], gram[rows])

        for_row_blocks(n_total, n_total, work)
        self.totals[c] = gram.sum(dtype=np.float64), np.trace(gram, dtype=np.float64)
        if self.keep:
            self.cache[c] = gram
        return gram


def _quadratic_values(grams: _Grams, n: int, splits, backend):
    """Every quadratic component's values and gross magnitudes (C × b) on a block of splits.

    One product ``G @ A`` per component (A the 0/1 splits); by the symmetry of ``G`` the column
    sums of the product are ``a'G1``, and ``a'Ga`` is the column sum of ``A ⊙ GA``, both in
    float64. The diagonal of every component is constant (1 for kernels, 0 for distances), so
    ``a'diag(G) = n·G_ii``.
    """
    n_total, b = splits.shape
    device_splits = backend.put(splits)
    everything = slice(0, n_total)
    values = np.empty((len(grams.components), b))
    scales = np.empty_like(values)
    for c, component in enumerate(grams.components):
        xx, x_rows = (
            backend.numpy(v) for v in backend.row_products(grams[c], device_splits, everything)
        )
        total, trace = grams.totals[c]
        trace_x = np.full(b, n * trace / n_total)
        sums = SplitSums(
            xx=xx,
            yy=total - 2 * x_rows + xx,
            xy=x_rows - xx,
            trace_x=trace_x,
            trace_y=trace - trace_x,
            n=n,
            m=n_total - n,
        )
        values[c] = component.combine(sums)
        scales[c] = sums.scale
    return values, scales


# --------------------------------------------------------------------------- splits


def _n_splits(n_total: int, n: int) -> int:
    return math.comb(n_total, n)


def split_blocks(
    n_total: int,
    n: int,
    n_resamples: int,
    *,
    exact: bool,
    rng: np.random.Generator,
    block_size: int,
    dtype: type = np.float64,
) -> Iterator[np.ndarray]:
    """Yield (N × b) 0/1 matrices whose columns are splits; the first column is the observed one.

    Exact mode yields every one of the C(N, n) splits once (the observed split comes first, as
    ``itertools.combinations`` starts with rows 0..n-1); random mode yields the observed split
    and then ``n_resamples`` uniformly random splits. The random splits do not depend on
    ``block_size``.

    Examples
    --------
    >>> blocks = split_blocks(4, 2, 10, exact=True, rng=None, block_size=4)
    >>> [b.shape for b in blocks]
    [(4, 4), (4, 2)]
    """
    if exact:
        combos = itertools.combinations(range(n_total), n)
        while chunk := list(itertools.islice(combos, block_size)):
            block = np.zeros((n_total, len(chunk)), dtype=dtype)
            block[np.asarray(chunk), np.arange(len(chunk))[:, None]] = 1
            yield block
        return
    base = np.zeros(n_total, dtype=np.uint8)
    base[:n] = 1
    remaining, first = n_resamples, True
    while remaining > 0 or first:
        b = min(block_size - first, remaining)
        rows = rng.permuted(np.tile(base, (b, 1)), axis=1)
        if first:
            rows = np.vstack([base, rows])
            first = False
        remaining -= b
        yield rows.T.astype(dtype)


# --------------------------------------------------------------------------- the test


def _check_options(statistics, precision, options) -> tuple[str, ...]:
    if isinstance(statistics, str):
        statistics = (statistics,)
    statistics = tuple(statistics)
    unknown = [s for s in statistics if s not in STATISTICS]
    if not statistics or unknown or len(set(statistics)) != len(statistics):
        raise ParityInputError(
            f"`statistics` must be distinct names from {STATISTICS}; got {list(statistics)!r}"
        )
    if precision not in PRECISIONS:
        raise ParityInputError(f"`precision` must be one of {PRECISIONS}; got {precision!r}")
    if options["mmd_estimator"] not in MMD_ESTIMATORS:
        raise ParityInputError(
            f"`mmd_estimator` must be one of {MMD_ESTIMATORS}; got {options['mmd_estimator']!r}"
        )
    if options["kl_direction"] not in KL_DIRECTIONS:
        raise ParityInputError(
            f"`kl_direction` must be one of {KL_DIRECTIONS}; got {options['kl_direction']!r}"
        )
    smoothing = options["kl_smoothing"]
    if not np.isfinite(smoothing) or smoothing <= 0:
        raise ParityInputError(f"`kl_smoothing` must be a positive pseudo-count; got {smoothing!r}")
    return statistics


def standardize_pooled(z: np.ndarray) -> np.ndarray:
    """Centre each column of the pooled sample and divide it by its standard deviation.

    Constant columns are only centred. Depends on the pooled sample only, so a permutation test
    on the standardized data stays exact. A stack of samples (R × N × d) is standardized sample
    by sample.

    Examples
    --------
    >>> standardize_pooled(np.array([[0.0, 5.0], [2.0, 5.0]]))
    array([[-1.,  0.],
           [ 1.,  0.]])
    """
    centred = z - z.mean(axis=-2, keepdims=True)
    sd = z.std(axis=-2, keepdims=True)
    return centred / np.where(sd > 0, sd, 1.0)


def pooled_samples(x, y, standardize: bool, precision: str) -> tuple[np.ndarray, int, int, str]:
    """Check the reference ``x`` and candidate ``y``; return them stacked (standardized on
    request), n, m and the precision with ``auto`` resolved (float32 from a pooled size of
    2048)."""
    x = as_samples("reference", x)
    y = as_samples("candidate", y)
    check_same_dim(x, y)
    z = np.vstack([x, y])
    if standardize:
        z = standardize_pooled(z)
    if precision == "auto":
        precision = "float32" if z.shape[0] >= AUTO_FLOAT32_FROM else "float64"
    return z, x.shape[0], y.shape[0], precision


def warn_few_samples(n: int, m: int, counts: str | None = None) -> None:
    """Warn (DegenerateDataWarning) when a side has fewer than 5 samples; ``counts`` words the
    sample sizes (default ``n = …, m = …``)."""
    if min(n, m) < MIN_SAMPLES_WARNING:
        warnings.warn(
            f"fewer than {MIN_SAMPLES_WARNING} samples on one side ({counts or f'n = {n}, m = {m}'}"
            "): the test has almost no power",
            DegenerateDataWarning,
            stacklevel=3,
        )


def two_sample_test(
    reference,
    candidate,
    statistics: Sequence[str] | str = STATISTICS,
    n_resamples: int = 1000,
    rng: RngLike = None,
    *,
    aggregation: Literal["agg", "fuse", "sum"] = DEFAULT_AGGREGATION,
    kernels: Sequence[str] | str = DEFAULT_KERNELS,
    standardize: bool = False,
    bandwidths: float | Sequence[float] | None = None,
    bandwidth_factors: Sequence[float] = DEFAULT_BANDWIDTH_FACTORS,
    mmd_estimator: Literal["unbiased", "biased"] = "unbiased",
    kl_bins: int | str = "auto",
    kl_smoothing: float = 0.5,
    kl_direction: Literal["forward", "reverse", "symmetric"] = "forward",
    precision: Literal["auto", "float32", "float64"] = "auto",
    tie_rtol: float | None = None,
    block_size: int | None = None,
    device: str | None = None,
) -> TwoSampleTestResult:
    """Permutation two-sample test of ``reference`` vs ``candidate``, statistics on one split set.

    Parameters
    ----------
    reference, candidate : array_like, shape (n, d) and (m, d)
        Reference and candidate samples (1-D means d = 1).
    statistics : sequence of {"mmd", "energy", "kl"}
        Statistics to test; large values mean the samples differ.
    n_resamples : int
        Number B of random splits; when ``C(n+m, n) <= B`` all splits are enumerated instead.
    rng : None, int or numpy.random.Generator
        Source of the random splits.
    aggregation : {"agg", "fuse", "sum"}
        How the MMD uses its kernels. ``agg`` (default): every kernel of the collection is its
        own statistic on the same splits and the MMD's p-value is their single-step min-p
        (after MMDAgg); ``fuse``: kernels standardized by their permutation mean and sd,
        combined by log-sum-exp (after MMD-FUSE); ``sum``: one kernel, the sum of Gaussian
        kernels at the median distance × ``bandwidth_factors`` (parity 0.1's test).
    kernels : sequence of {"gaussian", "laplace"}
        Kernel types of the collection (``agg``/``fuse``); each gets the bandwidths of
        :func:`parity.stats.two_sample.bandwidth_collection`.
    standardize : bool
        Centre and scale each column by the pooled standard deviation first (keeps the test
        exact, makes the bandwidths and distances unit-free).
    bandwidths : float or sequence of float, optional
        Fixed bandwidths instead of the data-driven collection (``sum``: summed).
    bandwidth_factors : sequence of float
        Median-heuristic factors of ``sum``.
    mmd_estimator : {"unbiased", "biased"}
        As ``estimator`` in :func:`parity.stats.mmd2`.
    kl_bins, kl_smoothing, kl_direction
        As ``bins``, ``smoothing``, ``direction`` in :func:`parity.stats.binned_kl`.
    precision : {"auto", "float32", "float64"}
        Precision of the Gram-matrix products (reductions are always float64); ``auto`` picks
        float32 from a pooled size of 2048.
    tie_rtol : float, optional
        Relative tie tolerance (default 1e-6 in float32, 1e-10 in float64): a null value counts
        as ≥ the observed one when it is at most ``tie_rtol × scale`` below it.
    block_size : int, optional
        Splits per matrix product; default from a 256 MB budget.
    device : None, "cpu" or "cuda[:index]"
        None: numpy. A string runs the Gram-matrix products with PyTorch on that device (the
        Gram rows are built on the host; the splits are the same, so the numbers agree with
        numpy's up to rounding); ``details`` then names the device.

    Returns
    -------
    TwoSampleTestResult
        Per-statistic results (each with its null distribution; the MMD's ``parameters``
        list its kernels with their own p-values) and the family min-p p-value.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 1.0
    >>> res = two_sample_test(x, y, ("mmd", "energy"), n_resamples=199, rng=1)
    >>> res.pvalue  # one min-p over 7 columns: another split tops one of them
    0.01
    """
    options = {
        "aggregation": check_aggregation(aggregation),
        "kernels": check_kernels(kernels),
        "bandwidths": bandwidths,
        "bandwidth_factors": bandwidth_factors,
        "mmd_estimator": mmd_estimator,
        "kl_bins": kl_bins,
        "kl_smoothing": kl_smoothing,
        "kl_direction": kl_direction,
    }
    statistics = _check_options(statistics, precision, options)
    n_resamples = check_positive_int("n_resamples", n_resamples)
    z, n, m, precision = pooled_samples(reference, candidate, standardize, precision)
    generator = as_generator(rng)
    n_total = n + m
    dtype = np.float32 if precision == "float32" else np.float64
    tie_rtol = resolve_tie_rtol(tie_rtol, precision)

    notes: list[str] = []
    with recording_warnings(notes):
        warn_few_samples(n, m)
        quadratic, binned, stats = _build_components(z, n, statistics, dtype, options)
    backend = resolve_backend(device, dtype)
    details = {}
    if device is not None:
        details = {"engine": "exact", "device": backend.device, "backend": backend.name}

    n_splits = _n_splits(n_total, n)
    exact = n_splits <= n_resamples
    if block_size is None:
        block_size = max(16, BLOCK_BYTES // (8 * n_total * 3))
    block_size = check_positive_int("block_size", block_size, minimum=2)
    n_values = n_splits if exact else n_resamples + 1
    several = n_values > block_size
    fits = len(quadratic) * n_total**2 * np.dtype(dtype).itemsize <= GRAM_CACHE_BYTES
    grams = (
        _Grams(z / unit_scale(z), quadratic, dtype, keep=several and fits) if quadratic else None
    )
    columns, scales = [], None
    for block in split_blocks(
        n_total, n, n_resamples, exact=exact, rng=generator, block_size=block_size, dtype=dtype
    ):
        parts = []
        if quadratic:
            parts.append(_quadratic_values(grams, n, block, backend))
        parts += [tuple(np.atleast_2d(v) for v in plan.evaluate(block)) for plan in binned]
        if scales is None:
            scales = np.concatenate([np.atleast_2d(p[1])[:, 0] for p in parts])
        columns.append(np.vstack([p[0] for p in parts]))
    return assemble(
        np.hstack(columns).T,
        scales,
        stats,
        exact=exact,
        n_resamples=n_resamples,
        method=_method(exact, n_splits, n_resamples, precision),
        family_method=family_method(stats),
        precision=precision,
        tie_rtol=tie_rtol,
        counts=(n, m, z.shape[1]),
        standardized=standardize,
        notes=notes,
        details=details,
    )


def _method(exact: bool, n_splits: int, n_resamples: int, precision: str) -> str:
    base = (
        f"exact permutation test (all {n_splits} splits)"
        if exact
        else f"permutation test ({n_resamples} random splits)"
    )
    if precision == "float32":
        base += ", float32 Gram products with float64 accumulation"
    return base


__all__ = [
    "STATISTICS",
    "TIE_RTOL",
    "StatisticResult",
    "TwoSampleTestResult",
    "exceedance_counts",
    "split_blocks",
    "standardize_pooled",
    "statistic_label",
    "two_sample_test",
]
