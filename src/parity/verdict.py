"""``compare()``: does an optimized policy act like the original? One verdict with its numbers.

The verdict is

* ``fail`` when the family two-sample test (min-p over the statistics, on shared permutations)
  rejects at ``alpha``, or an embodied metric (jerk, motion energy, path length) regressed;
* ``inconclusive`` when nothing failed but the data cannot support a pass: fewer than
  ``min_samples`` action samples on a side, a smallest attainable p-value above ``alpha`` (no
  result could have rejected), an embodied metric whose CI straddles its tolerance band, or a
  test too insensitive for the shift asked about: its minimum detectable shift (80% power at
  ``alpha``, :func:`parity.stats.sensitivity.min_detectable_effect`) above
  ``max_detectable_shift``;
* ``pass`` otherwise.

The sensitivity (smallest detectable shift and scale change) is computed for every comparison
unless ``sensitivity=False``; it is simulated at no more than 30 rows per side, so it costs about
the same at any sample size (a few tenths of a second; see ``benchmarks/two_sample.py``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parity import __version__
from parity.errors import ExitCode, ParityInputError, check_positive_int, check_probability
from parity.stats._common import ResultMixin, as_samples, check_same_dim, to_jsonable
from parity.stats.permutation import STATISTIC_LABELS, STATISTICS, TwoSampleTestResult
from parity.stats.sensitivity import SensitivityResult, record_without_time
from parity.trajectory.embodied import EMBODIED_METRICS, EmbodiedResult

VERDICTS = ("pass", "fail", "inconclusive")
EXIT_CODES = {"pass": ExitCode.PASS, "fail": ExitCode.FAIL, "inconclusive": ExitCode.INCONCLUSIVE}
MIN_SAMPLES = 20
MAX_DETECTABLE_SHIFT = 0.5  # reference σ; a pass that could only detect larger shifts is unsure


@dataclass(frozen=True, slots=True)
class ParityVerdict(ResultMixin):
    """The answer of :func:`compare`: a verdict, the reasons for it and every number behind it.

    ``sensitivity`` holds the smallest shift and scale change the test detects with 80% power
    (None when not computed); its wall time is left out of ``to_dict()`` and ``to_json()``.
    """

    verdict: str
    alpha: float
    family_pvalue: float
    two_sample: TwoSampleTestResult
    embodied: dict[str, EmbodiedResult]
    reasons: tuple[str, ...]
    inputs: dict[str, Any]
    settings: dict[str, Any]
    seed: int | None
    version: str = __version__
    warnings: tuple[str, ...] = field(default=())
    sensitivity: SensitivityResult | None = None

    @property
    def exit_code(self) -> ExitCode:
        """Process exit code of this verdict: 0 pass, 1 fail, 3 inconclusive."""
        return EXIT_CODES[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        """The verdict as a JSON-safe ``dict`` (the sensitivity without its wall time)."""
        record = to_jsonable(self)
        if record["sensitivity"] is not None:
            record["sensitivity"] = record_without_time(record["sensitivity"])
        return record

    def to_json(self, indent: int | None = 2) -> str:
        """The verdict as strict JSON text (byte-identical for identical inputs and seed)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)


def array_summary(a: np.ndarray) -> dict[str, Any]:
    """Shape and sha256 of an array's float64 C-order bytes (with its shape), for the record.

    Examples
    --------
    >>> array_summary(np.zeros((2, 3)))["shape"]
    [2, 3]
    """
    data = np.ascontiguousarray(a, dtype=np.float64)
    digest = hashlib.sha256(repr(data.shape).encode() + data.tobytes()).hexdigest()
    return {"shape": list(data.shape), "sha256": digest}


def _check_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [m for m in metrics if m not in EMBODIED_METRICS]
    if unknown:
        raise ParityInputError(
            f"`embodied_metrics` must be names from {tuple(EMBODIED_METRICS)}; got {unknown!r}"
        )
    return metrics


def compare(
    reference,
    candidate,
    *,
    reference_episodes=None,
    candidate_episodes=None,
    alpha: float = 0.05,
    statistics: Sequence[str] = STATISTICS,
    n_permutations: int = 1000,
    seed: int | None = 0,
    tolerance: float = 0.10,
    dt: float = 1.0,
    embodied_metrics: Sequence[str] = tuple(EMBODIED_METRICS),
    standardize: bool = True,
    min_samples: int = MIN_SAMPLES,
    n_bootstrap: int = 9999,
    inputs: Mapping[str, Any] | None = None,
    sensitivity: bool = True,
    max_detectable_shift: float | None = MAX_DETECTABLE_SHIFT,
    **test_options: Any,
) -> ParityVerdict:
    """Decide whether a candidate policy's actions (and motion) match a reference policy's.

    Parameters
    ----------
    reference, candidate : array_like, shape (n, d) and (m, d)
        Action samples of the original and the optimized policy.
    reference_episodes, candidate_episodes : array_like, optional
        Rollouts, (episodes × T × d) or a list of (T × d) arrays, for the embodied metrics.
        Give both or neither.
    alpha : float
        Level of the family test and of the embodied checks (their CIs are at 1 − 2α).
    statistics : sequence of {"mmd", "energy", "kl"}
        Two-sample statistics, all tested on the same permutations.
    n_permutations : int
        Random permutations (exact enumeration when there are fewer distinct splits).
    seed : int or None
        Seed of every random draw; the same seed gives a byte-identical ``to_json()``.
    tolerance : float
        Embodied band: a ratio within [1/(1+tol), 1+tol] is ``ok``.
    dt : float
        Seconds between steps of the episodes.
    embodied_metrics : sequence of str
        Which of ``jerk_rms``, ``motion_energy``, ``path_length`` to check.
    standardize : bool
        Scale each action dimension by its pooled standard deviation before the test.
    min_samples : int
        Fewest action samples per side for a ``pass``; below it a non-rejection is inconclusive.
    n_bootstrap : int
        Bootstrap resamples of the embodied ratio CIs.
    inputs : mapping, optional
        Extra provenance (file names, file hashes) merged into ``inputs`` of the result.
    sensitivity : bool
        Estimate the smallest shift and scale change the test detects with 80% power at
        ``alpha`` (by simulation from the reference; recorded in ``sensitivity``).
    max_detectable_shift : float or None
        A non-rejection whose detectable shift (in reference σ, see
        :func:`parity.stats.sensitivity.min_detectable_effect`) exceeds this is
        ``inconclusive``, not ``pass``; None disables the check (as does ``sensitivity=False``).
    **test_options
        Passed to :func:`parity.stats.two_sample_test` (bandwidths, kl_bins, precision, …).

    Returns
    -------
    ParityVerdict

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref, cand = rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 0.5
    >>> compare(ref, cand, statistics=("energy",), n_permutations=199).verdict
    'fail'
    """
    from parity.stats.permutation import two_sample_test
    from parity.trajectory.embodied import compare_embodied

    alpha = check_probability("alpha", alpha)
    if alpha >= 0.5:
        raise ParityInputError(f"`alpha` must be in (0, 0.5) (CIs are at 1 − 2α); got {alpha!r}")
    for name, value in (("tolerance", tolerance), ("dt", dt)):
        if not np.isfinite(value) or value <= 0:
            raise ParityInputError(f"`{name}` must be a positive number; got {value!r}")
    min_samples = check_positive_int("min_samples", min_samples, minimum=2)
    max_detectable_shift = _check_max_shift(max_detectable_shift)
    metrics = _check_metrics(embodied_metrics)
    ref = as_samples("reference", reference)
    cand = as_samples("candidate", candidate)
    check_same_dim(ref, cand, ("reference", "candidate"))
    if (reference_episodes is None) != (candidate_episodes is None):
        raise ParityInputError(
            "`reference_episodes` and `candidate_episodes` go together; got only "
            + ("reference_episodes" if candidate_episodes is None else "candidate_episodes")
        )
    # spawn(3)'s first two children are spawn(2)'s: the test and bootstrap draws are unchanged.
    streams = np.random.SeedSequence(seed).spawn(3)
    test_rng, boot_rng, sensitivity_rng = (np.random.default_rng(s) for s in streams)

    test = two_sample_test(
        ref,
        cand,
        statistics,
        n_permutations,
        test_rng,
        standardize=standardize,
        **test_options,
    )
    embodied: dict[str, EmbodiedResult] = {}
    record = {"reference": array_summary(ref), "candidate": array_summary(cand)}
    if reference_episodes is not None and metrics:
        embodied = compare_embodied(
            reference_episodes,
            candidate_episodes,
            dt=dt,
            tolerance=tolerance,
            alpha=alpha,
            metrics=metrics,
            n_resamples=n_bootstrap,
            rng=boot_rng,
        )
        record["reference_episodes"] = _episodes_summary(reference_episodes)
        record["candidate_episodes"] = _episodes_summary(candidate_episodes)
    for key, extra in (inputs or {}).items():
        record[key] = {**record.get(key, {}), **extra}

    sens = None
    if sensitivity:
        options = {"standardize": standardize, **test_options}
        sens = _sensitivity(
            ref, cand.shape[0], test, alpha, n_permutations, sensitivity_rng, options
        )
    verdict, reasons = decide(
        test,
        embodied,
        alpha,
        min_samples,
        sensitivity=sens,
        max_detectable_shift=max_detectable_shift,
    )
    warnings = test.warnings + tuple(w for r in embodied.values() for w in r.warnings)
    warnings += () if sens is None else sens.warnings
    return ParityVerdict(
        verdict=verdict,
        alpha=alpha,
        family_pvalue=test.pvalue,
        two_sample=test,
        embodied=embodied,
        reasons=reasons,
        inputs=record,
        settings={
            "statistics": list(test.results),
            "n_permutations": int(n_permutations),
            "tolerance": float(tolerance),
            "dt": float(dt),
            "standardize": bool(standardize),
            "min_samples": min_samples,
            "n_bootstrap": int(n_bootstrap),
            "sensitivity": bool(sensitivity),
            "max_detectable_shift": max_detectable_shift,
            **{k: _plain(v) for k, v in test_options.items()},
        },
        seed=seed,
        warnings=warnings,
        sensitivity=sens,
    )


def _check_max_shift(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ParityInputError(
            f"`max_detectable_shift` must be a positive number of σ or None; got {value!r}"
        )
    if not np.isfinite(value):
        raise ParityInputError(f"`max_detectable_shift` must be finite or None; got {value!r}")
    return float(value)


def _sensitivity(ref, m, test, alpha, n_permutations, rng, options) -> SensitivityResult:
    """The test's minimum detectable effects, simulated with its own statistics and options.

    Each simulated test uses the real test's number of random splits, at most ⌈10/α⌉ − 1 (a
    Monte Carlo test with fewer splits has slightly less power, so this errs on the safe side).
    """
    import warnings as _warnings

    from parity.errors import ParityWarning
    from parity.stats.sensitivity import MIN_SPLITS_PER_LEVEL, min_detectable_effect

    splits = min(int(n_permutations), math.ceil(MIN_SPLITS_PER_LEVEL / alpha - 1e-9) - 1)
    with _warnings.catch_warnings():  # recorded in the result's warnings
        _warnings.simplefilter("ignore", ParityWarning)
        return min_detectable_effect(
            ref,
            m,
            alpha=alpha,
            statistics=tuple(test.results),
            n_permutations=splits,
            rng=rng,
            **options,
        )


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _episodes_summary(episodes) -> dict[str, Any]:
    if isinstance(episodes, np.ndarray) and episodes.ndim == 3:
        return array_summary(episodes)
    parts = [np.ascontiguousarray(e, dtype=np.float64) for e in episodes]
    digest = hashlib.sha256()
    for p in parts:
        digest.update(repr(p.shape).encode() + p.tobytes())
    return {
        "episodes": len(parts),
        "lengths": [p.shape[0] for p in parts],
        "sha256": digest.hexdigest(),
    }


def decide(
    test: TwoSampleTestResult,
    embodied: Mapping[str, EmbodiedResult],
    alpha: float,
    min_samples: int = MIN_SAMPLES,
    *,
    sensitivity: SensitivityResult | None = None,
    max_detectable_shift: float | None = None,
) -> tuple[str, tuple[str, ...]]:
    """The verdict and its reasons, as plain sentences, from the test and embodied results.

    When the test does not reject and ``sensitivity`` says it could only detect shifts above
    ``max_detectable_shift`` (σ), that is a reason for ``inconclusive``; a ``fail`` stays one.

    Examples
    --------
    >>> from parity.stats.permutation import two_sample_test
    >>> rng = np.random.default_rng(1)
    >>> res = two_sample_test(rng.normal(size=50), rng.normal(size=50) + 2, "energy", 99, 0)
    >>> decide(res, {}, 0.05)[0]
    'fail'
    """
    failed, unsure, notes = [], [], []
    n, m = test.n_x, test.n_y
    if test.pvalue < alpha:
        for name, r in test.results.items():
            if r.pvalue < alpha:
                failed.append(
                    f"{STATISTIC_LABELS[name]} differs (p = {r.pvalue:.3g} < {alpha:g}): "
                    "the optimized policy's actions are distributed differently"
                )
        failed.append(
            f"the family test over {', '.join(test.results)} rejects "
            f"(min-p adjusted p = {test.pvalue:.3g} < {alpha:g}, n = {n} vs {m})"
        )
    else:
        if min(n, m) < min_samples:
            unsure.append(
                f"too little data: {n} reference and {m} candidate action samples; a pass needs "
                f"at least {min_samples} per side"
            )
        if test.min_attainable_pvalue >= alpha:
            unsure.append(
                f"too little data: the smallest p-value these {test.n_resamples} splits can give "
                f"is {test.min_attainable_pvalue:.3g} ≥ {alpha:g}, so no difference could be "
                "detected"
            )
        if too_insensitive(sensitivity, max_detectable_shift):
            unsure.append(insensitivity_reason(sensitivity, max_detectable_shift))
        notes.append(
            f"no statistic detects a difference in the action distributions "
            f"(family p = {test.pvalue:.3g} ≥ {alpha:g}, n = {n} vs {m}, "
            f"{test.n_resamples} {'splits' if test.exact else 'permutations'})"
        )
    for r in embodied.values():
        {"regressed": failed, "inconclusive": unsure}.get(r.status, notes).append(r.reason)
    if failed:
        return "fail", tuple(failed + unsure + notes)
    if unsure:
        return "inconclusive", tuple(unsure + notes)
    return "pass", tuple(notes)


def too_insensitive(sensitivity: SensitivityResult | None, max_shift: float | None) -> bool:
    """Whether the detectable shift exceeds ``max_shift`` (False when either is None).

    Examples
    --------
    >>> too_insensitive(None, 0.5)
    False
    """
    return sensitivity is not None and max_shift is not None and sensitivity.shift > max_shift


def insensitivity_reason(sensitivity: SensitivityResult, max_shift: float) -> str:
    """The sentence saying that the test could not detect the shift asked about."""
    s = sensitivity
    design = f"{100 * s.power:g}% power at α = {s.alpha:g}, n = {s.n_x} vs {s.n_y}"
    if not s.shift_detectable:
        return (
            f"this test could not detect any shift up to {s.max_shift:g}σ ({design}), let alone "
            f"the {max_shift:g}σ you asked for; more samples needed"
        )
    shown = next(
        f"{s.shift:.{k}g}" for k in (2, 3, 4, 17) if f"{s.shift:.{k}g}" != f"{max_shift:g}"
    )
    return (
        f"this test could only detect shifts ≥ {shown}σ ({design}), above the "
        f"{max_shift:g}σ you asked for; more samples needed"
    )


__all__ = [
    "MAX_DETECTABLE_SHIFT",
    "VERDICTS",
    "ParityVerdict",
    "array_summary",
    "compare",
    "decide",
    "insensitivity_reason",
    "too_insensitive",
]
