"""The permutation family, shared by every two-sample engine: p-values, kernel aggregation,
the Westfall–Young min-p family rule, warning capture and the result it all becomes.

An engine (exact pooled :mod:`parity.stats.permutation`, by-observation
:mod:`parity.stats.conditional`, text :mod:`parity.stats.text`, random features
:mod:`parity.stats.rff`) evaluates *components* on the same splits: one column per kernel of
the MMD's kernel collection, one for the energy distance, one for binned KL. It hands this
module a null matrix ``(V × C)`` whose first row is the observed split, and the components'
grouping into statistics. Everything after that lives here, once:

* **p-values.** ``p = #{null ≥ observed − tol} / V`` per component, where ``V`` counts the
  observed split (random mode: ``V = B + 1``) or all splits (exact mode), and ``tol`` is the
  relative tie tolerance times the component's gross magnitude.
* **Kernel aggregation** (a statistic with several components, e.g. the MMD over a bandwidth
  collection): ``agg`` (after MMDAgg, Schrab et al. 2023) takes the smallest per-kernel
  p-value as the statistic, calibrated on the same splits (single-step min-p: exact FWER over
  the kernels); ``fuse`` (after MMD-FUSE, Biggs et al. 2023) standardizes each kernel's values
  by their permutation mean and standard deviation and combines them by log-sum-exp (a soft
  maximum), calibrated on the same splits. Both are functions of the multiset of split values,
  so the test stays exact.
* **Family.** The family p-value is the Westfall–Young single-step min-p over the statistics:
  each split's smallest p-value against the observed one, taken over every kernel of an
  ``agg`` MMD and every other statistic at once (one adjustment, not the kernels' then the
  statistics': on the MMDAgg/FUSE benchmarks this gained about 0.10 in power at three
  settings, measured with ``benchmarks/power.py``).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parity.errors import ParityInputError, ParityWarning
from parity.stats._common import ResultMixin

AGGREGATIONS = ("agg", "fuse", "sum")
DEFAULT_AGGREGATION = "agg"
TIE_RTOL = {"float32": 1e-6, "float64": 1e-10}
_MINP_RTOL = 1e-12  # min-p values are ratios of counts: equal up to rounding means equal


@dataclass(frozen=True, slots=True)
class StatisticResult(ResultMixin):
    """One statistic's permutation test.

    ``statistic`` is the float64 value on the observed split; ``null_distribution`` holds the
    statistic on the random splits (or on every split, the observed one included, when exact).
    For an aggregated MMD, ``statistic`` is the aggregate (``agg``: −log10 of the smallest
    per-kernel p-value; ``fuse``: the log-sum-exp of standardized MMDs) and
    ``parameters["kernels"]`` lists every kernel with its own MMD² and unadjusted p-value.
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

    results: dict[str, StatisticResult]
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


@dataclass(frozen=True, slots=True)
class Statistic:
    """A statistic of the family: its components (columns of the null) and their aggregation.

    ``components`` describes each column (e.g. ``{"kernel": "gaussian", "bandwidth": 0.5}``);
    ``aggregation`` is ``None`` for a single component, else one of ``agg``/``fuse``.
    """

    name: str
    columns: tuple[int, ...]
    parameters: dict[str, Any]
    aggregation: str | None = None
    components: tuple[dict[str, Any], ...] = ()


def check_aggregation(aggregation: Any) -> str:
    """The aggregation name, checked (case-insensitive).

    Examples
    --------
    >>> check_aggregation("AGG")
    'agg'
    """
    value = aggregation.lower() if isinstance(aggregation, str) else aggregation
    if value not in AGGREGATIONS:
        raise ParityInputError(f"`aggregation` must be one of {AGGREGATIONS}; got {aggregation!r}")
    return value


def exceedance_counts(values: np.ndarray, tolerance: float) -> np.ndarray:
    """For each value v, how many of ``values`` are ≥ v − tolerance (itself included).

    Examples
    --------
    >>> exceedance_counts(np.array([3.0, 1.0, 2.0, 3.0]), 0.0)
    array([2, 4, 3, 2])
    """
    ordered = np.sort(values)
    return values.size - np.searchsorted(ordered, values - tolerance, side="left")


def _minp_pvalues(min_p: np.ndarray) -> np.ndarray:
    """Per split, the share of splits whose min-p is at most its own (the min-p p-value)."""
    ordered = np.sort(min_p)
    return np.searchsorted(ordered, min_p * (1 + _MINP_RTOL), side="right") / min_p.size


def fuse_values(null: np.ndarray) -> np.ndarray:
    """Log-sum-exp over columns of each column standardized by its mean and sd over the rows.

    The mean and sd are taken over all splits (the observed one included), so they depend on
    the multiset of split values only and the permutation test stays exact. A constant column
    contributes 0.

    Examples
    --------
    >>> fuse_values(np.array([[3.0, 1.0], [1.0, 1.0], [2.0, 1.0]])).round(4)
    array([1.4824, 0.2576, 0.6931])
    """
    mean = null.mean(axis=0)
    sd = null.std(axis=0)
    z = (null - mean) / np.where(sd > 0, sd, 1.0)
    top = z.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))[:, 0]


def _fuse_tolerance(null: np.ndarray, tolerances: np.ndarray) -> float:
    """Tie tolerance of the fused values: each column's tolerance in its standardized units."""
    sd = null.std(axis=0)
    return float(np.max(np.where(sd > 0, tolerances / np.where(sd > 0, sd, 1.0), 0.0), initial=0))


def statistic_column(
    null: np.ndarray, tolerances: np.ndarray, stat: Statistic
) -> tuple[np.ndarray, np.ndarray]:
    """One statistic's values and per-split p-values (V,), from its null columns.

    Examples
    --------
    >>> null = np.array([[3.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> values, p = statistic_column(null, np.zeros(2), Statistic("mmd", (0, 1), {}, "agg"))
    >>> p.tolist()
    [0.6666666666666666, 1.0, 0.6666666666666666]
    """
    cols = null[:, list(stat.columns)]
    tols = np.asarray(tolerances, dtype=np.float64)[list(stat.columns)]
    if len(stat.columns) == 1:
        values = cols[:, 0]
        return values, exceedance_counts(values, tols[0]) / values.size
    if stat.aggregation == "fuse":
        values = fuse_values(cols)
        return values, exceedance_counts(values, _fuse_tolerance(cols, tols)) / values.size
    per_kernel = np.column_stack(
        [exceedance_counts(cols[:, j], tols[j]) / cols.shape[0] for j in range(cols.shape[1])]
    )
    min_p = per_kernel.min(axis=1)
    return -np.log10(min_p), _minp_pvalues(min_p)


def family_columns(
    null: np.ndarray, tolerances: np.ndarray, stat: Statistic, pvalues: np.ndarray
) -> list[np.ndarray]:
    """The per-split p-value columns ``stat`` brings to the family's min-p: one per kernel for
    ``agg`` (so the family's single-step min-p runs over every kernel and every other statistic
    at once, rather than adjusting the kernels twice), else its own p-values.

    Examples
    --------
    >>> null = np.array([[3.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> stat = Statistic("mmd", (0, 1), {}, "agg")
    >>> [c.tolist() for c in family_columns(null, np.zeros(2), stat, None)]
    [[0.3333333333333333, 1.0, 0.6666666666666666], [1.0, 0.6666666666666666, 0.3333333333333333]]
    """
    if len(stat.columns) == 1 or stat.aggregation != "agg":
        return [pvalues]
    return [exceedance_counts(null[:, c], tolerances[c]) / null.shape[0] for c in stat.columns]


def family(pvalue_columns: Sequence[np.ndarray], exact: bool) -> tuple[float, float, float]:
    """(observed min-p, family p-value, smallest attainable family p-value).

    The family p-value is the Westfall–Young single-step min-p. With random splits the observed
    split can exceed every null value of every statistic, so the smallest attainable p-value is
    1/V; with every split enumerated it is the smallest family p-value over the splits.

    Examples
    --------
    >>> family([np.array([0.25, 0.5, 1.0, 0.75]), np.array([0.5, 0.25, 1.0, 0.75])], False)
    (0.25, 0.5, 0.25)
    """
    min_p = np.min(np.column_stack(pvalue_columns), axis=1)
    family_p = float(min_p[0]) if len(pvalue_columns) == 1 else float(_minp_pvalues(min_p)[0])
    if not exact:
        return float(min_p[0]), family_p, 1.0 / min_p.size
    attainable = min_p if len(pvalue_columns) == 1 else _minp_pvalues(min_p)
    return float(min_p[0]), family_p, float(attainable.min())


def kernel_table(null: np.ndarray, tolerances: np.ndarray, stat: Statistic) -> list[dict[str, Any]]:
    """Each component of an aggregated statistic with its observed value and unadjusted p."""
    rows = []
    for j, column in enumerate(stat.columns):
        values = null[:, column]
        p = int(np.sum(values >= values[0] - tolerances[column])) / values.size
        rows.append({**stat.components[j], "statistic": float(values[0]), "pvalue": p})
    return rows


def assemble(
    null: np.ndarray,
    scales: np.ndarray,
    stats: Sequence[Statistic],
    *,
    exact: bool,
    n_resamples: int,
    method: str,
    family_method: str,
    precision: str,
    tie_rtol: float,
    counts: tuple[int, int, int],
    standardized: bool,
    notes: Sequence[str],
    details: dict[str, Any],
) -> TwoSampleTestResult:
    """The :class:`TwoSampleTestResult` of a null matrix (V × C), observed split first.

    ``scales`` are the components' gross magnitudes on the observed split (for the tie
    tolerance), ``counts`` is (n_x, n_y, dim).
    """
    null = np.asarray(null, dtype=np.float64)
    tolerances = tie_rtol * np.asarray(scales, dtype=np.float64)
    n_values = null.shape[0]
    results, pvalue_columns = {}, []
    for stat in stats:
        values, pvalues = statistic_column(null, tolerances, stat)
        pvalue_columns += family_columns(null, tolerances, stat, pvalues)
        parameters = {**stat.parameters, "standardized": standardized}
        if len(stat.columns) > 1:
            parameters["aggregation"] = stat.aggregation
            parameters["kernels"] = kernel_table(null, tolerances, stat)
        results[stat.name] = StatisticResult(
            name=stat.name,
            statistic=float(values[0]),
            pvalue=float(pvalues[0]),
            null_distribution=values if exact else values[1:],
            n_resamples=n_values if exact else n_resamples,
            method=method,
            parameters=parameters,
        )
    observed_min_p, family_p, attainable = family(pvalue_columns, exact)
    return TwoSampleTestResult(
        results=results,
        statistic=observed_min_p,
        pvalue=family_p,
        n_resamples=n_values if exact else n_resamples,
        exact=exact,
        min_attainable_pvalue=attainable,
        n_x=counts[0],
        n_y=counts[1],
        dim=counts[2],
        precision=precision,
        tie_rtol=float(tie_rtol),
        standardized=standardized,
        method=family_method,
        warnings=tuple(notes),
        details=details,
    )


def family_method(stats: Sequence[Statistic], where: str = "") -> str:
    """The family's method sentence, naming each statistic and its kernel aggregation.

    Examples
    --------
    >>> family_method([Statistic("mmd", (0, 1), {}, "agg"), Statistic("energy", (2,), {})])
    'Westfall–Young single-step min-p over mmd (2 kernels, agg), energy'
    """
    names = [
        f"{s.name} ({len(s.columns)} kernels, {s.aggregation})" if len(s.columns) > 1 else s.name
        for s in stats
    ]
    return "Westfall–Young single-step min-p over " + ", ".join(names) + where


def resolve_tie_rtol(tie_rtol: float | None, precision: str) -> float:
    """The tie tolerance: the precision's default, or the given one checked."""
    if tie_rtol is None:
        return TIE_RTOL[precision]
    if not (isinstance(tie_rtol, int | float) and math.isfinite(tie_rtol) and tie_rtol >= 0):
        raise ParityInputError(f"`tie_rtol` must be a non-negative number; got {tie_rtol!r}")
    return float(tie_rtol)


@contextlib.contextmanager
def recording_warnings(notes: list[str]) -> Iterator[None]:
    """Collect the messages of ParityWarnings raised inside into ``notes``, and re-issue them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ParityWarning)
        yield
    notes.extend(str(w.message) for w in caught if issubclass(w.category, ParityWarning))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
