"""Linear-time MMD² for millions of samples: random Fourier features and streamed permutations.

The exact engine (:func:`parity.stats.two_sample_test`) holds the (N × N) kernel matrix of the
pooled sample (N = n + m): 1.6 GB in float32 at N = 2·10⁴, and its cost grows as N²·B. This
module tests the same multi-bandwidth RBF MMD² in time O(N·B·D) and in memory that does not grow
with N beyond the input, with D random Fourier features.

Features. For bandwidth ``s_b`` (median heuristic × factors, resolved exactly as the exact
engine does), ``F_b`` frequencies ``w`` with law N(0, I / s_b²) give the features
``[cos(w·z), sin(w·z)] / sqrt(F_b)``; the blocks of all bandwidths are concatenated (D = 2 ΣF_b
columns), so ``φ(a)·φ(c) = Σ_b F_b⁻¹ Σ_j cos(w_j·(a − c))`` is an unbiased estimate of
``Σ_b k_b(a, c)`` and ``φ(a)·φ(a)`` equals the number of bandwidths exactly, as ``k(a, a)``.
The frequencies are randomized quasi-Monte Carlo points (scrambled Sobol' points through the
normal quantile) and are allocated to the bandwidths in proportion to ``1 − E k_b(Z, Z')``
(estimated on 4096 random pairs of pooled rows), the size of each bandwidth's Monte Carlo error
under H0 (a Neyman allocation). Both lower the approximation error at a given D (measured below).
All of it depends on the pooled sample and the seed only, never on which rows are x, so the
permutation test is exact, at level α, for the random kernel whatever D is.

Statistic. With ``S_x = Σ_{i∈x} φ(z_i)`` and ``S_y = S − S_x``, the block sums of the (implicit)
Gram matrix are ``xx = ‖S_x‖²``, ``yy = ‖S_y‖²``, ``xy = S_x·S_y`` with a constant diagonal, so
both estimators of the exact engine (:func:`parity.stats.two_sample.mmd2_from_sums`) apply
unchanged: unbiased (U, the default, as in the exact engine) or biased (V,
``‖mean φ(x) − mean φ(y)‖²``). Compare an RFF result with the exact engine's for the same
estimator.

Splits. A split only enters through ``S_x``, so for a block of b splits the sums are one product
(b × rows) @ (rows × D) of 0/1 split rows with the feature rows, streamed over chunks of rows.
The splits are drawn exactly uniformly over the C(N, n) splits without ever holding an (N × B)
matrix: the rows are cut into tiles of 4096; the number of x-rows of each split in each tile is
drawn in tile order from the hypergeometric law given the rows and x-rows left (so the counts
have the law of a uniform split's); inside a tile, a split's row is a mask of i.i.d. bits
``P(1) = t/256`` (``t/256`` the closest such fraction to n/N, from random bytes), which given its
number of ones c is uniform over the masks with c ones, and is then brought to the drawn count k
by switching |k − c| entries picked uniformly among those of the wrong value (rejection sampling
of uniform positions, without repeats); every step commutes with any reordering of the tile's
rows, so the result is uniform over the masks with k ones. Each cell of (tile × 256 splits)
draws from its own ``SeedSequence`` child: the splits do not depend on the chunk size, the block
size or the number of threads, and cells are filled in parallel.

Precision. With ``precision="float32"`` (``auto`` from N ≥ 2048) the features and the products
are float32 and every sum across units of 16384 rows is float64. Each unit's features are
centred on their mean (rounded to float32) before the product, and ``count × mean`` is added
back in float64, so the float32 products only carry O(√rows) centred sums. The V-statistic is
the centred ``‖S_x − n S/N‖² (1/n + 1/m)²``, so rounding is relative to the statistic itself:
the product rounding moves it by at most 8e-8 of the mean null V-statistic (measured at
N = 4·10⁴ and 4·10⁵ against float64 products of the same features). Ties use
``tie_rtol × (mean V-statistic over the splits)``, 1e-6 by default as in the exact engine.
Units are fixed row ranges and are added up in order, so the result is bit-for-bit the same
for any ``chunk_size`` and ``block_size``.

Memory. Beyond the input and one pooled float64 copy (N·d·8 bytes), the pass holds one chunk
of features (chunk·D·4 bytes in float32), one block of split rows (block·chunk·4), per thread
one feature job and one split cell, and the float64 sums of every split ((B + 1)·D·8, four
times at the end): :func:`rff_memory_bound` gives the total, about 0.19 GiB with 2 threads at
the defaults (D = 1024, chunk 16384, block 1024, B = 1000) whatever N is, plus 8d bytes a row
(0.10 GiB at N = 2·10⁶, d = 7).

Accuracy of the default D = 1024 (512 frequencies). The sd, over feature seeds, of (RFF MMD² −
exact MMD², same data and bandwidths, V-statistics) divided by the sd of the exact permutation
null (``python benchmarks/two_sample.py --accuracy``: d = 7, n = m = 500, 2000, 5000, 20 seeds):

=========  ===========  ===========  ===========  ===========
D          256          512          1024         2048
=========  ===========  ===========  ===========  ===========
H0         0.50–0.56    0.30–0.36    0.19–0.21    0.14
shift      0.75–1.37    0.49–0.73    0.32–0.47    0.19–0.26
=========  ===========  ===========  ===========  ===========

(shift: 0.15 in one coordinate, 3.5 null sd above the null mean at n = 2000). The ratio does
not shrink with n; i.i.d. frequencies with equal allocation do about 1.5× worse. The error is
independent of the split labels, so it costs power, not level: an error of r null sd widens
the null by √(1 + r²), 1.02 at r = 0.2 (a 2 % loss in the detectable effect). D = 1024 keeps
10⁶ vs 10⁶ with B = 1000 within a minute on two cores; ``n_features`` buys accuracy linearly
in time (on a GPU D = 4096 costs little more than D = 1024).
"""

from __future__ import annotations

import inspect
import itertools
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from parity.errors import ParityInputError, check_positive_int
from parity.stats._backend import (
    FEATURE_ROWS,
    PERM_TILE,
    UNIT_ROWS,
    _map,
    available_devices,
    resolve_backend,
)
from parity.stats._common import RngLike, as_generator
from parity.stats._engine import (
    DEFAULT_AGGREGATION,
    Statistic,
    TwoSampleTestResult,
    assemble,
    check_aggregation,
    recording_warnings,
)
from parity.stats.permutation import (
    PRECISIONS,
    pooled_samples,
    split_blocks,
    warn_few_samples,
)
from parity.stats.two_sample import (
    DEFAULT_BANDWIDTH_FACTORS,
    MEDIAN_MAX_ROWS,
    MMD_ESTIMATORS,
    SplitSums,
    bandwidth_collection,
    mmd2_from_sums,
    resolve_bandwidths,
)

DEFAULT_N_FEATURES = 1024
DEFAULT_CHUNK_SIZE = 16384
DEFAULT_BLOCK_SIZE = 1024
SPLIT_TILE = 4096  # rows per cell of the split sampler
ALLOCATION_PAIRS = 4096
MIN_FREQUENCIES = 8  # per bandwidth, when D allows
TIE_RTOL_RFF = {"float32": 1e-6, "float64": 1e-10}
MAX_WORKERS = 16  # threads filling split cells


# --------------------------------------------------------------------------- features


@dataclass(frozen=True, slots=True)
class FourierFeatures:
    """A random Fourier feature map for a sum of RBF kernels.

    Row ``a`` maps to ``[cos(P), sin(P)] * weights`` with ``P = (a − center) @ frequencies``;
    ``per_bandwidth`` holds the number of frequencies of each bandwidth (columns of
    ``frequencies`` in that order), each weighted ``1 / sqrt(count)``.

    Examples
    --------
    >>> fmap = fourier_features(np.zeros((4, 2)), (1.0, 2.0), 8, rng=0)
    >>> fmap.per_bandwidth, fmap.n_features
    ((2, 2), 8)
    >>> phi = fmap(np.ones((1, 2)))
    >>> round((phi @ phi.T).item(), 12)  # k(a, a) = 1 per bandwidth, exactly
    2.0
    """

    frequencies: np.ndarray
    weights: np.ndarray
    center: np.ndarray
    per_bandwidth: tuple[int, ...]

    @property
    def n_features(self) -> int:
        """D, the number of feature columns (two per frequency)."""
        return 2 * self.frequencies.shape[1]

    def __call__(
        self, rows: np.ndarray, dtype: type = np.float64, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Features of ``rows`` (k × d) as a (k × D) array of ``dtype`` (written to ``out``).

        The projections are computed in float64 and rounded to ``dtype`` before the cosines,
        so each row's features depend on that row alone.
        """
        proj = (np.asarray(rows, dtype=np.float64) - self.center) @ self.frequencies
        proj = proj.astype(dtype, copy=False)
        f = proj.shape[1]
        if out is None:
            out = np.empty((proj.shape[0], 2 * f), dtype=dtype)
        np.cos(proj, out=out[:, :f])
        np.sin(proj, out=out[:, f:])
        out *= np.tile(self.weights, 2).astype(dtype)
        return out


def _allocation_weights(z: np.ndarray, bandwidths: Sequence[float], gen) -> np.ndarray:
    """``1 − mean k_b(z_i, z_j)`` per bandwidth over random pairs i ≠ j of pooled rows."""
    n = z.shape[0]
    i = gen.integers(0, n, ALLOCATION_PAIRS)
    j = (i + gen.integers(1, n, ALLOCATION_PAIRS)) % n
    sq = np.sum((z[i] - z[j]) ** 2, axis=1)
    return np.array([1.0 - np.mean(np.exp(-sq / (2.0 * s * s))) for s in bandwidths])


def allocate_frequencies(n_frequencies: int, weights: Sequence[float]) -> tuple[int, ...]:
    """Split ``n_frequencies`` over bandwidths: a minimum each, the rest ∝ ``weights``.

    The minimum is ``min(8, n_frequencies // len(weights))``; the rest goes by largest
    remainder (equally when all weights are 0).

    Examples
    --------
    >>> allocate_frequencies(100, [1.0, 1.0, 0.0])
    (46, 46, 8)
    """
    k = len(weights)
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    w = w / w.sum() if w.sum() > 0 else np.full(k, 1.0 / k)
    base = min(MIN_FREQUENCIES, n_frequencies // k)
    rest = n_frequencies - base * k
    share = w * rest
    counts = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[: rest - counts.sum()]] += 1
    return tuple(int(base + c) for c in counts)


def _normal_points(dim: int, count: int, gen: np.random.Generator) -> np.ndarray:
    """``count`` standard normal points in ``dim`` dimensions (d × count), scrambled Sobol'."""
    from scipy.special import ndtri
    from scipy.stats import qmc

    if dim > qmc.Sobol.MAXDIM:
        return gen.normal(size=(dim, count))
    key = "rng" if "rng" in inspect.signature(qmc.Sobol).parameters else "seed"
    sobol = qmc.Sobol(dim, scramble=True, **{key: gen})
    u = sobol.random_base2(max(0, math.ceil(math.log2(count))))[:count]
    eps = 2.0**-53
    return ndtri(np.clip(u, eps, 1.0 - eps)).T


def fourier_features(
    z: np.ndarray,
    bandwidths: Sequence[float],
    n_features: int = DEFAULT_N_FEATURES,
    rng: RngLike = None,
    *,
    equal: bool = False,
) -> FourierFeatures:
    """Random Fourier features of the RBF kernel sum over ``bandwidths``, for the pooled ``z``.

    ``n_features / 2`` frequencies, allocated to the bandwidths in proportion to
    ``1 − E k_b(Z, Z')`` over random pairs of rows of ``z`` (at least 8 each when possible),
    scrambled Sobol' points through the normal quantile, divided by the bandwidth. The centre
    is the mean of ``z`` (keeps the projections small; the kernel is shift-invariant). With
    ``equal`` every bandwidth gets the same share (each kernel is then tested on its own).

    Examples
    --------
    >>> z = np.random.default_rng(0).normal(size=(500, 3))
    >>> fmap = fourier_features(z, (0.5, 4.0), 64, rng=1)
    >>> fmap.per_bandwidth  # the wide kernel is nearly constant on these data
    (22, 10)
    """
    z = np.asarray(z, dtype=np.float64)
    n_bw = len(bandwidths)
    if isinstance(n_features, bool) or not float(n_features).is_integer() or n_features < 2 * n_bw:
        raise ParityInputError(
            f"`n_features` must be an even integer >= 2 × the number of bandwidths "
            f"({2 * n_bw}); got {n_features!r}"
        )
    if int(n_features) % 2:
        raise ParityInputError(
            f"`n_features` must be even (a cosine and a sine per frequency); got {n_features!r}"
        )
    seed = np.random.SeedSequence(as_generator(rng).integers(0, 2**63, size=2).tolist())
    children = seed.spawn(n_bw + 1)
    if equal:
        weights = np.ones(n_bw)
    else:
        weights = _allocation_weights(z, bandwidths, np.random.default_rng(children[0]))
    counts = allocate_frequencies(int(n_features) // 2, weights)
    blocks, scale = [], []
    for s, k, child in zip(bandwidths, counts, children[1:], strict=True):
        blocks.append(_normal_points(z.shape[1], k, np.random.default_rng(child)) / s)
        scale.append(np.full(k, 1.0 / math.sqrt(k)))
    return FourierFeatures(np.hstack(blocks), np.concatenate(scale), z.mean(axis=0), counts)


# --------------------------------------------------------------------------- splits


def _fix_counts(mask: np.ndarray, target: np.ndarray, gen: np.random.Generator) -> None:
    """Switch uniformly chosen entries of each row of the bool ``mask`` to reach ``target`` ones.

    Row b needs ``|target_b − ones_b|`` entries of the wrong value (0 when short of ones, 1 when
    over); candidates are uniform positions drawn in order, kept when of the wrong value and not
    kept before: the kept ones are a uniform sample without replacement of the wrong-valued
    entries.
    """
    length = mask.shape[1]
    ones = np.count_nonzero(mask, axis=1)
    deficit = target - ones
    turn_on = deficit > 0
    need = np.abs(deficit)
    eligible_count = np.where(turn_on, length - ones, ones)
    while (todo := np.flatnonzero(need)).size:
        draws = np.ceil(1.25 * need[todo] * length / eligible_count[todo]).astype(np.int64) + 8
        rows = np.repeat(todo, draws)
        cols = gen.integers(0, length, size=rows.size)
        keep = mask[rows, cols] != turn_on[rows]
        rows, cols = rows[keep], cols[keep]
        _, first = np.unique(rows * length + cols, return_index=True)
        first.sort()
        rows, cols = rows[first], cols[first]
        rank = np.arange(rows.size) - np.searchsorted(rows, rows, side="left")
        take = rank < need[rows]
        rows, cols = rows[take], cols[take]
        mask[rows, cols] = turn_on[rows]
        done = np.bincount(rows, minlength=mask.shape[0])
        need -= done
        eligible_count -= done


class SplitSampler:
    """Uniformly random splits of N pooled rows (n x-rows), drawn tile by tile.

    Call :meth:`draw_counts` for consecutive row ranges (tile-aligned, in order), then
    :meth:`fill` writes any block of the splits' 0/1 rows over that range. The splits depend on
    ``seed``, N, n and the number of splits only (see the module docstring for why they are
    uniform over the C(N, n) splits).

    Examples
    --------
    >>> sampler = SplitSampler(10, 4, 3, seed=0)
    >>> splits = sampler.sample()
    >>> splits.shape, splits.sum(axis=1).tolist()
    ((3, 10), [4, 4, 4])
    """

    def __init__(
        self,
        n_total: int,
        n: int,
        n_splits: int,
        seed: int | Sequence[int],
        *,
        tile: int = SPLIT_TILE,
        pool: ThreadPoolExecutor | None = None,
    ) -> None:
        self.n_total, self.n, self.n_splits, self.tile = n_total, n, n_splits, tile
        self.entropy = seed
        self.threshold = int(np.clip(round(256 * n / n_total), 1, 255))
        self._counts = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
        self._left_x = np.full(n_splits, n, dtype=np.int64)
        self._next_row = 0
        self._pool = pool

    def draw_counts(self, stop: int) -> np.ndarray:
        """The number of x-rows of every split in each tile from the last stop to ``stop``.

        Returns an (n_tiles × n_splits) int64 array; ``stop`` must be a tile boundary or N.
        """
        counts = []
        for start in range(self._next_row, stop, self.tile):
            size = min(self.tile, self.n_total - start)
            left = self.n_total - start
            k = self._counts.hypergeometric(self._left_x, left - self._left_x, size)
            self._left_x -= k
            counts.append(k)
        self._next_row = stop
        return np.array(counts, dtype=np.int64).reshape(-1, self.n_splits)

    def _cell(self, tile: int, q: int, target: np.ndarray, length: int) -> np.ndarray:
        bits = np.random.PCG64(np.random.SeedSequence(self.entropy, spawn_key=(1, tile, q)))
        size = target.size * length
        keys = bits.random_raw(-(-size // 8)).view(np.uint8)[:size].reshape(target.size, length)
        mask = keys < self.threshold
        _fix_counts(mask, target, np.random.Generator(bits))
        return mask

    def fill(self, out: np.ndarray, counts: np.ndarray, start: int, first: int) -> None:
        """Write splits ``first .. first + out.shape[0]`` over rows ``start ..`` into ``out``.

        ``counts`` is what :meth:`draw_counts` returned for the tiles from ``start``; ``first``
        must be a multiple of 256. Cells are filled in parallel when the sampler has a pool.
        """
        n_rows, n_cols = out.shape
        jobs = []
        for t in range(counts.shape[0]):
            c0 = t * self.tile
            length = min(self.tile, n_cols - c0)
            for p0 in range(0, n_rows, PERM_TILE):
                p1 = min(p0 + PERM_TILE, n_rows)
                jobs.append((t, p0, p1, c0, length))

        def work(job) -> None:
            t, p0, p1, c0, length = job
            tile = (start + c0) // self.tile
            target = counts[t, first + p0 : first + p1]
            out[p0:p1, c0 : c0 + length] = self._cell(
                tile, (first + p0) // PERM_TILE, target, length
            )

        _map(self._pool, work, jobs)

    def sample(self) -> np.ndarray:
        """All splits as an (n_splits × N) bool matrix (small N: tests and illustration)."""
        out = np.empty((self.n_splits, self.n_total), dtype=bool)
        counts = self.draw_counts(self.n_total)
        self.fill(out, counts, 0, 0)
        return out


# --------------------------------------------------------------------------- the test


def rff_memory_bound(
    n_total: int,
    dim: int,
    n_features: int = DEFAULT_N_FEATURES,
    n_resamples: int = 1000,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    block_size: int = DEFAULT_BLOCK_SIZE,
    precision: Literal["float32", "float64"] = "float32",
    workers: int = MAX_WORKERS,
) -> int:
    """Bytes held at once by :func:`rff_two_sample_test` on the host, beyond the caller's x, y.

    The pooled float64 copy (N·d·8); the chunk's features (chunk·D·itemsize); per worker
    thread, one feature job (2048·(8d + 6D)) and one split cell (2·256·4096); one block of
    split rows (block·chunk·itemsize); the chunk's split counts (2·tiles·B·8); a block's
    products (block·D·(itemsize + 8)); the float64 sums of every split and the final
    statistics (4·(B + 1)·D·8). Chunk and block are rounded up as the test rounds them. Only
    the first term grows with N: at the defaults the rest is about 0.19 GiB with 2 threads.

    Examples
    --------
    >>> round(rff_memory_bound(2_000_000, 7, workers=2) / 2**30, 2)  # GiB, n = m = 10⁶, d = 7
    0.3
    """
    item = 4 if precision == "float32" else 8
    chunk = min(_round_up(chunk_size, UNIT_ROWS), n_total)
    block = min(_round_up(min(block_size, n_resamples), PERM_TILE), n_resamples)
    pooled = n_total * dim * 8
    features = chunk * n_features * item
    jobs = workers * (FEATURE_ROWS * (8 * dim + 6 * n_features) + 2 * PERM_TILE * SPLIT_TILE)
    splits = block * chunk * item + 2 * _round_up(chunk, SPLIT_TILE) // SPLIT_TILE * n_resamples * 8
    sums = block * n_features * (item + 8) + 4 * (n_resamples + 1) * n_features * 8
    return int(pooled + features + jobs + splits + sums)


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def _sums_to_statistics(sums_x: np.ndarray, total: np.ndarray, n: int, m: int, n_bw, estimator):
    """MMD² (U or V) and the V-statistic for the x-sums (rows) of each split, in float64."""
    sums_y = total - sums_x
    sums = SplitSums(
        xx=np.einsum("ij,ij->i", sums_x, sums_x),
        yy=np.einsum("ij,ij->i", sums_y, sums_y),
        xy=np.einsum("ij,ij->i", sums_x, sums_y),
        trace_x=np.full(sums_x.shape[0], float(n * n_bw)),
        trace_y=np.full(sums_x.shape[0], float(m * n_bw)),
        n=n,
        m=m,
    )
    centred = sums_x - total * (n / (n + m))
    v_stat = np.einsum("ij,ij->i", centred, centred) * (1.0 / n + 1.0 / m) ** 2
    return np.asarray(mmd2_from_sums(sums, estimator), dtype=np.float64), v_stat


def _bandwidth_columns(fmap: FourierFeatures) -> list[np.ndarray]:
    """The feature columns (cosines and sines) of each bandwidth of ``fmap``.

    Examples
    --------
    >>> fmap = fourier_features(np.zeros((4, 2)), (1.0, 2.0), 8, rng=0, equal=True)
    >>> [c.tolist() for c in _bandwidth_columns(fmap)]
    [[0, 1, 4, 5], [2, 3, 6, 7]]
    """
    f = fmap.frequencies.shape[1]
    starts = np.concatenate([[0], np.cumsum(fmap.per_bandwidth)])
    return [
        np.concatenate([np.arange(lo, hi), f + np.arange(lo, hi)])
        for lo, hi in itertools.pairwise(starts)
    ]


def _check_rff_options(estimator, precision, chunk_size, block_size, tie_rtol) -> None:
    if estimator not in MMD_ESTIMATORS:
        raise ParityInputError(
            f"`mmd_estimator` must be one of {MMD_ESTIMATORS}; got {estimator!r}"
        )
    if precision not in PRECISIONS:
        raise ParityInputError(f"`precision` must be one of {PRECISIONS}; got {precision!r}")
    check_positive_int("chunk_size", chunk_size)
    check_positive_int("block_size", block_size)
    if tie_rtol is not None and (not np.isfinite(tie_rtol) or tie_rtol < 0):
        raise ParityInputError(f"`tie_rtol` must be a non-negative number; got {tie_rtol!r}")


def _stream_random(z, n, fmap, backend, n_resamples, seed, chunk, block, pool):
    """x-sums of the observed split and of B random splits, and the total, streamed.

    Each unit of 16384 rows is centred on its own mean and multiplied on its own, and every
    float64 sum runs over the units in order: the numbers do not depend on ``chunk`` or
    ``block``.
    """
    n_total, d_feat = z.shape[0], fmap.n_features
    sampler = SplitSampler(n_total, n, n_resamples, seed, pool=pool)
    sums = backend.zeros((n_resamples, d_feat))
    observed = backend.zeros(d_feat)
    total = backend.zeros(d_feat)
    staging = backend.staging(min(block, n_resamples), min(chunk, n_total))
    per_unit = UNIT_ROWS // SPLIT_TILE
    for start in range(0, n_total, chunk):
        stop = min(start + chunk, n_total)
        units = [
            slice(u, min(u + UNIT_ROWS, stop - start)) for u in range(0, stop - start, UNIT_ROWS)
        ]
        phi, means = backend.features(fmap, z[start:stop], units, pool)
        for rows, mean in zip(units, means, strict=True):
            total += mean * (rows.stop - rows.start)
            head = min(max(0, n - start - rows.start), rows.stop - rows.start)
            if head:
                observed += backend.head_sum(phi[rows], head) + mean * head
        counts = sampler.draw_counts(stop)
        unit_counts = [
            backend.vector(counts[i : i + per_unit].sum(axis=0))
            for i in range(0, counts.shape[0], per_unit)
        ]
        for p0 in range(0, n_resamples, block):
            p1 = min(p0 + block, n_resamples)
            view = staging[: p1 - p0, : stop - start]
            sampler.fill(view, counts, start, p0)
            for rows, mean, k in zip(units, means, unit_counts, strict=True):
                backend.accumulate(sums[p0:p1], view[:, rows], phi[rows], k[p0:p1], mean, pool=pool)
        del phi
    return backend.numpy(observed), backend.numpy(sums), backend.numpy(total)


def _stream_exact(z, n, fmap, backend, block):
    """x-sums of every split (the observed one first), for C(N, n) small."""
    phi, (mean,) = backend.features(fmap, z, [slice(0, z.shape[0])], None)
    out = []
    for splits in split_blocks(
        z.shape[0], n, 0, exact=True, rng=None, block_size=block, dtype=backend.dtype
    ):
        staging = backend.staging(splits.shape[1], z.shape[0])
        staging[...] = splits.T
        sums = backend.zeros((splits.shape[1], fmap.n_features))
        backend.accumulate(sums, staging, phi, backend.vector(splits.sum(axis=0)), mean)
        out.append(backend.numpy(sums))
    return np.vstack(out), backend.numpy(mean) * z.shape[0]


def _n_splits_at_most(n_total: int, n: int, limit: int) -> int | None:
    """C(n_total, n) when it is at most ``limit``, else None (without computing huge numbers).

    Examples
    --------
    >>> _n_splits_at_most(6, 3, 100), _n_splits_at_most(100, 50, 10**6)
    (20, None)
    """
    k = min(n, n_total - n)
    count = 1
    for i in range(1, k + 1):
        count = count * (n_total - k + i) // i
        if count > limit:
            return None
    return count


def rff_two_sample_test(
    reference,
    candidate,
    n_resamples: int = 1000,
    rng: RngLike = None,
    *,
    n_features: int | None = None,
    aggregation: Literal["agg", "fuse", "sum"] = DEFAULT_AGGREGATION,
    bandwidths: float | Sequence[float] | None = None,
    bandwidth_factors: Sequence[float] = DEFAULT_BANDWIDTH_FACTORS,
    mmd_estimator: Literal["unbiased", "biased"] = "unbiased",
    standardize: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    block_size: int = DEFAULT_BLOCK_SIZE,
    device: str | None = None,
    precision: Literal["auto", "float32", "float64"] = "auto",
    tie_rtol: float | None = None,
) -> TwoSampleTestResult:
    """Permutation MMD² test with random Fourier features, linear in n + m, streamed in chunks.

    The exact engine's statistic (:func:`parity.stats.two_sample_test` with ``("mmd",)``, the
    same median-heuristic bandwidths) with the kernel approximated by ``n_features`` random
    Fourier features (see the module docstring for the features, the exact split sampler, the
    precision and the accuracy of the default D). The p-value is exact for the random kernel:
    ``(1 + #{null ≥ observed}) / (1 + B)``, or over every split when ``C(n+m, n) <= B``.

    Parameters
    ----------
    reference, candidate : array_like, shape (n, d) and (m, d)
        Reference and candidate samples (1-D means d = 1).
    n_resamples : int
        Number B of random splits.
    rng : None, int or numpy.random.Generator
        Source of the features and of the splits.
    n_features : int, optional
        D, an even number of feature columns (a cosine and a sine per frequency); default 1024.
    aggregation : {"agg", "fuse", "sum"}
        As in :func:`parity.stats.two_sample_test`, over the Gaussian kernels of the bandwidth
        collection: ``agg``/``fuse`` give each bandwidth an equal share of the features and
        test each kernel on its own features; ``sum`` allocates the features of the
        median-heuristic kernel sum ∝ 1 − E k_b(Z, Z').
    bandwidths, bandwidth_factors, mmd_estimator, standardize
        As in :func:`parity.stats.two_sample_test` (U-statistic by default, as there).
    chunk_size : int
        Rows whose features are held at once (rounded up to a multiple of 16384); the splits,
        hence the p-value, do not depend on it.
    block_size : int
        Splits per matrix product (rounded up to a multiple of 256).
    device : None, "cpu" or "cuda[:index]"
        None: numpy. A string runs the same pass with PyTorch on that device (the splits are
        still drawn by numpy, so the numbers agree with numpy's up to rounding).
    precision : {"auto", "float32", "float64"}
        Of the features and products (sums across chunks are float64); ``auto`` picks float32
        from a pooled size of 2048.
    tie_rtol : float, optional
        A null value counts as ≥ the observed one when at most ``tie_rtol × (mean V-statistic
        over the splits)`` below it; default 1e-6 in float32, 1e-10 in float64.

    Returns
    -------
    TwoSampleTestResult
        ``results["mmd"]`` with the null distribution; ``method`` names the random Fourier
        features; ``details`` holds ``engine="rff"``, ``n_features``, ``device``, the
        frequencies per bandwidth and the memory bound in bytes.

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> x, y = g.normal(size=(3000, 2)), g.normal(size=(3000, 2)) + [0.2, 0.0]
    >>> res = rff_two_sample_test(x, y, n_resamples=99, rng=1, n_features=128)
    >>> res.pvalue, res.details["engine"], res.details["n_features"]
    (0.02, 'rff', 128)
    """
    n_features = DEFAULT_N_FEATURES if n_features is None else n_features
    _check_rff_options(mmd_estimator, precision, chunk_size, block_size, tie_rtol)
    n_resamples = check_positive_int("n_resamples", n_resamples)
    z, n, m, precision = pooled_samples(reference, candidate, standardize, precision)
    generator = as_generator(rng)
    n_total = n + m
    dtype = np.float32 if precision == "float32" else np.float64
    tie_rtol = TIE_RTOL_RFF[precision] if tie_rtol is None else float(tie_rtol)
    backend = resolve_backend(device, dtype)

    aggregation = check_aggregation(aggregation)
    notes: list[str] = []
    with recording_warnings(notes):
        warn_few_samples(n, m)
        if aggregation == "sum":
            bws = resolve_bandwidths(z, bandwidths, bandwidth_factors)
        elif bandwidths is None:
            bws = bandwidth_collection(z, "gaussian")
        else:
            bws = resolve_bandwidths(z, bandwidths)

    fmap = fourier_features(z, bws, n_features, generator, equal=aggregation != "sum")
    seed = generator.integers(0, 2**63, size=2).tolist()
    chunk = _round_up(chunk_size, UNIT_ROWS)
    block = _round_up(min(block_size, n_resamples), PERM_TILE)
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    n_splits = _n_splits_at_most(n_total, n, n_resamples)
    exact = n_splits is not None
    if exact:
        sums_x, total = _stream_exact(z, n, fmap, backend, block)
    else:
        with ThreadPoolExecutor(workers) as pool:
            observed, null_sums, total = _stream_random(
                z, n, fmap, backend, n_resamples, seed, chunk, block, pool
            )
        sums_x = np.vstack([observed[None, :], null_sums])
    parameters: dict[str, Any] = {
        "estimator": mmd_estimator,
        "n_features": fmap.n_features,
        "features_per_bandwidth": [2 * k for k in fmap.per_bandwidth],
    }
    if aggregation == "sum":
        groups = [np.arange(fmap.n_features)]
        parameters.update(bandwidths=list(bws), kernel="sum of RBF")
        if bandwidths is None:
            rows = min(n_total, MEDIAN_MAX_ROWS)
            parameters["bandwidth_rule"] = (
                f"median pairwise distance over {rows} of {n_total} pooled rows × "
                f"{list(bandwidth_factors)}"
            )
        stat = Statistic("mmd", (0,), parameters)
    else:
        groups = _bandwidth_columns(fmap)
        parameters["kernel"] = "gaussian"
        if bandwidths is None:
            rows = min(n_total, MEDIAN_MAX_ROWS)
            parameters["bandwidth_rule"] = (
                "powers of 2 from half the 5% quantile up to twice the 95% quantile of the "
                f"pairwise distances over {rows} of {n_total} pooled rows"
            )
        components = tuple({"kernel": "gaussian", "bandwidth": bw} for bw in bws)
        columns = tuple(range(len(bws)))
        stat = Statistic(
            "mmd", columns, parameters, aggregation if len(bws) > 1 else None, components
        )
    null, scales = [], []
    for cols in groups:
        values, v_stat = _sums_to_statistics(
            sums_x[:, cols],
            total[cols],
            n,
            m,
            1 if aggregation != "sum" else len(bws),
            mmd_estimator,
        )
        null.append(values)
        scales.append(float(np.mean(v_stat)))
    kind = (
        f"exact permutation test (all {n_splits} splits)"
        if exact
        else f"permutation test ({n_resamples} random splits)"
    )
    label = f"random Fourier features MMD² ({fmap.n_features} features)"
    method = f"{kind} of {label}" + (
        ", float32 products with float64 accumulation" if precision == "float32" else ""
    )
    return assemble(
        np.column_stack(null),
        np.asarray(scales),
        [stat],
        exact=exact,
        n_resamples=n_resamples,
        method=method,
        family_method=f"{kind} of {label}, streamed in chunks of {chunk} rows"
        + (f" ({len(bws)} kernels, {aggregation})" if len(stat.columns) > 1 else ""),
        precision=precision,
        tie_rtol=tie_rtol,
        counts=(n, m, z.shape[1]),
        standardized=standardize,
        notes=notes,
        details={
            "engine": "rff",
            "n_features": fmap.n_features,
            "device": backend.device,
            "backend": backend.name,
            "frequencies": "scrambled Sobol' points, "
            + ("allocated ∝ 1 − E k_b(Z, Z')" if aggregation == "sum" else "equal per bandwidth"),
            "features_per_bandwidth": [2 * k for k in fmap.per_bandwidth],
            "chunk_size": chunk,
            "block_size": block,
            "memory_bound_bytes": rff_memory_bound(
                n_total,
                z.shape[1],
                fmap.n_features,
                n_resamples,
                chunk,
                block,
                precision,
                workers,
            ),
        },
    )


__all__ = [
    "DEFAULT_N_FEATURES",
    "FourierFeatures",
    "SplitSampler",
    "allocate_frequencies",
    "available_devices",
    "fourier_features",
    "resolve_backend",
    "rff_memory_bound",
    "rff_two_sample_test",
]
