"""Stability: the verdict recomputed per rerun (or per half of the seeds), and its three flags.

A room of :mod:`parity.suite.checks`: it may import :mod:`parity.stats` (and scipy's
``IntegrationWarning``, lazily), :mod:`parity.suite.checks._common`,
:mod:`~parity.suite.checks.equivalence`, :mod:`parity.suite.manifest` and
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
from parity.stats._resampled import percentile_interval
from parity.suite.checks._common import _Group, _index, _judge_seed, _main_group, _Table
from parity.suite.checks.equivalence import _equivalence, _evaluate, _Evaluation
from parity.suite.manifest import Manifest
from parity.suite.records import RunRecord

__all__ = [
    "DecisionFlip",
    "GroupVerdict",
    "Mismatch",
    "SignFlip",
    "StabilityResult",
    "check_stability",
]


@dataclass(frozen=True, slots=True)
class GroupVerdict(ResultMixin):
    """The metric verdict recomputed on one rerun (or one half of the seeds)."""

    label: str
    rerun: int | None
    seeds: tuple[int, ...]
    parity_pass_all_metrics: bool
    tests_passed: int
    tests: int
    aggregates_passed: int
    aggregates: int


@dataclass(frozen=True, slots=True)
class DecisionFlip(ResultMixin):
    """A hypothesis that passes in some reruns (halves) and not in others."""

    task: str | None
    metric: str
    aggregate: str | None
    passed: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class SignFlip(ResultMixin):
    """An effect whose sign differs between two reruns while one interval excludes no effect.

    The intervals are two-sided at ``confidence_level = 1 − 2α/m`` (``m`` per-task tests and
    aggregates: Bonferroni over the family, so that a large family does not raise the flag by
    chance alone).
    """

    task: str | None
    metric: str
    aggregate: str | None
    labels: tuple[str, str]
    estimates: tuple[float, float]
    intervals: tuple[Interval, Interval]
    null_effect: float
    confidence_level: float


@dataclass(frozen=True, slots=True)
class Mismatch(ResultMixin):
    """A TOST decision and the posterior probability of the margin that disagree."""

    label: str
    task: str
    metric: str
    tost_equivalent: bool
    tost_pvalue: float
    posterior_probability: float
    threshold: float


@dataclass(frozen=True, slots=True)
class StabilityResult(ResultMixin):
    """Whether the verdict survives reruns (or a split of the seeds in halves)."""

    status: str
    method: str
    groups: tuple[GroupVerdict, ...]
    verdict_flip_detected: bool
    pairwise_metric_sign_flip_detected: bool
    bayesian_frequentist_mismatch_detected: bool
    posterior_threshold: float
    decision_flips: tuple[DecisionFlip, ...]
    sign_flips: tuple[SignFlip, ...]
    mismatches: tuple[Mismatch, ...]
    posteriors_computed: int
    warnings: tuple[str, ...] = ()


def check_stability(
    manifest: Manifest, runs: Sequence[RunRecord], *, rng: Any = 0
) -> StabilityResult:
    """The verdict recomputed per rerun (or per half of the seeds) and the three flags.

    ``rng`` (None, an int seed or a ``numpy.random.Generator``) as in
    :func:`parity.suite.checks.judge`."""
    table = _index(runs)
    seed = _judge_seed(rng)[0]
    _, main = _equivalence(manifest, table, seed)
    return _stability(manifest, table, main, seed)


def _stability(manifest: Manifest, table: _Table, main: _Evaluation, seed: int) -> StabilityResult:
    """Recompute the metric verdict per rerun (or per half of the seeds) and raise the flags.

    Parameters
    ----------
    manifest : Manifest
        The suite.
    table : _Table
        The recorded runs.
    main : _Evaluation
        The verdict's own evaluation (rerun 0, every seed), reused as the first rerun.
    seed : int
        The judge's seed (the aggregates' bootstraps of each group).

    Returns
    -------
    StabilityResult
        ``status`` ``"unstable"`` when a flag is raised (a verdict flip, a sign flip of an
        effect, a TOST decision the posterior contradicts), ``"insufficient"`` with fewer
        than two groups where anything could be computed, else ``"stable"``.

    Notes
    -----
    With ``reruns ≥ 2`` the groups are the reruns (a system with a single rerun keeps its
    rerun 0); with one rerun, the two halves of the seed list (at least 2 seeds each). A
    group whose runs are all missing takes no part in the comparisons. The sign flips use
    intervals at ``1 − 2α/m`` (Bonferroni over the ``m`` tests and aggregates). The
    posteriors are checked per rerun, or, for halves, on the verdict's own tests.
    """
    threshold = 1.0 - manifest.alpha
    split = _groups(manifest)
    if isinstance(split, str):
        return _insufficient(threshold, split)
    method, groups, notes = split
    if method == "reruns":  # rerun 0 is the verdict's own evaluation
        evaluations = [main] + [_evaluate(manifest, table, g, seed) for g in groups[1:]]
    else:
        evaluations = [_evaluate(manifest, table, g, seed) for g in groups]
    verdicts = _group_verdicts(groups, evaluations)
    usable = [_computed(ev) for ev in evaluations]
    skipped_groups = [g.label for g, ok in zip(groups, usable, strict=True) if not ok]
    if skipped_groups:
        notes.append(
            f"nothing could be computed on {', '.join(skipped_groups)}: left out of the comparisons"
        )
    verdict_flip = (
        len({v.parity_pass_all_metrics for v, ok in zip(verdicts, usable, strict=True) if ok}) > 1
    )
    decision_flips, sign_flips = _flips(manifest, main, evaluations, groups, usable)
    if method == "reruns":
        checked = list(zip([g.label for g in groups], evaluations, strict=True))
    else:  # the halves have half the data: compare the posterior with the verdict's own tests
        checked = [("all seeds", main)]
    mismatches, computed, posterior_notes = _mismatches(manifest, checked, threshold)
    notes += posterior_notes
    flags = (verdict_flip, bool(sign_flips), bool(mismatches))
    if any(flags):
        status = "unstable"
    elif sum(usable) < 2:
        status = "insufficient"
        notes.append("fewer than two reruns (halves) where a test or aggregate could be computed")
    else:
        status = "stable"
    return StabilityResult(
        status=status,
        method=method,
        groups=verdicts,
        verdict_flip_detected=verdict_flip,
        pairwise_metric_sign_flip_detected=bool(sign_flips),
        bayesian_frequentist_mismatch_detected=bool(mismatches),
        posterior_threshold=threshold,
        decision_flips=tuple(decision_flips),
        sign_flips=tuple(sign_flips),
        mismatches=tuple(mismatches),
        posteriors_computed=computed,
        warnings=tuple(notes),
    )


def _groups(manifest: Manifest) -> tuple[str, list[_Group], list[str]] | str:
    """``(method, groups, notes)`` to compare, or why there is nothing to compare.

    ``"reruns"``: rerun 0 (the verdict's group) and each further rerun; ``"split-half"``: the
    first and the last half of the seeds, in manifest order.
    """
    notes: list[str] = []
    if manifest.reruns >= 2:
        groups = [_main_group(manifest)] + [
            _Group(
                f"rerun {r}",
                r,
                {s: min(r, manifest.system_reruns(s) - 1) for s in ("reference", "candidate")},
                tuple(manifest.seeds),
                (0, r),
            )
            for r in range(1, manifest.reruns)
        ]
        for s in ("reference", "candidate"):
            if manifest.system_reruns(s) == 1:
                notes.append(
                    f"{s} has a single rerun (results pattern without {{rerun}}): its "
                    "rerun 0 is compared with every rerun of the other system"
                )
        return "reruns", groups, notes
    seeds = list(manifest.seeds)
    half = len(seeds) // 2
    if half < 2:
        return (
            f"one rerun and {len(seeds)} seed(s): a split in halves needs at least "
            "4 seeds (2 per half)"
        )
    rr = {"reference": 0, "candidate": 0}
    groups = [
        _Group("seeds half A", None, rr, tuple(seeds[:half]), (1, 0)),
        _Group("seeds half B", None, rr, tuple(seeds[half:]), (1, 1)),
    ]
    notes.append(
        f"one rerun: the verdict is recomputed on the first {half} and the last "
        f"{len(seeds) - half} seeds (manifest order); each half has half the data, so a "
        "half can fail for lack of power alone"
    )
    return "split-half", groups, notes


def _insufficient(threshold: float, why: str) -> StabilityResult:
    """The result when the seeds cannot be split in halves: nothing compared."""
    return StabilityResult(
        status="insufficient",
        method="split-half",
        groups=(),
        verdict_flip_detected=False,
        pairwise_metric_sign_flip_detected=False,
        bayesian_frequentist_mismatch_detected=False,
        posterior_threshold=threshold,
        decision_flips=(),
        sign_flips=(),
        mismatches=(),
        posteriors_computed=0,
        warnings=(why,),
    )


def _group_verdicts(
    groups: list[_Group], evaluations: list[_Evaluation]
) -> tuple[GroupVerdict, ...]:
    """The metric verdict of each group, with its counts of passed tests and aggregates."""
    return tuple(
        GroupVerdict(
            label=g.label,
            rerun=g.rerun,
            seeds=g.seeds,
            parity_pass_all_metrics=ev.pass_all,
            tests_passed=sum(t.passed for t in ev.tests),
            tests=len(ev.tests),
            aggregates_passed=sum(a.passed for a in ev.aggregates),
            aggregates=len(ev.aggregates),
        )
        for g, ev in zip(groups, evaluations, strict=True)
    )


def _computed(ev: _Evaluation) -> bool:
    """Whether any test or aggregate could be computed (else the group's runs are missing)."""
    return any(t.error is None for t in ev.tests) or any(a.error is None for a in ev.aggregates)


def _flips(
    manifest: Manifest,
    main: _Evaluation,
    evaluations: list[_Evaluation],
    groups: list[_Group],
    usable: list[bool],
) -> tuple[list[DecisionFlip], list[SignFlip]]:
    """Hypotheses whose decision differs between usable groups, and effects whose sign flips.

    The effects' intervals are two-sided at ``1 − 2α/m``, ``m`` the per-task tests and
    aggregates of the family.
    """
    decision_flips, sign_flips = [], []
    labels = [g.label for g in groups]
    family = len(main.tests) + len(main.aggregates)
    flip_alpha = manifest.alpha / max(family, 1)

    def differs(passed: tuple[bool, ...]) -> bool:
        return len({p for p, ok in zip(passed, usable, strict=True) if ok}) > 1

    for i, t in enumerate(main.tests):
        passed = tuple(bool(ev.tests[i].passed) for ev in evaluations)
        if differs(passed):
            decision_flips.append(DecisionFlip(t.task, t.metric, None, passed))
        effects = [_test_effect(manifest, ev, i, flip_alpha) for ev in evaluations]
        flip = _sign_flip(effects, labels)
        if flip is not None:
            sign_flips.append(SignFlip(t.task, t.metric, None, *flip, 1 - 2 * flip_alpha))
    for i, a in enumerate(main.aggregates):
        passed = tuple(bool(ev.aggregates[i].passed) for ev in evaluations)
        if differs(passed):
            decision_flips.append(DecisionFlip(None, a.metric, a.name, passed))
        effects = [_aggregate_effect(ev, i, flip_alpha) for ev in evaluations]
        flip = _sign_flip(effects, labels)
        if flip is not None:
            sign_flips.append(SignFlip(None, a.metric, a.name, *flip, 1 - 2 * flip_alpha))
    return decision_flips, sign_flips


def _mismatches(
    manifest: Manifest, checked: list[tuple[str, _Evaluation]], threshold: float
) -> tuple[list[Mismatch], int, list[str]]:
    """Equivalence tests whose unadjusted TOST decision the flat-prior posterior contradicts.

    Returns the mismatches, the number of posteriors computed, and notes (quadratures that
    warned, posteriors that could not be computed).
    """
    mismatches, computed, skipped, rough = [], 0, [], 0
    for label, ev in checked:
        for t in ev.tests:
            if t.test != "equivalence" or t.error is not None:
                continue
            ref, cand, paired = ev.data[(t.task, t.metric)]
            post, converged = _posterior(manifest, t.metric, ref, cand, paired)
            if isinstance(post, str):
                skipped.append(f"{label} {t.task}/{t.metric}: {post}")
                continue
            computed += 1
            rough += not converged
            bayes = post >= threshold
            if bayes != t.passed_unadjusted:
                mismatches.append(
                    Mismatch(
                        label, t.task, t.metric, t.passed_unadjusted, t.pvalue, post, threshold
                    )
                )
    notes = []
    if rough:
        notes.append(
            f"the quadrature of {rough} posterior probabilit{'y' if rough == 1 else 'ies'} "
            "warned that it did not reach its tolerance (scipy IntegrationWarning)"
        )
    if skipped:
        notes.append(
            f"posterior not computed for {len(skipped)} test(s): {skipped[0]}"
            + (" …" if len(skipped) > 1 else "")
        )
    return mismatches, computed, notes


_Effect = tuple[float, tuple[float, float], float]  # estimate, interval, "no effect" value


def _test_effect(manifest: Manifest, ev: _Evaluation, i: int, alpha: float) -> _Effect | None:
    """A per-task test's estimate with its two-sided ``(1 − 2·alpha)`` interval (TOST's)."""
    from parity.stats import tost

    t = ev.tests[i]
    if t.error is not None:
        return None
    ref, cand, paired = ev.data[(t.task, t.metric)]
    spec = manifest.metrics[t.metric]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ParityWarning)
            res = tost(
                ref,
                cand,
                margin=spec.margin.value,
                relative=spec.margin.is_relative,
                paired=paired,
                alpha=alpha,
            )
    except ParityInputError:
        return None
    return res.estimate, tuple(res.confidence_interval), t.null_effect


def _aggregate_effect(ev: _Evaluation, i: int, alpha: float) -> _Effect | None:
    """An aggregate's estimate with the ``(alpha, 1 − alpha)`` quantiles of its bootstrap."""
    a, boot = ev.aggregates[i], ev.boot[i]
    if boot is None:
        return None
    return a.estimate, percentile_interval(boot, alpha, "two-sided"), a.null_effect


def _sign_flip(effects: list[_Effect | None], labels: list[str]):
    """The first two groups whose effects have opposite signs, one interval excluding none."""
    for i in range(len(effects)):
        for j in range(i + 1, len(effects)):
            a, b = effects[i], effects[j]
            if a is None or b is None:
                continue
            null = a[2]
            ea, eb = a[0] - null, b[0] - null
            if not (math.isfinite(ea) and math.isfinite(eb)) or ea * eb >= 0:
                continue
            if any(lo > null or hi < null for _, (lo, hi), _ in (a, b)):
                return (
                    (labels[i], labels[j]),
                    (a[0], b[0]),
                    (Interval(*a[1]), Interval(*b[1])),
                    null,
                )
    return None


def _posterior(
    manifest: Manifest, metric: str, ref: np.ndarray, cand: np.ndarray, paired: bool
) -> tuple[float | str, bool]:
    """``(probability, converged)``, or ``(why not, True)`` when it cannot be computed."""
    from scipy.integrate import IntegrationWarning

    from parity.stats import posterior_equivalence

    spec = manifest.metrics[metric]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("ignore", ParityWarning)
            warnings.simplefilter("always", IntegrationWarning)
            res = posterior_equivalence(
                ref,
                cand,
                margin=spec.margin.value,
                relative=spec.margin.is_relative,
                paired=paired,
            )
    except ParityInputError as exc:
        return str(exc), True
    converged = not any(issubclass(w.category, IntegrationWarning) for w in caught)
    return float(res.probability), converged
