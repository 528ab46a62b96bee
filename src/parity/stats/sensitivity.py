"""Sensitivity of the two-sample test: the smallest effects that a ``pass`` could have detected.

A permutation test that does not reject says nothing about how large a difference it would
have missed. :func:`min_detectable_effect` answers that by simulation from the reference sample:
each replicate takes two disjoint random row subsets of the reference, ``x*`` and ``y*``,
applies an effect of size ``t`` to ``y*`` and runs the same family test as
:func:`parity.stats.two_sample_test` (same statistics, Westfall–Young min-p over them, the same
standardization, bandwidth rule, bins and tie tolerance, at the same α; its p-values are the
engine's on the same data and splits, checked in the tests). The power at ``t`` is the share of
replicates that reject; the minimum detectable effect is the smallest ``t`` with 80% power.

Effects, both in the reference's own units:

* **shift** ``δ``: every dimension ``j`` moves by ``δ σ_j / √d`` (σ_j the reference's standard
  deviation, d the number of non-constant dimensions): a shift of Euclidean length δ in
  standardized units, along the diagonal. A shift of δσ in one dimension alone has the same
  standardized length; the energy distance and the MMD of standardized data see a shift through
  its standardized length (they are rotation invariant), so δ reads as "δσ in any one
  dimension, or any combination of that length", and does not shrink as d grows as "δσ in
  every dimension" would.
* **scale** ``s`` > 1: the candidate's deviations from the reference mean are multiplied by s,
  ``y ← μ + s (y − μ)``.

Why disjoint subsets, not resamples with replacement. Drawn with replacement at the real sizes,
``x*`` and ``y*`` share many rows; a shift turns each shared row into an exact pair (a, a + δ)
that the kernel and energy statistics pick up, so the simulated test is far more powerful than
the real one: for 400 vs 400 Gaussian rows (d = 2) it reported 0.19σ, below even the most
powerful one-sided z-test's 0.20σ, while the real test needs 0.26σ (80% power measured on fresh
samples). Disjoint subsets are two samples of the reference's distribution with no such pairs.

Sizes. Disjoint subsets hold at most n rows together, and a simulated test costs
O((n' + m')²), so the replicates have ``n' = min(n, max_rows)`` and ``m' = min(m, max_rows)``
rows, shrunk in proportion to fit in the reference, and the effects found are rescaled to the
real sizes by ``√(n'm'/(n' + m') / (nm/(n + m)))``: under local alternatives the power of these
tests depends on the effect times the square root of the effective size (δ for a shift, log s
for a scale change). The method text states it. Measured against the real test's power on fresh
samples this errs on the safe (large) side: 400 vs 400 Gaussian rows, d = 2: 0.27σ (true 0.26σ)
and ×1.21 (true ×1.20); d = 7: 0.30σ (0.28σ); the demo's arm actions: 0.27σ (0.24σ) and ×1.21
(×1.15); 40 vs 40, d = 2: 0.89σ (0.80σ). Subsets of 25 to 200 rows per side give estimates
within a few percent of each other. Discrete data are the exception: a shift moves the
candidate off the reference's values, which the tests detect easily, so when most reference rows
repeat others the result warns that its effects may be smaller than for changes that keep the
values discrete.

Speed. The rows and splits of the replicates are drawn once and reused at every effect size
(common random numbers), and a replicate's decision is taken as monotone in the size: one that
rejected at a smaller size counts as rejecting, one that did not at a larger size as not, and
only the others are simulated. The search evaluates a handful of sizes: geometric steps from an
analytic first guess until 80% power is bracketed, then steps interpolated on the (log size,
probit power) scale until the bracket is within a factor 1.25, then linear interpolation of the
power in log size. Each simulated test has ``B = ⌈10/α⌉ − 1`` random splits (199 at α = 0.05;
α(B + 1) is an integer, so the test is exact): a Monte Carlo test with fewer splits is as exact
but slightly *less* powerful (Hope 1968; Jöckel 1986), so this too errs on the large side (by
about 1% at 80% power). Replicates are evaluated in batches, one batched product ``G @ A`` per
statistic.

The wall time is kept in ``seconds`` but left out of ``to_dict()``, so that JSON records stay
byte-identical for the same inputs and seed; ``n_tests`` counts the simulated tests instead.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from parity.errors import (
    DegenerateDataWarning,
    ParityInputError,
    ParityWarning,
    check_positive_int,
    check_probability,
)
from parity.stats._common import ResultMixin, RngLike, as_generator, as_samples, to_jsonable
from parity.stats.permutation import STATISTICS, TIE_RTOL, standardize_pooled, two_sample_test
from parity.stats.two_sample import (
    DEFAULT_BANDWIDTH_FACTORS,
    SplitSums,
    energy_from_sums,
    mmd2_from_sums,
    pairwise_sq_distances,
    shared_bins,
)

DEFAULT_SIMULATIONS = 64
MAX_ROWS = 30  # rows per side simulated at most; the effects found are rescaled to n, m
MAX_ROWS_LIMIT = 1024  # so that a replicate's pooled rows stay within the all-pairs median
MAX_SHIFT = 8.0  # searched range of the shift, in reference σ
MAX_SCALE = 8.0  # searched range of the scale factor
REFINE_RATIO = 1.25  # the search stops when 80% power is bracketed within this factor
MAX_EVALUATIONS = 6  # effect sizes evaluated per effect, at most
MIN_SPLITS_PER_LEVEL = 10  # B = ⌈10/α⌉ − 1 splits per simulated test
BATCH_BYTES = 64 * 2**20  # memory budget of the (replicates × N × N) arrays of one batch
EFFECTS = ("shift", "scale")


@dataclass(frozen=True, slots=True)
class PowerCurve(ResultMixin):
    """Simulated power of the test at the effect sizes the search evaluated (ascending).

    ``values`` are effect sizes at the real sample sizes (σ for a shift, a factor for a scale
    change); ``simulated_values`` the sizes applied to the replicates' smaller samples, of
    which ``values`` are the rescaling; ``standard_error`` the binomial Monte Carlo standard
    error ``√(p(1 − p)/R)`` of each power.
    """

    effect: str
    values: tuple[float, ...]
    simulated_values: tuple[float, ...]
    power: tuple[float, ...]
    standard_error: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class SensitivityResult(ResultMixin):
    """The smallest shift and scale change the test detects with the target power.

    ``shift`` is a Euclidean length in the reference's standardized units along the diagonal
    (each dimension moved by ``shift · σ_j / √d``); ``scale`` a factor > 1 on the deviations
    from the reference mean. Either is ``inf`` with ``*_detectable`` False when no effect up to
    ``max_shift`` / ``max_scale`` reached the target power. ``*_standard_error`` is the delta-
    method Monte Carlo error of the estimate (from the power's binomial error and the slope of
    the power curve); ``n_tests`` the number of simulated tests run; ``seconds`` the wall time
    (not part of ``to_dict()``, which must not change between identical runs).
    """

    shift: float
    shift_detectable: bool
    shift_standard_error: float
    scale: float
    scale_detectable: bool
    scale_standard_error: float
    shift_curve: PowerCurve
    scale_curve: PowerCurve
    alpha: float
    power: float
    n_x: int
    n_y: int
    dim: int
    n_x_simulated: int
    n_y_simulated: int
    n_simulations: int
    n_permutations: int
    statistics: tuple[str, ...]
    max_shift: float
    max_scale: float
    n_tests: int
    method: str
    warnings: tuple[str, ...] = ()
    seconds: float = field(default=0.0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-safe ``dict``, without the wall time ``seconds``."""
        return record_without_time(to_jsonable(self))

    def describe_shift(self) -> str:
        """The detectable shift as a phrase: ``"shifts ≥ 0.83σ"`` or ``"no shift up to 8σ"``.

        Examples
        --------
        >>> import numpy as np
        >>> ref = np.random.default_rng(0).normal(size=(40, 2))
        >>> res = min_detectable_effect(ref, n_simulations=16, rng=0)
        >>> res.describe_shift().startswith("shifts ≥ ")
        True
        """
        if not self.shift_detectable:
            return f"no shift up to {self.max_shift:g}σ"
        return f"shifts ≥ {self.shift:.2g}σ"

    def describe_scale(self) -> str:
        """The detectable scale change as a phrase: ``"scale changes ≥ ×1.40"``."""
        if not self.scale_detectable:
            return f"no scale change up to ×{self.max_scale:g}"
        return f"scale changes ≥ ×{self.scale:.2f}"


def record_without_time(record: dict[str, Any]) -> dict[str, Any]:
    """Drop the wall time from a :class:`SensitivityResult` record (kept out of JSON reports).

    Examples
    --------
    >>> record_without_time({"shift": 0.5, "seconds": 0.2})
    {'shift': 0.5}
    """
    return {k: v for k, v in record.items() if k != "seconds"}


# --------------------------------------------------------------------------------------------
# the simulated test: the engine's family p-values for a batch of pooled samples


@dataclass(frozen=True, slots=True)
class _TestSpec:
    """What the simulated test needs from the real one's settings."""

    statistics: tuple[str, ...]
    n: int
    m: int
    standardize: bool
    bandwidths: tuple[float, ...] | None
    factors: tuple[float, ...]
    estimator: str
    kl_bins: int | str
    kl_smoothing: float
    kl_direction: str
    dtype: type
    tie_rtol: float


def unit_scale_batch(z: np.ndarray) -> np.ndarray:
    """:func:`parity.stats.two_sample.unit_scale` of each (N × d) sample of a batch.

    Examples
    --------
    >>> unit_scale_batch(np.array([[[1.0], [3.0]], [[0.0], [0.0]]]))
    array([1., 1.])
    """
    dev = np.abs(z - z.mean(axis=1, keepdims=True)).max(axis=(1, 2))
    exponent = np.frexp(np.where(dev > 0, dev, 1.0))[1] - 1
    return np.where((dev > 0) & np.isfinite(dev), np.ldexp(1.0, exponent), 1.0)


def pairwise_sq_distances_batch(z: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances within each sample of a batch, from exact differences.

    Examples
    --------
    >>> pairwise_sq_distances_batch(np.array([[[0.0], [3.0]]]))
    array([[[0., 9.],
            [9., 0.]]])
    """
    return np.stack([pairwise_sq_distances(sample) for sample in z])


def median_heuristic_batch(sq: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Median distance over distinct pairs of each sample (distances ``unit · √sq``).

    Falls back, per sample, to the mean positive distance when over half of the pairs coincide
    and to 1 when all do, as :func:`parity.stats.two_sample.median_heuristic`.

    Examples
    --------
    >>> sq = pairwise_sq_distances_batch(np.array([[[0.0], [1.0], [3.0]]]))
    >>> median_heuristic_batch(sq, np.array([1.0]))
    array([2.])
    """
    rows, cols = np.triu_indices(sq.shape[1], 1)
    pairs = unit[:, None] * np.sqrt(sq[:, rows, cols])
    median = np.median(pairs, axis=1)
    for r in np.flatnonzero(~(median > 0)):
        positive = pairs[r][pairs[r] > 0]
        median[r] = positive.mean() if positive.size else 1.0
    return median


def _bin_counts_auto(z: np.ndarray) -> np.ndarray:
    """Bins per (sample, dimension) of numpy's ``"auto"`` rule (numpy ≥ 2), vectorized."""
    size = z.shape[1]
    first, last = z.min(axis=1), z.max(axis=1)
    ptp = last - first
    q75, q25 = np.percentile(z, [75, 25], axis=1)
    fd = 2.0 * (q75 - q25) * size ** (-1.0 / 3.0)
    sturges = ptp / (np.log2(size) + 1.0)
    sqrt_bw = ptp / np.sqrt(size)
    width = np.minimum(np.maximum(fd, sqrt_bw / 2), sturges)
    flat = ptp == 0
    delta = np.where(flat, 1.0, ptp)
    with np.errstate(divide="ignore", invalid="ignore"):
        bins = np.ceil(delta / np.where(width > 0, width, 1.0))
    return np.where(width > 0, bins, 1).astype(np.intp)


def _bin_codes(z: np.ndarray, n_bins: np.ndarray) -> np.ndarray:
    """Bin of each value on ``numpy.linspace(min, max, n_bins + 1)`` edges, as numpy bins it.

    ``z`` is (R × N × d) and ``n_bins`` (R × d); the edges are those of
    ``numpy.histogram_bin_edges`` (a constant column gets min − ½ and max + ½), and a value's
    bin is the number of edges ≤ it, minus one, clipped to the last bin (right-open bins, the
    last one closed), exactly as :func:`parity.stats.two_sample.shared_bins` finds it.
    """
    first, last = z.min(axis=1), z.max(axis=1)
    flat = first == last
    first = np.where(flat, first - 0.5, first)[:, None, :]
    last = np.where(flat, last + 0.5, last)[:, None, :]
    nb = n_bins[:, None, :]
    step = (last - first) / nb
    code = np.clip(np.floor((z - first) / step), 0, nb - 1).astype(np.intp)

    def edge(k):  # numpy.linspace: k · step + first, the last edge exactly ``last``
        return np.where(k >= nb, last, k * step + first)

    code = code - (z < edge(code)) + (z >= edge(code + 1))
    return np.clip(code, 0, nb - 1)


def batch_bins(z: np.ndarray, bins: int | str) -> tuple[np.ndarray, np.ndarray]:
    """Shared histogram bins of each pooled sample of a batch, as ``shared_bins`` makes them.

    Returns ``(codes, n_bins)``: per (sample, row, dimension) the bin index within its
    dimension, and per (sample, dimension) the number of bins. The ``"auto"`` rule and integer
    bins are vectorized (checked against ``numpy.histogram_bin_edges`` on the first sample);
    other rules call :func:`parity.stats.two_sample.shared_bins` per sample.

    Examples
    --------
    >>> codes, n_bins = batch_bins(np.array([[[0.0], [1.0], [2.0], [3.0]]]), 2)
    >>> codes[0, :, 0], n_bins
    (array([0, 0, 1, 1]), array([[2]]))
    """
    if isinstance(bins, int | np.integer) and not isinstance(bins, bool):
        n_bins = np.full((z.shape[0], z.shape[2]), int(bins), dtype=np.intp)
        return _bin_codes(z, n_bins), n_bins
    if bins == "auto":
        n_bins = _bin_counts_auto(z)
        check = shared_bins(z[0], bins)
        if np.array_equal(check.n_bins, n_bins[0]):
            codes = _bin_codes(z, n_bins)
            if np.array_equal(check.codes - check.offsets, codes[0]):
                return codes, n_bins
    per_sample = [shared_bins(sample, bins, name="kl_bins") for sample in z]
    codes = np.stack([b.codes - b.offsets for b in per_sample])
    return codes, np.stack([b.n_bins for b in per_sample])


def batch_exceedance_counts(values: np.ndarray, tolerance: np.ndarray) -> np.ndarray:
    """Row-wise :func:`parity.stats.permutation.exceedance_counts` of an (R × K) array.

    ``counts[r, i]`` is how many of ``values[r]`` are ≥ ``values[r, i] − tolerance[r]``.

    Examples
    --------
    >>> batch_exceedance_counts(np.array([[3.0, 1.0, 2.0, 3.0]]), np.array([0.0]))
    array([[2, 4, 3, 2]])
    """
    r, k = values.shape
    queries = values - tolerance[:, None]
    # A stable sort of [queries, values] puts each query before the values equal to it, so the
    # values ranked before a query are exactly those strictly below it.
    order = np.argsort(np.concatenate([queries, values], axis=1), axis=1, kind="stable")
    is_value = order >= k
    below = np.cumsum(is_value, axis=1)[~is_value].reshape(r, k)
    counts = np.empty((r, k), dtype=np.int64)
    np.put_along_axis(counts, order[~is_value].reshape(r, k), k - below, axis=1)
    return counts


def _quadratic_sums(gram: np.ndarray, splits: np.ndarray, n: int, diag: float) -> SplitSums:
    """Block sums of every split (column of ``splits``) of every sample of the batch."""
    product = np.matmul(gram, splits)
    xx = np.einsum("rij,rij->rj", splits, product, dtype=np.float64)
    x_rows = product.sum(axis=1, dtype=np.float64)
    total = gram.sum(axis=2, dtype=np.float64).sum(axis=1)[:, None]
    n_total = gram.shape[1]
    return SplitSums(
        xx=xx,
        yy=total - 2 * x_rows + xx,
        xy=x_rows - xx,
        trace_x=n * diag,
        trace_y=(n_total - n) * diag,
        n=n,
        m=n_total - n,
    )


def _kl_values(z: np.ndarray, splits: np.ndarray, spec: _TestSpec) -> np.ndarray:
    """Binned KL of every split of every sample (as ``kl_from_counts``), bins per sample.

    A bin's term depends only on its x-count c (its y-count is its pooled count minus c), so
    the terms are tabulated for c = 0..n once per sample and bin, and looked up per split.
    """
    codes, n_bins = batch_bins(z, spec.kl_bins)
    r, n_total, d = codes.shape
    offsets = np.concatenate([np.zeros((r, 1), np.intp), np.cumsum(n_bins, axis=1)[:, :-1]], 1)
    width = int(n_bins.sum(axis=1).max())
    onehot = np.zeros((r, n_total, width), dtype=splits.dtype)
    sample = np.repeat(np.arange(r), n_total * d)
    row = np.tile(np.repeat(np.arange(n_total), d), r)
    onehot[sample, row, (codes + offsets[:, None, :]).ravel()] = 1
    counts_x = np.matmul(onehot.transpose(0, 2, 1), splits).astype(np.intp)  # exact sums of 0/1
    pooled = onehot.sum(axis=1, dtype=np.float64)[:, :, None]
    dim_bins = np.ones((r, width))
    valid = np.zeros((r, width), dtype=bool)
    for s in range(r):
        dim_bins[s, : n_bins[s].sum()] = np.repeat(n_bins[s], n_bins[s])
        valid[s, : n_bins[s].sum()] = True
    a, n, m = spec.kl_smoothing, spec.n, spec.m
    count = np.arange(n + 1, dtype=np.float64)[None, None, :]
    p = (count + a) / (n + dim_bins[:, :, None] * a)
    q = (pooled - count + a) / (m + dim_bins[:, :, None] * a)
    with np.errstate(invalid="ignore", divide="ignore"):  # counts above the pooled one: unused
        log_ratio = np.log(p) - np.log(q)
        if spec.kl_direction == "forward":
            table = p * log_ratio
        elif spec.kl_direction == "reverse":
            table = -q * log_ratio
        else:
            table = (p - q) * log_ratio
    table = np.where(valid[:, :, None], table, 0.0)
    flat = counts_x + (np.arange(r * width).reshape(r, width, 1) * (n + 1))
    return table.ravel()[flat].sum(axis=1)


def family_pvalues(z: np.ndarray, splits: np.ndarray, spec: _TestSpec) -> np.ndarray:
    """Family (min-p) p-value of the engine's test for each pooled sample of a batch.

    ``z`` is (R × N × d) with the x-rows first; ``splits`` (R × N × K) holds each sample's
    splits as 0/1 columns, the observed split first (K = B + 1 random splits, or every split
    when the test is exact). Same statistics, standardization, bandwidth rule, bins, tie
    tolerance and single-step min-p as :func:`parity.stats.two_sample_test`.
    """
    n, k = spec.n, splits.shape[2]
    if spec.standardize:
        z = standardize_pooled(z)
    unit = unit_scale_batch(z)
    sq = pairwise_sq_distances_batch(z / unit[:, None, None])
    columns = []
    for name in spec.statistics:
        if name == "kl":
            values = _kl_values(z, splits, spec)
            scale = np.abs(values[:, 0])
        else:
            if name == "mmd":
                if spec.bandwidths is None:
                    median = median_heuristic_batch(sq, unit)
                    bws = median[:, None] * np.asarray(spec.factors)[None, :]
                else:
                    bws = np.tile(np.asarray(spec.bandwidths), (z.shape[0], 1))
                coef = (-0.5 / (bws / unit[:, None]) ** 2).astype(spec.dtype)
                sq_t = sq.astype(spec.dtype, copy=False)
                gram = np.exp(sq_t * coef[:, 0, None, None])
                for c in range(1, coef.shape[1]):
                    gram += np.exp(sq_t * coef[:, c, None, None])
                sums = _quadratic_sums(gram, splits, n, float(coef.shape[1]))
                values = mmd2_from_sums(sums, spec.estimator)
            else:
                gram = np.sqrt(sq).astype(spec.dtype, copy=False)
                sums = _quadratic_sums(gram, splits, n, 0.0)
                values = unit[:, None] * energy_from_sums(sums)
            scale = np.asarray(sums.scale)[:, 0]
        counts = batch_exceedance_counts(values, spec.tie_rtol * scale)
        columns.append(counts / k)
    min_p = np.min(columns, axis=0)
    if len(columns) == 1:
        return min_p[:, 0]
    return np.mean(min_p <= min_p[:, :1] * (1 + 1e-12), axis=1)


# --------------------------------------------------------------------------------------------
# replicates and effects


def draw_splits(
    n_total: int, n: int, n_permutations: int, n_replicates: int, rng: np.random.Generator
) -> np.ndarray:
    """0/1 split matrices (R × N × K) for R replicates: the observed split, then B random ones.

    When ``C(N, n) ≤ B`` every split is enumerated instead (the same for every replicate), as
    the engine does.

    Examples
    --------
    >>> draw_splits(4, 2, 3, 2, np.random.default_rng(0)).shape  # C(4, 2) = 6 > 3
    (2, 4, 4)
    >>> draw_splits(4, 2, 9, 2, np.random.default_rng(0)).shape  # exact: all 6 splits
    (2, 4, 6)
    """
    import itertools

    if math.comb(n_total, n) <= n_permutations:
        combos = np.asarray(list(itertools.combinations(range(n_total), n)))
        block = np.zeros((n_total, len(combos)), dtype=np.uint8)
        block[combos, np.arange(len(combos))[:, None]] = 1
        return np.broadcast_to(block, (n_replicates, *block.shape))
    base = np.zeros(n_total, dtype=np.uint8)
    base[:n] = 1
    rows = rng.permuted(np.tile(base, (n_replicates * n_permutations, 1)), axis=1)
    out = np.empty((n_replicates, n_total, n_permutations + 1), dtype=np.uint8)
    out[:, :, 0] = base
    out[:, :, 1:] = rows.reshape(n_replicates, n_permutations, n_total).transpose(0, 2, 1)
    return out


def shift_direction(sd: np.ndarray) -> np.ndarray:
    """Per-dimension shift of unit standardized length along the diagonal: ``σ_j / √d``.

    Constant dimensions (σ_j = 0) do not move and do not count in d.

    Examples
    --------
    >>> shift_direction(np.array([2.0, 0.0, 1.0])).round(4)
    array([1.4142, 0.    , 0.7071])
    """
    moving = sd > 0
    return np.where(moving, sd, 0.0) / math.sqrt(max(int(moving.sum()), 1))


def _effect(kind: str, reference: np.ndarray) -> Callable[[np.ndarray, float], np.ndarray]:
    """``apply(y, t)``: a shift of t (σ, diagonal) or a scale change by e^t around the mean."""
    if kind == "shift":
        direction = shift_direction(reference.std(axis=0))
        return lambda y, t: y + t * direction
    centre = reference.mean(axis=0)
    return lambda y, t: centre + math.exp(t) * (y - centre)


def _first_guess(kind: str, n_eff: float, d: int, alpha: float, power: float) -> float:
    """A starting effect size: the z-test's detectable effect, widened for the omnibus test.

    A shift's projection on its direction is a z-test needing ``(z_{1−α/2} + z_power)/√n_eff``;
    the log of a variance ratio has standard error ``√(2/n_eff)`` per dimension (so a scale
    factor's log, half of it, ``1/√(2 n_eff)``); the omnibus tests need more, roughly ``d^¼``.
    """
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    if kind == "shift":
        return z / math.sqrt(n_eff) * d**0.25
    return 2 * z / math.sqrt(2 * n_eff) * d**-0.25


def _probit(p: float, n: int) -> float:
    """Normal quantile of a simulated proportion, kept finite (p clipped to [½/n, 1 − ½/n])."""
    low = 0.5 / n
    return NormalDist().inv_cdf(min(max(p, low), 1 - low))


def _bracket(points: dict[float, float], target: float) -> tuple[float, float | None]:
    """(largest t below the smallest t reaching ``target``, that smallest t) — 0 / None if none."""
    reached = [t for t, p in points.items() if p >= target]
    hi = min(reached) if reached else None
    below = [t for t, p in points.items() if p < target and (hi is None or t < hi)]
    return (max(below) if below else 0.0), hi


def search_threshold(
    power_at: Callable[[float], float],
    first: float,
    upper: float,
    target: float,
    n_replicates: int,
    *,
    max_evaluations: int = MAX_EVALUATIONS,
    ratio: float = REFINE_RATIO,
    slope: float = 3.0,
) -> dict[float, float]:
    """Evaluate ``power_at`` at effect sizes in (0, ``upper``] until ``target`` is bracketed.

    Steps are geometric, sized by a probit-linear model of power in log effect with ``slope``
    (between ×1.25 and ×4 per step) until one size reaches ``target`` and one below does not;
    then steps interpolate between the bracket's ends on that scale, until they are within a
    factor ``ratio`` or ``max_evaluations`` sizes were evaluated. Returns {size: power}.

    Examples
    --------
    >>> curve = search_threshold(lambda t: min(t / 2, 1.0), 0.5, 8.0, 0.8, 1000)
    >>> lo, hi = sorted(t for t in curve if curve[t] >= 0.8)[0], max(
    ...     t for t in curve if curve[t] < 0.8)
    >>> hi < 1.6 <= lo
    True
    """
    points: dict[float, float] = {}
    t = min(first, upper)
    while len(points) < max_evaluations:
        points[t] = power_at(t)
        lo, hi = _bracket(points, target)
        gap = _probit(target, n_replicates) - _probit(points[t], n_replicates)
        if hi is None:
            if t >= upper:
                break
            t = min(t * math.exp(min(max(gap / slope, math.log(1.25)), math.log(4))), upper)
        elif lo == 0.0:
            t = t * math.exp(max(min(gap / slope, -math.log(1.25)), -math.log(4)))
            if t < first / 1024:
                break
        elif hi / lo <= ratio:
            break
        else:
            p_lo, p_hi = (_probit(points[s], n_replicates) for s in (lo, hi))
            share = (_probit(target, n_replicates) - p_lo) / (p_hi - p_lo) if p_hi > p_lo else 0.5
            share = min(max(share, 0.25), 0.75)
            t = math.exp(math.log(lo) + share * math.log(hi / lo))
        if t in points:
            break
    return points


def threshold_estimate(
    points: dict[float, float], target: float, n_replicates: int, alpha: float
) -> tuple[float, float, bool]:
    """(effect size at ``target`` power, its Monte Carlo standard error, found) from a curve.

    Linear interpolation of the power in log effect between the bracket's ends (from the null,
    where the power is α, linearly in the effect, when no evaluated size fell below target);
    the standard error is the delta method's: the power's binomial error over the slope.

    Examples
    --------
    >>> est, se, found = threshold_estimate({1.0: 0.6, 2.0: 0.9}, 0.8, 100, 0.05)
    >>> round(est, 3), found
    (1.587, True)
    """
    lo, hi = _bracket(points, target)
    if hi is None:
        return math.inf, math.nan, False
    noise = math.sqrt(target * (1 - target) / n_replicates)
    if lo == 0.0:
        share = (target - alpha) / (points[hi] - alpha)
        return share * hi, hi * noise / (points[hi] - alpha), True
    p_lo, p_hi = points[lo], points[hi]
    log_width = math.log(hi / lo)
    estimate = math.exp(math.log(lo) + (target - p_lo) / (p_hi - p_lo) * log_width)
    return estimate, estimate * noise * log_width / (p_hi - p_lo), True


def simulated_sizes(n: int, m: int, n_reference: int, max_rows: int) -> tuple[int, int]:
    """Rows per side of the replicates: the real sizes capped at ``max_rows``, then shrunk in
    proportion until both fit, disjoint, in the reference (at least 2 each).

    Examples
    --------
    >>> simulated_sizes(5000, 5000, 5000, 50)
    (50, 50)
    >>> simulated_sizes(40, 40, 40, 50)
    (20, 20)
    """
    n_sim, m_sim = min(n, max_rows), min(m, max_rows)
    if n_sim + m_sim > n_reference:
        share = n_reference / (n_sim + m_sim)
        n_sim, m_sim = max(2, math.floor(n_sim * share)), max(2, math.floor(m_sim * share))
    return n_sim, m_sim


def effective_size(n: int, m: int) -> float:
    """``nm/(n + m)``, the size that a two-sample test's power depends on (n for n = m = 2n/2).

    Examples
    --------
    >>> effective_size(40, 40)
    20.0
    """
    return n * m / (n + m)


# --------------------------------------------------------------------------------------------
# the public function


def _test_spec(statistics, n, m, standardize, options, n_total) -> _TestSpec:
    precision = options.get("precision", "auto")
    if precision == "auto":
        precision = "float32" if n_total >= 2048 else "float64"
    tie_rtol = options.get("tie_rtol")
    bandwidths = options.get("bandwidths")
    if bandwidths is not None:
        bandwidths = tuple(float(b) for b in np.atleast_1d(np.asarray(bandwidths, float)))
    return _TestSpec(
        statistics=statistics,
        n=n,
        m=m,
        standardize=bool(standardize),
        bandwidths=bandwidths,
        factors=tuple(
            float(f) for f in options.get("bandwidth_factors", DEFAULT_BANDWIDTH_FACTORS)
        ),
        estimator=options.get("mmd_estimator", "unbiased"),
        kl_bins=options.get("kl_bins", "auto"),
        kl_smoothing=float(options.get("kl_smoothing", 0.5)),
        kl_direction=options.get("kl_direction", "forward"),
        dtype=np.float32 if precision == "float32" else np.float64,
        tie_rtol=float(TIE_RTOL[precision] if tie_rtol is None else tie_rtol),
    )


def _validated(reference, n_candidate, alpha, power, statistics, n_permutations, n_simulations):
    ref = as_samples("reference", reference)
    n_candidate = ref.shape[0] if n_candidate is None else n_candidate
    n_candidate = check_positive_int("n_candidate", n_candidate, minimum=2)
    alpha = check_probability("alpha", alpha)
    if alpha >= 0.5:
        raise ParityInputError(f"`alpha` must be in (0, 0.5); got {alpha!r}")
    power = check_probability("power", power)
    if power <= alpha:
        raise ParityInputError(f"`power` must exceed `alpha` ({alpha:g}); got {power!r}")
    default_b = math.ceil(MIN_SPLITS_PER_LEVEL / alpha - 1e-9) - 1
    n_permutations = default_b if n_permutations is None else n_permutations
    n_permutations = check_positive_int("n_permutations", n_permutations)
    n_simulations = check_positive_int("n_simulations", n_simulations, minimum=2)
    statistics = (statistics,) if isinstance(statistics, str) else tuple(statistics)
    return ref, n_candidate, alpha, power, statistics, n_permutations, n_simulations


def _check_range(name: str, value: float, low: float) -> float:
    number = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool
    )
    if not (number and math.isfinite(value) and value > low):
        raise ParityInputError(f"`{name}` must be a finite number > {low:g}; got {value!r}")
    return float(value)


def _degenerate(ref: np.ndarray) -> str | None:
    """Why no effect on this reference can be simulated, or None."""
    if ref.shape[0] < 4:
        return f"the reference has {ref.shape[0]} rows: too few to simulate two samples from it"
    if not np.any(ref.std(axis=0) > 0):
        return "the reference is constant: no shift or scale change of it can be detected"
    return None


def _ties_note(ref: np.ndarray) -> str | None:
    """A caveat when most reference rows repeat others (discrete or quantized values)."""
    distinct = np.unique(ref, axis=0).shape[0]
    if distinct >= ref.shape[0] / 2:
        return None
    return (
        f"the reference has only {distinct} distinct rows of {ref.shape[0]}: a shift or scale "
        "change moves the candidate off these values, which the tests detect easily, so the "
        "detectable effects may be smaller than for changes that keep the values discrete"
    )


@dataclass(slots=True)
class _Simulation:
    """The replicates (disjoint row subsets of the reference and their splits), drawn once."""

    ref: np.ndarray
    rows_x: np.ndarray
    rows_y: np.ndarray
    splits: np.ndarray
    spec: _TestSpec
    alpha: float
    n_tests: int = 0

    def power_function(self, kind: str) -> Callable[[float], float]:
        """``power(t)``: the share of replicates rejecting with effect ``kind`` of size t.

        Each replicate's decision is taken as monotone in t (common random numbers: the same
        rows and splits at every t), so a replicate that rejected at some t' ≤ t is counted as
        rejecting and one that did not at some t' ≥ t as not; only the others are simulated.
        """
        apply = _effect(kind, self.ref)
        r = self.rows_x.shape[0]
        below = np.zeros(r)  # the largest size at which each replicate did not reject
        above = np.full(r, np.inf)  # the smallest size at which it rejected
        n_total = self.spec.n + self.spec.m
        batch = max(1, BATCH_BYTES // (4 * 8 * n_total**2))

        def power(t: float) -> float:
            todo = np.flatnonzero((below < t) & (t < above))
            for start in range(0, todo.size, batch):
                rows = todo[start : start + batch]
                x = self.ref[self.rows_x[rows]]
                y = apply(self.ref[self.rows_y[rows]], t)
                pvalues = family_pvalues(
                    np.concatenate([x, y], axis=1), self.splits[rows], self.spec
                )
                rejected = pvalues < self.alpha
                above[rows[rejected]] = t
                below[rows[~rejected]] = t
            self.n_tests += todo.size
            return float(np.mean(above <= t))

        return power


def _curve(kind: str, points: dict[float, float], shrink: float, r: int) -> PowerCurve:
    sizes = sorted(points)
    power = [points[t] for t in sizes]
    return PowerCurve(
        effect=kind,
        values=tuple(_real_size(kind, t, shrink) for t in sizes),
        simulated_values=tuple(_real_size(kind, t, 1.0) for t in sizes),
        power=tuple(power),
        standard_error=tuple(math.sqrt(p * (1 - p) / r) for p in power),
    )


def _real_size(kind: str, t: float, shrink: float) -> float:
    """The effect at the real sizes of a simulated size t (a shift in σ, a scale's log)."""
    return t * shrink if kind == "shift" else math.exp(t * shrink)


def min_detectable_effect(
    reference,
    n_candidate: int | None = None,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    statistics: Sequence[str] | str = STATISTICS,
    n_permutations: int | None = None,
    n_simulations: int = DEFAULT_SIMULATIONS,
    rng: RngLike = None,
    standardize: bool = True,
    max_rows: int = MAX_ROWS,
    max_shift: float = MAX_SHIFT,
    max_scale: float = MAX_SCALE,
    **test_options: Any,
) -> SensitivityResult:
    """The smallest shift and scale change the two-sample test detects with ``power``.

    Parameters
    ----------
    reference : array_like, shape (n, d)
        The reference sample; each replicate draws two disjoint row subsets of it.
    n_candidate : int, optional
        Rows m of the candidate sample of the real comparison (default: n).
    alpha, power : float
        Level of the test and the power asked for.
    statistics : sequence of {"mmd", "energy", "kl"}
        Statistics of the family test, as in :func:`parity.stats.two_sample_test`.
    n_permutations : int, optional
        Random splits per simulated test; default ``⌈10/α⌉ − 1`` (199 at α = 0.05).
    n_simulations : int
        Replicates R (the same replicates at every effect size).
    rng : None, int or numpy.random.Generator
        Source of the replicates' rows and splits.
    standardize : bool
        Whether the test standardizes the pooled sample (as in ``two_sample_test``).
    max_rows : int
        Rows per side simulated at most; the effects found are rescaled to n and m.
    max_shift, max_scale : float
        Largest shift (σ) and scale factor searched; an effect not detected up to them is
        reported as ``inf`` (not detectable).
    **test_options
        The test's other options (``bandwidths``, ``kl_bins``, ``precision``, …).

    Returns
    -------
    SensitivityResult

    Examples
    --------
    >>> ref = np.random.default_rng(0).normal(size=(200, 2))
    >>> res = min_detectable_effect(ref, n_simulations=32, rng=0)
    >>> res.describe_shift(), res.describe_scale()
    ('shifts ≥ 0.32σ', 'scale changes ≥ ×1.30')
    """
    start = time.perf_counter()
    ref, m, alpha, power, statistics, b, r = _validated(
        reference, n_candidate, alpha, power, statistics, n_permutations, n_simulations
    )
    max_rows = check_positive_int("max_rows", max_rows, minimum=2)
    if max_rows > MAX_ROWS_LIMIT:
        raise ParityInputError(f"`max_rows` must be at most {MAX_ROWS_LIMIT}; got {max_rows!r}")
    max_shift = _check_range("max_shift", max_shift, 0.0)
    max_scale = _check_range("max_scale", max_scale, 1.0)
    n = ref.shape[0]
    with warnings.catch_warnings():  # the test's options are checked by the engine itself
        warnings.simplefilter("ignore", ParityWarning)
        two_sample_test(ref[:2], ref[:2], statistics, 1, 0, standardize=standardize, **test_options)
    n_sim, m_sim = simulated_sizes(n, m, n, max_rows)
    shrink = math.sqrt(effective_size(n_sim, m_sim) / effective_size(n, m))
    spec = _test_spec(statistics, n_sim, m_sim, standardize, test_options, n_sim + m_sim)
    limits = {"shift": max_shift / shrink, "scale": math.log(max_scale) / shrink}
    exact = math.comb(n_sim + m_sim, n_sim) <= b

    generator = as_generator(rng)
    note = _degenerate(ref)
    notes = [text for text in (note or _ties_note(ref),) if text is not None]
    for text in notes:
        warnings.warn(text, DegenerateDataWarning, stacklevel=2)
    found: dict[str, dict[float, float]] = {kind: {} for kind in EFFECTS}
    sim = None
    if note is None:
        rows = np.stack([generator.choice(n, n_sim + m_sim, replace=False) for _ in range(r)])
        splits = draw_splits(n_sim + m_sim, n_sim, b, r, generator).astype(spec.dtype)
        sim = _Simulation(ref, rows[:, :n_sim], rows[:, n_sim:], splits, spec, alpha)
        n_eff = effective_size(n_sim, m_sim)
        for kind in EFFECTS:
            first = _first_guess(kind, n_eff, ref.shape[1], alpha, power)
            found[kind] = search_threshold(sim.power_function(kind), first, limits[kind], power, r)

    estimates = {}
    for kind, points in found.items():
        est, se, ok = threshold_estimate(points, power, r, alpha)
        value = _real_size(kind, est, shrink) if ok else math.inf
        estimates[kind] = (value, ok, se * shrink * (1.0 if kind == "shift" else value))
    return SensitivityResult(
        shift=estimates["shift"][0],
        shift_detectable=estimates["shift"][1],
        shift_standard_error=estimates["shift"][2],
        scale=estimates["scale"][0],
        scale_detectable=estimates["scale"][1],
        scale_standard_error=estimates["scale"][2],
        shift_curve=_curve("shift", found["shift"], shrink, r),
        scale_curve=_curve("scale", found["scale"], shrink, r),
        alpha=alpha,
        power=power,
        n_x=n,
        n_y=m,
        dim=ref.shape[1],
        n_x_simulated=n_sim,
        n_y_simulated=m_sim,
        n_simulations=r,
        n_permutations=math.comb(n_sim + m_sim, n_sim) if exact else b,
        statistics=statistics,
        max_shift=max_shift,
        max_scale=max_scale,
        n_tests=0 if sim is None else sim.n_tests,
        method=_method_text(spec, n, m, r, b, exact),
        warnings=tuple(notes),
        seconds=time.perf_counter() - start,
    )


def _method_text(spec: _TestSpec, n: int, m: int, r: int, b: int, exact: bool) -> str:
    n_sim, m_sim = spec.n, spec.m
    splits = f"all {math.comb(n_sim + m_sim, n_sim)} splits (exact)" if exact else f"{b} splits"
    text = (
        f"Power by simulation: {r} replicates, each two disjoint random row subsets of the "
        f"reference, x* ({n_sim} rows) and y* ({m_sim} rows), the effect applied to y*, tested "
        f"with the same engine (Westfall–Young min-p over {', '.join(spec.statistics)}, "
        f"{splits}{', standardized' if spec.standardize else ''}); the same replicates at "
        "every effect size, geometric search, then interpolation of the power in log effect. "
        "Shift: every dimension moved by δσ_j/√d (Euclidean length δ in reference-σ units, "
        "along the diagonal). Scale: deviations from the reference mean multiplied by s."
    )
    return text + (
        f" Effects found at {n_sim} vs {m_sim} rows rescaled to {n} vs {m} by the square root "
        "of the ratio of effective sizes nm/(n + m) (local-alternative approximation: a shift "
        "scales as δ, a scale change as log s)."
    )


__all__ = [
    "EFFECTS",
    "PowerCurve",
    "SensitivityResult",
    "batch_bins",
    "batch_exceedance_counts",
    "draw_splits",
    "family_pvalues",
    "min_detectable_effect",
    "record_without_time",
    "search_threshold",
    "shift_direction",
    "threshold_estimate",
]
