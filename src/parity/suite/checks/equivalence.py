"""Equivalence: the per-task tests (one Holm family) and the metric verdict over a group of runs.

One evaluation (:func:`_evaluate`) runs every (task, metric) test and every aggregate on one
group of runs (rerun 0 for the verdict; each rerun or half of the seeds for stability) and
applies the decision basis. A room of :mod:`parity.suite.checks`: it may import
:mod:`parity.stats`, :mod:`parity.suite.checks._common`,
:mod:`~parity.suite.checks.aggregates`, :mod:`parity.suite.manifest` and
:mod:`parity.suite.records`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from parity.errors import ParityInputError, ParityWarning
from parity.stats._common import Interval, ResultMixin
from parity.suite.checks._common import _Group, _index, _judge_seed, _main_group, _replace, _Table
from parity.suite.checks.aggregates import AggregateResult, _aggregate
from parity.suite.manifest import Manifest
from parity.suite.records import RunRecord

__all__ = ["EquivalenceResult", "MetricTest", "check_equivalence"]


@dataclass(frozen=True, slots=True)
class MetricTest(ResultMixin):
    """The test of one metric on one task (rerun 0 of both systems in the main verdict).

    ``margin`` is the region of the alternative in margin units (``(-0.05, 0.05)`` for ±5 %;
    ``(-0.05, inf)`` for non-inferiority when higher is better), ``bounds`` the same region on
    the scale of ``estimate`` (a difference ``μc − μr``, or a ratio ``μc/μr`` for relative
    margins). ``confidence_interval`` is the unadjusted ``(1 − 2α)`` interval (one-sided
    ``(1 − α)`` for non-inferiority). ``passed`` uses the Holm-adjusted p-value; ``error`` says
    why a test could not be run (then ``pvalue = 1``). ``attainable`` is ``False`` only for an
    equivalence test that no observed means could pass at this n and the observed spread (a
    non-inferiority test always can); ``n_for_power`` is the number of seeds per system with
    80% power at ``α`` when there is no true difference (:func:`~parity.stats.tost`).
    """

    task: str
    metric: str
    test: str
    paired: bool
    relative: bool
    higher_is_better: bool
    margin: Interval
    bounds: Interval
    n_reference: int
    n_candidate: int
    reference_mean: float
    candidate_mean: float
    estimate: float
    confidence_interval: Interval
    confidence_level: float
    pvalue: float
    adjusted_pvalue: float
    passed: bool
    passed_unadjusted: bool
    attainable: bool
    method: str
    warnings: tuple[str, ...] = ()
    error: str | None = None
    n_for_power: int | None = None

    @property
    def null_effect(self) -> float:
        """The estimate of "no difference": 1 for a ratio, 0 for a difference."""
        return 1.0 if self.relative else 0.0


@dataclass(frozen=True, slots=True)
class EquivalenceResult(ResultMixin):
    """Per-task tests (Holm family) and aggregates (Bonferroni share), and the metric verdict."""

    alpha: float
    decision_basis: str
    rerun: int
    tests: tuple[MetricTest, ...]
    aggregates: tuple[AggregateResult, ...]
    per_task_pass: bool
    aggregate_pass: bool | None
    parity_pass_all_metrics: bool
    multiple_testing: str
    warnings: tuple[str, ...] = ()


def _values(
    manifest: Manifest, table: _Table, group: _Group, task: str, metric: str
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Each system's finite values of the metric on the task, and whether they are paired
    (then only the seeds where both systems have a value)."""
    paired = manifest.metrics[metric].paired
    rr, rc = group.reruns["reference"], group.reruns["candidate"]
    ref = [table.metric("reference", task, s, rr, metric) for s in group.seeds]
    cand = [table.metric("candidate", task, s, rc, metric) for s in group.seeds]
    if paired:
        both = [(r, c) for r, c in zip(ref, cand, strict=True) if r is not None and c is not None]
        ref = [r for r, _ in both]
        cand = [c for _, c in both]
    else:
        ref = [r for r in ref if r is not None]
        cand = [c for c in cand if c is not None]
    return np.asarray(ref, dtype=float), np.asarray(cand, dtype=float), paired


def _metric_region(manifest: Manifest, metric: str) -> tuple[str, float | tuple[float, float]]:
    """``(test, margin argument)`` for :func:`tost` or :func:`noninferiority`."""
    spec = manifest.metrics[metric]
    test = "equivalence" if manifest.metric_test(metric) == "equivalence" else "non-inferiority"
    value = spec.margin.value
    if test == "non-inferiority" and isinstance(value, tuple):
        value = -value[0] if spec.higher_is_better else value[1]
    return test, value


def _one_test(
    manifest: Manifest, task: str, metric: str, ref: np.ndarray, cand: np.ndarray, paired: bool
) -> MetricTest:
    """The equivalence or non-inferiority test of one metric on one task, before Holm.

    Parameters
    ----------
    manifest : Manifest
        The suite: the metric's margin and direction, α, which test (:meth:`Manifest.metric_test`).
    task, metric : str
        What is tested.
    ref, cand : numpy.ndarray
        The finite values of each system (on the shared seeds when ``paired``).
    paired : bool
        Paired on the seeds.

    Returns
    -------
    MetricTest
        ``adjusted_pvalue`` still the raw p-value and ``passed`` False (:func:`_evaluate`
        applies Holm). A test that cannot be run (fewer than 2 values, a relative margin with
        a reference mean ≤ 0) has ``error`` set and ``pvalue = 1``.
    """
    spec = manifest.metrics[metric]
    test, margin = _metric_region(manifest, metric)
    region = _alternative(test, margin, spec.higher_is_better)
    common = dict(
        task=task,
        metric=metric,
        test=test,
        paired=paired,
        relative=spec.margin.is_relative,
        higher_is_better=spec.higher_is_better,
        margin=region,
    )
    try:
        res = _run_test(manifest, metric, test, margin, ref, cand, paired)
    except ParityInputError as exc:
        bounds = tuple((1.0 + b) if spec.margin.is_relative else b for b in region)
        return _untested(common, bounds, ref, cand, manifest.alpha, str(exc))
    pvalue = float(res.pvalue) if math.isfinite(res.pvalue) else 1.0
    return MetricTest(
        **common,
        bounds=tuple(res.bounds),
        n_reference=res.n_reference,
        n_candidate=res.n_candidate,
        reference_mean=res.reference_mean,
        candidate_mean=res.candidate_mean,
        estimate=res.estimate,
        confidence_interval=tuple(res.confidence_interval),
        confidence_level=res.confidence_level,
        pvalue=pvalue,
        adjusted_pvalue=pvalue,
        passed=False,
        passed_unadjusted=bool(pvalue < manifest.alpha),
        attainable=bool(res.attainable),
        method=res.method,
        warnings=tuple(res.warnings),
        n_for_power=res.n_for_power,
    )


def _alternative(
    test: str, margin: float | tuple[float, float], higher_is_better: bool
) -> tuple[float, float]:
    """The region of the alternative in margin units: ``(−m, m)``, or one-sided for
    non-inferiority (``(−m, inf)`` when higher is better); an explicit ``(low, high)`` as is."""
    if isinstance(margin, tuple):
        return margin
    if test == "equivalence":
        return (-margin, margin)
    return (-margin, math.inf) if higher_is_better else (-math.inf, margin)


def _run_test(
    manifest: Manifest,
    metric: str,
    test: str,
    margin: float | tuple[float, float],
    ref: np.ndarray,
    cand: np.ndarray,
    paired: bool,
):
    """:func:`~parity.stats.tost` or :func:`~parity.stats.noninferiority`, warnings silenced
    (what they warn of is in the result's warnings); raises :class:`ParityInputError`."""
    from parity.stats import noninferiority, tost

    spec = manifest.metrics[metric]
    relative, alpha = spec.margin.is_relative, manifest.alpha
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParityWarning)
        if test == "equivalence":
            return tost(ref, cand, margin=margin, relative=relative, paired=paired, alpha=alpha)
        return noninferiority(
            ref,
            cand,
            margin=margin,
            relative=relative,
            paired=paired,
            higher_is_better=spec.higher_is_better,
            alpha=alpha,
        )


def _untested(
    common: dict,
    bounds: tuple[float, ...],
    ref: np.ndarray,
    cand: np.ndarray,
    alpha: float,
    error: str,
) -> MetricTest:
    """A test that could not be run: it enters the Holm family with p = 1 and fails."""
    level = 1 - 2 * alpha if common["test"] == "equivalence" else 1 - alpha
    return MetricTest(
        **common,
        bounds=bounds,
        n_reference=int(ref.size),
        n_candidate=int(cand.size),
        reference_mean=float(np.mean(ref)) if ref.size else math.nan,
        candidate_mean=float(np.mean(cand)) if cand.size else math.nan,
        estimate=math.nan,
        confidence_interval=(math.nan, math.nan),
        confidence_level=level,
        pvalue=1.0,
        adjusted_pvalue=1.0,
        passed=False,
        passed_unadjusted=False,
        attainable=False,
        method="not tested",
        error=error,
    )


@dataclass(frozen=True, slots=True)
class _Evaluation:
    """The tests and aggregates of one group of runs, with their data and the decision.

    ``data`` holds the values each test used, ``boot`` the bootstrap distribution of each
    aggregate's estimate (None when untested), for the stability check.
    """

    tests: tuple[MetricTest, ...]
    aggregates: tuple[AggregateResult, ...]
    data: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, bool]]
    boot: tuple[np.ndarray | None, ...]
    per_task_pass: bool
    aggregate_pass: bool | None
    pass_all: bool


def _evaluate(manifest: Manifest, table: _Table, group: _Group, seed: int) -> _Evaluation:
    """Every per-task test (Holm over the family) and every aggregate (at ``α/k`` each) on one
    group of runs, and ``parity_pass_all_metrics`` under the decision basis."""
    from parity.stats import holm

    tests, data = [], {}
    for task in manifest.tasks:
        for metric in manifest.metrics:
            ref, cand, paired = _values(manifest, table, group, task, metric)
            data[(task, metric)] = (ref, cand, paired)
            tests.append(_one_test(manifest, task, metric, ref, cand, paired))
    adjusted = holm([t.pvalue for t in tests]) if tests else np.empty(0)
    tests = [
        _replace(t, adjusted_pvalue=float(a), passed=bool(t.error is None and a <= manifest.alpha))
        for t, a in zip(tests, adjusted, strict=True)
    ]
    k = len(manifest.aggregates)
    done = [
        _aggregate(manifest, spec, i, table, group, manifest.alpha / k, seed)
        for i, spec in enumerate(manifest.aggregates)
    ]
    aggregates = [a for a, _ in done]
    boot = tuple(b for _, b in done)
    per_task_pass = bool(tests) and all(t.passed for t in tests)
    aggregate_pass = all(a.passed for a in aggregates) if aggregates else None
    basis = manifest.decision_basis
    if basis == "per_task":
        pass_all = per_task_pass
    elif basis == "aggregate":
        pass_all = bool(aggregate_pass)
    else:
        pass_all = per_task_pass and aggregate_pass is not False
    return _Evaluation(
        tuple(tests), tuple(aggregates), data, boot, per_task_pass, aggregate_pass, pass_all
    )


def check_equivalence(
    manifest: Manifest, runs: Sequence[RunRecord], *, rng: Any = 0
) -> EquivalenceResult:
    """Per-task tests (Holm) and aggregates (Bonferroni share) on rerun 0 of both systems.

    ``rng`` (None, an int seed or a ``numpy.random.Generator``) is the source of the
    aggregates' bootstraps, as in :func:`parity.suite.checks.judge`.

    Examples
    --------
    >>> from parity.suite.manifest import parse_manifest
    >>> from parity.suite.records import RunKey
    >>> m = parse_manifest({"name": "d", "tasks": ["t"], "seeds": list(range(8)),
    ...     "systems": {"reference": {"command": "r {out}"}, "candidate": {"command": "c {out}"}},
    ...     "metrics": {"return": {"margin": {"relative": 0.05}}}})
    >>> g = np.random.default_rng(0)
    >>> runs = [RunRecord(RunKey(s, "t", i), "ok", {"return": float(100 + g.normal())})
    ...         for s in ("reference", "candidate") for i in range(8)]
    >>> res = check_equivalence(m, runs)
    >>> res.parity_pass_all_metrics, res.tests[0].test
    (True, 'equivalence')
    """
    return _equivalence(manifest, _index(runs), _judge_seed(rng)[0])[0]


def _equivalence(
    manifest: Manifest, table: _Table, seed: int
) -> tuple[EquivalenceResult, _Evaluation]:
    """The verdict's evaluation (rerun 0, every seed) as a result, and the evaluation itself."""
    ev = _evaluate(manifest, table, _main_group(manifest), seed)
    k = len(manifest.aggregates)
    text = (
        f"per-task tests: Holm over the family of {len(ev.tests)} (task, metric) tests at "
        f"α = {manifest.alpha:g} (a test passes when its adjusted p-value ≤ α)"
    )
    if k:
        text += (
            f"; aggregates: Bonferroni share α/{k} = {manifest.alpha / k:g} each, outside the "
            "Holm family (interval inside the margin)"
        )
    text += (
        f"; decision basis `{manifest.decision_basis}`: every hypothesis in it must pass "
        "(intersection–union)"
    )
    notes = []
    if manifest.reruns > 1:
        notes.append(
            f"the verdict uses rerun 0 of {manifest.reruns}; the other reruns are compared in "
            "the stability report"
        )
    result = EquivalenceResult(
        alpha=manifest.alpha,
        decision_basis=manifest.decision_basis,
        rerun=0,
        tests=ev.tests,
        aggregates=ev.aggregates,
        per_task_pass=ev.per_task_pass,
        aggregate_pass=ev.aggregate_pass,
        parity_pass_all_metrics=ev.pass_all,
        multiple_testing=text,
        warnings=tuple(notes),
    )
    return result, ev


def _decisive(manifest: Manifest, eq: EquivalenceResult) -> tuple[list[MetricTest], list]:
    """The per-task tests and aggregates that the decision basis (``decide_on``) counts."""
    basis = manifest.decision_basis
    tests = list(eq.tests) if basis in ("per_task", "both") else []
    aggs = list(eq.aggregates) if basis in ("aggregate", "both") else []
    return tests, aggs


def _overlaps(t: MetricTest) -> bool:
    """Whether the interval still meets the margin (not shown to lie outside it)."""
    lo, hi = t.confidence_interval
    return lo < t.bounds[1] and hi > t.bounds[0]
