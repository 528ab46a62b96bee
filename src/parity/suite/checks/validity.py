"""Validity: the manifest's rules (required metrics, bounds) on every ok run, and the result.

A room of :mod:`parity.suite.checks`; in proof mode it adds the shortcut checks of
:mod:`parity.suite.checks.shortcuts`. It may import :mod:`parity.suite.checks._common`,
:mod:`~parity.suite.checks.samples`, :mod:`~parity.suite.checks.shortcuts`,
:mod:`parity.suite.manifest` and :mod:`parity.suite.records`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from parity._format import number
from parity.stats._common import ResultMixin
from parity.suite.checks._common import _index, _is_finite_number, _run_label, _Table
from parity.suite.checks.samples import ArrayLoader, _Arrays, _arrays
from parity.suite.checks.shortcuts import (
    FileCoincidence,
    SeedCoincidence,
    _identical_across_seeds,
    _identical_files,
    _sample_findings,
)
from parity.suite.manifest import Manifest
from parity.suite.records import RunKey, RunRecord

__all__ = ["ValidityFinding", "ValidityResult", "check_validity"]


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True, slots=True)
class ValidityFinding(ResultMixin):
    """One broken rule: which run (``seed`` is None for a finding about all seeds), which rule."""

    check: str
    rule: str
    system: str
    task: str
    seed: int | None
    rerun: int
    message: str


@dataclass(frozen=True, slots=True)
class ValidityResult(ResultMixin):
    """The manifest's validity rules (and, in proof mode, the shortcut checks) on every ok run.

    ``file_coincidences`` and ``seed_coincidences`` hold the tests of the ``identical_file``
    and ``identical_across_seeds`` checks against chance (empty without shortcut checks);
    ``warnings`` says which coincidences chance explains and where copies cannot be told from
    chance. Notes never fail validity.
    """

    validity_pass: bool
    findings: tuple[ValidityFinding, ...]
    runs_checked: int
    required_metrics: tuple[str, ...]
    bounds: tuple[str, ...]
    shortcut_checks: bool
    checks: tuple[str, ...]
    file_coincidences: tuple[FileCoincidence, ...] = ()
    seed_coincidences: tuple[SeedCoincidence, ...] = ()
    warnings: tuple[str, ...] = ()


def check_validity(
    manifest: Manifest,
    runs: Sequence[RunRecord],
    *,
    root: str | Path | None = None,
    load_arrays: ArrayLoader | None = None,
) -> ValidityResult:
    """The manifest's validity rules on every expected ok run, and the shortcut checks.

    Examples
    --------
    >>> from parity.suite.manifest import parse_manifest
    >>> m = parse_manifest({"name": "d", "tasks": ["t"], "seeds": [0, 1],
    ...     "systems": {"reference": {"command": "r {out}"}, "candidate": {"command": "c {out}"}},
    ...     "metrics": {"return": {"margin": {"relative": 0.05}}},
    ...     "validity": {"bounds": ["steps >= 100"]}})
    >>> runs = [RunRecord(RunKey("candidate", "t", 0), "ok", {"return": 1.0, "steps": 10}),
    ...         RunRecord(RunKey("candidate", "t", 1), "ok", {"return": 2.0, "steps": 100})]
    >>> res = check_validity(m, runs)  # root, load_arrays: as in judge()
    >>> res.validity_pass, res.findings[0].message
    (False, 'candidate/t/seed=0/rerun=0: steps = 10 breaks `steps >= 100`')
    """
    return _validity(manifest, _index(runs), _arrays(root, load_arrays))


def _validity(manifest: Manifest, table: _Table, arrays: _Arrays) -> ValidityResult:
    """Every validity rule on the expected ok runs and, in proof mode, the shortcut checks.

    Parameters
    ----------
    manifest : Manifest
        The suite: ``validity.required_metrics`` (default every metric), ``validity.bounds``,
        and ``validity.shortcut_checks`` (proof mode only).
    table : _Table
        The recorded runs; only the expected ok runs are checked.
    arrays : _Arrays
        The runs' ``samples.npz`` arrays (for the shortcut checks).

    Returns
    -------
    ValidityResult
        The findings sorted by system, task, seed (the all-seeds findings first), rerun and
        check; ``validity_pass`` when there is none.
    """
    runs = [table.ok[k] for k in manifest.expected_keys() if k in table.ok]
    required = tuple(manifest.validity.required_metrics or manifest.metrics)
    bounds = manifest.validity.parsed_bounds()
    shortcuts = manifest.mode == "proof" and manifest.validity.shortcut_checks
    findings: list[ValidityFinding] = []
    notes: list[str] = []
    file_tests: list[FileCoincidence] = []
    seed_tests: list[SeedCoincidence] = []

    def add(check: str, rule: str, key: RunKey, seed: int | None, message: str) -> None:
        findings.append(
            ValidityFinding(check, rule, key.system, key.task, seed, key.rerun, message)
        )

    for run in runs:
        _required_findings(run, required, add)
        _bound_findings(run, bounds, manifest.validity.bounds, add)
    checks = list(RULE_CHECKS)
    if shortcuts:
        checks += SHORTCUT_CHECKS
        file_tests = _identical_files(manifest, table, add, notes)
        for run in runs:
            _sample_findings(run, arrays, add)
        seed_tests = _identical_across_seeds(manifest, table, add, notes)
    findings.sort(key=_finding_order(manifest, checks))
    return ValidityResult(
        validity_pass=not findings,
        findings=tuple(findings),
        runs_checked=len(runs),
        required_metrics=required,
        bounds=tuple(" ".join(b.split()) for b in manifest.validity.bounds),
        shortcut_checks=shortcuts,
        checks=tuple(checks),
        file_coincidences=tuple(file_tests),
        seed_coincidences=tuple(seed_tests),
        warnings=tuple(notes),
    )


#: The checks of every mode, and those proof mode adds (in the order findings are sorted).
RULE_CHECKS = ("required_metric", "bound")
SHORTCUT_CHECKS = (
    "identical_file",
    "nonfinite_samples",
    "constant_samples",
    "identical_across_seeds",
    "samples_unreadable",
)


def _required_findings(run: RunRecord, required: tuple[str, ...], add) -> None:
    """A finding for each required metric the run does not report as a finite number."""
    key, label = run.key, _run_label(run.key)
    for name in required:
        value = run.metrics.get(name)
        if name not in run.metrics:
            add(
                "required_metric",
                f"required metric `{name}`",
                key,
                key.seed,
                f"{label}: required metric `{name}` is missing",
            )
        elif not _is_finite_number(value):
            add(
                "required_metric",
                f"required metric `{name}`",
                key,
                key.seed,
                f"{label}: required metric `{name}` is {value!r}, not a finite number",
            )


def _bound_findings(
    run: RunRecord, bounds: list[tuple[str, str, float]], rules: Sequence[str], add
) -> None:
    """A finding for each bound (``steps >= 100000``) the run breaks or cannot be checked on.

    ``bounds`` are the parsed ``rules`` (``(metric, operator, value)``).
    """
    key, label = run.key, _run_label(run.key)
    for (metric, op, bound), rule in zip(bounds, rules, strict=True):
        rule = " ".join(rule.split())
        value = run.metrics.get(metric)
        if not _is_finite_number(value):
            shown = "missing" if metric not in run.metrics else f"{value!r}"
            add(
                "bound",
                rule,
                key,
                key.seed,
                f"{label}: `{rule}` cannot be checked: `{metric}` is {shown}",
            )
        elif not _OPS[op](float(value), bound):
            add(
                "bound",
                rule,
                key,
                key.seed,
                f"{label}: {metric} = {number(float(value), 10)} breaks `{rule}`",
            )


def _finding_order(manifest: Manifest, checks: list[str]):
    """The sort key of findings: manifest order of system, task, seed; rerun; check; message."""
    systems = sorted(manifest.systems)
    tasks = {t: i for i, t in enumerate(manifest.tasks)}
    seeds = {s: i for i, s in enumerate(manifest.seeds)}
    return lambda f: (
        systems.index(f.system),
        tasks[f.task],
        -1 if f.seed is None else seeds[f.seed],
        f.rerun,
        checks.index(f.check),
        f.message,
    )
