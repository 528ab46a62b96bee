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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np

from parity.errors import DegenerateDataWarning, ParityInputError, ParityWarning, check_positive_int
from parity.stats._common import ResultMixin, RngLike, as_generator, as_samples, check_same_dim
from parity.stats.two_sample import (
    DEFAULT_BANDWIDTH_FACTORS,
    KL_DIRECTIONS,
    MEDIAN_MAX_ROWS,
    MMD_ESTIMATORS,
    Binning,
    SplitSums,
    energy_from_sums,
    gram_matrices,
    kl_from_counts,
    mmd2_from_sums,
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
PRECISIONS = ("auto", "float32", "float64")
TIE_RTOL = {"float32": 1e-6, "float64": 1e-10}
AUTO_FLOAT32_FROM = 2048  # pooled sample size from which precision="auto" picks float32
BLOCK_BYTES = 256 * 2**20  # memory budget of one block of splits (its (N × b) arrays)
MIN_SAMPLES_WARNING = 5


@dataclass(frozen=True, slots=True)
class TwoSampleResult(ResultMixin):
    """One statistic's permutation test.

    ``statistic`` is the float64 value on the observed split; ``null_distribution`` holds the
    statistic on the random splits (or on every split, the observed one included, when exact).
    """

    name: str
    statistic: float
    pvalue: float
    null_distribution: np.ndarray
    n_resamples: int
    method: str
    parameters: dict[str, Any]
    alternative: str = "greater"


@dataclass(frozen=True, slots=True)
class TwoSampleTestResult(ResultMixin):
    """Several statistics tested on the same splits, with a family (min-p) p-value.

    ``statistic`` is the smallest per-statistic p-value (the min-p statistic), ``pvalue`` its
    Westfall–Young single-step adjusted value, ``min_attainable_pvalue`` the smallest family
    p-value these splits could give (too little data when it exceeds the level you test at).
    ``details`` holds what a particular design adds (e.g. per-observation contributions of a
    conditional test, the feature count of a random-feature MMD).
    """

    results: dict[str, TwoSampleResult]
    statistic: float
    pvalue: float
    n_resamples: int
    exact: bool
    min_attainable_pvalue: float
    n_x: int
    n_y: int
    dim: int
    precision: str
    tie_rtol: float
    standardized: bool
    method: str
    warnings: tuple[str, ...] = field(default=())
    alternative: str = "greater"
    details: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- statistic plans


@dataclass(frozen=True, slots=True)
class _QuadraticPlan:
    """A quadratic-form statistic: its Gram matrix and the float64 sums it needs per split."""

    name: str
    gram: np.ndarray
    combine: Callable[[SplitSums], Any]
    n: int
    parameters: dict[str, Any]
    device_gram: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    row_sums: np.ndarray = field(init=False)
    diag: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "row_sums", self.gram.sum(axis=1, dtype=np.float64))
        object.__setattr__(self, "diag", np.diagonal(self.gram).astype(np.float64))

    def evaluate(self, splits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The statistic, and its gross magnitude, for each 0/1 split (column) of ``splits``.

        One product ``G @ A``; by the symmetry of ``G`` its column sums are ``a'G1``, so no
        other pass over ``A`` is needed unless ``G``'s diagonal varies (it is constant for the
        RBF sum and zero for distances).
        """
        if self.device_gram is None:
            product = self.gram @ splits
            xx = np.einsum("ij,ij->j", splits, product, dtype=np.float64)
            x_rows = product.sum(axis=0, dtype=np.float64)
        else:  # the same product and reductions on a torch device
            xx, x_rows = self.device_gram(splits)
        if np.all(self.diag == self.diag[0]):
            trace_x = np.full(splits.shape[1], self.n * self.diag[0])
        else:
            trace_x = splits.T @ self.diag
        total, trace = self.row_sums.sum(), self.diag.sum()
        sums = SplitSums(
            xx=xx,
            yy=total - 2 * x_rows + xx,
            xy=x_rows - xx,
            trace_x=trace_x,
            trace_y=trace - trace_x,
            n=self.n,
            m=self.gram.shape[0] - self.n,
        )
        return np.asarray(self.combine(sums), dtype=np.float64), sums.scale


#: Entries (bins × splits) of one chunk of binned-KL counts: each of the few temporaries of
#: :func:`kl_from_counts` is then at most 32 MB, whatever the number of dimensions.
KL_CHUNK_ENTRIES = 1 << 22


@dataclass(frozen=True, slots=True)
class _BinnedPlan:
    """The binned KL statistic: per-bin counts of each split from the sparse one-hot matrix
    (total_bins × N, ``N·d`` ones), a chunk of splits at a time (:data:`KL_CHUNK_ENTRIES`)."""

    name: str
    onehot_t: Any  # scipy.sparse CSR matrix
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


def _scaled_energy(sums: SplitSums, unit: float):
    """Energy distance in the data's units from sums over distances in units of ``unit``."""
    return unit * energy_from_sums(sums)


def _build_plans(z, n, statistics, dtype, options) -> list:
    plans = []
    unit = unit_scale(z)
    bws = None
    if "mmd" in statistics:
        bws = resolve_bandwidths(z, options["bandwidths"], options["bandwidth_factors"])
    kernel, dist = gram_matrices(
        z / unit,
        None if bws is None else [b / unit for b in bws],
        euclidean="energy" in statistics,
        dtype=dtype,
    )
    for name in statistics:
        if name == "mmd":
            estimator = options["mmd_estimator"]
            parameters = {"bandwidths": list(bws), "estimator": estimator, "kernel": "sum of RBF"}
            if options["bandwidths"] is None:
                rows = min(z.shape[0], MEDIAN_MAX_ROWS)
                parameters["bandwidth_rule"] = (
                    f"median pairwise distance over {rows} of {z.shape[0]} pooled rows × "
                    f"{list(options['bandwidth_factors'])}"
                )
            combine = partial(mmd2_from_sums, estimator=estimator)
            plans.append(_QuadraticPlan("mmd", kernel, combine, n, parameters))
        elif name == "energy":
            combine = partial(_scaled_energy, unit=unit)
            plans.append(_QuadraticPlan("energy", dist, combine, n, {"estimator": "V"}))
        else:
            binning = shared_bins(z, options["kl_bins"], name="kl_bins")
            smoothing, direction = options["kl_smoothing"], options["kl_direction"]
            parameters = {
                "bins": binning.n_bins.tolist(),
                "smoothing": smoothing,
                "direction": direction,
            }
            onehot_t = binning.indicator_t(np.float64)
            plans.append(_BinnedPlan("kl", onehot_t, binning, n, smoothing, direction, parameters))
    return plans


# --------------------------------------------------------------------------- splits


def _n_splits(n_total: int, n: int) -> int:
    return math.comb(n_total, n)


def split_blocks(
    n_total: int,
    n: int,
    n_permutations: int,
    *,
    exact: bool,
    rng: np.random.Generator,
    block_size: int,
    dtype: type = np.float64,
) -> Iterator[np.ndarray]:
    """Yield (N × b) 0/1 matrices whose columns are splits; the first column is the observed one.

    Exact mode yields every one of the C(N, n) splits once (the observed split comes first, as
    ``itertools.combinations`` starts with rows 0..n-1); random mode yields the observed split
    and then ``n_permutations`` uniformly random splits. The random splits do not depend on
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
    remaining, first = n_permutations, True
    while remaining > 0 or first:
        b = min(block_size - first, remaining)
        rows = rng.permuted(np.tile(base, (b, 1)), axis=1)
        if first:
            rows = np.vstack([base, rows])
            first = False
        remaining -= b
        yield rows.T.astype(dtype)


def exceedance_counts(values: np.ndarray, tolerance: float) -> np.ndarray:
    """For each value v, how many of ``values`` are ≥ v − tolerance (itself included).

    Examples
    --------
    >>> exceedance_counts(np.array([3.0, 1.0, 2.0, 3.0]), 0.0)
    array([2, 4, 3, 2])
    """
    ordered = np.sort(values)
    return values.size - np.searchsorted(ordered, values - tolerance, side="left")


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
    """Check ``x`` and ``y``; return them stacked (standardized on request), n, m and the
    precision with ``auto`` resolved (float32 from a pooled size of 2048)."""
    x = as_samples("x", x)
    y = as_samples("y", y)
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
    x,
    y,
    statistics: Sequence[str] | str = STATISTICS,
    n_permutations: int = 1000,
    rng: RngLike = None,
    *,
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
    """Permutation two-sample test of ``x`` vs ``y`` with several statistics on the same splits.

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
        Reference and candidate samples (1-D means d = 1).
    statistics : sequence of {"mmd", "energy", "kl"}
        Statistics to test; large values mean the samples differ.
    n_permutations : int
        Number B of random splits; when ``C(n+m, n) <= B`` all splits are enumerated instead.
    rng : None, int or numpy.random.Generator
        Source of the random splits.
    standardize : bool
        Centre and scale each column by the pooled standard deviation first (keeps the test
        exact, makes the RBF bandwidths and distances unit-free).
    bandwidths, bandwidth_factors, mmd_estimator
        As in :func:`parity.stats.mmd2`.
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
        None: numpy. A string runs the Gram-matrix products of MMD² and energy distance with
        PyTorch on that device (the Gram matrix is built on the host and moved once; the splits
        are the same, so the numbers agree with numpy's up to rounding); ``details`` then
        names the device.

    Returns
    -------
    TwoSampleTestResult
        Per-statistic results (each with its null distribution) and the family min-p p-value.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 1.0
    >>> res = two_sample_test(x, y, ("mmd", "energy"), n_permutations=199, rng=1)
    >>> res.pvalue
    0.005
    """
    options = {
        "bandwidths": bandwidths,
        "bandwidth_factors": bandwidth_factors,
        "mmd_estimator": mmd_estimator,
        "kl_bins": kl_bins,
        "kl_smoothing": kl_smoothing,
        "kl_direction": kl_direction,
    }
    statistics = _check_options(statistics, precision, options)
    n_permutations = check_positive_int("n_permutations", n_permutations)
    z, n, m, precision = pooled_samples(x, y, standardize, precision)
    generator = as_generator(rng)
    n_total = n + m
    dtype = np.float32 if precision == "float32" else np.float64
    if tie_rtol is None:
        tie_rtol = TIE_RTOL[precision]
    elif not np.isfinite(tie_rtol) or tie_rtol < 0:
        raise ParityInputError(f"`tie_rtol` must be a non-negative number; got {tie_rtol!r}")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ParityWarning)
        warn_few_samples(n, m)
        plans = _build_plans(z, n, statistics, dtype, options)
    details = {} if device is None else _to_device(plans, device, dtype)
    notes = tuple(str(w.message) for w in caught if issubclass(w.category, ParityWarning))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    n_splits = _n_splits(n_total, n)
    exact = n_splits <= n_permutations
    if block_size is None:
        block_size = max(16, BLOCK_BYTES // (8 * n_total * 3))
    block_size = check_positive_int("block_size", block_size, minimum=2)
    values = {plan.name: [] for plan in plans}
    scales = {}
    for block in split_blocks(
        n_total, n, n_permutations, exact=exact, rng=generator, block_size=block_size, dtype=dtype
    ):
        for plan in plans:
            stat, scale = plan.evaluate(block)
            values[plan.name].append(stat)
            scales.setdefault(plan.name, float(scale[0]))

    n_values = n_splits if exact else n_permutations + 1
    results, pvalue_columns = {}, []
    for plan in plans:
        null = np.concatenate(values[plan.name])
        counts = exceedance_counts(null, tie_rtol * scales[plan.name])
        pvalue_columns.append(counts / n_values)
        results[plan.name] = TwoSampleResult(
            name=plan.name,
            statistic=float(null[0]),
            pvalue=float(counts[0] / n_values),
            null_distribution=null if exact else null[1:],
            n_resamples=n_values if exact else n_permutations,
            method=_method(exact, n_splits, n_permutations, precision),
            parameters={**plan.parameters, "standardized": standardize},
        )
    min_p = np.min(pvalue_columns, axis=0)
    if len(plans) == 1:
        family_p = float(min_p[0])
    else:
        family_p = float(np.mean(min_p <= min_p[0] * (1 + 1e-12)))
    min_attainable = float(np.min(exceedance_counts(min_p * -1.0, 0.0)) / n_values)
    return TwoSampleTestResult(
        results=results,
        statistic=float(min_p[0]),
        pvalue=family_p,
        n_resamples=n_values if exact else n_permutations,
        exact=exact,
        min_attainable_pvalue=min_attainable,
        n_x=n,
        n_y=m,
        dim=z.shape[1],
        precision=precision,
        tie_rtol=float(tie_rtol),
        standardized=standardize,
        method="Westfall–Young single-step min-p over " + ", ".join(statistics),
        warnings=notes,
        details=details,
    )


def _to_device(plans: list, device: str, dtype: type) -> dict[str, Any]:
    """Move the quadratic plans' Gram matrices to a torch ``device``; the result's details."""
    from parity.stats.rff import resolve_backend

    backend = resolve_backend(device, dtype)
    for plan in plans:
        if isinstance(plan, _QuadraticPlan):
            object.__setattr__(plan, "device_gram", backend.gram_products(plan.gram))
    return {"engine": "exact", "device": backend.device, "backend": backend.name}


def _method(exact: bool, n_splits: int, n_permutations: int, precision: str) -> str:
    base = (
        f"exact permutation test (all {n_splits} splits)"
        if exact
        else f"permutation test ({n_permutations} random splits)"
    )
    if precision == "float32":
        base += ", float32 Gram products with float64 accumulation"
    return base


__all__ = [
    "STATISTICS",
    "TwoSampleResult",
    "TwoSampleTestResult",
    "exceedance_counts",
    "split_blocks",
    "standardize_pooled",
    "two_sample_test",
]
