"""Pure numerics: arrays in, frozen results out; no I/O, printing or plotting.

* two-sample statistics and the permutation engine: :func:`mmd2`, :func:`energy_distance`,
  :func:`binned_kl`, :func:`two_sample_test`; for millions of samples the linear-time
  :func:`rff_two_sample_test` (random Fourier features, streamed permutations); the smallest
  shift and scale change the test detects: :func:`min_detectable_effect`;
* conditional and text parity: :func:`conditional_two_sample_test` (same observations, labels
  permuted within each), :func:`text_two_sample_test` (completions, Hamming or n-gram kernel,
  prompt-stratified);
* equivalence: :func:`tost`, :func:`tost_from_summary`, :func:`noninferiority`,
  :func:`superiority`, :func:`posterior_equivalence`, :func:`attainability`;
* multiple testing: :func:`holm`, :func:`bonferroni`, :func:`benjamini_hochberg`;
* paired differences: :func:`sign_flip_test` (exact for up to 20 non-zero differences);
* coincidences against chance: :func:`same_seed_matches_test` (same-seed matches against a
  random re-pairing of the seeds), :func:`identical_runs_test` (one system's runs all equal);
* bootstrap: :func:`bootstrap_ci`, :func:`bootstrap_ratio_of_means`, and the benchmark
  aggregates over tasks × runs (:func:`iqm`, :func:`optimality_gap`,
  :func:`probability_of_improvement`, :func:`aggregate_ci`, :func:`probability_of_improvement_ci`;
  mean and median in :mod:`parity.stats.aggregates`);
* intervals and ranks: :func:`clopper_pearson`, :func:`wilson`, :func:`auc`,
  :func:`otsu_threshold`.

Every interval of a result (``confidence_interval``, an equivalence region's ``bounds``, ...)
is an :class:`Interval`: a ``(low, high)`` tuple with ``.low`` and ``.high``.
"""

from __future__ import annotations

from parity.stats._common import Interval
from parity.stats.aggregates import (
    aggregate_ci,
    iqm,
    optimality_gap,
    probability_of_improvement,
    probability_of_improvement_ci,
)
from parity.stats.bootstrap import (
    BootstrapResult,
    RatioResult,
    bootstrap_ci,
    bootstrap_ratio_of_means,
)
from parity.stats.coincidence import (
    IdenticalRunsResult,
    SameSeedMatchesResult,
    identical_runs_test,
    same_seed_matches_test,
)
from parity.stats.conditional import conditional_two_sample_test
from parity.stats.equivalence import (
    AttainabilityResult,
    OneSidedResult,
    OneSidedTest,
    PosteriorResult,
    TOSTResult,
    attainability,
    noninferiority,
    posterior_equivalence,
    superiority,
    tost,
    tost_from_summary,
)
from parity.stats.intervals import ProportionInterval, clopper_pearson, wilson
from parity.stats.multiple import benjamini_hochberg, bonferroni, holm
from parity.stats.permutation import StatisticResult, TwoSampleTestResult, two_sample_test
from parity.stats.ranking import AUCResult, auc
from parity.stats.rff import rff_two_sample_test
from parity.stats.sensitivity import (
    DetectableEffect,
    PowerCurve,
    SensitivityResult,
    min_detectable_effect,
)
from parity.stats.sign_flip import SignFlipResult, sign_flip_test
from parity.stats.text import text_two_sample_test
from parity.stats.thresholds import ThresholdResult, otsu_threshold
from parity.stats.two_sample import binned_kl, energy_distance, mmd2

__all__ = [
    "AUCResult",
    "AttainabilityResult",
    "BootstrapResult",
    "DetectableEffect",
    "IdenticalRunsResult",
    "Interval",
    "OneSidedResult",
    "OneSidedTest",
    "PosteriorResult",
    "PowerCurve",
    "ProportionInterval",
    "RatioResult",
    "SameSeedMatchesResult",
    "SensitivityResult",
    "SignFlipResult",
    "StatisticResult",
    "TOSTResult",
    "ThresholdResult",
    "TwoSampleTestResult",
    "aggregate_ci",
    "attainability",
    "auc",
    "benjamini_hochberg",
    "binned_kl",
    "bonferroni",
    "bootstrap_ci",
    "bootstrap_ratio_of_means",
    "clopper_pearson",
    "conditional_two_sample_test",
    "energy_distance",
    "holm",
    "identical_runs_test",
    "iqm",
    "min_detectable_effect",
    "mmd2",
    "noninferiority",
    "optimality_gap",
    "otsu_threshold",
    "posterior_equivalence",
    "probability_of_improvement",
    "probability_of_improvement_ci",
    "rff_two_sample_test",
    "same_seed_matches_test",
    "sign_flip_test",
    "superiority",
    "text_two_sample_test",
    "tost",
    "tost_from_summary",
    "two_sample_test",
    "wilson",
]
