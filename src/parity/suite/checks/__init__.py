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

Coincidences that chance explains are ``warnings`` of the validity result, not findings, and so
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
:func:`~parity.stats.attainability` — and whose interval still overlaps the margin) or
``fail`` (exit 1).

The rooms
---------
One module per check, each importing only the rooms below it (nothing imports upward, and
nothing here imports :mod:`parity.report` or :mod:`parity.cli`). Every room may import
:mod:`parity.errors` and the results' :class:`~parity.stats._common.ResultMixin`; each module's
docstring names the rest it may import.

* :mod:`~parity.suite.checks._common` — the indexed run table, the groups of runs, helpers;
* :mod:`~parity.suite.checks.samples` — :func:`load_samples_npz`, the one file read;
* :mod:`~parity.suite.checks.coverage`, :mod:`~parity.suite.checks.validity` (with
  :mod:`~parity.suite.checks.shortcuts`, the shortcut checks),
  :mod:`~parity.suite.checks.aggregates`, :mod:`~parity.suite.checks.equivalence`,
  :mod:`~parity.suite.checks.stability`, :mod:`~parity.suite.checks.components` — the checks
  and their results;
* :mod:`~parity.suite.checks.reasons` — the wording of the reasons;
* :mod:`~parity.suite.checks.judge` — :func:`judge`, the verdict.

This package re-exports every public name; import them from ``parity.suite.checks``.
"""

from __future__ import annotations

# the names outside __all__ are re-exported as they were importable before the split
from parity.suite.checks.aggregates import AggregateResult
from parity.suite.checks.components import (
    COMPONENT_PERMUTATIONS as COMPONENT_PERMUTATIONS,
)
from parity.suite.checks.components import (
    ComponentMatchResult,
    ComponentPair,
    ComponentResult,
    check_components,
)
from parity.suite.checks.coverage import CoverageResult, MissingRun, check_coverage
from parity.suite.checks.equivalence import EquivalenceResult, MetricTest, check_equivalence
from parity.suite.checks.judge import SuiteVerdict, judge
from parity.suite.checks.reasons import MAX_REASONS as MAX_REASONS
from parity.suite.checks.samples import ArrayLoader as ArrayLoader
from parity.suite.checks.samples import load_samples_npz
from parity.suite.checks.shortcuts import EMPTY_SHA256 as EMPTY_SHA256
from parity.suite.checks.shortcuts import FileCoincidence, SeedCoincidence
from parity.suite.checks.stability import (
    DecisionFlip as DecisionFlip,
)
from parity.suite.checks.stability import (
    GroupVerdict,
    Mismatch,
    SignFlip,
    StabilityResult,
    check_stability,
)
from parity.suite.checks.validity import ValidityFinding, ValidityResult, check_validity

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
