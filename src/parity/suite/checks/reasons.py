"""The reasons of a verdict: one sentence per finding, failing test, aggregate and component.

Wording only, from the results of the other checks; nothing here decides. A room of
:mod:`parity.suite.checks`: it may import the results of every check room (coverage, validity,
aggregates, equivalence with its decision basis, components), :mod:`parity.suite.checks._common`
and :mod:`parity.suite.manifest`; not :mod:`~parity.suite.checks.judge`.
"""

from __future__ import annotations

from parity._format import number
from parity.suite.checks.aggregates import AggregateResult
from parity.suite.checks.components import ComponentMatchResult, ComponentResult
from parity.suite.checks.coverage import CoverageResult
from parity.suite.checks.equivalence import EquivalenceResult, MetricTest, _decisive, _overlaps
from parity.suite.checks.validity import ValidityResult
from parity.suite.manifest import Manifest

__all__ = ["MAX_REASONS"]


MAX_REASONS = 5


def _more(items: list[str], noun: str) -> list[str]:
    """The first :data:`MAX_REASONS` items, then "… and N more {noun}." for the rest."""
    if len(items) <= MAX_REASONS:
        return items
    extra = len(items) - MAX_REASONS
    return [*items[:MAX_REASONS], f"… and {extra} more {noun if extra > 1 else noun[:-1]}."]


def _describe_test(t: MetricTest, alpha: float) -> str:
    """Why a per-task test fails: its estimate, interval, margin and adjusted p-value."""
    what = "equivalence" if t.test == "equivalence" else "non-inferiority"
    if t.error is not None:
        return f"{t.metric} on {t.task}: not tested ({t.error})."
    scale = "ratio" if t.relative else "difference"
    lo, hi = t.confidence_interval
    level = f"{100 * t.confidence_level:.3g}%"
    region = f"({number(t.bounds[0])}, {number(t.bounds[1])})"
    text = (
        f"{t.metric} on {t.task}: {what} not shown — {scale} {number(t.estimate)}, {level} CI "
        f"[{number(lo)}, {number(hi)}] vs {region}, "
        f"Holm-adjusted p = {number(t.adjusted_pvalue, 3)} > α = {alpha:g}"
    )
    if not t.attainable:
        text += " (cannot succeed at this n whatever the results"
        text += "; the interval lies outside the margin)" if not _overlaps(t) else ")"
    if t.n_for_power is not None:
        text += (
            f"; about {t.n_for_power} seeds per system would give 80% power to show it with no "
            f"true difference at α = {alpha:g} (more under the Holm adjustment)"
        )
    return text + "."


def _describe_aggregate(a: AggregateResult) -> str:
    """An aggregate's contrast, interval and margin, and whether it passes."""
    title = f"aggregate `{a.name}` ({a.statistic} of {a.metric})"
    if a.error is not None:
        return f"{title}: not tested ({a.error})."
    lo, hi = a.confidence_interval
    level = f"{100 * a.confidence_level:.3g}%"
    verdict = "inside" if a.passed else "not inside"
    what = "equivalent" if a.test == "equivalence" else "non-inferior"
    return (
        f"{title}: {a.margin_kind} {number(a.estimate)} "
        f"(candidate {number(a.candidate)} vs reference {number(a.reference)}), "
        f"{level} CI [{number(lo)}, {number(hi)}] {verdict} "
        f"({number(a.bounds[0])}, {number(a.bounds[1])}): {what if a.passed else 'not ' + what}."
    )


def _reasons(
    manifest: Manifest,
    coverage: CoverageResult,
    validity: ValidityResult,
    eq: EquivalenceResult,
    components: ComponentMatchResult | None,
    verdict: str,
) -> list[str]:
    """The verdict's reasons, in the order a reader checks them.

    Parameters
    ----------
    manifest : Manifest
        The suite (α and the decision basis).
    coverage, validity, eq, components
        The results of the checks (``components`` None when none is configured).
    verdict : str
        ``"pass"``, ``"fail"`` or ``"inconclusive"``.

    Returns
    -------
    list of str
        Missing runs; validity findings (at most :data:`MAX_REASONS`, then "… and N more");
        the per-task tests that decide (the failing ones described, at most
        :data:`MAX_REASONS`), or a summary of those that do not; each deciding aggregate;
        each component; and why the verdict is inconclusive.
    """
    out = _coverage_reasons(coverage) + _validity_reasons(validity)
    tests, aggs = _decisive(manifest, eq)
    out += _test_reasons(manifest, eq, tests)
    out += [_describe_aggregate(a) for a in aggs]
    if components is not None:
        out += [_describe_component(c) for c in components.components]
    if verdict == "inconclusive":
        out.append(
            "inconclusive: everything is present and valid, but the failing equivalence tests "
            "could not succeed with this many seeds and the observed spread whatever the "
            "observed means (see `attainable`)."
        )
    return out


def _coverage_reasons(coverage: CoverageResult) -> list[str]:
    """How many expected runs are missing, naming the first three."""
    if coverage.coverage_pass:
        return []
    n = coverage.missing_pairs
    names = ", ".join(f"{m.label} ({m.status})" for m in coverage.missing[:3])
    more = f", … and {n - 3} more" if n > 3 else ""
    return [
        f"{n} of {coverage.expected} expected runs {'is' if n == 1 else 'are'} missing: "
        f"{names}{more}."
    ]


def _validity_reasons(validity: ValidityResult) -> list[str]:
    """The number of validity findings, then the first :data:`MAX_REASONS` of them."""
    if validity.validity_pass:
        return []
    n = len(validity.findings)
    return [
        f"validity: {n} finding{'s' if n != 1 else ''}.",
        *_more([f"{f.message} [{f.check}]." for f in validity.findings], "findings"),
    ]


def _test_reasons(manifest: Manifest, eq: EquivalenceResult, tests: list[MetricTest]) -> list[str]:
    """The per-task tests: how many of the deciding ones pass and why the others fail, or a
    summary when they do not decide."""
    if tests:
        failing = [t for t in tests if not t.passed]
        if failing:
            return [
                f"{len(tests) - len(failing)} of {len(tests)} per-task tests show "
                f"{_tests_kind(tests)} after Holm adjustment.",
                *_more([_describe_test(t, manifest.alpha) for t in failing], "tests"),
            ]
        return [
            f"all {len(tests)} per-task tests show {_tests_kind(tests)} (Holm-adjusted "
            f"p ≤ α = {manifest.alpha:g})."
        ]
    if eq.tests:
        n_pass = sum(t.passed for t in eq.tests)
        return [
            f"per-task tests are reported but do not decide (decide_on: "
            f"{manifest.decision_basis}): {n_pass} of {len(eq.tests)} show "
            f"{_tests_kind(list(eq.tests))} after Holm adjustment."
        ]
    return []


def _describe_component(c: ComponentResult) -> str:
    """One component: matches (largest deviation), nothing to compare, or the first failure."""
    req = "" if c.required else " (not required)"
    if c.passed:
        return (
            f"component `{c.name}` matches on all {c.pairs_compared} task/seed pairs{req}"
            + (
                f" (largest absolute deviation {number(c.max_abs_deviation)})"
                if c.max_abs_deviation is not None
                else ""
            )
            + "."
        )
    if not c.pairs_compared:
        return f"component `{c.name}`: nothing to compare{req}."
    first = next(p for p in c.pairs if not p.passed)
    return (
        f"component `{c.name}` differs on {c.pairs_failed} of {c.pairs_compared} "
        f"task/seed pairs{req}; first: {first.task} seed {first.seed}"
        + (f" — {first.detail}" if first.detail else "")
        + (
            f" (largest absolute deviation {number(c.max_abs_deviation)}, relative "
            f"{number(c.max_rel_deviation)})"
            if c.max_abs_deviation is not None
            else ""
        )
        + "."
    )


def _tests_kind(tests: list[MetricTest]) -> str:
    """``equivalence``, ``non-inferiority`` or both, as the tests are."""
    kinds = {t.test for t in tests}
    return (
        "equivalence"
        if kinds == {"equivalence"}
        else ("non-inferiority" if kinds == {"non-inferiority"} else "equivalence/non-inferiority")
    )
