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

from importlib import import_module
from typing import Any

#: Public name → the module of ``parity.stats`` that defines it, imported on first use (a
#: command that runs one test does not pay for the import of every module).
_EXPORTS = {
    "AUCResult": "ranking",
    "AttainabilityResult": "equivalence",
    "BootstrapResult": "bootstrap",
    "DetectableEffect": "sensitivity",
    "IdenticalRunsResult": "coincidence",
    "Interval": "_common",
    "OneSidedResult": "equivalence",
    "OneSidedTest": "equivalence",
    "PosteriorResult": "equivalence",
    "PowerCurve": "sensitivity",
    "ProportionInterval": "intervals",
    "RatioResult": "bootstrap",
    "SameSeedMatchesResult": "coincidence",
    "SensitivityResult": "sensitivity",
    "SignFlipResult": "sign_flip",
    "StatisticResult": "permutation",
    "TOSTResult": "equivalence",
    "ThresholdResult": "thresholds",
    "TwoSampleTestResult": "permutation",
    "aggregate_ci": "aggregates",
    "attainability": "equivalence",
    "auc": "ranking",
    "benjamini_hochberg": "multiple",
    "binned_kl": "two_sample",
    "bonferroni": "multiple",
    "bootstrap_ci": "bootstrap",
    "bootstrap_ratio_of_means": "bootstrap",
    "clopper_pearson": "intervals",
    "conditional_two_sample_test": "conditional",
    "energy_distance": "two_sample",
    "holm": "multiple",
    "identical_runs_test": "coincidence",
    "iqm": "aggregates",
    "min_detectable_effect": "sensitivity",
    "mmd2": "two_sample",
    "noninferiority": "equivalence",
    "optimality_gap": "aggregates",
    "otsu_threshold": "thresholds",
    "posterior_equivalence": "equivalence",
    "probability_of_improvement": "aggregates",
    "probability_of_improvement_ci": "aggregates",
    "rff_two_sample_test": "rff",
    "same_seed_matches_test": "coincidence",
    "sign_flip_test": "sign_flip",
    "superiority": "equivalence",
    "text_two_sample_test": "text",
    "tost": "equivalence",
    "tost_from_summary": "equivalence",
    "two_sample_test": "permutation",
    "wilson": "intervals",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f"parity.stats.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'parity.stats' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
