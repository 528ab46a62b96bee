"""Judging a suite: coverage, validity, equivalence, stability and components, and the verdict.

Every check is a function of the manifest and the recorded runs (:class:`RunRecord`), with no
I/O, printing or clock: the same inputs and ``seed`` give the same result. The one exception is
the arrays a run wrote to ``samples.npz`` in its output folder (for the shortcut checks and the
component comparison): they are read through ``load_arrays`` (by default
:func:`load_samples_npz`), which tests and other callers can replace.

The checks
----------
**coverage** — every (system, task, seed, rerun) of :meth:`Manifest.expected_keys` needs a run
with status ``ok``; the others are ``missing`` (named one by one), failed and timed-out runs
listed with their exit code and last stderr line.

**validity** — each ``ok`` run must report every required metric (``validity.required_metrics``;
by default every metric of ``metrics``) as a finite number and meet every bound
(``steps >= 100000``). In proof mode with ``validity.shortcut_checks`` (the default) also:

* ``identical_file``: candidate result files byte-identical (same sha256) to the reference's
  file of the same name for the same task and seed, *more often than chance*. Independent runs
  coincide by chance when results take few values, so per task, file and pair of reruns the
  same-seed matches are tested against a random re-pairing of the seeds
  (:func:`~parity.stats.same_seed_matches_test`, exact, one-sided; the cross-seed pairs give
  the chance rate), leaving out files a system wrote identically on several seeds (a score it
  often gets, which the seed can steer both systems to); the tests that could reach α form
  one Holm family, and each same-seed match a test with adjusted p-value ≤ α counted is a
  finding. Empty files are not compared; a results file read alone (``ingest``) counts as the
  run's ``metrics.json``.
* ``nonfinite_samples`` / ``constant_samples``: an array in the run's ``samples.npz`` with a
  NaN or infinite value, or with at least two values, all equal.
* ``identical_across_seeds``: a system whose runs on a task (same rerun, at least two seeds)
  report exactly the same value for every metric, more often than chance: against ``n`` runs
  drawn from both systems' runs on the task (:func:`~parity.stats.identical_runs_test`), one
  Holm family over systems, tasks and reruns.

Coincidences that chance explains are ``notes`` of the validity result, not findings, and so
are tasks where even a copy of every result could not be told from chance.
* ``samples_unreadable``: ``samples.npz`` cannot be read, or its sha256 is no longer the one
  recorded with the run.

**equivalence** — the main verdict uses **rerun 0** of both systems (reruns exist to measure
stability, not to add samples: averaging over them would hide a flaky system). Per (task,
metric): :func:`~parity.stats.tost` (or :func:`~parity.stats.noninferiority` when
:meth:`Manifest.metric_test` says so: quick mode, or ``test: noninferiority``), Welch's
variance, paired on the seeds both systems share when the metric is ``paired``. All per-task
tests form one family, Holm-adjusted (:func:`~parity.stats.holm`); a test passes when its
adjusted p-value is ≤ α. A test that cannot be run (fewer than 2 values, a relative margin with
a reference mean ≤ 0) enters the family with p = 1.

Each aggregate normalizes per task, ``(x − low)/(high − low)``, and computes its statistic
(IQM, mean, median or optimality gap) over tasks × seeds of each system. Its interval is a
*joint* stratified bootstrap: :func:`~parity.stats.aggregate_ci` resamples the reference's
seeds within each task, then the candidate's, independently, from one generator; the ratio
(or difference) of the two bootstrap distributions, resample by resample, is the bootstrap
distribution of the ratio (difference). Aggregates are tested at a **Bonferroni share** of α:
with ``k`` aggregates each gets ``α/k``; equivalence needs the ``(1 − 2α/k)`` percentile
interval inside the margin (``1 ± ratio`` or ``± difference``), non-inferiority the one-sided
``(1 − α/k)`` bound beyond it. They do not join the Holm family of the per-task tests: their
bootstrap p-values cannot go below ``1/(B + 1)``, and in a family of a hundred per-task tests
Holm's smallest threshold, ``α/(m + 1)``, is below that (``0.05/105 < 1/2001``). The final
decision needs *every* hypothesis of the decision basis to pass, an intersection–union test,
so its error rate stays ≤ α whatever the split.

``decide_on`` (:attr:`Manifest.decision_basis`) says which results enter
``parity_pass_all_metrics``: the per-task tests, the aggregates, or both. Per-task results are
always reported.

**stability** — with ``reruns ≥ 2`` the per-task tests and aggregates are recomputed on each
rerun (rerun ``r`` of both systems; a system read from a results pattern without ``{rerun}``
keeps its rerun 0); with one rerun, on the two halves of the seed list (first and second half,
in manifest order). Flags:

* ``verdict_flip_detected``: ``parity_pass_all_metrics`` differs between reruns (halves);
* ``pairwise_metric_sign_flip_detected``: for some (task, metric) or aggregate, the effect
  (difference, or ratio − 1) is positive in one rerun and negative in another, while the
  interval excludes "no effect" in at least one of the two. The intervals are two-sided at
  ``1 − 2α/m`` for a family of ``m`` tests and aggregates (Bonferroni; TOST's interval, or the
  bootstrap quantiles), so that a large family does not raise the flag by chance alone;
* ``bayesian_frequentist_mismatch_detected``: for some equivalence test, the flat-prior
  posterior probability of the margin (:func:`~parity.stats.posterior_equivalence`) is
  ≥ ``1 − α`` (0.95 at α = 0.05) while the unadjusted TOST does not show equivalence, or the
  other way round. Non-inferiority tests are not checked.

``status`` is ``unstable`` when a flag is raised, ``insufficient`` when there is nothing to
compare (one rerun and fewer than 4 seeds, or fewer than two reruns where any test could be
run: a rerun whose runs are missing is left out of the comparisons), else ``stable``.
Stability is reported; it does not enter ``parity_pass_final``.

**components** — per component, the array the systems wrote (``samples.npz``, rerun 0) for
each task and seed, compared with ``allclose`` (``|c − r| ≤ atol + rtol·|r|`` elementwise; the
largest absolute and relative deviations are reported) or a permutation two-sample test (MMD
and energy, 999 splits; Holm over the task × seed pairs of the component; it passes when no
pair is shown to differ — absence of evidence, not proof of equivalence).

**verdict** — ``parity_pass_final`` holds only when ``parity_pass_all_metrics``, no missing
pair, ``validity_pass`` and (for the required components) ``component_match_pass`` all hold.
``verdict`` is ``pass`` (exit 0), ``inconclusive`` (exit 3: everything is present and valid,
and every failing hypothesis is a per-task test that could not succeed at this n —
:func:`~parity.stats.min_detectable` — and whose interval still overlaps the margin) or
``fail`` (exit 1).
"""

from __future__ import annotations

import functools
import hashlib
import math
import numbers
import operator
import warnings
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from parity.errors import ParityInputError, ParityWarning
from parity.stats._common import ResultMixin
from parity.suite.manifest import AggregateSpec, Manifest
from parity.suite.records import RunKey, RunRecord

__all__ = [
    "AggregateResult",
    "ComponentMatchResult",
    "ComponentPair",
    "ComponentResult",
    "CoverageResult",
    "EquivalenceResult",
    "FileCoincidence",
    "GroupVerdict",
    "MetricTest",
    "Mismatch",
    "MissingRun",
    "SeedCoincidence",
    "SignFlip",
    "StabilityResult",
    "SuiteVerdict",
    "ValidityFinding",
    "ValidityResult",
    "check_components",
    "check_coverage",
    "check_equivalence",
    "check_stability",
    "check_validity",
    "judge",
    "load_samples_npz",
]

#: sha256 of the empty file: empty files are never flagged as copied results.
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: Permutation splits of a ``two_sample`` component test.
COMPONENT_PERMUTATIONS = 999
#: Sentences of one kind in ``reasons`` before "… and N more".
MAX_REASONS = 5

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}

ArrayLoader = Callable[[RunRecord], Mapping[str, np.ndarray] | None]


# --------------------------------------------------------------------------------------------
# results


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
class FileCoincidence(ResultMixin):
    """The ``identical_file`` test of one result file on one task, against chance.

    The candidate's rerun ``rerun`` against the reference's rerun ``reference_rerun``, over the
    ``seeds`` both have. ``matches`` same-seed pairs are byte-identical (``matched_seeds``) and
    ``cross_matches`` of the ``seeds·(seeds − 1)`` pairs of different seeds (their share is
    ``chance_rate``). The test (:func:`~parity.stats.same_seed_matches_test` with
    ``ignore_repeated``) leaves out the files a system wrote identically on several seeds (a
    score it often gets): ``tested_matches`` same-seed matches remain (``tested_seeds``),
    ``tested_cross_matches`` cross-seed ones; ``expected``, ``pvalue``, ``min_pvalue`` and
    ``full_copy_pvalue`` are the test's. A test whose ``min_pvalue`` is above α cannot reach it
    and stays out of the Holm family (``adjusted_pvalue`` None); ``flagged`` when the
    Holm-adjusted p-value is ≤ α. ``decidable``: a copy of every reference file would be
    flagged (``full_copy_pvalue`` ≤ α/m, Holm's strictest threshold, m the family's size with
    this test in it).
    """

    task: str
    file: str
    rerun: int
    reference_rerun: int
    seeds: int
    matches: int
    matched_seeds: tuple[int, ...]
    cross_matches: int
    chance_rate: float
    tested_matches: int
    tested_seeds: tuple[int, ...]
    tested_cross_matches: int
    expected: float
    pvalue: float
    min_pvalue: float
    full_copy_pvalue: float
    adjusted_pvalue: float | None
    flagged: bool
    decidable: bool


@dataclass(frozen=True, slots=True)
class SeedCoincidence(ResultMixin):
    """The ``identical_across_seeds`` test of one system on one task and rerun, against chance.

    ``all_identical``: the system's ``seeds`` runs report the same metrics; ``other_matches`` of
    the other system's ``other_seeds`` runs (its rerun ``other_rerun``) report them too.
    ``pvalue`` and ``min_pvalue`` are those of :func:`~parity.stats.identical_runs_test`; a
    test whose ``min_pvalue`` is above α stays out of the Holm family (``adjusted_pvalue``
    None); ``flagged`` when the Holm-adjusted p-value is ≤ α.
    """

    system: str
    task: str
    rerun: int
    other_rerun: int
    seeds: int
    other_seeds: int
    all_identical: bool
    other_matches: int
    pvalue: float
    min_pvalue: float
    adjusted_pvalue: float | None
    flagged: bool


@dataclass(frozen=True, slots=True)
class ValidityResult(ResultMixin):
    """The manifest's validity rules (and, in proof mode, the shortcut checks) on every ok run.

    ``file_coincidences`` and ``seed_coincidences`` hold the tests of the ``identical_file``
    and ``identical_across_seeds`` checks against chance (empty without shortcut checks);
    ``notes`` says which coincidences chance explains and where copies cannot be told from
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
    notes: tuple[str, ...] = ()


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
    margin: tuple[float, float]
    bounds: tuple[float, float]
    n_reference: int
    n_candidate: int
    mean_reference: float
    mean_candidate: float
    estimate: float
    confidence_interval: tuple[float, float]
    confidence_level: float
    pvalue: float
    adjusted_pvalue: float
    passed: bool
    passed_unadjusted: bool
    attainable: bool
    method: str
    notes: tuple[str, ...] = ()
    error: str | None = None
    n_for_power: int | None = None

    @property
    def null_effect(self) -> float:
        """The estimate of "no difference": 1 for a ratio, 0 for a difference."""
        return 1.0 if self.relative else 0.0


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
    bounds: tuple[float, float]
    higher_is_better: bool
    normalized: bool
    reference: float
    candidate: float
    reference_interval: tuple[float, float]
    candidate_interval: tuple[float, float]
    estimate: float
    confidence_interval: tuple[float, float]
    confidence_level: float
    alpha_share: float
    pvalue: float
    passed: bool
    n_resamples: int
    n_tasks: int
    n_seeds_reference: int
    n_seeds_candidate: int
    method: str
    notes: tuple[str, ...] = ()
    error: str | None = None
    n_for_power: int | None = None

    @property
    def null_effect(self) -> float:
        """1 for a ratio, 0 for a difference."""
        return 1.0 if self.margin_kind == "ratio" else 0.0


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
    notes: tuple[str, ...] = ()


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
    intervals: tuple[tuple[float, float], tuple[float, float]]
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
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ComponentPair(ResultMixin):
    """One task/seed comparison of a component's arrays."""

    task: str
    seed: int
    passed: bool
    shape_reference: tuple[int, ...] | None
    shape_candidate: tuple[int, ...] | None
    max_abs_deviation: float | None = None
    max_rel_deviation: float | None = None
    n_mismatched: int | None = None
    pvalue: float | None = None
    adjusted_pvalue: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ComponentResult(ResultMixin):
    """All task/seed comparisons of one component."""

    name: str
    array: str
    test: str
    rtol: float
    atol: float
    required: bool
    passed: bool
    pairs_compared: int
    pairs_failed: int
    max_abs_deviation: float | None
    max_rel_deviation: float | None
    pairs: tuple[ComponentPair, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ComponentMatchResult(ResultMixin):
    """Every configured component; ``component_match_pass`` over the required ones."""

    component_match_pass: bool
    required: bool
    components: tuple[ComponentResult, ...]


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
    seed: int
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


# --------------------------------------------------------------------------------------------
# the run table


@dataclass(frozen=True, slots=True)
class _Table:
    """The recorded runs, indexed: ok runs by key, the others by key."""

    ok: dict[RunKey, RunRecord]
    other: dict[RunKey, RunRecord]

    def metric(self, system: str, task: str, seed: int, rerun: int, metric: str) -> float | None:
        run = self.ok.get(RunKey(system, task, seed, rerun))
        if run is None:
            return None
        value = run.metrics.get(metric)
        return float(value) if _is_finite_number(value) else None


def _index(runs: Sequence[RunRecord]) -> _Table:
    ok: dict[RunKey, RunRecord] = {}
    other: dict[RunKey, RunRecord] = {}
    for i, run in enumerate(runs):
        if not isinstance(run, RunRecord):
            raise ParityInputError(
                f"`runs` must hold RunRecord objects; item {i} is {type(run).__name__}"
            )
        if run.status == "ok":
            ok[run.key] = run
        else:
            other[run.key] = run
    for key in ok:
        other.pop(key, None)
    return _Table(ok, other)


def _is_finite_number(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _run_label(key: RunKey) -> str:
    return f"{key.system}/{key.task}/seed={key.seed}/rerun={key.rerun}"


def _g(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "—"
    return f"{x:.{digits}g}" if math.isfinite(x) else str(x)


# --------------------------------------------------------------------------------------------
# samples.npz


def load_samples_npz(
    run: RunRecord, root: str | Path | None = None
) -> dict[str, np.ndarray] | None:
    """The arrays of ``samples.npz`` in the run's output folder, or None when there is none.

    ``run.out_dir`` is taken relative to ``root`` (the manifest's folder; default the current
    folder) unless it is absolute. A run that recorded neither arrays (``run.samples``) nor a
    ``samples.npz`` file hash has none, and nothing is read. When the run recorded the file's
    sha256 (``files["samples.npz"]``) the file must still have it. This is the only place where
    judging reads a file.

    Raises
    ------
    ParityInputError
        The file is gone, cannot be read as ``.npz`` (no pickles) or its sha256 changed.
    """
    if not run.samples and "samples.npz" not in run.files:
        return None
    path = Path(root or ".") / run.out_dir / "samples.npz"
    if not path.is_file():
        raise ParityInputError(f"{path}: recorded with the run but no longer there")
    recorded = run.files.get("samples.npz")
    if recorded is not None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != recorded:
            raise ParityInputError(
                f"{path}: sha256 {digest[:12]}… differs from the {recorded[:12]}… recorded "
                "with the run (changed after the run)"
            )
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: np.asarray(data[name]) for name in data.files}
    except Exception as exc:  # zipfile, pickle and format errors alike
        raise ParityInputError(f"{path}: not a readable .npz ({exc})") from None


class _Arrays:
    """Per-run cache of the loaded arrays, with the load error kept."""

    def __init__(self, loader: ArrayLoader) -> None:
        self._loader = loader
        self._cache: dict[RunKey, tuple[Mapping[str, np.ndarray] | None, str | None]] = {}

    def get(self, run: RunRecord) -> tuple[Mapping[str, np.ndarray] | None, str | None]:
        if run.key not in self._cache:
            try:
                self._cache[run.key] = (self._loader(run), None)
            except Exception as exc:
                self._cache[run.key] = (None, str(exc))
        return self._cache[run.key]


def _arrays(root: str | Path | None, load_arrays: ArrayLoader | None) -> _Arrays:
    return _Arrays(load_arrays or functools.partial(load_samples_npz, root=root))


# --------------------------------------------------------------------------------------------
# coverage


def check_coverage(manifest: Manifest, runs: Sequence[RunRecord]) -> CoverageResult:
    """Expected (system, task, seed, rerun) against the runs recorded ``ok``.

    Examples
    --------
    >>> from parity.suite.manifest import parse_manifest
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


# --------------------------------------------------------------------------------------------
# validity


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
        for (metric, op, bound), rule in zip(bounds, manifest.validity.bounds, strict=True):
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
                    f"{label}: {metric} = {_g(float(value), 10)} breaks `{rule}`",
                )

    checks = ["required_metric", "bound"]
    if shortcuts:
        checks += [
            "identical_file",
            "nonfinite_samples",
            "constant_samples",
            "identical_across_seeds",
            "samples_unreadable",
        ]
        file_tests = _identical_files(manifest, table, add, notes)
        for run in runs:
            _sample_findings(run, arrays, add)
        seed_tests = _identical_across_seeds(manifest, table, add, notes)
    systems = sorted(manifest.systems)
    tasks = {t: i for i, t in enumerate(manifest.tasks)}
    seeds = {s: i for i, s in enumerate(manifest.seeds)}
    findings.sort(
        key=lambda f: (
            systems.index(f.system),
            tasks[f.task],
            -1 if f.seed is None else seeds[f.seed],
            f.rerun,
            checks.index(f.check),
            f.message,
        )
    )
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
        notes=tuple(notes),
    )


def _file_roles(run: RunRecord) -> dict[str, str]:
    """A run's non-empty result files, name → sha256; a results file read alone (``ingest``)
    is the run's ``metrics.json``, whatever its name."""
    from parity.suite.ingest import METRICS_FILE

    files = {name: d for name, d in run.files.items() if d != EMPTY_SHA256}
    if run.source == "ingest" and len(run.files) == 1 and METRICS_FILE not in run.files:
        files = {METRICS_FILE: digest for digest in files.values()}  # noqa: B035 (one file)
    return files


def _holm_family(min_pvalues: list[float], pvalues: list[float], alpha: float):
    """Holm-adjusted p-values of the tests that can reach α (``min_pvalue ≤ α``), else None.

    Which tests enter depends only on their smallest attainable p-values, functions of what each
    exact test conditions on, so leaving out the others (which could never be rejected) keeps
    the family-wise error ≤ α (Tarone's argument). Returns the adjusted values and the family's
    size.
    """
    from parity.stats import holm

    family = [i for i, p in enumerate(min_pvalues) if p <= alpha]
    adjusted: list[float | None] = [None] * len(pvalues)
    if family:
        for i, q in zip(family, holm([pvalues[i] for i in family]), strict=True):
            adjusted[i] = float(q)
    return adjusted, len(family)


def _rerun_text(manifest: Manifest, rerun: int, other: int) -> str:
    if manifest.reruns == 1:
        return ""
    return f" (rerun {rerun} vs the reference's rerun {other})"


def _identical_files(
    manifest: Manifest, table: _Table, add, notes: list[str]
) -> list[FileCoincidence]:
    from parity.stats import same_seed_matches_test

    alpha = manifest.alpha
    raw = []  # (task, file, rerun, reference rerun, seeds, candidate and reference digests)
    for task in manifest.tasks:
        for rerun in range(manifest.system_reruns("candidate")):
            for ref_rerun in range(manifest.system_reruns("reference")):
                pairs = []
                for seed in manifest.seeds:
                    cand = table.ok.get(RunKey("candidate", task, seed, rerun))
                    ref = table.ok.get(RunKey("reference", task, seed, ref_rerun))
                    if cand is not None and ref is not None:
                        pairs.append((seed, _file_roles(cand), _file_roles(ref)))
                names = set().union(*(c for _, c, _ in pairs)) & set().union(
                    *(r for _, _, r in pairs)
                )
                for name in sorted(names):
                    cand_d = [c.get(name) for _, c, _ in pairs]
                    ref_d = [r.get(name) for _, _, r in pairs]
                    seeds = [seed for seed, _, _ in pairs]
                    raw.append((task, name, rerun, ref_rerun, seeds, cand_d, ref_d))
    tests = [same_seed_matches_test(c, r, ignore_repeated=True) for *_, c, r in raw]
    adjusted, m = _holm_family([t.min_pvalue for t in tests], [t.pvalue for t in tests], alpha)
    out: list[FileCoincidence] = []
    for (task, name, rerun, ref_rerun, seeds, cand_d, ref_d), t, adj in zip(
        raw, tests, adjusted, strict=True
    ):
        everything = same_seed_matches_test(cand_d, ref_d)
        matched = [s for s, c, r in zip(seeds, cand_d, ref_d, strict=True) if c and c == r]
        once = Counter(cand_d), Counter(ref_d)
        tested = [
            s
            for s, c, r in zip(seeds, cand_d, ref_d, strict=True)
            if c and c == r and once[0][c] == 1 and once[1][r] == 1
        ]
        size = m if adj is not None else m + 1
        out.append(
            FileCoincidence(
                task=task,
                file=name,
                rerun=rerun,
                reference_rerun=ref_rerun,
                seeds=t.n,
                matches=everything.matches,
                matched_seeds=tuple(matched),
                cross_matches=everything.cross_matches,
                chance_rate=everything.chance_rate,
                tested_matches=t.matches,
                tested_seeds=tuple(tested),
                tested_cross_matches=t.cross_matches,
                expected=t.expected,
                pvalue=t.pvalue,
                min_pvalue=t.min_pvalue,
                full_copy_pvalue=t.full_copy_pvalue,
                adjusted_pvalue=adj,
                flagged=adj is not None and adj <= alpha,
                decidable=t.full_copy_pvalue <= alpha / size,
            )
        )
    undecidable: dict[tuple[str, int, int], list[tuple[FileCoincidence, float]]] = {}
    for c in out:
        adjusted_text = (
            f"Holm-adjusted {_g(c.adjusted_pvalue, 3)}"
            if c.adjusted_pvalue is not None
            else f"it cannot reach α = {_g(alpha)} whatever the pairing"
        )
        tested = (
            f"results neither system reports on another seed match on {c.tested_matches} seeds "
            f"against {_g(c.expected, 3)} expected from their {c.tested_cross_matches} "
            f"cross-seed matches: p = {_g(c.pvalue, 3)} ({adjusted_text})"
        )
        if c.flagged:
            for seed in c.tested_seeds:
                key = RunKey("candidate", c.task, seed, c.rerun)
                digest = _file_roles(table.ok[key])[c.file]
                add(
                    "identical_file",
                    "shortcut: result files identical to the reference's beyond chance",
                    key,
                    seed,
                    f"{_run_label(key)}: `{c.file}` is byte-identical (sha256 {digest[:12]}…) "
                    f"to the reference's for the same task and seed (rerun "
                    f"{c.reference_rerun}); on {c.task}, {tested} ≤ α = {_g(alpha)}",
                )
            continue
        if not c.decidable:
            threshold = alpha / (m if c.adjusted_pvalue is not None else m + 1)
            undecidable.setdefault((c.file, c.rerun, c.reference_rerun), []).append((c, threshold))
        if c.matches:
            repeated = c.matches - c.tested_matches
            repeated_text = (
                f"{repeated} of them are results a system repeats on other seeds (as a score it "
                "often gets), which the seed can steer both systems to; "
                if repeated
                else ""
            )
            notes.append(
                f"identical_file on {c.task}: {c.matches} of {c.seeds} seeds have a candidate "
                f"`{c.file}` byte-identical to the reference's"
                f"{_rerun_text(manifest, c.rerun, c.reference_rerun)}, no more than chance "
                f"explains: independent runs coincide in {c.cross_matches} of "
                f"{c.seeds * (c.seeds - 1)} cross-seed pairs ({_g(c.chance_rate, 3)}); "
                f"{repeated_text}{tested}; not evidence of copying."
            )
    for (name, rerun, ref_rerun), items in undecidable.items():
        worst, threshold = min((c.full_copy_pvalue, t) for c, t in items)
        notes.append(
            f"identical_file: copies of `{name}`{_rerun_text(manifest, rerun, ref_rerun)} cannot "
            f"be told from chance on {', '.join(c.task for c, _ in items)}: the reference "
            "repeats its results there so often, or the seeds are so few, that a copy of every "
            f"seed would give p ≥ {_g(worst, 3)}, above Holm's strictest threshold "
            f"α/m = {_g(threshold, 3)}."
        )
    return out


def _sample_findings(run: RunRecord, arrays: _Arrays, add) -> None:
    key, label = run.key, _run_label(run.key)
    data, error = arrays.get(run)
    if error is not None:
        add(
            "samples_unreadable",
            "shortcut: samples.npz readable and unchanged",
            key,
            key.seed,
            f"{label}: {error}",
        )
        return
    for name, arr in sorted((data or {}).items()):
        a = np.asarray(arr)
        if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
            continue
        finite = np.isfinite(a)
        if not finite.all():
            bad = int(a.size - np.count_nonzero(finite))
            add(
                "nonfinite_samples",
                "shortcut: finite samples",
                key,
                key.seed,
                f"{label}: samples.npz array `{name}` has {bad} NaN/inf of {a.size} values",
            )
        elif a.size >= 2 and bool(np.all(a == a.flat[0])):
            add(
                "constant_samples",
                "shortcut: non-constant samples",
                key,
                key.seed,
                f"{label}: samples.npz array `{name}` is constant ({a.size} values all equal "
                f"{_g(float(a.flat[0]))})",
            )


def _task_runs(table: _Table, system: str, task: str, rerun: int, seeds) -> list[RunRecord]:
    """The ok runs of a system on a task and rerun, in seed order."""
    keys = (RunKey(system, task, seed, rerun) for seed in seeds)
    return [table.ok[k] for k in keys if k in table.ok]


def _metrics_label(run: RunRecord, metrics: list[str]):
    """A run's metrics as one hashable label (None: none of the metrics reported)."""
    row = tuple(run.metrics.get(m) for m in metrics)
    if all(v is None for v in row):
        return None
    return tuple(v if isinstance(v, Hashable) else repr(v) for v in row)


def _identical_across_seeds(
    manifest: Manifest, table: _Table, add, notes: list[str]
) -> list[SeedCoincidence]:
    from parity.stats import identical_runs_test

    alpha = manifest.alpha
    metrics = list(manifest.metrics)
    raw = []  # (system, other, task, rerun, other rerun, test, first row)
    for system in sorted(manifest.systems):
        other = "reference" if system == "candidate" else "candidate"
        for task in manifest.tasks:
            for rerun in range(manifest.system_reruns(system)):
                other_rerun = min(rerun, manifest.system_reruns(other) - 1)
                own = _task_runs(table, system, task, rerun, manifest.seeds)
                theirs = _task_runs(table, other, task, other_rerun, manifest.seeds)
                if len(own) < 2:
                    continue
                test = identical_runs_test(
                    [_metrics_label(r, metrics) for r in own],
                    [_metrics_label(r, metrics) for r in theirs],
                )
                raw.append((system, other, task, rerun, other_rerun, test, own[0]))
    adjusted, _ = _holm_family([r[5].min_pvalue for r in raw], [r[5].pvalue for r in raw], alpha)
    out: list[SeedCoincidence] = []
    for (system, other, task, rerun, other_rerun, t, first), adj in zip(raw, adjusted, strict=True):
        c = SeedCoincidence(
            system=system,
            task=task,
            rerun=rerun,
            other_rerun=other_rerun,
            seeds=t.n,
            other_seeds=t.n_other,
            all_identical=t.all_identical,
            other_matches=t.other_matches,
            pvalue=t.pvalue,
            min_pvalue=t.min_pvalue,
            adjusted_pvalue=adj,
            flagged=t.all_identical and adj is not None and adj <= alpha,
        )
        out.append(c)
        if not c.all_identical:
            continue
        shown = ", ".join(
            f"{m} = {first.metrics[m]!r}" for m in metrics if first.metrics.get(m) is not None
        )
        chance = (
            f"the {other} reports the same on {c.other_matches} of {c.other_seeds} seeds, so "
            f"{c.seeds} runs drawn from both systems' runs are all equal with p = {_g(c.pvalue, 3)}"
        )
        if c.flagged:
            add(
                "identical_across_seeds",
                "shortcut: metrics vary across seeds beyond chance",
                RunKey(system, task, -1, rerun),
                None,
                f"{system}/{task}/rerun={rerun}: all {c.seeds} seeds report identical metrics "
                f"({shown}); {chance} (Holm-adjusted {_g(adj, 3)} ≤ α = {_g(alpha)})",
            )
        else:
            adjusted_text = (
                f"Holm-adjusted {_g(adj, 3)}"
                if adj is not None
                else f"it cannot reach α = {_g(alpha)}"
            )
            notes.append(
                f"identical_across_seeds on {task}: all {c.seeds} seeds of {system} (rerun "
                f"{rerun}) report identical metrics ({shown}), no more than chance explains: "
                f"{chance} "
                f"({adjusted_text}); a system that ignores its seed cannot be told from chance "
                "on this task."
            )
    return out


# --------------------------------------------------------------------------------------------
# equivalence


@dataclass(frozen=True, slots=True)
class _Group:
    """Which runs one evaluation uses: a rerun per system and the seeds."""

    label: str
    rerun: int | None
    reruns: dict[str, int]
    seeds: tuple[int, ...]
    key: tuple[int, ...]  # entropy of the aggregate bootstrap, after the judge's seed


def _main_group(manifest: Manifest) -> _Group:
    return _Group("rerun 0", 0, {"reference": 0, "candidate": 0}, tuple(manifest.seeds), (0, 0))


def _values(
    manifest: Manifest, table: _Table, group: _Group, task: str, metric: str
) -> tuple[np.ndarray, np.ndarray, bool]:
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
    from parity.stats import noninferiority, tost

    spec = manifest.metrics[metric]
    test, margin = _metric_region(manifest, metric)
    relative = spec.margin.is_relative
    alpha = manifest.alpha
    if isinstance(margin, tuple):
        region = margin
    elif test == "equivalence":
        region = (-margin, margin)
    else:
        region = (-margin, math.inf) if spec.higher_is_better else (-math.inf, margin)
    bounds = tuple((1.0 + b) if relative else b for b in region)
    common = dict(
        task=task,
        metric=metric,
        test=test,
        paired=paired,
        relative=relative,
        higher_is_better=spec.higher_is_better,
        margin=region,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ParityWarning)
            if test == "equivalence":
                res = tost(ref, cand, margin=margin, relative=relative, paired=paired, alpha=alpha)
            else:
                res = noninferiority(
                    ref,
                    cand,
                    margin=margin,
                    relative=relative,
                    paired=paired,
                    higher_is_better=spec.higher_is_better,
                    alpha=alpha,
                )
    except ParityInputError as exc:
        level = 1 - 2 * alpha if test == "equivalence" else 1 - alpha
        return MetricTest(
            **common,
            bounds=bounds,
            n_reference=int(ref.size),
            n_candidate=int(cand.size),
            mean_reference=float(np.mean(ref)) if ref.size else math.nan,
            mean_candidate=float(np.mean(cand)) if cand.size else math.nan,
            estimate=math.nan,
            confidence_interval=(math.nan, math.nan),
            confidence_level=level,
            pvalue=1.0,
            adjusted_pvalue=1.0,
            passed=False,
            passed_unadjusted=False,
            attainable=False,
            method="not tested",
            error=str(exc),
        )
    pvalue = float(res.pvalue) if math.isfinite(res.pvalue) else 1.0
    return MetricTest(
        **common,
        bounds=tuple(res.bounds),
        n_reference=res.n_reference,
        n_candidate=res.n_candidate,
        mean_reference=res.mean_reference,
        mean_candidate=res.mean_candidate,
        estimate=res.estimate,
        confidence_interval=tuple(res.confidence_interval),
        confidence_level=res.confidence_level,
        pvalue=pvalue,
        adjusted_pvalue=pvalue,
        passed=False,
        passed_unadjusted=bool(pvalue < alpha),
        attainable=bool(res.attainable),
        method=res.method,
        notes=tuple(res.notes),
        n_for_power=res.n_for_power,
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
    """The aggregate's result and the bootstrap distribution of its estimate (None if untested)."""
    from parity.stats import aggregate_ci

    metric_spec = manifest.metrics[spec.metric]
    test = manifest.metric_test(spec.metric)
    test = "equivalence" if test == "equivalence" else "non-inferiority"
    hib = metric_spec.higher_is_better != (spec.statistic == "optimality_gap")
    kind = "ratio" if spec.margin.ratio is not None else "difference"
    m = spec.margin.ratio if kind == "ratio" else spec.margin.difference
    center = 1.0 if kind == "ratio" else 0.0
    if test == "equivalence":
        bounds = (center - m, center + m)
        level = 1.0 - 2.0 * alpha_share
    else:
        bounds = (center - m, math.inf) if hib else (-math.inf, center + m)
        level = 1.0 - alpha_share
    notes: list[str] = []
    matrices, seeds_used = {}, {}
    for system in ("reference", "candidate"):
        rerun = group.reruns[system]
        rows, used = [], []
        for s in group.seeds:
            row = [table.metric(system, t, s, rerun, spec.metric) for t in manifest.tasks]
            if all(v is not None for v in row):
                rows.append(row)
                used.append(s)
        dropped = len(group.seeds) - len(used)
        if dropped:
            notes.append(
                f"{system}: {dropped} seed(s) without a finite `{spec.metric}` on every task "
                "left out (the aggregate needs seeds × tasks complete)"
            )
        x = np.asarray(rows, dtype=float).reshape(len(rows), len(manifest.tasks))
        if spec.normalization is not None:
            low = np.array([spec.normalization[t][0] for t in manifest.tasks])
            high = np.array([spec.normalization[t][1] for t in manifest.tasks])
            x = (x - low) / (high - low)
        matrices[system], seeds_used[system] = x, used
    common = dict(
        name=spec.name,
        metric=spec.metric,
        statistic=spec.statistic,
        test=test,
        margin_kind=kind,
        margin=float(m),
        bounds=bounds,
        higher_is_better=hib,
        normalized=spec.normalization is not None,
        confidence_level=level,
        alpha_share=alpha_share,
        n_resamples=spec.n_resamples,
        n_tasks=len(manifest.tasks),
        n_seeds_reference=len(seeds_used["reference"]),
        n_seeds_candidate=len(seeds_used["candidate"]),
    )
    nan2 = (math.nan, math.nan)
    short = [s for s, x in matrices.items() if x.shape[0] < 2]
    if short:
        untested = AggregateResult(
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
            notes=tuple(notes),
            error=f"{' and '.join(short)}: fewer than 2 seeds with `{spec.metric}` on every task",
        )
        return untested, None
    gen = np.random.default_rng([seed, 1, index, *group.key])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParityWarning)
        res = {
            system: aggregate_ci(
                matrices[system],
                spec.statistic,
                n_resamples=spec.n_resamples,
                confidence_level=level if test == "equivalence" else 1 - 2 * alpha_share,
                rng=gen,
            )
            for system in ("reference", "candidate")
        }
    for system, r in res.items():
        notes += [f"{system}: {w}" for w in r.warnings]
    ref_b = res["reference"].bootstrap_distribution
    cand_b = res["candidate"].bootstrap_distribution
    ref_hat, cand_hat = res["reference"].statistic, res["candidate"].statistic
    error = None
    if kind == "ratio":
        bad = int(np.count_nonzero(ref_b <= 0))
        if ref_hat <= 0 or bad:
            error = (
                f"the reference {spec.statistic} is ≤ 0 (in the data or in {bad} of "
                f"{ref_b.size} resamples): a ratio is not defined; use a `difference` margin"
            )
            est_b = np.full(ref_b.shape, math.nan)
            estimate = cand_hat / ref_hat if ref_hat != 0 else math.nan
        else:
            est_b, estimate = cand_b / ref_b, cand_hat / ref_hat
    else:
        est_b, estimate = cand_b - ref_b, cand_hat - ref_hat
    b = est_b.size
    if error is not None:
        ci, p, passed = nan2, 1.0, False
    else:
        p_low = (1 + np.count_nonzero(est_b <= bounds[0])) / (1 + b)
        p_high = (1 + np.count_nonzero(est_b >= bounds[1])) / (1 + b)
        if test == "equivalence":
            lo, hi = (float(v) for v in np.quantile(est_b, (alpha_share, 1 - alpha_share)))
            ci, p = (lo, hi), max(p_low, p_high)
        elif hib:
            ci, p = (float(np.quantile(est_b, alpha_share)), math.inf), p_low
        else:
            ci, p = (-math.inf, float(np.quantile(est_b, 1 - alpha_share))), p_high
        passed = bool(
            (ci[0] > bounds[0] or bounds[0] == -math.inf)
            and (ci[1] < bounds[1] or bounds[1] == math.inf)
        )
    result = AggregateResult(
        **common,
        reference=float(ref_hat),
        candidate=float(cand_hat),
        reference_interval=tuple(res["reference"].confidence_interval),
        candidate_interval=tuple(res["candidate"].confidence_interval),
        estimate=float(estimate),
        confidence_interval=ci,
        pvalue=float(p),
        passed=passed,
        method=(
            f"{kind} of the {spec.statistic}s, joint stratified bootstrap percentile interval "
            f"(each system's seeds resampled within task, independently; B = {b})"
        ),
        notes=tuple(notes),
        error=error,
    )
    return result, (None if error is not None else est_b)


@dataclass(frozen=True, slots=True)
class _Evaluation:
    tests: tuple[MetricTest, ...]
    aggregates: tuple[AggregateResult, ...]
    data: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, bool]]
    boot: tuple[np.ndarray | None, ...]
    per_task_pass: bool
    aggregate_pass: bool | None
    pass_all: bool


def _evaluate(manifest: Manifest, table: _Table, group: _Group, seed: int) -> _Evaluation:
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


def _replace(obj: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(obj, **changes)


def check_equivalence(
    manifest: Manifest, runs: Sequence[RunRecord], *, seed: int = 0
) -> EquivalenceResult:
    """Per-task tests (Holm) and aggregates (Bonferroni share) on rerun 0 of both systems.

    Examples
    --------
    >>> from parity.suite.manifest import parse_manifest
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
    return _equivalence(manifest, _index(runs), _check_seed(seed))[0]


def _equivalence(
    manifest: Manifest, table: _Table, seed: int
) -> tuple[EquivalenceResult, _Evaluation]:
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
        notes=tuple(notes),
    )
    return result, ev


# --------------------------------------------------------------------------------------------
# stability


def check_stability(
    manifest: Manifest, runs: Sequence[RunRecord], *, seed: int = 0
) -> StabilityResult:
    """The verdict recomputed per rerun (or per half of the seeds) and the three flags."""
    table = _index(runs)
    seed = _check_seed(seed)
    _, main = _equivalence(manifest, table, seed)
    return _stability(manifest, table, main, seed)


def _stability(manifest: Manifest, table: _Table, main: _Evaluation, seed: int) -> StabilityResult:
    threshold = 1.0 - manifest.alpha
    notes: list[str] = []
    if manifest.reruns >= 2:
        method = "reruns"
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
        evaluations = [main] + [_evaluate(manifest, table, g, seed) for g in groups[1:]]
    else:
        method = "split-half"
        seeds = list(manifest.seeds)
        half = len(seeds) // 2
        if half < 2:
            return StabilityResult(
                status="insufficient",
                method=method,
                groups=(),
                verdict_flip_detected=False,
                pairwise_metric_sign_flip_detected=False,
                bayesian_frequentist_mismatch_detected=False,
                posterior_threshold=threshold,
                decision_flips=(),
                sign_flips=(),
                mismatches=(),
                posteriors_computed=0,
                notes=(
                    f"one rerun and {len(seeds)} seed(s): a split in halves needs at least "
                    "4 seeds (2 per half)",
                ),
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
        evaluations = [_evaluate(manifest, table, g, seed) for g in groups]

    verdicts = tuple(
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
    # a rerun (half) where nothing could be computed (its runs are missing: coverage says so)
    # takes no part in the comparisons
    usable = [
        any(t.error is None for t in ev.tests) or any(a.error is None for a in ev.aggregates)
        for ev in evaluations
    ]
    skipped_groups = [g.label for g, ok in zip(groups, usable, strict=True) if not ok]
    if skipped_groups:
        notes.append(
            f"nothing could be computed on {', '.join(skipped_groups)}: left out of the comparisons"
        )
    verdict_flip = (
        len({v.parity_pass_all_metrics for v, ok in zip(verdicts, usable, strict=True) if ok}) > 1
    )

    decision_flips, sign_flips = [], []
    labels = [g.label for g in groups]
    family = len(main.tests) + len(main.aggregates)
    flip_alpha = manifest.alpha / max(family, 1)
    for i, t in enumerate(main.tests):
        passed = tuple(bool(ev.tests[i].passed) for ev in evaluations)
        if len({p for p, ok in zip(passed, usable, strict=True) if ok}) > 1:
            decision_flips.append(DecisionFlip(t.task, t.metric, None, passed))
        effects = [_test_effect(manifest, ev, i, flip_alpha) for ev in evaluations]
        flip = _sign_flip(effects, labels)
        if flip is not None:
            sign_flips.append(SignFlip(t.task, t.metric, None, *flip, 1 - 2 * flip_alpha))
    for i, a in enumerate(main.aggregates):
        passed = tuple(bool(ev.aggregates[i].passed) for ev in evaluations)
        if len({p for p, ok in zip(passed, usable, strict=True) if ok}) > 1:
            decision_flips.append(DecisionFlip(None, a.metric, a.name, passed))
        effects = [_aggregate_effect(ev, i, flip_alpha) for ev in evaluations]
        flip = _sign_flip(effects, labels)
        if flip is not None:
            sign_flips.append(SignFlip(None, a.metric, a.name, *flip, 1 - 2 * flip_alpha))

    mismatches, computed, skipped, rough = [], 0, [], 0
    if method == "reruns":
        checked = list(zip([g.label for g in groups], evaluations, strict=True))
    else:  # the halves have half the data: compare the posterior with the verdict's own tests
        checked = [("all seeds", main)]
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
        notes=tuple(notes),
    )


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
    lo, hi = (float(v) for v in np.quantile(boot, (alpha, 1 - alpha)))
    return a.estimate, (lo, hi), a.null_effect


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
                return (labels[i], labels[j]), (a[0], b[0]), (a[1], b[1]), null
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


# --------------------------------------------------------------------------------------------
# components


def check_components(
    manifest: Manifest,
    runs: Sequence[RunRecord],
    *,
    seed: int = 0,
    root: str | Path | None = None,
    load_arrays: ArrayLoader | None = None,
) -> ComponentMatchResult | None:
    """Compare each component's arrays between the systems, per task and seed (rerun 0).

    Returns None when the manifest configures no component. ``root`` and ``load_arrays`` as
    in :func:`judge`.
    """
    return _components(manifest, _index(runs), _arrays(root, load_arrays), _check_seed(seed))


def _components(
    manifest: Manifest, table: _Table, arrays: _Arrays, seed: int
) -> ComponentMatchResult | None:
    if not manifest.components:
        return None
    results = []
    for ci, (name, spec) in enumerate(manifest.components.items()):
        array = spec.array or name
        pairs: list[ComponentPair] = []
        for ti, task in enumerate(manifest.tasks):
            for si, s in enumerate(manifest.seeds):
                runs = [
                    table.ok.get(RunKey(sys_, task, s, 0)) for sys_ in ("reference", "candidate")
                ]
                if any(r is None for r in runs):
                    continue  # coverage reports it
                got, problems = [], []
                for run in runs:
                    data, error = arrays.get(run)
                    if error is not None:
                        problems.append(f"{run.key.system}: {error}")
                    elif data is None or array not in data:
                        where = "no samples.npz" if data is None else "samples.npz"
                        problems.append(f"{run.key.system} run wrote no array `{array}` ({where})")
                    got.append(None if data is None else data.get(array))
                shapes = tuple(
                    None if a is None else tuple(int(n) for n in np.shape(a)) for a in got
                )
                if problems:
                    pairs.append(ComponentPair(task, s, False, *shapes, detail="; ".join(problems)))
                elif spec.test == "allclose":
                    pairs.append(_allclose(task, s, got[0], got[1], spec.rtol, spec.atol))
                else:
                    rng = np.random.default_rng([seed, 2, ci, ti, si])
                    pairs.append(_two_sample(task, s, got[0], got[1], rng))
        notes = []
        if spec.test == "two_sample":
            pairs = _holm_pairs(pairs, manifest.alpha)
            notes.append(
                f"permutation two-sample tests (MMD and energy, {COMPONENT_PERMUTATIONS} splits) "
                f"Holm-adjusted over the task × seed pairs at α = {manifest.alpha:g}; a pass "
                "means no pair was shown to differ"
            )
        if not pairs:
            notes.append("no task/seed has an ok run of both systems: nothing was compared")
        failed = sum(not p.passed for p in pairs)
        abs_dev = [p.max_abs_deviation for p in pairs if p.max_abs_deviation is not None]
        rel_dev = [p.max_rel_deviation for p in pairs if p.max_rel_deviation is not None]
        results.append(
            ComponentResult(
                name=name,
                array=array,
                test=spec.test,
                rtol=spec.rtol,
                atol=spec.atol,
                required=spec.required,
                passed=bool(pairs) and failed == 0,
                pairs_compared=len(pairs),
                pairs_failed=failed,
                max_abs_deviation=_nanmax(abs_dev),
                max_rel_deviation=_nanmax(rel_dev),
                pairs=tuple(pairs),
                notes=tuple(notes),
            )
        )
    required = [r for r in results if r.required]
    return ComponentMatchResult(
        component_match_pass=all(r.passed for r in required),
        required=bool(required),
        components=tuple(results),
    )


def _nanmax(values: list[float]) -> float | None:
    if not values:
        return None
    arr = np.asarray(values, dtype=float)
    return math.nan if np.isnan(arr).any() else float(arr.max())


def _allclose(task: str, s: int, ref: Any, cand: Any, rtol: float, atol: float) -> ComponentPair:
    r = np.asarray(ref)
    c = np.asarray(cand)
    shapes = (tuple(int(n) for n in r.shape), tuple(int(n) for n in c.shape))
    if r.shape != c.shape:
        return ComponentPair(
            task, s, False, *shapes, detail=f"shapes differ: {shapes[0]} vs {shapes[1]}"
        )
    try:
        r = r.astype(np.float64)
        c = c.astype(np.float64)
    except (TypeError, ValueError):
        return ComponentPair(task, s, False, *shapes, detail="arrays are not numeric")
    if r.size == 0:
        return ComponentPair(task, s, True, *shapes, 0.0, 0.0, 0, detail="empty arrays")
    close = np.isclose(c, r, rtol=rtol, atol=atol, equal_nan=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.abs(c - r)
        rel = np.where(diff == 0, 0.0, diff / np.abs(r))
    mismatched = int(r.size - np.count_nonzero(close))
    max_abs = float(np.max(diff)) if not np.isnan(diff).any() else math.nan
    max_rel = float(np.max(rel)) if not np.isnan(rel).any() else math.nan
    detail = (
        ""
        if mismatched == 0
        else (f"{mismatched} of {r.size} values outside |c − r| ≤ {atol:g} + {rtol:g}·|r|")
    )
    return ComponentPair(
        task, s, mismatched == 0, *shapes, max_abs, max_rel, mismatched, detail=detail
    )


def _two_sample(task: str, s: int, ref: Any, cand: Any, rng: np.random.Generator) -> ComponentPair:
    from parity.stats import two_sample_test

    shapes = (tuple(int(n) for n in np.shape(ref)), tuple(int(n) for n in np.shape(cand)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ParityWarning)
            res = two_sample_test(
                ref, cand, ("mmd", "energy"), n_permutations=COMPONENT_PERMUTATIONS, rng=rng
            )
    except ParityInputError as exc:
        return ComponentPair(task, s, False, *shapes, detail=str(exc))
    return ComponentPair(task, s, True, *shapes, pvalue=float(res.pvalue))


def _holm_pairs(pairs: list[ComponentPair], alpha: float) -> list[ComponentPair]:
    from parity.stats import holm

    tested = [i for i, p in enumerate(pairs) if p.pvalue is not None]
    adjusted = holm([pairs[i].pvalue for i in tested]) if tested else []
    out = list(pairs)
    for i, a in zip(tested, adjusted, strict=True):
        differ = bool(a <= alpha)
        out[i] = _replace(
            pairs[i],
            adjusted_pvalue=float(a),
            passed=not differ,
            detail=f"shown to differ (Holm-adjusted p = {a:.3g} ≤ α)" if differ else "",
        )
    return out


# --------------------------------------------------------------------------------------------
# the verdict


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ParityInputError(f"`seed` must be an integer ≥ 0; got {seed!r}")
    return int(seed)


def _digest(manifest: Manifest) -> str:
    """The manifest's sha256 as the store records it (formatting and comments do not count)."""
    from parity.suite.store import manifest_digest

    return manifest_digest(manifest)


def judge(
    manifest: Manifest,
    runs: Sequence[RunRecord],
    *,
    seed: int = 0,
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
    seed : int, default 0
        Seed of every random draw (aggregate bootstraps, component permutation tests): the
        same inputs and seed give the same verdict, number for number.
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
    >>> from parity.suite.manifest import parse_manifest
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
    seed = _check_seed(seed)
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
        seed=seed,
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


def _decisive(manifest: Manifest, eq: EquivalenceResult) -> tuple[list[MetricTest], list]:
    basis = manifest.decision_basis
    tests = list(eq.tests) if basis in ("per_task", "both") else []
    aggs = list(eq.aggregates) if basis in ("aggregate", "both") else []
    return tests, aggs


def _verdict(final, manifest, coverage, validity, eq, components) -> tuple[str, int]:
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


def _overlaps(t: MetricTest) -> bool:
    """Whether the interval still meets the margin (not shown to lie outside it)."""
    lo, hi = t.confidence_interval
    return lo < t.bounds[1] and hi > t.bounds[0]


def _more(items: list[str], noun: str) -> list[str]:
    if len(items) <= MAX_REASONS:
        return items
    extra = len(items) - MAX_REASONS
    return [*items[:MAX_REASONS], f"… and {extra} more {noun if extra > 1 else noun[:-1]}."]


def _describe_test(t: MetricTest, alpha: float) -> str:
    what = "equivalence" if t.test == "equivalence" else "non-inferiority"
    if t.error is not None:
        return f"{t.metric} on {t.task}: not tested ({t.error})."
    scale = "ratio" if t.relative else "difference"
    lo, hi = t.confidence_interval
    level = f"{100 * t.confidence_level:.3g}%"
    region = f"({_g(t.bounds[0])}, {_g(t.bounds[1])})"
    text = (
        f"{t.metric} on {t.task}: {what} not shown — {scale} {_g(t.estimate)}, {level} CI "
        f"[{_g(lo)}, {_g(hi)}] vs {region}, Holm-adjusted p = {_g(t.adjusted_pvalue, 3)} > α = "
        f"{alpha:g}"
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
    title = f"aggregate `{a.name}` ({a.statistic} of {a.metric})"
    if a.error is not None:
        return f"{title}: not tested ({a.error})."
    lo, hi = a.confidence_interval
    level = f"{100 * a.confidence_level:.3g}%"
    verdict = "inside" if a.passed else "not inside"
    what = "equivalent" if a.test == "equivalence" else "non-inferior"
    return (
        f"{title}: {a.margin_kind} {_g(a.estimate)} (candidate {_g(a.candidate)} vs reference "
        f"{_g(a.reference)}), {level} CI [{_g(lo)}, {_g(hi)}] {verdict} "
        f"({_g(a.bounds[0])}, {_g(a.bounds[1])}): {what if a.passed else 'not ' + what}."
    )


def _reasons(manifest, coverage, validity, eq, components, verdict) -> list[str]:
    out: list[str] = []
    if not coverage.coverage_pass:
        n = coverage.missing_pairs
        names = ", ".join(f"{m.label} ({m.status})" for m in coverage.missing[:3])
        more = f", … and {n - 3} more" if n > 3 else ""
        out.append(
            f"{n} of {coverage.expected} expected runs {'is' if n == 1 else 'are'} missing: "
            f"{names}{more}."
        )
    if not validity.validity_pass:
        n = len(validity.findings)
        out.append(f"validity: {n} finding{'s' if n != 1 else ''}.")
        out += _more([f"{f.message} [{f.check}]." for f in validity.findings], "findings")
    tests, aggs = _decisive(manifest, eq)
    basis = manifest.decision_basis
    if tests:
        failing = [t for t in tests if not t.passed]
        if failing:
            out.append(
                f"{len(tests) - len(failing)} of {len(tests)} per-task tests show "
                f"{_tests_kind(tests)} after Holm adjustment."
            )
            out += _more([_describe_test(t, manifest.alpha) for t in failing], "tests")
        else:
            out.append(
                f"all {len(tests)} per-task tests show {_tests_kind(tests)} (Holm-adjusted "
                f"p ≤ α = {manifest.alpha:g})."
            )
    elif eq.tests:
        n_pass = sum(t.passed for t in eq.tests)
        out.append(
            f"per-task tests are reported but do not decide (decide_on: {basis}): {n_pass} of "
            f"{len(eq.tests)} show {_tests_kind(list(eq.tests))} after Holm adjustment."
        )
    out += [_describe_aggregate(a) for a in aggs]
    if components is not None:
        for c in components.components:
            req = "" if c.required else " (not required)"
            if c.passed:
                out.append(
                    f"component `{c.name}` matches on all {c.pairs_compared} task/seed pairs"
                    f"{req}"
                    + (
                        f" (largest absolute deviation {_g(c.max_abs_deviation)})"
                        if c.max_abs_deviation is not None
                        else ""
                    )
                    + "."
                )
            elif not c.pairs_compared:
                out.append(f"component `{c.name}`: nothing to compare{req}.")
            else:
                first = next(p for p in c.pairs if not p.passed)
                out.append(
                    f"component `{c.name}` differs on {c.pairs_failed} of {c.pairs_compared} "
                    f"task/seed pairs{req}; first: {first.task} seed {first.seed}"
                    + (f" — {first.detail}" if first.detail else "")
                    + (
                        f" (largest absolute deviation {_g(c.max_abs_deviation)}, relative "
                        f"{_g(c.max_rel_deviation)})"
                        if c.max_abs_deviation is not None
                        else ""
                    )
                    + "."
                )
    if verdict == "inconclusive":
        out.append(
            "inconclusive: everything is present and valid, but the failing equivalence tests "
            "could not succeed with this many seeds and the observed spread whatever the "
            "observed means (see `attainable`)."
        )
    return out


def _tests_kind(tests: list[MetricTest]) -> str:
    kinds = {t.test for t in tests}
    return (
        "equivalence"
        if kinds == {"equivalence"}
        else ("non-inferiority" if kinds == {"non-inferiority"} else "equivalence/non-inferiority")
    )
