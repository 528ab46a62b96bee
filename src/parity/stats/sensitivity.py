"""Sensitivity of the two-sample tests: the smallest effects that a ``pass`` could have detected.

A permutation test that does not reject says nothing about how large a difference it would
have missed. :func:`min_detectable_effect` answers that by simulation from the reference sample:
each replicate takes two disjoint random row subsets of the reference, ``x*`` and ``y*``,
applies an effect of size ``t`` to ``y*`` and runs the same family test as
:func:`parity.stats.two_sample_test` (same statistics, Westfall–Young min-p over them, the same
standardization, bandwidth rule, bins and tie tolerance, at the same α; its p-values are the
engine's on the same data and splits, checked in the tests). The power at ``t`` is the share of
replicates that reject; the minimum detectable effect is the smallest ``t`` with 80% power.

Effects, in the reference's own units:

* **shift** ``δ``: every dimension ``j`` moves by ``δ σ_j / √d`` (σ_j the reference's standard
  deviation, d the number of non-constant dimensions): a shift of Euclidean length δ in
  standardized units, along the diagonal. A shift of δσ in one dimension alone has the same
  standardized length; the energy distance and the MMD of standardized data see a shift through
  its standardized length (they are rotation invariant), so δ reads as "δσ in any one
  dimension, or any combination of that length", and does not shrink as d grows as "δσ in
  every dimension" would.
* **scale** ``s`` > 1: the candidate's deviations from the reference mean are multiplied by s,
  ``y ← μ + s (y − μ)``.
* **bump** ``ε`` in (0, 1], a local alternative: each candidate row is replaced, with
  probability ε, by a draw from a narrow normal bump ``N(c, (0.1 σ_j)²)`` around one reference
  row ``c`` (a new one per replicate): a share ε of the samples moved into a cluster a tenth
  of σ wide (a mode collapse, a stuck or saturated output). Shifts and scale changes are the
  alternatives that tests tuned to large scales detect best; a bump is concentrated at a fine
  scale, where they are weakest, so its detectable share says what a pass could not have seen.
  It is reported, not gated on: ``compare()`` applies ``max_detectable_shift`` to the shift
  only, because no share is a natural default for "too insensitive" (it depends on what a
  collapse of that share would cost the user), and a default threshold on it would turn
  passes that the shift rule accepts into inconclusive ones without a stated reason to.
  Checked like the shift against fresh samples of the real test (N(0, I₂), bump at a N(0, I₂)
  point): 40 vs 40: 0.40 estimated vs 0.36 true (80% power on 300 fresh data sets); 400 vs
  400: 0.117 estimated, 88% power at it (true ≈ 0.105); it errs on the large side.

Other designs, with their own engines (called through their public functions with the real
test's options, so the simulated test is the real one):

* :func:`conditional_min_detectable_effect` (by observation): the same three effects within
  each observation, in within-observation σ (the root mean of the observations' variances);
  each replicate splits every simulated observation's reference samples into two disjoint
  subsets. Measured on fresh data of the real design (48 observations × 8 vs 8, simulated
  at 32 × 4 vs 4; ``benchmarks/sensitivity.py``): the real conditional test has 91% power at
  the reported shift (0.57σ, true 80% size 0.52σ), 88% at the scale change and 99% at the
  bump (share 0.28, true 0.22), so it errs on the large side.
* :func:`text_min_detectable_effect` (completions): the share of tokens replaced by tokens
  drawn from the reference, and, with prompts, the share of completions replaced by another
  prompt's reference completion. No threshold applies: a share of tokens has no σ. Measured
  on fresh templated completions (8 prompts × 12 vs 12): 90% power at the reported token
  share (0.22, true 0.20).

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
statistic (a replicate's whole kernel collection stacked into one product), on one BLAS thread:
the products are small, and more threads only wait for each other (ten times slower on a loaded
2-core machine). One search loop (:func:`_search_effects`) serves every design; the by-observation
and text designs test their replicates with the engine itself (:func:`_engine_rejects`).

Results hold no wall time, so that records stay byte-identical for the same inputs and seed;
``n_tests`` counts the simulated tests (the caller may time the call).
"""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from parity.stats._common import ResultMixin, RngLike, as_generator, as_samples, core_pool
from parity.stats._engine import DEFAULT_AGGREGATION, check_aggregation
from parity.stats.permutation import STATISTICS, TIE_RTOL, standardize_pooled, two_sample_test
from parity.stats.two_sample import (
    COLLECTION_QUANTILES,
    DEFAULT_BANDWIDTH_FACTORS,
    DEFAULT_KERNELS,
    SplitSums,
    check_kernels,
    collection_from_distances,
    energy_from_sums,
    geometric_collection,
    kernel_rows,
    mmd2_from_sums,
    pairwise_sq_distances,
    shared_bins,
)

DEFAULT_SIMULATIONS = 64
MAX_ROWS = 30  # rows per side simulated at most; the effects found are rescaled to n, m
MAX_ROWS_LIMIT = 1024  # so that a replicate's pooled rows stay within the all-pairs median
MAX_STRATA = 32  # observations (prompts) per simulated stratified test at most
MAX_SHIFT = 8.0  # searched range of the shift, in reference σ
MAX_SCALE = 8.0  # searched range of the scale factor
BUMP_WIDTH = 0.1  # standard deviation of the bump, in reference σ per dimension
REFINE_RATIO = 1.25  # the search stops when 80% power is bracketed within this factor
MAX_EVALUATIONS = 6  # effect sizes evaluated per effect, at most
MIN_SPLITS_PER_LEVEL = 10  # B = ⌈10/α⌉ − 1 splits per simulated test
BATCH_BYTES = 64 * 2**20  # memory budget of the (replicates × N × N) arrays of one batch
#: Options of ``two_sample_test`` that the batched simulated test models (or that do not change
#: its p-values); with any other the replicates are tested by the engine itself.
BATCHED_OPTIONS = frozenset(
    {
        "aggregation",
        "kernels",
        "bandwidths",
        "bandwidth_factors",
        "mmd_estimator",
        "kl_bins",
        "kl_smoothing",
        "kl_direction",
        "precision",
        "tie_rtol",
        "block_size",
        "device",
    }
)
EFFECTS = ("shift", "scale", "bump")  # of action samples (pooled and by observation)
#: How each effect is named in sentences ("this test detects a mean shift of 0.3σ").
EFFECT_NOUNS = {
    "shift": "a mean shift",
    "scale": "a scale change",
    "bump": "a bump",
    "token": "token changes",
    "swap": "prompt swaps",
}
_PHRASES = {  # (detectable, not detectable up to the searched end)
    "shift": ("shifts ≥ {}", "no shift up to {}"),
    "scale": ("scale changes ≥ {}", "no scale change up to {}"),
    "bump": ("bumps of ≥ {} of the samples", "no bump up to {} of the samples"),
    "token": ("token changes ≥ {} of the tokens", "no token change up to {} of the tokens"),
    "swap": ("prompt swaps ≥ {} of the completions", "no prompt swap up to {} of the completions"),
}


def format_size(value: float, unit: str, digits: int | None = None) -> str:
    """An effect size with its unit: ``0.32σ``, ``×1.30``, ``12%`` (unit ``share``).

    ``digits`` significant digits (default 2; a factor gets 2 decimals by default).

    Examples
    --------
    >>> format_size(0.318, "σ"), format_size(1.3, "×"), format_size(0.123, "share")
    ('0.32σ', '×1.30', '12%')
    >>> format_size(8.0, "σ", 3), format_size(1.0123, "×", 3)
    ('8σ', '×1.01')
    """
    if unit == "share":
        return f"{100 * value:.{digits or 2}g}%"
    if unit == "×":
        return f"×{value:.{digits}g}" if digits else f"×{value:.2f}"
    return f"{value:.{digits or 2}g}{unit}"


@dataclass(frozen=True, slots=True)
class PowerCurve(ResultMixin):
    """Simulated power of the test at the effect sizes the search evaluated (ascending).

    ``values`` are effect sizes at the real sample sizes (σ for a shift, a factor for a scale
    change, a share for a bump, token change or prompt swap); ``simulated_values`` the sizes
    applied to the replicates' smaller samples, of which ``values`` are the rescaling;
    ``standard_error`` the binomial Monte Carlo standard error ``√(p(1 − p)/R)`` of each power.
    """

    effect: str
    values: tuple[float, ...]
    simulated_values: tuple[float, ...]
    power: tuple[float, ...]
    standard_error: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class DetectableEffect(ResultMixin):
    """The smallest size of one effect that the test detects with the target power.

    ``value`` is at the real sample sizes, in ``unit`` (``σ``, ``×`` or ``share``); it is
    ``inf`` with ``detectable`` False when no size up to ``max_value`` (the searched range's
    end, at the real sizes) reached the target power. ``standard_error`` is the delta-method
    Monte Carlo error of ``value``; ``label`` says what the effect is and its unit.
    """

    effect: str
    label: str
    unit: str
    value: float
    detectable: bool
    standard_error: float
    max_value: float
    curve: PowerCurve

    def describe(self) -> str:
        """The effect as a phrase: ``"shifts ≥ 0.83σ"``, ``"no bump up to 71% of the samples"``.

        Examples
        --------
        >>> curve = PowerCurve("shift", (), (), (), ())
        >>> DetectableEffect("shift", "shift", "σ", 0.834, True, 0.05, 8.0, curve).describe()
        'shifts ≥ 0.83σ'
        """
        found, missing = _PHRASES[self.effect]
        if not self.detectable:
            return missing.format(format_size(self.max_value, self.unit, 3))
        return found.format(format_size(self.value, self.unit))


@dataclass(frozen=True, slots=True)
class SensitivityResult(ResultMixin):
    """The smallest effects the test detects with the target power, by simulation.

    ``design`` is the test's: ``pooled`` (:func:`min_detectable_effect`), ``conditional``
    (:func:`conditional_min_detectable_effect`) or ``text``
    (:func:`text_min_detectable_effect`). ``effects`` maps each simulated effect (``shift``,
    ``scale``, ``bump``; ``token``, ``swap`` for text) to its :class:`DetectableEffect`.
    ``n_x``/``n_y`` are the real samples per side and ``n_x_simulated``/``n_y_simulated`` the
    replicates', both in total over the ``n_strata`` (simulated: ``n_strata_simulated``)
    observations or prompts of a stratified test (1 for a pooled one). ``n_tests`` counts the
    simulated tests. It holds no wall time (a stats result is a function of its inputs and
    seed; the caller times the call if it wants to).
    """

    design: str
    effects: dict[str, DetectableEffect]
    alpha: float
    power: float
    n_x: int
    n_y: int
    dim: int
    n_x_simulated: int
    n_y_simulated: int
    n_strata: int
    n_strata_simulated: int
    n_simulations: int
    n_resamples: int
    statistics: tuple[str, ...]
    n_tests: int
    method: str
    warnings: tuple[str, ...] = ()

    @property
    def shift(self) -> float:
        """The detectable shift (σ; ``inf`` when none was found, ``nan`` when not simulated)."""
        return self.effects["shift"].value if "shift" in self.effects else math.nan

    @property
    def scale(self) -> float:
        """The detectable scale factor (``inf`` when none was found, ``nan`` if not simulated)."""
        return self.effects["scale"].value if "scale" in self.effects else math.nan

    def describe(self, effect: str) -> str:
        """One effect as a phrase, e.g. ``describe("bump")``: ``"bumps of ≥ 12% of the samples"``.

        Examples
        --------
        >>> import numpy as np
        >>> ref = np.random.default_rng(0).normal(size=(40, 2))
        >>> res = min_detectable_effect(ref, n_simulations=16, rng=0)
        >>> res.describe("shift").startswith("shifts ≥ ")
        True
        """
        return self.effects[effect].describe()

    def describe_shift(self) -> str:
        """The detectable shift as a phrase: ``"shifts ≥ 0.83σ"`` or ``"no shift up to 8σ"``."""
        return self.describe("shift")

    def describe_scale(self) -> str:
        """The detectable scale change as a phrase: ``"scale changes ≥ ×1.40"``."""
        return self.describe("scale")

    def describe_all(self) -> str:
        """Every effect as one phrase: ``"shifts ≥ 0.3σ, scale changes ≥ ×1.2, bumps …"``."""
        return ", ".join(e.describe() for e in self.effects.values())

    def sizes_text(self) -> str:
        """The real design's sizes: ``n = 40 vs 40`` (or per observation/prompt)."""
        keys = ("design", "n_x", "n_y", "n_strata")
        return sizes_text({key: getattr(self, key) for key in keys})


def sizes_text(record: dict[str, Any]) -> str:
    """The real sizes of a :class:`SensitivityResult` record, in words.

    Examples
    --------
    >>> sizes_text({"design": "conditional", "n_x": 480, "n_y": 480, "n_strata": 60})
    '60 observations × 8 vs 8 samples'
    >>> sizes_text({"design": "pooled", "n_x": 40, "n_y": 50, "n_strata": 1})
    'n = 40 vs 50'
    """
    n_x, n_y, strata = record["n_x"], record["n_y"], record["n_strata"]
    if record["design"] == "conditional":
        return f"{strata} observations × {n_x // strata} vs {n_y // strata} samples"
    if record["design"] == "text" and strata > 1:
        return f"n = {n_x} vs {n_y} completions over {strata} prompts"
    return f"n = {n_x} vs {n_y}"


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
    aggregation: str = DEFAULT_AGGREGATION
    kernels: tuple[str, ...] = DEFAULT_KERNELS


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
    ordered = np.sort(values, axis=1)  # NaNs last, as np.searchsorted expects
    counts = np.empty((r, k), dtype=np.int64)
    for row in range(r):  # the values strictly below each query are left of its insertion point
        counts[row] = k - np.searchsorted(ordered[row], queries[row], side="left")
    return counts


def _quadratic_sums(gram: np.ndarray, splits: np.ndarray, n: int, diag: float) -> SplitSums:
    """Block sums of every split (column of ``splits``) of every sample of the batch."""
    product = np.matmul(gram, splits)
    xx = np.einsum("rij,rij->rj", splits, product, dtype=np.float64)
    return _sums_from_products(gram, product, xx, n, diag)


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


def _on_cores(fn, todo: np.ndarray, batch: int) -> np.ndarray:
    """``np.concatenate([fn(part) for part in parts])`` over consecutive parts of ``todo`` (at
    most ``batch`` each, at least one per core), the parts on all cores. Each replicate's
    p-value depends on its own rows only, so the parts do not change a bit of the result."""
    cores = os.cpu_count() or 1
    size = max(1, min(batch, -(-todo.size // cores)))
    parts = [todo[i : i + size] for i in range(0, todo.size, size)]
    if len(parts) < 2 or cores < 2:
        return np.concatenate([fn(p) for p in parts]) if parts else np.empty(0, dtype=bool)
    # its own pool: a part's distances may use the row-block pool inside
    return np.concatenate(list(core_pool("replicates").map(fn, parts)))


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
    n_columns = np.zeros(z.shape[0], dtype=int)  # the family's p-value columns per sample
    for name in spec.statistics:
        if name == "kl":
            values = _kl_values(z, splits, spec)
            scale = np.abs(values[:, 0])
        elif name == "mmd" and spec.aggregation != "sum":
            kernel_columns, counts = _collection_pvalues(z, sq, unit, splits, spec)
            columns += kernel_columns
            n_columns += counts
            continue
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
        n_columns += 1
    min_p = np.min(columns, axis=0)
    adjusted = np.mean(min_p <= min_p[:, :1] * (1 + 1e-12), axis=1)
    return np.where(n_columns == 1, min_p[:, 0], adjusted)


def _collection_pvalues(
    z, sq, unit, splits, spec: _TestSpec
) -> tuple[list[np.ndarray], np.ndarray]:
    """The family p-value columns (each R × V) of the MMD over each sample's kernel collection,
    and how many of them each sample has.

    As :func:`parity.stats.two_sample_test` with ``aggregation`` ``agg`` or ``fuse``: each
    sample's own bandwidth collection (:func:`parity.stats.two_sample.bandwidth_collection`, all
    rows, as a replicate has fewer than 2048), one unbiased MMD² per kernel on the shared
    splits; ``agg`` brings one column per kernel to the family's min-p, ``fuse`` the p-values of
    the log-sum-exp of standardized values. A sample's kernels are stacked into one product
    with its splits (:func:`_kernel_values`), and ``agg``'s per-kernel p-values of every sample
    come from one :func:`batch_exceedance_counts`.
    """
    r, v = z.shape[0], splits.shape[2]
    values, tols = _kernel_values(z, sq, unit, splits, spec)
    counts = np.array([len(t) for t in tols])
    if spec.aggregation == "agg":
        flat = batch_exceedance_counts(np.concatenate(values), np.concatenate(tols)) / v
        per_sample = np.split(flat, np.cumsum(counts)[:-1])
    else:
        per_sample = [_family_columns(values[i], tols[i], spec.aggregation) for i in range(r)]
        counts = np.array([len(c) for c in per_sample])
    width = int(counts.max())
    # A sample with fewer kernels gets columns of p = 1: never the smallest p of a split.
    columns = [
        np.stack([c[j] if j < len(c) else np.ones(v) for c in per_sample]) for j in range(width)
    ]
    return columns, counts


def _kernel_values(z, sq, unit, splits, spec: _TestSpec) -> tuple[list, list]:
    """Per sample of the batch: the unbiased MMD² of every kernel of its collection on every
    split (K × V, kernel types in ``spec.kernels`` order, bandwidths ascending) and each
    kernel's tie tolerance (K,).

    The sample's Gram matrices are stacked row-wise and multiplied with its splits at once;
    the block sums are those of :func:`_quadratic_sums`, kernel by kernel.
    """
    n, r = spec.n, z.shape[0]
    n_total = z.shape[1]
    rows, cols = np.triu_indices(n_total, 1)
    values: list[list[np.ndarray]] = [[] for _ in range(r)]
    tols: list[list[float]] = [[] for _ in range(r)]
    for kind in spec.kernels:
        l1 = None
        if kind == "laplace":
            scaled = z / unit[:, None, None]
            l1 = np.abs(scaled[:, :, None, :] - scaled[:, None, :, :]).sum(axis=-1)
            distances = unit[:, None] * l1[:, rows, cols]
        else:
            distances = unit[:, None] * np.sqrt(sq[:, rows, cols])
        collections = _collections(distances) if spec.bandwidths is None else [spec.bandwidths] * r
        for i, bws in enumerate(collections):
            bandwidths = np.asarray(bws)[:, None, None] / unit[i]
            # the bandwidths (kernels × 1 × 1) broadcast: one Gram matrix per kernel, K × N × N
            grams = kernel_rows(
                kind,
                bandwidths,
                sq[i].astype(spec.dtype, copy=False),
                None if l1 is None else l1[i],
                spec.dtype,
            )
            sums = _stacked_sums(grams, splits[i], n, 1.0)
            values[i].append(np.atleast_2d(mmd2_from_sums(sums, spec.estimator)))
            tols[i] += list(spec.tie_rtol * np.asarray(sums.scale)[:, 0])
    return [np.concatenate(v) for v in values], [np.array(t) for t in tols]


def _collections(distances: np.ndarray) -> list[tuple[float, ...]]:
    """:func:`parity.stats.two_sample.collection_from_distances` of each row of an (R × P)
    array of distances; the quantiles of all rows at once when no distance is zero.

    Examples
    --------
    >>> _collections(np.array([[1.0, 2.0, 4.0], [0.0, 1.0, 2.0]]))
    [(0.55, 1.1, 2.2, 4.4), (0.525, 1.05, 2.1)]
    """
    if not np.all(distances > 0):
        return [collection_from_distances(row) for row in distances]
    lows, highs = np.quantile(distances, COLLECTION_QUANTILES, axis=1)
    return [
        geometric_collection(float(low) / 2, float(high) * 2)
        for low, high in zip(lows, highs, strict=True)
    ]


def _stacked_sums(grams: np.ndarray, split: np.ndarray, n: int, diag: float) -> SplitSums:
    """:func:`_quadratic_sums` of several Gram matrices (K × N × N) of one sample with its
    splits (N × V), as one product: fields are (K × V)."""
    k, n_total, _ = grams.shape
    product = (grams.reshape(k * n_total, n_total) @ split).reshape(k, n_total, -1)
    xx = np.einsum("ij,kij->kj", split, product, dtype=np.float64)
    return _sums_from_products(grams, product, xx, n, diag)


def _sums_from_products(
    grams: np.ndarray, product: np.ndarray, xx: np.ndarray, n: int, diag: float
) -> SplitSums:
    """The :class:`SplitSums` of a stack of Gram matrices (… × N × N) given their products with
    the split indicators (… × N × V) and the x-block sums ``xx`` (… × V); every Gram matrix of
    the stack has the constant diagonal ``diag``."""
    n_total = grams.shape[-1]
    x_rows = product.sum(axis=-2, dtype=np.float64)
    total = grams.sum(axis=-1, dtype=np.float64).sum(axis=-1)[..., None]
    return SplitSums(
        xx=xx,
        yy=total - 2 * x_rows + xx,
        xy=x_rows - xx,
        trace_x=n * diag,
        trace_y=(n_total - n) * diag,
        n=n,
        m=n_total - n,
    )


def _family_columns(values: np.ndarray, tols: np.ndarray, aggregation: str) -> list[np.ndarray]:
    """One sample's family p-value columns from its kernels' values (K × V), as the engine."""
    from parity.stats._engine import Statistic, family_columns, statistic_column

    k = values.shape[0]
    stat = Statistic("mmd", tuple(range(k)), {}, aggregation if k > 1 else None)
    pvalues = statistic_column(values.T, tols, stat)[1]
    return family_columns(values.T, tols, stat, pvalues)


# --------------------------------------------------------------------------------------------
# replicates and effects


def draw_splits(
    n_total: int, n: int, n_resamples: int, n_replicates: int, rng: np.random.Generator
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

    if math.comb(n_total, n) <= n_resamples:
        combos = np.asarray(list(itertools.combinations(range(n_total), n)))
        block = np.zeros((n_total, len(combos)), dtype=np.uint8)
        block[combos, np.arange(len(combos))[:, None]] = 1
        return np.broadcast_to(block, (n_replicates, *block.shape))
    base = np.zeros(n_total, dtype=np.uint8)
    base[:n] = 1
    rows = rng.permuted(np.tile(base, (n_replicates * n_resamples, 1)), axis=1)
    out = np.empty((n_replicates, n_total, n_resamples + 1), dtype=np.uint8)
    out[:, :, 0] = base
    out[:, :, 1:] = rows.reshape(n_replicates, n_resamples, n_total).transpose(0, 2, 1)
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


@dataclass(frozen=True, slots=True)
class _Draws:
    """What the effects need besides their size, per replicate: the same at every size.

    ``mean`` (the scale change's centre) and ``bump_at`` (the bump's centre) have a leading
    replicate axis and broadcast against a replicate's candidate rows; ``u`` holds one uniform
    per candidate row (a row joins the bump when ``u < ε``, so the bump grows by adding rows)
    and ``noise`` its standard normal position in the bump.
    """

    direction: np.ndarray
    width: np.ndarray
    mean: np.ndarray
    bump_at: np.ndarray
    u: np.ndarray
    noise: np.ndarray


def apply_effect(kind: str, y: np.ndarray, t: float, draws: _Draws, rows) -> np.ndarray:
    """Candidate rows ``y`` of replicates ``rows`` under effect ``kind`` of simulated size t.

    A shift by ``t · direction``; a scale change by ``e^t`` around ``mean``; a bump: the rows
    with ``u < t`` replaced by ``bump_at + width · noise`` (a share t of the rows moved into a
    narrow cluster).

    Examples
    --------
    >>> draws = _Draws(np.ones(1), np.full(1, 0.1), np.zeros((1, 1, 1)), np.full((1, 1, 1), 5.0),
    ...                np.array([[0.2, 0.9]]), np.zeros((1, 2, 1)))
    >>> y = np.array([[[1.0], [2.0]]])
    >>> apply_effect("bump", y, 0.5, draws, [0])[0, :, 0].tolist()
    [5.0, 2.0]
    """
    if kind == "shift":
        return y + t * draws.direction
    if kind == "scale":
        mean = draws.mean[rows]
        return mean + math.exp(t) * (y - mean)
    inside = (draws.u[rows] < t)[..., None]
    return np.where(inside, draws.bump_at[rows] + draws.width * draws.noise[rows], y)


def _first_guess(kind: str, n_eff: float, d: int, alpha: float, power: float) -> float:
    """A starting effect size: the z-test's detectable effect, widened for the omnibus test.

    A shift's projection on its direction is a z-test needing ``(z_{1−α/2} + z_power)/√n_eff``;
    the log of a variance ratio has standard error ``√(2/n_eff)`` per dimension (so a scale
    factor's log, half of it, ``1/√(2 n_eff)``); the omnibus tests need more, roughly ``d^¼``.
    A share ε of mixed-in rows moves a mean embedding by ε times a distance of order one: the
    shift's guess, at most ½.
    """
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    if kind == "scale":
        return 2 * z / math.sqrt(2 * n_eff) * d**-0.25
    guess = z / math.sqrt(n_eff) * d**0.25
    return guess if kind == "shift" else min(guess, 0.5)


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
# the public functions


def _test_spec(statistics, n, m, standardize, options, n_total) -> _TestSpec:
    """The batched test's settings from the real test's ``options``, with the engine's
    defaults (precision by pooled size, tie tolerance by precision, bandwidth rule, bins)."""
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
        aggregation=check_aggregation(options.get("aggregation", DEFAULT_AGGREGATION)),
        kernels=check_kernels(options.get("kernels", DEFAULT_KERNELS)),
    )


def _check_levels(alpha, power, n_resamples, n_simulations) -> tuple[float, float, int, int]:
    """(α, power, B, R) checked; B defaults to ⌈10/α⌉ − 1."""
    alpha = check_probability("alpha", alpha)
    if alpha >= 0.5:
        raise ParityInputError(f"`alpha` must be in (0, 0.5); got {alpha!r}")
    power = check_probability("power", power)
    if power <= alpha:
        raise ParityInputError(f"`power` must exceed `alpha` ({alpha:g}); got {power!r}")
    default_b = math.ceil(MIN_SPLITS_PER_LEVEL / alpha - 1e-9) - 1
    n_resamples = default_b if n_resamples is None else n_resamples
    n_resamples = check_positive_int("n_resamples", n_resamples)
    n_simulations = check_positive_int("n_simulations", n_simulations, minimum=2)
    return alpha, power, n_resamples, n_simulations


def _check_range(name: str, value: float, low: float) -> float:
    """``value`` as a float, checked finite and > ``low`` (an error naming ``name`` if not)."""
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


def _power_function(
    rejects: Callable[[np.ndarray, float], np.ndarray], n_replicates: int, tests: list[int]
) -> Callable[[float], float]:
    """``power(t)``: the share of replicates whose test rejects at effect size t.

    ``rejects(replicates, t)`` runs the simulated tests of those replicates. Each replicate's
    decision is taken as monotone in t (common random numbers: the same rows, splits and effect
    draws at every t), so a replicate that rejected at some t' ≤ t is counted as rejecting and
    one that did not at some t' ≥ t as not; only the others run, and their number is added to
    ``tests[0]``.
    """
    below = np.zeros(n_replicates)  # the largest size at which each did not reject
    above = np.full(n_replicates, np.inf)  # the smallest size at which it rejected

    def power(t: float) -> float:
        todo = np.flatnonzero((below < t) & (t < above))
        if todo.size:
            rejected = np.asarray(rejects(todo, t), dtype=bool)
            above[todo[rejected]] = t
            below[todo[~rejected]] = t
        tests[0] += todo.size
        return float(np.mean(above <= t))

    return power


_Rejects = Callable[[np.ndarray, float], np.ndarray]


def _engine_rejects(
    pvalue_of: Callable[[int, str, float], float], alpha: float
) -> Callable[[str], _Rejects]:
    """The decisions of a design whose replicates the engine itself tests one by one.

    ``pvalue_of(i, kind, t)`` is the engine's p-value of replicate ``i`` with effect ``kind``
    of simulated size ``t``; the result maps an effect to ``rejects(replicates, t)``, the
    replicates' decisions at level ``alpha``, as :func:`_search_effects` wants them.

    Examples
    --------
    >>> rejects = _engine_rejects(lambda i, kind, t: 0.01 if i < t else 0.5, 0.05)("shift")
    >>> rejects(np.array([0, 1, 2]), 1.5).tolist()
    [True, True, False]
    """

    def rejects_of(kind: str) -> _Rejects:
        def rejects(todo: np.ndarray, t: float) -> np.ndarray:
            return np.array([pvalue_of(int(i), kind, t) < alpha for i in todo], dtype=bool)

        return rejects

    return rejects_of


def _real_size(kind: str, t: float, shrink: float) -> float:
    """The effect at the real sizes of a simulated size t (a scale change's log is rescaled)."""
    return math.exp(t * shrink) if kind == "scale" else t * shrink


def _curve(kind: str, points: dict[float, float], shrink: float, r: int) -> PowerCurve:
    """The :class:`PowerCurve` of a search's ``{simulated size: power}`` points."""
    sizes = sorted(points)
    power = [points[t] for t in sizes]
    return PowerCurve(
        effect=kind,
        values=tuple(_real_size(kind, t, shrink) for t in sizes),
        simulated_values=tuple(_real_size(kind, t, 1.0) for t in sizes),
        power=tuple(power),
        standard_error=tuple(math.sqrt(p * (1 - p) / r) for p in power),
    )


@dataclass(frozen=True, slots=True)
class _EffectPlan:
    """One effect to search: its label and unit, the simulated range, the real range's end."""

    label: str
    unit: str
    first: float
    upper: float
    max_value: float


def _search_effects(
    plans: dict[str, _EffectPlan],
    rejects_of: Callable[[str], _Rejects] | None,
    r: int,
    power: float,
    alpha: float,
    shrink: float,
) -> tuple[dict[str, DetectableEffect], int]:
    """Each effect's size with ``power`` over ``r`` replicates, and the simulated tests run.

    The one search loop of every design: ``rejects_of(kind)`` gives the replicates' decisions
    at a simulated size (batched or :func:`_engine_rejects`; None when the reference is
    degenerate: nothing is searched), :func:`search_threshold` picks the sizes and
    :func:`threshold_estimate` reads the size off the curve, rescaled to the real sizes by
    ``shrink``. BLAS runs on one thread (the replicates' products are small: more threads only
    wait for each other, and one thread's rounding does not depend on the machine).
    """
    from parity.stats._backend import one_blas_thread

    effects = {}
    tests = [0]
    for kind, plan in plans.items():
        points: dict[float, float] = {}
        if rejects_of is not None:
            power_at = _power_function(rejects_of(kind), r, tests)
            with one_blas_thread():
                points = search_threshold(power_at, plan.first, plan.upper, power, r)
        est, se, ok = threshold_estimate(points, power, r, alpha)
        value = _real_size(kind, est, shrink) if ok else math.inf
        effects[kind] = DetectableEffect(
            effect=kind,
            label=plan.label,
            unit=plan.unit,
            value=value,
            detectable=ok,
            standard_error=se * shrink * (value if kind == "scale" else 1.0),
            max_value=plan.max_value,
            curve=_curve(kind, points, shrink, r),
        )
    return effects, tests[0]


def _quiet(run: Callable[..., Any]) -> Callable[..., Any]:
    """``run`` with the engine's ParityWarnings (few samples, ties) silenced."""

    def quiet(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ParityWarning)
            return run(*args, **kwargs)

    return quiet


def _warn(notes: Sequence[str]) -> None:
    """Each note as a DegenerateDataWarning at the public function's caller."""
    for text in notes:
        warnings.warn(text, DegenerateDataWarning, stacklevel=3)


def min_detectable_effect(
    reference,
    n_candidate: int | None = None,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    statistics: Sequence[str] | str = STATISTICS,
    n_resamples: int | None = None,
    n_simulations: int = DEFAULT_SIMULATIONS,
    rng: RngLike = None,
    standardize: bool = True,
    max_rows: int = MAX_ROWS,
    max_shift: float = MAX_SHIFT,
    max_scale: float = MAX_SCALE,
    batched: bool | None = None,
    **test_options: Any,
) -> SensitivityResult:
    """The smallest shift, scale change and bump the two-sample test detects with ``power``.

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
    n_resamples : int, optional
        Random splits per simulated test; default ``⌈10/α⌉ − 1`` (199 at α = 0.05).
    n_simulations : int
        Replicates R (the same replicates at every effect size).
    rng : None, int or numpy.random.Generator
        Source of the replicates' rows, splits and effect draws.
    standardize : bool
        Whether the test standardizes the pooled sample (as in ``two_sample_test``).
    max_rows : int
        Rows per side simulated at most; the effects found are rescaled to n and m.
    max_shift, max_scale : float
        Largest shift (σ) and scale factor searched; an effect not detected up to them is
        reported as ``inf`` (not detectable). A bump is searched up to every simulated row.
    batched : bool, optional
        Run the replicates' tests in batches (:func:`family_pvalues`, the engine's statistics
        on the same splits, many times faster) or one by one with
        :func:`parity.stats.two_sample_test` itself. Default: batched unless ``test_options``
        hold an option the batched test does not model (then the engine is called, so that the
        simulated test stays the real one).
    **test_options
        The test's other options (``bandwidths``, ``kl_bins``, ``precision``, …).

    Returns
    -------
    SensitivityResult
        ``design`` "pooled"; ``effects`` ``shift``, ``scale`` and ``bump``.

    Examples
    --------
    >>> ref = np.random.default_rng(0).normal(size=(200, 2))
    >>> res = min_detectable_effect(ref, n_simulations=32, rng=0)
    >>> res.describe_shift(), res.describe_scale()
    ('shifts ≥ 0.34σ', 'scale changes ≥ ×1.30')
    """
    ref = as_samples("reference", reference)
    m = ref.shape[0] if n_candidate is None else n_candidate
    m = check_positive_int("n_candidate", m, minimum=2)
    alpha, power, b, r = _check_levels(alpha, power, n_resamples, n_simulations)
    statistics = (statistics,) if isinstance(statistics, str) else tuple(statistics)
    max_rows = check_positive_int("max_rows", max_rows, minimum=2)
    if max_rows > MAX_ROWS_LIMIT:
        raise ParityInputError(f"`max_rows` must be at most {MAX_ROWS_LIMIT}; got {max_rows!r}")
    max_shift = _check_range("max_shift", max_shift, 0.0)
    max_scale = _check_range("max_scale", max_scale, 1.0)
    n, d = ref.shape
    with warnings.catch_warnings():  # the test's options are checked by the engine itself
        warnings.simplefilter("ignore", ParityWarning)
        two_sample_test(ref[:2], ref[:2], statistics, 1, 0, standardize=standardize, **test_options)
    n_sim, m_sim = simulated_sizes(n, m, n, max_rows)
    shrink = math.sqrt(effective_size(n_sim, m_sim) / effective_size(n, m))
    unmodeled = sorted(set(test_options) - BATCHED_OPTIONS)
    if batched and unmodeled:
        raise ParityInputError(
            f"`batched` True: the batched test does not model the test options {unmodeled}; "
            "leave `batched` unset (or False) to simulate with the engine itself"
        )
    batched = not unmodeled if batched is None else bool(batched)
    spec = _test_spec(statistics, n_sim, m_sim, standardize, test_options, n_sim + m_sim)
    exact = math.comb(n_sim + m_sim, n_sim) <= b
    n_eff = effective_size(n_sim, m_sim)
    plans = _action_plans("pooled", n_eff, d, alpha, power, shrink, max_shift, max_scale)

    generator = as_generator(rng)
    note = _degenerate(ref)
    notes = [text for text in (note or _ties_note(ref),) if text is not None]
    _warn(notes)
    rejects_of = None
    if note is None:
        rows = np.stack([generator.choice(n, n_sim + m_sim, replace=False) for _ in range(r)])
        splits = draw_splits(n_sim + m_sim, n_sim, b, r, generator).astype(spec.dtype)
        sd = ref.std(axis=0)
        draws = _Draws(
            direction=shift_direction(sd),
            width=BUMP_WIDTH * sd,
            mean=np.broadcast_to(ref.mean(axis=0), (r, 1, d)),
            bump_at=ref[generator.integers(0, n, size=r)][:, None, :],
            u=generator.random((r, m_sim)),
            noise=generator.standard_normal((r, m_sim, d)),
        )
        batch = max(1, BATCH_BYTES // (4 * 8 * (n_sim + m_sim) ** 2))
        seeds = generator.integers(0, 2**63, size=r)
        engine = _quiet(two_sample_test)

        def engine_pvalue(i: int, kind: str, t: float) -> float:
            y = apply_effect(kind, ref[rows[i, n_sim:]][None], t, draws, [i])[0]
            x = ref[rows[i, :n_sim]]
            test = engine(
                x, y, statistics, b, int(seeds[i]), standardize=standardize, **test_options
            )
            return test.pvalue

        def batched_rejects_of(kind: str):
            def rejects(todo: np.ndarray, t: float) -> np.ndarray:
                def part_rejects(part: np.ndarray) -> np.ndarray:
                    x = ref[rows[part, :n_sim]]
                    y = apply_effect(kind, ref[rows[part, n_sim:]], t, draws, part)
                    pvalues = family_pvalues(np.concatenate([x, y], axis=1), splits[part], spec)
                    return pvalues < alpha

                return _on_cores(part_rejects, todo, batch)

            return rejects

        rejects_of = batched_rejects_of if batched else _engine_rejects(engine_pvalue, alpha)

    effects, n_tests = _search_effects(plans, rejects_of, r, power, alpha, shrink)
    splits_text = (
        f"all {math.comb(n_sim + m_sim, n_sim)} splits (exact)" if exact else f"{b} splits"
    )
    method = (
        f"Power by simulation: {r} replicates, each two disjoint random row subsets of the "
        f"reference, x* ({n_sim} rows) and y* ({m_sim} rows), the effect applied to y*, tested "
        f"with {'the engine’s test in batches' if batched else 'the engine itself'} "
        f"(Westfall–Young min-p over {', '.join(statistics)}, "
        f"{splits_text}{', standardized' if standardize else ''}); "
        + _SEARCH_TEXT
        + _ACTION_EFFECTS_TEXT["pooled"]
        + f" Effects found at {n_sim} vs {m_sim} rows rescaled to {n} vs {m} by the square root "
        "of the ratio of effective sizes nm/(n + m) (local-alternative approximation: a shift "
        "and a bump's share scale as δ, a scale change as log s)."
    )
    return SensitivityResult(
        design="pooled",
        effects=effects,
        alpha=alpha,
        power=power,
        n_x=n,
        n_y=m,
        dim=d,
        n_x_simulated=n_sim,
        n_y_simulated=m_sim,
        n_strata=1,
        n_strata_simulated=1,
        n_simulations=r,
        n_resamples=math.comb(n_sim + m_sim, n_sim) if exact else b,
        statistics=statistics,
        n_tests=n_tests,
        method=method,
        warnings=tuple(notes),
    )


#: How every design's method text describes the search (:func:`_search_effects`).
_SEARCH_TEXT = (
    "the same replicates at every effect size, geometric search, then interpolation of the "
    "power in log effect. "
)
_ACTION_EFFECTS_TEXT = {
    "pooled": (
        "Shift: every dimension moved by δσ_j/√d (Euclidean length δ in reference-σ units, "
        "along the diagonal). Scale: deviations from the reference mean multiplied by s. Bump: "
        f"each row of y* replaced, with probability ε, by a draw from N(c, ({BUMP_WIDTH:g}σ_j)²) "
        "around one reference row c per replicate (a share ε of the samples moved into a "
        "narrow cluster: a local change that tests tuned to large scales can miss)."
    ),
    "conditional": (
        "Shift: every sample of every observation moved by δσ_j/√d, σ_j the within-observation "
        "standard deviation of dimension j (root mean of the observations' variances). Scale: "
        "deviations from the observation's reference mean multiplied by s. Bump: each sample "
        f"of y* replaced, with probability ε, by a draw from N(c_i, ({BUMP_WIDTH:g}σ_j)²) "
        "around one reference sample c_i of the same observation."
    ),
}


def _action_plans(design, n_eff, d, alpha, power, shrink, max_shift, max_scale):
    """The shift, scale and bump searches of an action-sample design (``pooled`` or
    ``conditional``): labels, units, first guesses and simulated ranges."""
    sigma = "σ" if design == "pooled" else "within-observation σ"
    mean = "the mean" if design == "pooled" else "the observation's mean"
    unit = "samples" if design == "pooled" else "each observation's samples"
    guess = {k: _first_guess(k, n_eff, d, alpha, power) for k in EFFECTS}
    return {
        "shift": _EffectPlan(
            f"shift ({sigma}, along the diagonal)",
            "σ",
            guess["shift"],
            max_shift / shrink,
            max_shift,
        ),
        "scale": _EffectPlan(
            f"scale (× deviations from {mean})",
            "×",
            guess["scale"],
            math.log(max_scale) / shrink,
            max_scale,
        ),
        "bump": _EffectPlan(
            f"bump (share of {unit} moved into a cluster {BUMP_WIDTH:g} {sigma} wide)",
            "share",
            guess["bump"],
            1.0,
            shrink,
        ),
    }


def _observation_samples(name: str, a: Any) -> np.ndarray:
    """(observations × k × d) float64 samples; a 2-D (observations × k) array has d = 1."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or 0 in arr.shape:
        raise ParityInputError(
            f"`{name}` must be a non-empty (observations × k × d) array; got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ParityInputError(f"`{name}` must hold finite numbers; got NaN or inf")
    return arr


def conditional_min_detectable_effect(
    reference,
    k_candidate: int | None = None,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    statistics: Sequence[str] | str = ("mmd", "energy"),
    n_resamples: int | None = None,
    n_simulations: int = DEFAULT_SIMULATIONS,
    rng: RngLike = None,
    max_strata: int = MAX_STRATA,
    max_shift: float = MAX_SHIFT,
    max_scale: float = MAX_SCALE,
    **test_options: Any,
) -> SensitivityResult:
    """The smallest within-observation shift, scale change and bump that the by-observation
    test (:func:`parity.stats.conditional_two_sample_test`) detects with ``power``.

    Each replicate takes ``min(n_obs, max_strata)`` random observations and splits each one's
    k reference samples into two disjoint random subsets x*ᵢ, y*ᵢ (sizes in the real k_ref :
    k_cand proportion, at least 2 each); the effect is applied to every y*ᵢ and the engine
    itself tests them, with ``test_options``. Sizes in within-observation σ (the root mean of
    the observations' variances). The sizes found are rescaled to the real design by
    ``√(k'_eff / k_eff) · (n'_obs / n_obs)^¼``: under local alternatives the sum over
    observations of quadratic statistics has power depending on ``effect² · k_eff · √n_obs``.

    Parameters
    ----------
    reference : array_like, shape (n_obs, k_ref, d)
        The reference samples at each observation (2-D: d = 1); k_ref ≥ 4.
    k_candidate : int, optional
        Candidate samples per observation in the real comparison (default k_ref).
    alpha, power, statistics, n_resamples, n_simulations, rng, max_shift, max_scale
        As in :func:`min_detectable_effect` (``statistics`` of the conditional test).
    max_strata : int
        Observations per simulated test at most.
    **test_options
        The engine's other options (``standardize``, ``bandwidths``, …), passed through.

    Returns
    -------
    SensitivityResult
        ``design`` "conditional"; ``n_x``/``n_y`` count samples over all observations.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(scale=5, size=(40, 1, 2)) + rng.normal(size=(40, 8, 2))
    >>> res = conditional_min_detectable_effect(ref, n_simulations=16, rng=0)
    >>> res.design, res.n_strata, res.n_strata_simulated, res.effects["shift"].detectable
    ('conditional', 40, 32, True)
    """
    from parity.stats.conditional import conditional_two_sample_test

    ref = _observation_samples("reference", reference)
    n_obs, k_ref, d = ref.shape
    k_cand = k_ref if k_candidate is None else k_candidate
    k_cand = check_positive_int("k_candidate", k_cand, minimum=2)
    alpha, power, b, r = _check_levels(alpha, power, n_resamples, n_simulations)
    statistics = (statistics,) if isinstance(statistics, str) else tuple(statistics)
    max_strata = check_positive_int("max_strata", max_strata)
    max_shift = _check_range("max_shift", max_shift, 0.0)
    max_scale = _check_range("max_scale", max_scale, 1.0)
    k_x, k_y = simulated_sizes(k_ref, k_cand, k_ref, k_ref + k_cand)
    s_sim = min(n_obs, max_strata)
    shrink = math.sqrt(effective_size(k_x, k_y) / effective_size(k_ref, k_cand))
    shrink *= (s_sim / n_obs) ** 0.25
    n_eff = effective_size(k_x, k_y) * math.sqrt(s_sim)
    plans = _action_plans("conditional", n_eff, d, alpha, power, shrink, max_shift, max_scale)

    sd = np.sqrt(ref.var(axis=1).mean(axis=0))
    note = None
    if k_ref < 4:
        note = (
            f"the reference has {k_ref} samples per observation: too few to simulate two "
            "samples (at least 2 each) from each observation"
        )
    elif np.all(ref == ref[:, :1]):
        note = "the reference is constant within every observation: no effect can be simulated"
    notes = [note] if note else []
    _warn(notes)
    generator = as_generator(rng)
    rejects_of = None
    if note is None:
        obs = np.stack([generator.choice(n_obs, s_sim, replace=False) for _ in range(r)])
        order = generator.permuted(np.tile(np.arange(k_ref), (r, s_sim, 1)), axis=2)
        samples = ref[obs[:, :, None], order[:, :, : k_x + k_y]]  # (R, S, k_x + k_y, d)
        picked = ref[obs]  # (R, S, k_ref, d)
        draws = _Draws(
            direction=shift_direction(sd),
            width=BUMP_WIDTH * sd,
            mean=picked.mean(axis=2, keepdims=True),
            bump_at=np.take_along_axis(
                picked, generator.integers(0, k_ref, size=(r, s_sim, 1, 1)), axis=2
            ),
            u=generator.random((r, s_sim, k_y)),
            noise=generator.standard_normal((r, s_sim, k_y, d)),
        )
        seeds = generator.integers(0, 2**63, size=r)
        engine = _quiet(conditional_two_sample_test)

        def pvalue(i: int, kind: str, t: float) -> float:
            y = apply_effect(kind, samples[i, :, k_x:], t, draws, i)
            return engine(
                samples[i, :, :k_x], y, statistics, b, int(seeds[i]), **test_options
            ).pvalue

        rejects_of = _engine_rejects(pvalue, alpha)

    effects, n_tests = _search_effects(plans, rejects_of, r, power, alpha, shrink)
    method = (
        f"Power by simulation: {r} replicates, each {s_sim} random observations of the "
        f"{n_obs} with each observation's {k_ref} reference samples split into two disjoint "
        f"random subsets x*ᵢ ({k_x}) and y*ᵢ ({k_y}), the effect applied to every y*ᵢ, tested "
        f"with the engine itself (conditional_two_sample_test over {', '.join(statistics)}, "
        f"{b} relabellings); "
        + _SEARCH_TEXT
        + _ACTION_EFFECTS_TEXT["conditional"]
        + f" Effects found at {s_sim} observations × {k_x} vs {k_y} rescaled to {n_obs} × "
        f"{k_ref} vs {k_cand} by √(k'_eff/k_eff)·(n'_obs/n_obs)^¼, k_eff = km/(k + m) "
        "(local alternatives: the power of a sum of within-observation quadratic statistics "
        "depends on effect² · k_eff · √n_obs)."
    )
    return SensitivityResult(
        design="conditional",
        effects=effects,
        alpha=alpha,
        power=power,
        n_x=n_obs * k_ref,
        n_y=n_obs * k_cand,
        dim=d,
        n_x_simulated=s_sim * k_x,
        n_y_simulated=s_sim * k_y,
        n_strata=n_obs,
        n_strata_simulated=s_sim,
        n_simulations=r,
        n_resamples=b,
        statistics=statistics,
        n_tests=n_tests,
        method=method,
        warnings=tuple(notes),
    )


def _text_strata(n: int, m: int, reference_prompts, candidate_prompts):
    """Each prompt's reference rows and (reference, candidate) sizes; one stratum unprompted."""
    if (reference_prompts is None) != (candidate_prompts is None):
        given = "reference_prompts" if reference_prompts is not None else "candidate_prompts"
        raise ParityInputError(
            f"give both `reference_prompts` and `candidate_prompts` or neither; got only `{given}`"
        )
    if reference_prompts is None:
        return [np.arange(n)], [(n, m)]
    ref_p, cand_p = list(reference_prompts), list(candidate_prompts)
    if len(ref_p) != n:
        raise ParityInputError(
            f"`reference_prompts` must hold one prompt per reference sample; got {len(ref_p)} "
            f"prompts for {n} samples"
        )
    rows: dict[Any, list[int]] = {}
    for i, p in enumerate(ref_p):
        rows.setdefault(p, []).append(i)
    counts = Counter(cand_p)
    return [np.array(v) for v in rows.values()], [(len(v), counts[p]) for p, v in rows.items()]


def _perturbed(seq, mask: np.ndarray, replacement: np.ndarray):
    """``seq`` with the positions in ``mask`` replaced (a string stays a string)."""
    if isinstance(seq, str):
        return "".join(np.where(mask, replacement, np.array(list(seq), dtype=object)))
    return np.where(mask, replacement, seq)


def text_min_detectable_effect(
    reference,
    n_candidate: int | None = None,
    *,
    reference_prompts=None,
    candidate_prompts=None,
    alpha: float = 0.05,
    power: float = 0.8,
    n_resamples: int | None = None,
    n_simulations: int = DEFAULT_SIMULATIONS,
    rng: RngLike = None,
    max_rows: int = MAX_ROWS,
    max_strata: int = MAX_STRATA,
    **test_options: Any,
) -> SensitivityResult:
    """The smallest token-change rate and prompt-swap share that the text test
    (:func:`parity.stats.text_two_sample_test`) detects with ``power``.

    Effects on the candidate's completions, both shares in [0, 1]:

    * ``token``: each token (character of a string) replaced, with probability ρ, by one
      drawn from the reference's tokens (their frequencies); lengths are kept.
    * ``swap`` (with prompts, at least 2): each completion replaced, with probability ε, by
      a reference completion of another prompt: a server that sometimes answers the wrong
      prompt.

    Each replicate takes ``min(n_prompts, max_strata)`` random prompts with at least 4
    reference completions (the whole sample without prompts) and splits each one's reference
    completions into two disjoint random subsets (the real reference : candidate proportion,
    at most ``max_rows`` a side, at least 2); the effect is applied to the second and the
    engine itself tests them (with ``test_options``: ``kernel``, ``ngram``, …). Shares found
    are rescaled to the real sizes by ``√(n'_eff / n_eff) · (n'_prompts / n_prompts)^¼``
    (mean effective sizes per prompt, as for :func:`conditional_min_detectable_effect`).

    Parameters
    ----------
    reference : list of str, list of int lists, or 2-D int array
        The reference completions.
    n_candidate : int, optional
        Candidate completions of the real comparison without prompts (default: as many).
    reference_prompts, candidate_prompts : sequence, optional
        The prompt of each completion of the real comparison; both or neither.
    alpha, power, n_resamples, n_simulations, rng
        As in :func:`min_detectable_effect`.
    max_rows, max_strata : int
        Completions per side and prompt, and prompts, per simulated test at most.
    **test_options
        The engine's options (``kernel``, ``ngram``, ``tie_rtol``, …), passed through.

    Returns
    -------
    SensitivityResult
        ``design`` "text"; ``effects`` ``token`` (and ``swap`` with prompts).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = [list(rng.integers(0, 5, size=8)) for _ in range(200)]
    >>> res = text_min_detectable_effect(ref, n_simulations=16, rng=0)
    >>> list(res.effects), res.effects["token"].unit
    (['token'], 'share')
    """
    from parity.stats.text import as_text_samples, text_two_sample_test

    kind, ref = as_text_samples("reference", reference)
    n = len(ref)
    m = n if n_candidate is None else check_positive_int("n_candidate", n_candidate, minimum=2)
    alpha, power, b, r = _check_levels(alpha, power, n_resamples, n_simulations)
    max_rows = check_positive_int("max_rows", max_rows, minimum=2)
    max_strata = check_positive_int("max_strata", max_strata)
    strata, sizes = _text_strata(n, m, reference_prompts, candidate_prompts)
    if reference_prompts is not None:
        m = sum(size[1] for size in sizes)
    prompts = None if reference_prompts is None else list(reference_prompts)
    usable = [i for i, (n_p, _) in enumerate(sizes) if n_p >= 4]
    sim_sizes = {i: simulated_sizes(*sizes[i], sizes[i][0], max_rows) for i in usable}
    s_sim = min(len(usable), max_strata)
    real_eff = float(np.mean([effective_size(max(a, 1), max(c, 1)) for a, c in sizes]))
    sim_eff = float(np.mean([effective_size(*sim_sizes[i]) for i in usable])) if usable else 1.0
    shrink = math.sqrt(sim_eff / real_eff) * (max(s_sim, 1) / len(sizes)) ** 0.25
    first = _first_guess("token", sim_eff * math.sqrt(max(s_sim, 1)), 1, alpha, power)
    unit = "tokens" if kind == "tokens" else "characters"
    plans = {
        "token": _EffectPlan(
            f"token changes (share of the {unit} replaced by reference {unit})",
            "share",
            first,
            1.0,
            shrink,
        )
    }
    if len(sizes) > 1:
        plans["swap"] = _EffectPlan(
            "prompt swaps (share of completions replaced by other prompts' completions)",
            "share",
            first,
            1.0,
            shrink,
        )
    note = None
    if not usable:
        note = (
            "no prompt has 4 reference completions: too few to simulate two samples of "
            "completions (at least 2 each) from a prompt"
        )
    elif len({seq if isinstance(seq, str) else tuple(seq) for seq in ref}) == 1:
        note = "all reference completions are identical: no effect of them can be simulated"
    notes = [note] if note else []
    _warn(notes)
    generator = as_generator(rng)
    rejects_of = None
    if note is None:
        pool = np.concatenate(
            [np.array(list(s), dtype=object) if kind == "text" else s for s in ref]
        )
        label = np.empty(n, dtype=np.intp)
        for j, rows in enumerate(strata):
            label[rows] = j
        replicates = []
        for _ in range(r):
            chosen = generator.choice(usable, s_sim, replace=False)
            x, y, px, py = [], [], [], []
            for j in chosen:
                n_x, n_y = sim_sizes[j]
                rows = generator.permutation(strata[j])[: n_x + n_y]
                x += list(rows[:n_x])
                y += list(rows[n_x:])
                px += [int(j)] * n_x
                py += [int(j)] * n_y
            tokens = [
                (generator.random(len(ref[i])), pool[generator.integers(0, pool.size, len(ref[i]))])
                for i in y
            ]
            swaps = []
            for i in y:
                other = i
                while len(strata) > 1 and label[other] == label[i]:
                    other = int(generator.integers(0, n))
                swaps.append((generator.random(), other))
            replicates.append((x, y, px, py, tokens, swaps, int(generator.integers(0, 2**63))))
        engine = _quiet(text_two_sample_test)

        def pvalue(i: int, effect: str, t: float) -> float:
            x, y, px, py, tokens, swaps, seed = replicates[i]
            if effect == "token":
                cand = [
                    _perturbed(ref[j], u < t, rep) for j, (u, rep) in zip(y, tokens, strict=True)
                ]
            else:
                cand = [ref[o] if v < t else ref[j] for j, (v, o) in zip(y, swaps, strict=True)]
            stratified = (
                {} if prompts is None else {"reference_prompts": px, "candidate_prompts": py}
            )
            x_completions = [ref[j] for j in x]
            options = {**stratified, **test_options}
            return engine(x_completions, cand, n_resamples=b, rng=seed, **options).pvalue

        rejects_of = _engine_rejects(pvalue, alpha)

    effects, n_tests = _search_effects(plans, rejects_of, r, power, alpha, shrink)
    design = (
        f"{s_sim} random prompts of the {len(sizes)}, each prompt's reference completions"
        if prompts is not None
        else "the reference completions"
    )
    n_x_sim = sum(sim_sizes[i][0] for i in usable[:s_sim]) if usable else 0
    n_y_sim = sum(sim_sizes[i][1] for i in usable[:s_sim]) if usable else 0
    method = (
        f"Power by simulation: {r} replicates, {design} split into two disjoint random "
        f"subsets x* and y* (at most {max_rows} a side), the effect applied to y*, tested with "
        f"the engine itself (text_two_sample_test, {b} relabellings); "
        + _SEARCH_TEXT
        + f"Token changes: each of y*'s {unit} replaced, with probability ρ, by one drawn from "
        f"the reference's {unit}. "
        + (
            "Prompt swaps: each completion of y* replaced, with probability ε, by a reference "
            "completion of another prompt. "
            if "swap" in plans
            else ""
        )
        + "Shares found rescaled to the real sizes by √(n'_eff/n_eff)·(n'_prompts/n_prompts)^¼ "
        "(mean effective sizes nm/(n + m) per prompt; local alternatives)."
    )
    return SensitivityResult(
        design="text",
        effects=effects,
        alpha=alpha,
        power=power,
        n_x=n,
        n_y=m,
        dim=0,
        n_x_simulated=n_x_sim,
        n_y_simulated=n_y_sim,
        n_strata=len(sizes),
        n_strata_simulated=s_sim,
        n_simulations=r,
        n_resamples=b,
        statistics=(f"mmd_{test_options.get('kernel', 'hamming')}",),
        n_tests=n_tests,
        method=method,
        warnings=tuple(notes),
    )


__all__ = [
    "EFFECTS",
    "EFFECT_NOUNS",
    "DetectableEffect",
    "PowerCurve",
    "SensitivityResult",
    "apply_effect",
    "batch_bins",
    "batch_exceedance_counts",
    "conditional_min_detectable_effect",
    "draw_splits",
    "family_pvalues",
    "format_size",
    "min_detectable_effect",
    "search_threshold",
    "shift_direction",
    "sizes_text",
    "text_min_detectable_effect",
    "threshold_estimate",
]
