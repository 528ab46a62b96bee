"""The verdict: every check of a suite, the flags that decide, the exit code and the reasons.

The top room of :mod:`parity.suite.checks`: it may import every other room of it,
:mod:`parity.suite.manifest`, :mod:`parity.suite.records` and (lazily, for the manifest's
digest) :mod:`parity.suite.store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.errors import ParityInputError
from parity.stats._common import ResultMixin
from parity.suite.checks._common import _index, _judge_seed
from parity.suite.checks.components import ComponentMatchResult, _components
from parity.suite.checks.coverage import CoverageResult, _coverage
from parity.suite.checks.equivalence import EquivalenceResult, _decisive, _equivalence, _overlaps
from parity.suite.checks.reasons import _reasons
from parity.suite.checks.samples import ArrayLoader, _arrays
from parity.suite.checks.stability import StabilityResult, _stability
from parity.suite.checks.validity import ValidityResult, _validity
from parity.suite.manifest import Manifest
from parity.suite.records import RunRecord

__all__ = ["SuiteVerdict", "judge"]


@dataclass(frozen=True, slots=True)
class SuiteVerdict(ResultMixin):
    """The judgement of a suite: the checks, the flags that decide, and the reasons.

    ``verdict`` is ``"pass"``, ``"fail"`` or ``"inconclusive"`` and ``exit_code`` the CLI's code
    for it (0, 1, 3). ``components`` is None when the manifest configures none;
    ``component_match_pass`` then too.
    """

    suite: str
    mode: str
    alpha: float
    seed: int | None
    manifest_digest: str
    decision_basis: str
    coverage: CoverageResult
    validity: ValidityResult
    equivalence: EquivalenceResult
    stability: StabilityResult
    components: ComponentMatchResult | None
    parity_pass_all_metrics: bool
    missing_pairs: int
    validity_pass: bool
    component_match_pass: bool | None
    parity_pass_final: bool
    verdict: str
    exit_code: int
    reasons: tuple[str, ...]


def _digest(manifest: Manifest) -> str:
    """The manifest's sha256 as the store records it (formatting and comments do not count)."""
    from parity.suite.store import manifest_digest

    return manifest_digest(manifest)


def judge(
    manifest: Manifest,
    runs: Sequence[RunRecord],
    *,
    rng: Any = 0,
    root: str | Path | None = None,
    load_arrays: ArrayLoader | None = None,
) -> SuiteVerdict:
    """Judge a suite from its recorded runs: every check, the final verdict and its reasons.

    Parameters
    ----------
    manifest : Manifest
        The suite (:func:`parity.suite.manifest.load_manifest`).
    runs : sequence of RunRecord
        The recorded runs (``Store.runs()``), in any order. Runs the manifest does not ask for
        are ignored (and counted in ``coverage.unexpected_runs``).
    rng : None, int or numpy.random.Generator, default 0
        Source of every random draw (aggregate bootstraps, component permutation tests): the
        same inputs and int seed give the same verdict, number for number (the verdict's
        ``seed`` records it; a Generator or None gives one seed drawn from it, recorded as
        ``None``).
    root : str or path, optional
        The folder that relative ``out_dir`` of the runs are relative to: the manifest's
        folder (the CLI passes it). Default: the current folder.
    load_arrays : callable, optional
        ``load_arrays(run) -> {name: array} or None``: the arrays a run wrote. Default
        :func:`load_samples_npz` (``samples.npz`` in ``root / run.out_dir``).

    Returns
    -------
    SuiteVerdict

    Examples
    --------
    >>> import numpy as np
    >>> from parity.suite.manifest import parse_manifest
    >>> from parity.suite.records import RunKey
    >>> m = parse_manifest({"name": "demo", "tasks": ["a", "b"], "seeds": list(range(10)),
    ...     "systems": {"reference": {"command": "r {out}"}, "candidate": {"command": "c {out}"}},
    ...     "metrics": {"return": {"margin": {"relative": 0.05}}}})
    >>> g = np.random.default_rng(0)
    >>> runs = [RunRecord(RunKey(s, t, i), "ok", {"return": float(g.normal(100, 1))})
    ...         for s in ("reference", "candidate") for t in ("a", "b") for i in range(10)]
    >>> v = judge(m, runs)
    >>> v.verdict, v.parity_pass_final, v.exit_code
    ('pass', True, 0)
    >>> v = judge(m, runs[:-1])  # one run missing
    >>> v.verdict, v.reasons[0]
    ('fail', '1 of 40 expected runs is missing: candidate/b/seed=9/rerun=0 (absent).')
    """
    if not isinstance(manifest, Manifest):
        raise ParityInputError(f"`manifest` must be a Manifest; got {type(manifest).__name__}")
    seed, recorded = _judge_seed(rng)
    table = _index(runs)
    arrays = _arrays(root, load_arrays)
    coverage = _coverage(manifest, table)
    validity = _validity(manifest, table, arrays)
    equivalence, main = _equivalence(manifest, table, seed)
    stability = _stability(manifest, table, main, seed)
    components = _components(manifest, table, arrays, seed)
    component_pass = None if components is None else components.component_match_pass
    final = (
        equivalence.parity_pass_all_metrics
        and coverage.missing_pairs == 0
        and validity.validity_pass
        and (components is None or not components.required or components.component_match_pass)
    )
    verdict, code = _verdict(final, manifest, coverage, validity, equivalence, components)
    reasons = _reasons(manifest, coverage, validity, equivalence, components, verdict)
    return SuiteVerdict(
        suite=manifest.name,
        mode=manifest.mode,
        alpha=manifest.alpha,
        seed=recorded,
        manifest_digest=_digest(manifest),
        decision_basis=manifest.decision_basis,
        coverage=coverage,
        validity=validity,
        equivalence=equivalence,
        stability=stability,
        components=components,
        parity_pass_all_metrics=equivalence.parity_pass_all_metrics,
        missing_pairs=coverage.missing_pairs,
        validity_pass=validity.validity_pass,
        component_match_pass=component_pass,
        parity_pass_final=bool(final),
        verdict=verdict,
        exit_code=code,
        reasons=tuple(reasons),
    )


def _verdict(
    final: bool,
    manifest: Manifest,
    coverage: CoverageResult,
    validity: ValidityResult,
    eq: EquivalenceResult,
    components: ComponentMatchResult | None,
) -> tuple[str, int]:
    """``("pass", 0)``, ``("inconclusive", 3)`` or ``("fail", 1)``.

    Inconclusive: not ``final``, yet everything is present and valid, no deciding aggregate
    fails, and every failing deciding per-task test ran, could not succeed at this n
    (``attainable`` False) and has an interval that still overlaps the margin.
    """
    if final:
        return "pass", 0
    components_ok = (
        components is None or not components.required or (components.component_match_pass)
    )
    tests, aggs = _decisive(manifest, eq)
    failing_tests = [t for t in tests if not t.passed]
    failing_aggs = [a for a in aggs if not a.passed]
    undecidable = (
        coverage.coverage_pass
        and validity.validity_pass
        and components_ok
        and not failing_aggs
        and bool(failing_tests)
        and all(t.error is None and not t.attainable and _overlaps(t) for t in failing_tests)
    )
    return ("inconclusive", 3) if undecidable else ("fail", 1)
