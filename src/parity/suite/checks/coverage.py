"""Coverage: every expected (system, task, seed, rerun) against the runs recorded ``ok``.

A room of :mod:`parity.suite.checks` (the rule is in its module docstring). It may import
:mod:`parity.suite.checks._common`, :mod:`parity.suite.manifest` and
:mod:`parity.suite.records`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from parity.stats._common import ResultMixin
from parity.suite.checks._common import _index, _Table
from parity.suite.manifest import Manifest
from parity.suite.records import RunRecord

__all__ = ["CoverageResult", "MissingRun", "check_coverage"]


@dataclass(frozen=True, slots=True)
class MissingRun(ResultMixin):
    """An expected run without an ``ok`` record.

    ``status`` is ``"absent"`` (never recorded), ``"failed"`` or ``"timeout"``; ``detail``
    gives the exit code, attempts and the command's own last stderr line when there was a run
    (parity's note, e.g. a timeout or a missing ``metrics.json``, when the command printed
    nothing).
    """

    system: str
    task: str
    seed: int
    rerun: int
    status: str
    detail: str = ""

    @property
    def label(self) -> str:
        """``system/task/seed=S/rerun=R``."""
        return f"{self.system}/{self.task}/seed={self.seed}/rerun={self.rerun}"


@dataclass(frozen=True, slots=True)
class CoverageResult(ResultMixin):
    """Expected against present runs.

    Attributes
    ----------
    expected : int
        Runs the manifest needs (:meth:`Manifest.expected_keys`).
    present : int
        Of those, runs recorded with status ``ok``.
    missing_pairs : int
        ``expected − present``.
    missing : tuple of MissingRun
        Every expected run without an ``ok`` record, in manifest order.
    failed_runs : tuple of MissingRun
        The missing runs that did run and failed or timed out.
    unexpected_runs : int
        Records that the manifest does not ask for (another task, seed or rerun); ignored.
    coverage_pass : bool
        ``missing_pairs == 0``.
    """

    expected: int
    present: int
    missing_pairs: int
    missing: tuple[MissingRun, ...]
    failed_runs: tuple[MissingRun, ...]
    unexpected_runs: int
    coverage_pass: bool


def check_coverage(manifest: Manifest, runs: Sequence[RunRecord]) -> CoverageResult:
    """Expected (system, task, seed, rerun) against the runs recorded ``ok``.

    Examples
    --------
    >>> from parity.suite.manifest import parse_manifest
    >>> from parity.suite.records import RunKey
    >>> m = parse_manifest({"name": "d", "tasks": ["t"], "seeds": [0, 1],
    ...     "systems": {"reference": {"command": "r {out}"}, "candidate": {"command": "c {out}"}},
    ...     "metrics": {"return": {"margin": {"relative": 0.05}}}})
    >>> runs = [RunRecord(RunKey("reference", "t", 0), "ok"),
    ...         RunRecord(RunKey("reference", "t", 1), "ok"),
    ...         RunRecord(RunKey("candidate", "t", 0), "failed", exit_code=1)]
    >>> cov = check_coverage(m, runs)
    >>> cov.missing_pairs, [r.label for r in cov.missing]
    (2, ['candidate/t/seed=0/rerun=0', 'candidate/t/seed=1/rerun=0'])
    >>> cov.failed_runs[0].detail
    'failed with exit code 1 after 1 attempt'
    """
    table = _index(runs)
    return _coverage(manifest, table)


def _coverage(manifest: Manifest, table: _Table) -> CoverageResult:
    expected = manifest.expected_keys()
    wanted = set(expected)
    missing, failed = [], []
    for key in expected:
        if key in table.ok:
            continue
        run = table.other.get(key)
        if run is None:
            item = MissingRun(key.system, key.task, key.seed, key.rerun, "absent", "no record")
        else:
            item = MissingRun(
                key.system, key.task, key.seed, key.rerun, run.status, _failure_detail(run)
            )
            failed.append(item)
        missing.append(item)
    unexpected = sum(1 for key in (*table.ok, *table.other) if key not in wanted)
    present = len(expected) - len(missing)
    return CoverageResult(
        expected=len(expected),
        present=present,
        missing_pairs=len(missing),
        missing=tuple(missing),
        failed_runs=tuple(failed),
        unexpected_runs=unexpected,
        coverage_pass=not missing,
    )


def _failure_detail(run: RunRecord) -> str:
    what = "timed out" if run.status == "timeout" else run.status
    parts = [what]
    if run.exit_code is not None and run.status != "timeout":
        parts.append(f"with exit code {run.exit_code}")
    parts.append(f"after {run.attempts} attempt{'s' if run.attempts != 1 else ''}")
    text = " ".join(parts)
    why = run.failure_reason(notes=False)  # the exit code is said already
    return f"{text}: {why}" if why else text
