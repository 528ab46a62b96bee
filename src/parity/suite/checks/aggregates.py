"""Aggregates: a cross-task statistic of each system, their ratio or difference, and its test.

Normalizes per task, bootstraps each system's seeds within task
(:func:`~parity.stats.aggregate_ci`), contrasts the two bootstrap distributions resample by
resample and tests the contrast against the margin at a Bonferroni share of α (the arithmetic
on the bootstrap distribution is :mod:`parity.stats._resampled`). A room of
:mod:`parity.suite.checks`: it may import :mod:`parity.stats`,
:mod:`parity.suite.checks._common` and :mod:`parity.suite.manifest`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from parity.errors import ParityWarning
from parity.stats._common import Interval, ResultMixin
from parity.stats._resampled import interval_inside, margin_pvalues, percentile_interval
from parity.suite.checks._common import _Group, _Table
from parity.suite.manifest import AggregateSpec, Manifest

__all__ = ["AggregateResult"]


@dataclass(frozen=True, slots=True)
class AggregateResult(ResultMixin):
    """A cross-task aggregate: reference and candidate values, their ratio or difference.

    ``estimate`` is ``candidate / reference`` (``margin_kind == "ratio"``) or ``candidate −
    reference``; ``confidence_interval`` its percentile interval from the joint stratified
    bootstrap at ``confidence_level`` (``1 − 2·alpha_share`` for equivalence, one-sided
    ``1 − alpha_share`` for non-inferiority); ``passed`` when it lies inside ``bounds``.
    ``pvalue`` is the bootstrap p-value of the same test, ``(1 + #{beyond the bound}) / (1 +
    B)`` (the larger of the two one-sided values for equivalence), for information.
    """

    name: str
    metric: str
    statistic: str
    test: str
    margin_kind: str
    margin: float
    bounds: Interval
    higher_is_better: bool
    normalized: bool
    reference: float
    candidate: float
    reference_interval: Interval
    candidate_interval: Interval
    estimate: float
    confidence_interval: Interval
    confidence_level: float
    alpha_share: float
    pvalue: float
    passed: bool
    n_resamples: int
    n_tasks: int
    n_seeds_reference: int
    n_seeds_candidate: int
    method: str
    warnings: tuple[str, ...] = ()
    error: str | None = None
    n_for_power: int | None = None

    @property
    def null_effect(self) -> float:
        """1 for a ratio, 0 for a difference."""
        return 1.0 if self.margin_kind == "ratio" else 0.0


@dataclass(frozen=True, slots=True)
class _Region:
    """What an aggregate tests: the test, its direction, the margin and the interval's level."""

    test: str  # "equivalence" or "non-inferiority"
    higher_is_better: bool  # of the statistic (an optimality gap reverses the metric's)
    kind: str  # "ratio" or "difference"
    margin: float
    bounds: tuple[float, float]
    level: float


def _region(manifest: Manifest, spec: AggregateSpec, alpha_share: float) -> _Region:
    """The aggregate's hypothesis: ``1 ± ratio`` or ``± difference``, one- or two-sided.

    Equivalence needs the ``(1 − 2·alpha_share)`` interval inside both bounds; non-inferiority
    the one-sided ``(1 − alpha_share)`` bound beyond the lower (higher is better) or the upper
    bound.
    """
    test = manifest.metric_test(spec.metric)
    test = "equivalence" if test == "equivalence" else "non-inferiority"
    hib = manifest.metrics[spec.metric].higher_is_better != (spec.statistic == "optimality_gap")
    kind = "ratio" if spec.margin.ratio is not None else "difference"
    m = spec.margin.ratio if kind == "ratio" else spec.margin.difference
    center = 1.0 if kind == "ratio" else 0.0
    if test == "equivalence":
        bounds = (center - m, center + m)
        level = 1.0 - 2.0 * alpha_share
    else:
        bounds = (center - m, math.inf) if hib else (-math.inf, center + m)
        level = 1.0 - alpha_share
    return _Region(test, hib, kind, m, bounds, level)


def _scores(
    manifest: Manifest, spec: AggregateSpec, table: _Table, group: _Group, system: str
) -> tuple[np.ndarray, list[int], str | None]:
    """A system's seeds × tasks matrix of the metric, normalized per task when asked.

    Only the seeds with a finite value on every task enter (the statistic needs the matrix
    complete); returns the matrix, the seeds used and a note when seeds were left out.
    """
    rerun = group.reruns[system]
    rows, used = [], []
    for s in group.seeds:
        row = [table.metric(system, t, s, rerun, spec.metric) for t in manifest.tasks]
        if all(v is not None for v in row):
            rows.append(row)
            used.append(s)
    dropped = len(group.seeds) - len(used)
    note = None
    if dropped:
        note = (
            f"{system}: {dropped} seed(s) without a finite `{spec.metric}` on every task "
            "left out (the aggregate needs seeds × tasks complete)"
        )
    x = np.asarray(rows, dtype=float).reshape(len(rows), len(manifest.tasks))
    if spec.normalization is not None:
        low = np.array([spec.normalization[t][0] for t in manifest.tasks])
        high = np.array([spec.normalization[t][1] for t in manifest.tasks])
        x = (x - low) / (high - low)
    return x, used, note


def _contrast(
    kind: str, statistic: str, ref: Any, cand: Any
) -> tuple[np.ndarray, float, str | None]:
    """The ratio (or difference) of the two systems' statistics, resample by resample.

    ``ref`` and ``cand`` are :func:`~parity.stats.aggregate_ci` results drawn independently
    from one generator. Returns the bootstrap distribution of the contrast, its estimate, and
    why a ratio is not defined (a reference statistic ≤ 0, in the data or in a resample: the
    distribution is then all NaN).
    """
    ref_b, cand_b = ref.bootstrap_distribution, cand.bootstrap_distribution
    ref_hat, cand_hat = ref.statistic, cand.statistic
    if kind != "ratio":
        return cand_b - ref_b, cand_hat - ref_hat, None
    bad = int(np.count_nonzero(ref_b <= 0))
    if ref_hat <= 0 or bad:
        error = (
            f"the reference {statistic} is ≤ 0 (in the data or in {bad} of "
            f"{ref_b.size} resamples): a ratio is not defined; use a `difference` margin"
        )
        estimate = cand_hat / ref_hat if ref_hat != 0 else math.nan
        return np.full(ref_b.shape, math.nan), estimate, error
    return cand_b / ref_b, cand_hat / ref_hat, None


def _margin_test(
    distribution: np.ndarray, region: _Region, alpha_share: float
) -> tuple[tuple[float, float], float, bool]:
    """The percentile interval of the contrast, its bootstrap p-value, and whether it passes.

    Equivalence: the ``(alpha_share, 1 − alpha_share)`` quantiles and the larger of the two
    one-sided p-values; non-inferiority: the one bound on the side of the margin.
    """
    p_low, p_high = margin_pvalues(distribution, region.bounds)
    if region.test == "equivalence":
        ci = percentile_interval(distribution, alpha_share, "two-sided")
        p = max(p_low, p_high)
    elif region.higher_is_better:
        ci, p = percentile_interval(distribution, alpha_share, "lower"), p_low
    else:
        ci, p = percentile_interval(distribution, alpha_share, "upper"), p_high
    return ci, p, interval_inside(ci, region.bounds)


def _untested(common: dict, notes: list[str], error: str) -> AggregateResult:
    """An aggregate that could not be tested: no estimate, ``pvalue = 1``, not passed."""
    nan2 = (math.nan, math.nan)
    return AggregateResult(
        **common,
        reference=math.nan,
        candidate=math.nan,
        reference_interval=nan2,
        candidate_interval=nan2,
        estimate=math.nan,
        confidence_interval=nan2,
        pvalue=1.0,
        passed=False,
        method="not tested",
        warnings=tuple(notes),
        error=error,
    )


def _aggregate(
    manifest: Manifest,
    spec: AggregateSpec,
    index: int,
    table: _Table,
    group: _Group,
    alpha_share: float,
    seed: int,
) -> tuple[AggregateResult, np.ndarray | None]:
    """One aggregate on one group of runs, tested at its Bonferroni share of α.

    Parameters
    ----------
    manifest : Manifest
        The suite.
    spec : AggregateSpec
        The aggregate (``manifest.aggregates[index]``).
    index : int
        Its position, part of the bootstrap generator's entropy.
    table : _Table
        The recorded runs.
    group : _Group
        Which rerun of each system and which seeds.
    alpha_share : float
        ``α / k`` for ``k`` aggregates.
    seed : int
        The judge's seed: the generator is ``default_rng([seed, 1, index, *group.key])``.

    Returns
    -------
    (AggregateResult, numpy.ndarray or None)
        The result, and the bootstrap distribution of its estimate (None when it could not
        be tested: fewer than 2 complete seeds, or a ratio that is not defined).
    """
    from parity.stats import aggregate_ci

    region = _region(manifest, spec, alpha_share)
    notes: list[str] = []
    matrices, seeds_used = {}, {}
    for system in ("reference", "candidate"):
        x, used, note = _scores(manifest, spec, table, group, system)
        if note is not None:
            notes.append(note)
        matrices[system], seeds_used[system] = x, used
    common = dict(
        name=spec.name,
        metric=spec.metric,
        statistic=spec.statistic,
        test=region.test,
        margin_kind=region.kind,
        margin=float(region.margin),
        bounds=region.bounds,
        higher_is_better=region.higher_is_better,
        normalized=spec.normalization is not None,
        confidence_level=region.level,
        alpha_share=alpha_share,
        n_resamples=spec.n_resamples,
        n_tasks=len(manifest.tasks),
        n_seeds_reference=len(seeds_used["reference"]),
        n_seeds_candidate=len(seeds_used["candidate"]),
    )
    short = [s for s, x in matrices.items() if x.shape[0] < 2]
    if short:
        why = f"{' and '.join(short)}: fewer than 2 seeds with `{spec.metric}` on every task"
        return _untested(common, notes, why), None
    gen = np.random.default_rng([seed, 1, index, *group.key])
    # each system's own interval is two-sided (at 1 − 2·share for non-inferiority too)
    own_level = region.level if region.test == "equivalence" else 1 - 2 * alpha_share
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParityWarning)
        res = {
            system: aggregate_ci(
                matrices[system],
                spec.statistic,
                n_resamples=spec.n_resamples,
                confidence_level=own_level,
                rng=gen,
            )
            for system in ("reference", "candidate")
        }
    for system, r in res.items():
        notes += [f"{system}: {w}" for w in r.warnings]
    est_b, estimate, error = _contrast(
        region.kind, spec.statistic, res["reference"], res["candidate"]
    )
    if error is not None:
        ci, p, passed = (math.nan, math.nan), 1.0, False
    else:
        ci, p, passed = _margin_test(est_b, region, alpha_share)
    result = AggregateResult(
        **common,
        reference=float(res["reference"].statistic),
        candidate=float(res["candidate"].statistic),
        reference_interval=tuple(res["reference"].confidence_interval),
        candidate_interval=tuple(res["candidate"].confidence_interval),
        estimate=float(estimate),
        confidence_interval=ci,
        pvalue=float(p),
        passed=passed,
        method=(
            f"{region.kind} of the {spec.statistic}s, joint stratified bootstrap percentile "
            f"interval (each system's seeds resampled within task, independently; "
            f"B = {est_b.size})"
        ),
        warnings=tuple(notes),
        error=error,
    )
    return result, (None if error is not None else est_b)
