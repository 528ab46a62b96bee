"""Bootstrap confidence intervals: a general engine (scipy-compatible draws) and the ratio of means.

Pure numerics: arrays in, a frozen result out, no I/O. Resamples are index matrices drawn in
batches (memory stays bounded), never a Python loop over resamples.

:func:`bootstrap_ci` is the general engine. Its draws are those of ``scipy.stats.bootstrap``:
for each batch of ``batch`` resamples (default: one batch of ``n_resamples``), and for each
sample in order (a single index matrix for all samples when ``paired=True``), the index matrix
is ``rng.integers(0, n, (batch, n))``. With the same generator state, ``bootstrap_ci`` and
``scipy.stats.bootstrap`` therefore give the same bootstrap distribution and the same interval
(BCa, percentile and basic). Memory is bounded separately from ``batch``: a batch larger than
the memory budget is evaluated in chunks, each stream of draws resumed from a copy of the
generator's state, so the values do not depend on the memory budget.

:func:`bootstrap_ratio_of_means` (used by :mod:`parity.trajectory.embodied`) has its own,
older draw: resample ``k`` is built from row ``k`` of a ``(B, n_reference + n_candidate)``
matrix of uniform draws ``rng.random``: the first ``n_reference`` columns index the reference
sample, the rest the candidate sample (``index = floor(u * n)``). Its result therefore does not
depend on the batch size used to bound memory either.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import statistics
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from parity.errors import (
    DegenerateDataWarning,
    ParityInputError,
    check_positive_int,
    check_probability,
)
from parity.stats._common import (
    Interval,
    ResultMixin,
    RngLike,
    as_generator,
    as_values,
    to_jsonable,
)

__all__ = ["BootstrapResult", "RatioResult", "bootstrap_ci", "bootstrap_ratio_of_means"]

#: Upper bound on the memory of one batch of resamples (uniforms, indices, gathered values).
_BATCH_BYTES = 64 * 2**20
#: Bytes of uniforms per batch of the ratio's resamples: cache-sized (a third faster than
#: 64 MB batches at 400 observations); the draws are the same stream whatever the batch.
_RATIO_BATCH_BYTES = 2**21
#: Below this many observations a sample is flagged as too small for the bootstrap to mean much.
_MIN_RELIABLE_N = 5
_NORMAL = statistics.NormalDist()
_METHODS = {"bca": "BCa", "percentile": "percentile"}
_CI_METHODS = {"bca": "BCa", "percentile": "percentile", "basic": "basic"}
_ALTERNATIVES = ("two-sided", "less", "greater")


# --------------------------------------------------------------------------------------------
# the general result


@dataclasses.dataclass(frozen=True, slots=True)
class BootstrapResult(ResultMixin):
    """A statistic with a bootstrap confidence interval (fields named as in scipy).

    Attributes
    ----------
    statistic : float
        The statistic on the original data.
    confidence_interval : Interval
        ``(low, high)``; one end is infinite for a one-sided ``alternative``. ``(nan, nan)``
        when the bootstrap distribution has NaN values (recorded in ``warnings``).
    confidence_level : float
        Coverage of the interval.
    n_resamples : int
        Number of bootstrap resamples.
    method : str
        How the interval was obtained, e.g. ``"bootstrap BCa"``, ``"stratified bootstrap
        percentile"``, or ``"bootstrap percentile (fallback from BCa)"`` when BCa was asked for
        but is undefined for these data (the reason is in ``warnings``).
    standard_error : float
        Sample standard deviation (``ddof=1``) of the bootstrap distribution (``nan`` for a
        single resample).
    alternative : str
        ``"two-sided"``, ``"less"`` (interval ``(-inf, high)``) or ``"greater"``
        (``(low, inf)``), as in ``scipy.stats.bootstrap``.
    warnings : tuple of str
        Notes about degenerate data or a method fallback, one sentence each; each was also
        emitted as a :class:`~parity.errors.DegenerateDataWarning`.
    bootstrap_distribution : numpy.ndarray
        The statistic on each resample, shape ``(n_resamples,)``, read-only. Kept on the object
        (as scipy does) but left out of :meth:`to_dict` unless asked for: it is ``n_resamples``
        numbers, which would dominate the size of a JSON report. It takes no part in ``==``.
    """

    statistic: float
    confidence_interval: Interval
    confidence_level: float
    n_resamples: int
    method: str
    standard_error: float
    alternative: str = "two-sided"
    warnings: tuple[str, ...] = ()
    bootstrap_distribution: np.ndarray = dataclasses.field(
        default_factory=lambda: np.empty(0), repr=False, compare=False
    )

    def to_dict(self, *, include_distribution: bool = False) -> dict[str, Any]:
        """Return the result as a JSON-safe ``dict``.

        Parameters
        ----------
        include_distribution : bool, default False
            Also include ``bootstrap_distribution`` (a list of ``n_resamples`` floats).

        Examples
        --------
        >>> res = bootstrap_ci(([1.0, 2.0, 4.0, 7.0, 11.0],), np.mean, n_resamples=99, rng=0)
        >>> sorted(res.to_dict())[:3]
        ['alternative', 'confidence_interval', 'confidence_level']
        >>> "bootstrap_distribution" in res.to_dict()
        False
        >>> len(res.to_dict(include_distribution=True)["bootstrap_distribution"])
        99
        """
        out = {}
        for f in dataclasses.fields(self):
            if f.name == "bootstrap_distribution" and not include_distribution:
                continue
            out[f.name] = to_jsonable(getattr(self, f.name))
        return out


# --------------------------------------------------------------------------------------------
# the general engine


def bootstrap_ci(
    data: Any,
    statistic: Callable[..., Any],
    *,
    method: str = "BCa",
    n_resamples: int = 9999,
    paired: bool = False,
    strata: Any = None,
    confidence_level: float = 0.95,
    alternative: str = "two-sided",
    batch: int | None = None,
    rng: RngLike = None,
) -> BootstrapResult:
    """Bootstrap confidence interval of ``statistic(*data)``: BCa, percentile or basic.

    A drop-in for ``scipy.stats.bootstrap(data, statistic, vectorized=True, ...)`` with
    1-D samples, plus stratified resampling, parity's input checks and a frozen result that
    records degenerate data instead of returning NaN.

    **Draws.** For each batch of ``batch`` resamples and for each sample in turn (once for all
    samples when ``paired=True``), the index matrix is ``rng.integers(0, n, (batch, n))``:
    exactly the draws of ``scipy.stats.bootstrap``, so with generators in the same state both
    give the same bootstrap distribution, hence the same interval (to rounding). With
    ``strata``, each stratum (labels in sorted order) is drawn in turn the same way with its
    own size ``n_s``, and its draws index the stratum's own positions: every resample keeps
    each stratum's size and position. A single stratum gives exactly the unstratified draws.

    **Statistic.** ``statistic(*samples, axis=-1)`` is called on whole batches: each
    resampled sample has shape ``(b, n)`` and one value per row is expected back. It is called
    once on the original 1-D samples for the estimate.

    **BCa.** ``z0 = Φ⁻¹((#{θ* < θ̂} + ½·#{θ* = θ̂}) / B)`` (mid-rank) and the acceleration
    ``a = Σ_g Σᵢ U³/n_g³ / (6·(Σ_g Σᵢ U²/n_g²)^{3/2})`` with ``U = (n_g − 1)(θ̄₍·₎ − θ₍ᵢ₎)``
    from the jackknife: leave out each observation of group ``g`` in turn, all other data
    kept (Efron & Tibshirani 1993, §14.3 and eq. 15.36). The groups ``g`` are the samples
    (one group of pairs when ``paired=True``), as in scipy; with ``strata`` each sample is
    further split by stratum, so the jackknife runs within the strata and each (sample,
    stratum) cell is one group of the same formula — the multi-sample formula, of which
    independent samples are the special case with one stratum per sample. (A jackknife
    sample is one value shorter, so with strata the statistic must depend on the values, not
    on their positions.) The jackknife costs ``n`` evaluations of the statistic on ``n − 1``
    values (O(n²) work for a mean), as in scipy; for very large samples the percentile
    interval avoids it. The levels are
    ``Φ(z0 + (z0 + z)/(1 − a(z0 + z)))`` for ``z = Φ⁻¹(α), Φ⁻¹(1 − α)``. Where this is
    undefined (all θ* on one side of θ̂, a non-finite estimate or acceleration — e.g. a
    constant sample — or ``1 − a(z0 + z) ≤ 0``) the percentile interval is used, and
    ``method`` and ``warnings`` say so. (scipy returns NaN there and warns.)

    **Intervals.** Quantiles are linear interpolation (numpy's default). Percentile:
    quantiles ``α, 1 − α`` with ``α = (1 − confidence_level)/2`` two-sided,
    ``1 − confidence_level`` one-sided; basic: ``(2θ̂ − q_{1−α}, 2θ̂ − q_α)``; for
    ``alternative="less"`` the low end is ``-inf``, for ``"greater"`` the high end is ``inf``.

    Parameters
    ----------
    data : sequence of array_like
        One or more 1-D samples, each with at least 2 finite values, e.g. ``(x,)`` or
        ``(x, y)``. A flat sequence of numbers is taken as one sample.
    statistic : callable
        ``statistic(*samples, axis=-1)``, vectorized as above (``np.mean`` works).
    method : {"BCa", "percentile", "basic"}, default "BCa"
        Interval construction (case-insensitive: "bca", "BCa" and "BCA" are the same; the
        result's ``method`` spells it "bootstrap BCa").
    n_resamples : int, default 9999
        Number of bootstrap resamples, ≥ 1.
    paired : bool, default False
        Resample the same indices for every sample (all of the same length).
    strata : array_like or sequence of array_like, optional
        Group labels, one per observation: one array (for every sample, all of its length)
        or, with ``paired=False``, one array per sample. Resampling is within each stratum.
    confidence_level : float, default 0.95
        Coverage, in (0, 1).
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        Kind of interval, as in scipy.
    batch : int, optional
        Resamples per draw batch; this fixes the draw order, as scipy's ``batch`` does.
        Default: one batch of ``n_resamples`` (scipy's default). Memory is bounded whatever
        the value (larger batches are evaluated in chunks without changing the draws).
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same result. A Generator is advanced
        exactly as ``scipy.stats.bootstrap`` would advance it.

    Returns
    -------
    BootstrapResult

    Raises
    ------
    ParityInputError
        For NaN/inf values, a sample with fewer than 2 values or not 1-D, no sample, a
        ``statistic`` that is not callable or does not return one value per resample,
        ``paired=True`` with samples of unequal lengths, ``strata`` of the wrong length or with
        NaN labels, ``confidence_level`` outside (0, 1), ``n_resamples`` or ``batch`` < 1, an
        unknown ``method`` or ``alternative``, or a bad ``rng``.

    Warns
    -----
    DegenerateDataWarning
        For a sample with n < 5, a constant sample, a bootstrap distribution that is constant
        or has NaN values, or a fallback from BCa to percentile. Each is also recorded in
        ``result.warnings``.

    Examples
    --------
    >>> x = [2.1, 3.4, 1.9, 5.6, 4.4, 3.3, 2.8, 6.1, 3.9, 4.0]
    >>> res = bootstrap_ci((x,), np.mean, rng=0)
    >>> res.method, res.n_resamples, round(res.statistic, 2)
    ('bootstrap BCa', 9999, 3.75)
    >>> bool(res.confidence_interval[0] < 3.75 < res.confidence_interval[1])
    True

    The same draws as scipy, hence the same interval:

    >>> from scipy import stats
    >>> ref = stats.bootstrap((x,), np.mean, rng=np.random.default_rng(1))
    >>> ours = bootstrap_ci((x,), np.mean, rng=np.random.default_rng(1))
    >>> bool(np.allclose(ours.confidence_interval, tuple(ref.confidence_interval), rtol=1e-12))
    True

    A difference of means of two independent samples, percentile interval:

    >>> y = [1.2, 2.5, 2.2, 3.1, 1.8, 2.9, 2.4, 3.3]
    >>> def diff(a, b, axis=-1):
    ...     return np.mean(a, axis=axis) - np.mean(b, axis=axis)
    >>> res = bootstrap_ci((x, y), diff, method="percentile", n_resamples=2000, rng=0)
    >>> res.method, round(res.statistic, 4)
    ('bootstrap percentile', 1.325)
    """
    samples = _as_sample_list(data)
    if not callable(statistic):
        raise ParityInputError(
            f"`statistic` must be callable as statistic(*samples, axis=-1); "
            f"got {type(statistic).__name__}"
        )
    kind = _check_choice("method", method, _CI_METHODS)
    level = check_probability("confidence_level", confidence_level)
    b = check_positive_int("n_resamples", n_resamples)
    alt = _check_choice("alternative", alternative, {a: a for a in _ALTERNATIVES})
    if not isinstance(paired, bool | np.bool_):
        raise ParityInputError(f"`paired` must be True or False; got {paired!r}")
    paired = bool(paired)
    if batch is not None:
        batch = check_positive_int("batch", batch)
    if paired and len({x.size for x in samples}) > 1:
        sizes = ", ".join(str(x.size) for x in samples)
        raise ParityInputError(
            f"with `paired=True` all samples must have the same length; got lengths {sizes}"
        )
    units = _units(samples, paired, strata)
    gen = as_generator(rng)
    result = _bootstrap_ci(samples, statistic, units, kind, b, level, alt, batch, gen)
    for note in result.warnings:
        warnings.warn(note, DegenerateDataWarning, stacklevel=2)
    return result


@dataclasses.dataclass(frozen=True)
class _Unit:
    """A group of samples resampled with one index matrix: one sample, or all when paired.

    ``members`` are the sample numbers; ``groups`` the positions of each stratum (one group
    ``arange(n)`` without strata), in the order in which they are drawn.
    """

    members: tuple[int, ...]
    n: int
    groups: tuple[np.ndarray, ...]
    labels: tuple[Any, ...] = ()

    @property
    def stratified(self) -> bool:
        return len(self.groups) > 1


def _units(samples: list[np.ndarray], paired: bool, strata: Any) -> list[_Unit]:
    """The resampling units of the samples, with their strata (validated)."""
    if paired or len(samples) == 1:
        members = [tuple(range(len(samples)))]
    else:
        members = [(j,) for j in range(len(samples))]
    labels = _strata_per_unit(strata, samples, members)
    units = []
    for mem, lab in zip(members, labels, strict=True):
        n = samples[mem[0]].size
        if lab is None:
            units.append(_Unit(mem, n, (np.arange(n),)))
            continue
        names, inverse = np.unique(lab, return_inverse=True)
        inverse = inverse.reshape(-1)
        groups = tuple(np.flatnonzero(inverse == s) for s in range(names.size))
        units.append(_Unit(mem, n, groups, tuple(names.tolist())))
    return units


def _strata_per_unit(
    strata: Any, samples: list[np.ndarray], members: list[tuple[int, ...]]
) -> list[np.ndarray | None]:
    """One validated label array (or None) per resampling unit."""
    if strata is None:
        return [None] * len(members)
    single = _as_labels_1d(strata)
    if single is not None:
        per_sample: list[Any] = [single] * len(samples)
        names = ["strata"] * len(samples)
    else:
        try:
            per_sample = list(strata)
        except TypeError:
            raise ParityInputError(
                f"`strata` must be an array of labels or one array per sample; "
                f"got {type(strata).__name__}"
            ) from None
        if len(members) == 1 or len(per_sample) != len(samples):
            raise ParityInputError(
                "`strata` must be one 1-D array of labels"
                + ("" if len(members) == 1 else f" or {len(samples)} arrays (one per sample)")
                + f"; got {len(per_sample)} arrays"
            )
        names = [f"strata[{j}]" for j in range(len(samples))]
    out: list[np.ndarray | None] = []
    for mem in members:
        j = mem[0]
        lab = per_sample[j] if single is None else single
        if single is None:
            lab = _as_labels_1d(lab)
            if lab is None:
                raise ParityInputError(f"`{names[j]}` must be a 1-D array of labels")
        for k in mem:
            if lab.size != samples[k].size:
                raise ParityInputError(
                    f"`{names[j]}` must have one label per observation of `data[{k}]` "
                    f"({samples[k].size}); got {lab.size} labels"
                )
        out.append(lab)
    return out


def _as_labels_1d(x: Any) -> np.ndarray | None:
    """``x`` as a 1-D array of labels, or None when it is not one (e.g. a list of arrays)."""
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        return None
    if arr.ndim != 1 or arr.dtype == object:
        return None
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr))
        raise ParityInputError(
            f"`strata` labels must not be NaN/inf; got {bad.size} (indices {_show(bad)})"
        )
    return arr


def _as_sample_list(data: Any) -> list[np.ndarray]:
    """The samples of ``data`` as finite 1-D float64 arrays with at least 2 values each."""
    if isinstance(data, np.ndarray) and data.ndim == 1:
        return [as_values("data[0]", data)]
    try:
        items = list(data)
    except TypeError:
        raise ParityInputError(
            f"`data` must be a sequence of samples, e.g. (x,) or (x, y); got {type(data).__name__}"
        ) from None
    if not items:
        raise ParityInputError("`data` must contain at least one sample; got an empty sequence")
    if all(np.ndim(item) == 0 for item in items):
        return [as_values("data[0]", items)]
    return [as_values(f"data[{j}]", item) for j, item in enumerate(items)]


def _check_choice(name: str, value: Any, choices: dict[str, str]) -> str:
    key = value.lower() if isinstance(value, str) else None
    if key not in choices:
        shown = ", ".join(repr(c) for c in choices)
        raise ParityInputError(f"`{name}` must be one of {shown}; got {value!r}")
    return choices[key]


def _show(idx: np.ndarray) -> str:
    return ", ".join(str(i) for i in idx[:5]) + (", …" if idx.size > 5 else "")


# ---- draws


def _draw_streams(
    gen: np.random.Generator, streams: Sequence[tuple[int, tuple[int, ...]]], n: int, chunk: int
) -> Iterator[list[np.ndarray]]:
    """Index blocks of ``n`` resamples, in chunks of at most ``chunk`` resamples.

    Stream ``s = (high, shape)`` is drawn as ``gen.integers(0, high, (n, *shape))``, the
    streams one after the other: exactly the values (and the final generator state) of
    drawing each stream's whole block in turn. A chunk holds rows ``[start, start + c)`` of
    every stream. numpy's bounded integers consume the bit stream continuously (buffered
    32-bit halves are kept in the bit generator's state), so a block drawn in pieces equals
    the block drawn at once; when there are several streams and more than one chunk, each
    stream is read from a copy of the generator taken where that stream starts (the earlier
    streams are drawn twice, the first time only to advance the generator).
    """
    if n <= chunk:
        yield [gen.integers(0, high, (n, *shape)) for high, shape in streams]
        return
    gens = []
    for high, shape in streams[:-1]:
        gens.append(copy.deepcopy(gen))
        for start in range(0, n, chunk):
            gen.integers(0, high, (min(chunk, n - start), *shape))
    gens.append(gen)
    for start in range(0, n, chunk):
        c = min(chunk, n - start)
        yield [
            g.integers(0, high, (c, *shape)) for g, (high, shape) in zip(gens, streams, strict=True)
        ]


def _unit_indices(unit: _Unit, blocks: list[np.ndarray]) -> np.ndarray:
    """The ``(c, n)`` index matrix of a unit from the blocks of its strata."""
    if not unit.stratified:
        return blocks[0]
    idx = np.empty((blocks[0].shape[0], unit.n), dtype=np.intp)
    for pos, block in zip(unit.groups, blocks, strict=True):
        idx[:, pos] = pos[block]
    return idx


def _resample_indices(
    units: list[_Unit], n_resamples: int, batch: int | None, gen: np.random.Generator, chunk: int
) -> Iterator[list[np.ndarray]]:
    """Per chunk of resamples, one ``(c, n)`` index matrix per unit, in scipy's draw order."""
    streams = [(pos.size, (pos.size,)) for unit in units for pos in unit.groups]
    cuts = np.cumsum([0] + [len(unit.groups) for unit in units])
    nominal = batch or n_resamples
    for start in range(0, n_resamples, nominal):
        size = min(nominal, n_resamples - start)
        for blocks in _draw_streams(gen, streams, size, min(chunk, size)):
            yield [
                _unit_indices(unit, blocks[cuts[u] : cuts[u + 1]]) for u, unit in enumerate(units)
            ]


def _chunk_rows(width: int) -> int:
    """Resamples per chunk so that indices and gathered values stay within ``_BATCH_BYTES``."""
    return max(1, _BATCH_BYTES // (24 * max(1, width)))


# ---- evaluation


def _call_statistic(statistic: Callable[..., Any], args: list[Any], rows: int | None) -> Any:
    """``statistic(*args, axis=-1)`` as float64, checked: a scalar (rows None) or ``(rows,)``."""
    out = np.asarray(statistic(*args, axis=-1), dtype=np.float64)
    if rows is None:
        if out.size != 1:
            raise ParityInputError(
                f"`statistic` must return one number for the original samples; "
                f"got an array of shape {out.shape}"
            )
        return float(out.reshape(-1)[0])
    if out.shape != (rows,):
        raise ParityInputError(
            f"`statistic` must return one value per resample: shape ({rows},) for samples of "
            f"shape ({rows}, n) with axis=-1; got shape {out.shape}"
        )
    return out


def _bootstrap_distribution(
    samples: list[np.ndarray],
    statistic: Callable[..., Any],
    units: list[_Unit],
    n_resamples: int,
    batch: int | None,
    gen: np.random.Generator,
) -> np.ndarray:
    owner = {j: u for u, unit in enumerate(units) for j in unit.members}
    width = sum(x.size for x in samples) + sum(unit.n for unit in units)
    out = np.empty(n_resamples)
    start = 0
    for idx in _resample_indices(units, n_resamples, batch, gen, _chunk_rows(width)):
        args = [x[idx[owner[j]]] for j, x in enumerate(samples)]
        c = idx[0].shape[0]
        out[start : start + c] = _call_statistic(statistic, args, c)
        start += c
    return out


def _jackknife(samples: list[np.ndarray], statistic: Callable[..., Any], unit: _Unit) -> np.ndarray:
    """Leave-one-out statistics over the observations of ``unit`` (other samples kept)."""
    n = unit.n
    width = sum(x.size for x in samples)
    rows = _chunk_rows(width)
    base = np.arange(n - 1)
    out = np.empty(n)
    for start in range(0, n, rows):
        left_out = np.arange(start, min(n, start + rows))
        idx = base + (base >= left_out[:, None])
        args = [
            x[idx] if j in unit.members else np.broadcast_to(x, (left_out.size, x.size))
            for j, x in enumerate(samples)
        ]
        out[start : start + left_out.size] = _call_statistic(statistic, args, left_out.size)
    return out


def _jackknife_acceleration(
    samples: list[np.ndarray], statistic: Callable[..., Any], units: list[_Unit]
) -> float:
    """BCa acceleration from the jackknife, one group per (unit, stratum); ``nan`` if undefined.

    Mirrors ``scipy.stats._resampling._bca_interval`` operation by operation when there are
    no strata (one group per unit).
    """
    nums, dens = [], []
    for unit in units:
        theta = _jackknife(samples, statistic, unit)
        for pos in unit.groups:
            t = theta[pos]
            n = float(t.size)
            u = (n - 1) * (np.mean(t, keepdims=True) - t)
            nums.append(np.sum(u**3) / n**3)
            dens.append(np.sum(u**2) / n**2)
    num, den = sum(nums), sum(dens)
    if not (math.isfinite(num) and math.isfinite(den)) or den <= 0.0:
        return math.nan
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        a = float(1 / 6 * num / den ** (3 / 2))
    return a if math.isfinite(a) else math.nan


def _bca_levels_general(
    samples: list[np.ndarray],
    statistic: Callable[..., Any],
    units: list[_Unit],
    theta_hat: float,
    theta_b: np.ndarray,
    alpha: float,
) -> tuple[tuple[float, float] | None, str]:
    """BCa quantile levels (as scipy computes them), or ``(None, reason)`` when undefined."""
    from scipy.special import ndtr, ndtri

    if not math.isfinite(theta_hat):
        return None, "the estimate is not finite"
    b = theta_b.size
    below = np.count_nonzero(theta_b < theta_hat) + np.count_nonzero(theta_b <= theta_hat)
    if below == 0 or below == 2 * b:
        side = "above" if below == 0 else "below"
        return None, f"all {b} bootstrap statistics lie {side} the estimate"
    z0 = ndtri(below / (2 * b))
    a = _jackknife_acceleration(samples, statistic, units)
    if not math.isfinite(a):
        return None, "the jackknife acceleration is undefined (the leave-one-out values are equal)"
    z_alpha = float(ndtri(alpha))
    levels = []
    for z in (z_alpha, -z_alpha):
        num = z0 + z
        denom = 1 - a * num
        if denom <= 0.0:
            return None, f"the acceleration {a:.3g} is too large for this confidence level"
        levels.append(float(ndtr(z0 + num / denom)))
    return (levels[0], levels[1]), ""


def _sample_notes(samples: list[np.ndarray]) -> list[str]:
    notes = []
    for j, x in enumerate(samples):
        if x.size < _MIN_RELIABLE_N:
            notes.append(
                f"data[{j}] has only {x.size} values (n < {_MIN_RELIABLE_N}); "
                "the bootstrap interval is unreliable"
            )
        if np.all(x == x[0]):
            notes.append(f"data[{j}] is constant (every value is {x[0]:.6g})")
    return notes


def _bootstrap_ci(
    samples: list[np.ndarray],
    statistic: Callable[..., Any],
    units: list[_Unit],
    kind: str,
    n_resamples: int,
    level: float,
    alternative: str,
    batch: int | None,
    gen: np.random.Generator,
) -> BootstrapResult:
    """The interval on validated input; warnings are recorded, not emitted."""
    notes = _sample_notes(samples)
    theta_hat = _call_statistic(statistic, list(samples), None)
    theta_b = _bootstrap_distribution(samples, statistic, units, n_resamples, batch, gen)
    alpha = (1.0 - level) / 2.0 if alternative == "two-sided" else 1.0 - level
    prefix = "stratified bootstrap" if any(u.stratified for u in units) else "bootstrap"
    n_nan = int(np.count_nonzero(np.isnan(theta_b)))
    used = kind
    levels = (alpha, 1.0 - alpha)
    if n_nan:
        notes.append(
            f"{n_nan} of {n_resamples} bootstrap statistics are NaN; the interval is undefined"
        )
    elif np.all(theta_b == theta_b[0]):
        notes.append(
            f"all {n_resamples} bootstrap statistics equal {theta_b[0]:.6g}; "
            "the interval has zero width"
        )
    if kind == "BCa" and not n_nan:
        bca, why = _bca_levels_general(samples, statistic, units, theta_hat, theta_b, alpha)
        if bca is None:
            notes.append(f"BCa interval undefined ({why}); used the percentile interval")
            used = "percentile (fallback from BCa)"
        else:
            levels = bca
    if n_nan:
        low = high = math.nan
    else:
        low, high = (float(v) for v in np.quantile(theta_b, levels))
    if kind == "basic":
        low, high = 2 * theta_hat - high, 2 * theta_hat - low
    if alternative == "less":
        low = -math.inf
    elif alternative == "greater":
        high = math.inf
    theta_b.setflags(write=False)
    return BootstrapResult(
        statistic=theta_hat,
        confidence_interval=(low, high),
        confidence_level=level,
        n_resamples=n_resamples,
        method=f"{prefix} {used}",
        standard_error=float(np.std(theta_b, ddof=1)) if n_resamples > 1 else math.nan,
        alternative=alternative,
        warnings=tuple(notes),
        bootstrap_distribution=theta_b,
    )


# --------------------------------------------------------------------------------------------
# the ratio of two independent means (its own, older draw; see the module docstring)


@dataclasses.dataclass(frozen=True, slots=True)
class RatioResult(ResultMixin):
    """Ratio of means ``mean(candidate) / mean(reference)`` with a bootstrap interval.

    Attributes
    ----------
    statistic : float
        ``mean(candidate) / mean(reference)``; ``1.0`` when both means are 0, ``±inf`` when only
        the reference mean is 0.
    confidence_interval : Interval
        ``(low, high)`` two-sided interval at ``confidence_level``.
    confidence_level : float
        Coverage of the interval.
    n_resamples : int
        Number of bootstrap resamples drawn (0 when the data were too degenerate to resample).
    method : str
        ``"bootstrap BCa"``, ``"bootstrap percentile"``, or ``"none (...)"`` for degenerate data.
    standard_error : float
        Standard deviation of the bootstrap ratios (0 for a collapsed interval, ``nan`` when
        undefined).
    reference_mean, candidate_mean : float
        Sample means.
    n_reference, n_candidate : int
        Sample sizes.
    warnings : tuple of str
        Notes about degenerate data or a method fallback, one sentence each.
    """

    statistic: float
    confidence_interval: Interval
    confidence_level: float
    n_resamples: int
    method: str
    standard_error: float
    reference_mean: float
    candidate_mean: float
    n_reference: int
    n_candidate: int
    warnings: tuple[str, ...] = ()


def bootstrap_ratio_of_means(
    reference: Any,
    candidate: Any,
    *,
    confidence_level: float = 0.90,
    n_resamples: int = 9999,
    method: str = "BCa",
    rng: RngLike = None,
) -> RatioResult:
    """Bootstrap interval for ``mean(candidate) / mean(reference)`` of two independent samples.

    Each sample is resampled independently with replacement. The BCa interval uses the bias
    correction ``z0 = Φ⁻¹((#{ratio* < ratio} + ½·#{ratio* = ratio}) / B)`` and the acceleration
    from the jackknife over both samples (leave out each reference and each candidate
    observation in turn; the per-sample empirical influence values are combined as in
    Efron & Tibshirani 1993, §14.3, and ``scipy.stats.bootstrap``). Where BCa is undefined
    (all bootstrap ratios on one side of the estimate, an undefined or too large acceleration)
    the percentile interval is used, and the switch is recorded in ``method`` and ``warnings``.

    Parameters
    ----------
    reference, candidate : array_like, 1-D
        Independent samples, at least 2 finite values each.
    confidence_level : float, default 0.90
        Two-sided coverage, in (0, 1).
    n_resamples : int, default 9999
        Number of bootstrap resamples, ≥ 1.
    method : {"BCa", "percentile"}, default "BCa"
        Interval construction (case-insensitive).
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same result.

    Returns
    -------
    RatioResult

    Raises
    ------
    ParityInputError
        For NaN/inf values, fewer than 2 values, a non-1-D sample, ``confidence_level`` outside
        (0, 1), ``n_resamples`` < 1 or an unknown ``method``.

    Warns
    -----
    DegenerateDataWarning
        For a sample with n < 5, a constant sample, a reference mean of 0, resamples whose
        reference mean is 0 or changes sign, or a fallback from BCa to percentile. Each warning
        is also recorded in ``result.warnings``.

    Examples
    --------
    >>> res = bootstrap_ratio_of_means([1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    ...                                [2.0, 4.0, 6.0, 8.0, 10.0, 12.0], rng=0)
    >>> res.statistic
    2.0
    >>> res.method
    'bootstrap BCa'
    >>> bool(res.confidence_interval[0] < 2.0 < res.confidence_interval[1])
    True
    """
    ref = as_values("reference", reference)
    cand = as_values("candidate", candidate)
    level = check_probability("confidence_level", confidence_level)
    b = check_positive_int("n_resamples", n_resamples)
    kind = _check_method(method)
    result = _ratio_interval(ref, cand, level, b, kind, as_generator(rng))
    for note in result.warnings:
        warnings.warn(note, DegenerateDataWarning, stacklevel=2)
    return result


# --------------------------------------------------------------------------------------------
# validation


def _check_method(method: Any) -> str:
    key = str(method).lower() if isinstance(method, str) else None
    if key not in _METHODS:
        raise ParityInputError(f"`method` must be 'BCa' or 'percentile'; got {method!r}")
    return _METHODS[key]


# --------------------------------------------------------------------------------------------
# core (validated input)


def _ratio_interval(
    ref: np.ndarray,
    cand: np.ndarray,
    level: float,
    n_resamples: int,
    method: str,
    gen: np.random.Generator,
) -> RatioResult:
    """Compute the interval on validated input; warnings are recorded, not emitted."""
    notes = _data_notes(ref, cand)
    m_r, m_c = float(np.mean(ref)), float(np.mean(cand))
    stat = float(_ratio(m_c, m_r))
    common = {
        "statistic": stat,
        "confidence_level": level,
        "reference_mean": m_r,
        "candidate_mean": m_c,
        "n_reference": int(ref.size),
        "n_candidate": int(cand.size),
    }
    both_constant = _is_constant(ref) and _is_constant(cand)
    if m_r == 0.0:
        return _zero_reference_result(common, both_constant, notes)
    if both_constant:
        return RatioResult(
            confidence_interval=(stat, stat),
            n_resamples=0,
            method="none (constant samples: the interval is the point)",
            standard_error=0.0,
            warnings=tuple(notes),
            **common,
        )

    ref_means, cand_means = _resample_means(ref, cand, n_resamples, gen)
    ratios = _ratio(cand_means, ref_means)
    unstable = int(np.count_nonzero((ref_means == 0) | (np.sign(ref_means) != np.sign(m_r))))
    if unstable:
        notes.append(
            f"{unstable} of {n_resamples} bootstrap resamples have a reference mean of 0 or of "
            "the opposite sign; the ratio of means is unstable"
        )

    alpha = (1.0 - level) / 2.0
    levels = (alpha, 1.0 - alpha)
    used = "percentile"
    if method == "BCa":
        bca, why = _bca_levels(ref, cand, stat, ratios, alpha)
        if bca is None:
            notes.append(f"BCa interval undefined ({why}); used the percentile interval")
        else:
            levels, used = bca, "BCa"
    ordered = np.sort(ratios)
    ci = (_quantile(ordered, levels[0]), _quantile(ordered, levels[1]))
    return RatioResult(
        confidence_interval=ci,
        n_resamples=n_resamples,
        method=f"bootstrap {used}",
        standard_error=_standard_error(ratios),
        warnings=tuple(notes),
        **common,
    )


def _data_notes(ref: np.ndarray, cand: np.ndarray) -> list[str]:
    """One sentence per degenerate feature of the data (small n, constant sample)."""
    notes = []
    for name, x in (("reference", ref), ("candidate", cand)):
        if x.size < _MIN_RELIABLE_N:
            notes.append(
                f"{name} has only {x.size} values (n < {_MIN_RELIABLE_N}); "
                "the bootstrap interval is unreliable"
            )
        if _is_constant(x):
            notes.append(f"{name} is constant (every value is {x[0]:.6g})")
    return notes


def _zero_reference_result(
    common: dict[str, Any], both_constant: bool, notes: list[str]
) -> RatioResult:
    """Result when the reference mean is exactly 0: no resampling, the ratio is 1 or ±inf."""
    stat = common["statistic"]
    if math.isinf(stat):
        notes.append("reference mean is 0 and candidate mean is not, so the ratio is infinite")
        ci, se = (stat, stat), math.nan
    elif both_constant:
        notes.append("reference and candidate means are both 0; the ratio is taken as 1")
        ci, se = (1.0, 1.0), 0.0
    else:
        notes.append(
            "reference and candidate means are both 0 but the samples vary; the ratio is taken "
            "as 1 and its interval is unbounded"
        )
        ci, se = (-math.inf, math.inf), math.nan
    return RatioResult(
        confidence_interval=ci,
        n_resamples=0,
        method="none (reference mean is 0)",
        standard_error=se,
        warnings=tuple(notes),
        **common,
    )


def _is_constant(x: np.ndarray) -> bool:
    return bool(np.all(x == x[0]))


def _ratio(num: Any, den: Any) -> np.ndarray:
    """``num / den`` with ``0/0 → 1`` and ``x/0 → sign(x)·inf`` (elementwise)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.where(den == 0, np.where(num == 0, 1.0, np.copysign(np.inf, num)), out)


def _index_batches(
    gen: np.random.Generator, n_ref: int, n_cand: int, n_resamples: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(ref_idx, cand_idx)`` index matrices, ``(b, n_ref)`` and ``(b, n_cand)``."""
    width = n_ref + n_cand
    batch = max(1, min(n_resamples, _RATIO_BATCH_BYTES // (8 * width)))
    for start in range(0, n_resamples, batch):
        u = gen.random((min(batch, n_resamples - start), width))
        ref_idx = np.minimum((u[:, :n_ref] * n_ref).astype(np.intp), n_ref - 1)
        cand_idx = np.minimum((u[:, n_ref:] * n_cand).astype(np.intp), n_cand - 1)
        yield ref_idx, cand_idx


def _resample_means(
    ref: np.ndarray, cand: np.ndarray, n_resamples: int, gen: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Means of ``n_resamples`` bootstrap resamples of each sample, computed in batches."""
    ref_means = np.empty(n_resamples)
    cand_means = np.empty(n_resamples)
    start = 0
    for ref_idx, cand_idx in _index_batches(gen, ref.size, cand.size, n_resamples):
        stop = start + ref_idx.shape[0]
        ref_means[start:stop] = ref[ref_idx].mean(axis=1)
        cand_means[start:stop] = cand[cand_idx].mean(axis=1)
        start = stop
    return ref_means, cand_means


def _acceleration(ref: np.ndarray, cand: np.ndarray) -> float:
    """BCa acceleration from the jackknife of the ratio over both samples.

    Leave-one-out values ``θ₍ᵢ₎`` are computed for every reference and every candidate
    observation; with ``U = (n − 1)(θ̄₍·₎ − θ₍ᵢ₎)`` per sample,
    ``a = Σ_k Σ U³/n_k³ / (6 (Σ_k Σ U²/n_k²)^{3/2})``. Returns ``nan`` when undefined.
    """
    m_r, m_c = ref.mean(), cand.mean()
    loo_ref = (ref.sum() - ref) / (ref.size - 1)
    loo_cand = (cand.sum() - cand) / (cand.size - 1)
    num = den = 0.0
    for theta, n in ((_ratio(m_c, loo_ref), ref.size), (_ratio(loo_cand, m_r), cand.size)):
        if not np.all(np.isfinite(theta)):
            return math.nan
        u = (n - 1) * (theta.mean() - theta)
        num += float(np.sum(u**3)) / n**3
        den += float(np.sum(u**2)) / n**2
    if den <= 0.0 or not math.isfinite(num):
        return math.nan
    return num / (6.0 * den**1.5)


def _bca_levels(
    ref: np.ndarray, cand: np.ndarray, stat: float, ratios: np.ndarray, alpha: float
) -> tuple[tuple[float, float] | None, str]:
    """Adjusted quantile levels of the BCa interval, or ``(None, reason)`` when undefined."""
    if not math.isfinite(stat):
        return None, "the estimate is not finite"
    b = ratios.size
    below = (np.count_nonzero(ratios < stat) + 0.5 * np.count_nonzero(ratios == stat)) / b
    if not 0.0 < below < 1.0:
        return None, f"all {b} bootstrap ratios lie on one side of the estimate"
    z0 = _NORMAL.inv_cdf(below)
    a = _acceleration(ref, cand)
    if not math.isfinite(a):
        return None, "the jackknife acceleration is undefined"
    levels = []
    for z in (_NORMAL.inv_cdf(alpha), _NORMAL.inv_cdf(1.0 - alpha)):
        denom = 1.0 - a * (z0 + z)
        if denom <= 0.0:
            return None, f"the acceleration {a:.3g} is too large for this confidence level"
        levels.append(_NORMAL.cdf(z0 + (z0 + z) / denom))
    return (levels[0], levels[1]), ""


def _quantile(ordered: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of sorted values; safe with ±inf.

    Between two equal values the value itself is returned; between a finite value and an
    infinite one, the nearer of the two.
    """
    h = (ordered.size - 1) * q
    i = min(math.floor(h), ordered.size - 1)
    frac = h - i
    lo = float(ordered[i])
    if frac == 0.0 or i + 1 >= ordered.size:
        return lo
    hi = float(ordered[i + 1])
    if lo == hi:
        return lo
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return lo if frac < 0.5 else hi
    return lo + frac * (hi - lo)


def _standard_error(ratios: np.ndarray) -> float:
    if ratios.size < 2:
        return math.nan
    if not np.all(np.isfinite(ratios)):
        return math.inf
    return float(np.std(ratios, ddof=1))
