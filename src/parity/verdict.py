"""``compare()``: does an optimized policy act like the original? One verdict with its numbers.

The verdict is

* ``fail`` when the family two-sample test (min-p over the statistics, on shared permutations)
  rejects at ``alpha``, or an embodied metric (jerk, motion energy, path length) regressed (its
  ratio CI lies above ``1 + tolerance``);
* ``inconclusive`` when nothing failed but the data cannot support a pass: fewer than
  ``min_samples`` action samples on a side, a smallest attainable p-value above ``alpha`` (no
  result could have rejected), an embodied metric whose CI straddles ``1 + tolerance`` (or,
  with ``embodied="equivalence"``, either edge of its tolerance band), or a
  test too insensitive for the shift asked about: its minimum detectable shift (80% power at
  ``alpha``, :func:`parity.stats.sensitivity.min_detectable_effect`; within-observation σ for
  the by-observation design) above ``max_detectable_shift``;
* ``pass`` otherwise.

The sensitivity (smallest detectable shift, scale change and bump; for text, token-change rate
and prompt-swap share) is computed for every comparison unless ``sensitivity=False``, with the
design's own engine; it is simulated at no more than 30 rows per side (and 32 observations or
prompts), so it costs about the same at any sample size. Only the shift has a threshold: the
bump and the text effects are reported (what a pass could not have seen), not gated on.
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
from parity.errors import (
    ExitCode,
    ParityInputError,
    check_positive_int,
    check_probability,
    check_seed,
)
from parity.stats._common import ResultMixin, as_samples, check_same_dim
from parity.stats._engine import DEFAULT_AGGREGATION, check_aggregation
from parity.stats.permutation import STATISTIC_LABELS, STATISTICS, TwoSampleTestResult
from parity.stats.sensitivity import SensitivityResult
from parity.trajectory.embodied import EMBODIED_METRICS, EmbodiedResult

VERDICTS = ("pass", "fail", "inconclusive")
EXIT_CODES = {"pass": ExitCode.PASS, "fail": ExitCode.FAIL, "inconclusive": ExitCode.INCONCLUSIVE}
MIN_SAMPLES = 20
MAX_DETECTABLE_SHIFT = 0.5  # reference σ; a pass that could only detect larger shifts is unsure


@dataclass(frozen=True, slots=True)
class ParityVerdict(ResultMixin):
    """The answer of :func:`compare`: a verdict, the reasons for it and every number behind it.

    ``sensitivity`` holds the smallest effects the test detects with 80% power (None when not
    computed).
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

    def to_json(self, indent: int | None = 2) -> str:
        """The verdict as strict JSON text, floats to 12 significant digits
        (:func:`parity.io.json_dumps`): byte-identical for identical inputs and seed, whatever
        the BLAS thread count."""
        from parity.io import json_dumps

        return json_dumps(self.to_dict(), indent=indent)


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
    method: str = "auto",
    device: str | None = None,
    by_observation: bool = False,
    aggregation: str = DEFAULT_AGGREGATION,
    embodied: str = "regression",
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
        Embodied tolerance: a ratio CI above 1 + tol is a regression (see ``embodied``).
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
        Estimate the smallest shift, scale change and bump the test detects with 80% power at
        ``alpha`` (by simulation from the reference with the design's engine; recorded in
        ``sensitivity``).
    max_detectable_shift : float or None
        A non-rejection whose detectable shift (in reference σ, see
        :func:`parity.stats.sensitivity.min_detectable_effect`; by observation in
        within-observation σ, :func:`parity.stats.sensitivity.conditional_min_detectable_effect`)
        exceeds this is ``inconclusive``, not ``pass``; None disables the check (as does
        ``sensitivity=False``).
    method : {"auto", "exact", "rff"}
        Engine of the pooled test: the exact permutation engine, or the random-feature MMD
        (:func:`parity.stats.rff.rff_two_sample_test`, MMD only) for millions of samples.
        ``auto`` takes the exact engine up to ``n + m = 20000`` (``EXACT_MAX_POOLED``) and says
        in the reasons when it switches.
    device : str, optional
        ``"cpu"`` or ``"cuda[:i]"`` runs the engine's products with torch on that device
        (``pip install 'parity[torch]'``); None uses numpy.
    by_observation : bool
        ``reference`` and ``candidate`` are (observations × k × d) actions on the same
        observations: test with :func:`parity.stats.conditional_two_sample_test` (labels
        permuted within each observation); the sensitivity is simulated with that engine.
    aggregation : {"agg", "fuse", "sum"}
        How the MMD uses its kernel collection, in every engine (see
        :func:`parity.stats.two_sample_test`); recorded in ``settings``.
    embodied : {"regression", "equivalence"}
        How the embodied ratio CIs decide (:func:`parity.trajectory.compare_embodied`):
        ``"regression"`` fails a rise beyond 1 + tol and passes anything at most 1 + tol (a
        fall below 1/(1 + tol) is reported as ``changed``); ``"equivalence"`` passes only a
        CI inside [1/(1 + tol), 1 + tol]. Recorded in ``settings["embodied"]``.
    **test_options
        Passed to the test (bandwidths, kl_bins, precision, n_features, …).

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
    from parity.trajectory.embodied import check_rule, compare_embodied

    alpha = check_probability("alpha", alpha)
    rule = check_rule(embodied)
    if alpha >= 0.5:
        raise ParityInputError(f"`alpha` must be in (0, 0.5) (CIs are at 1 − 2α); got {alpha!r}")
    for name, value in (("tolerance", tolerance), ("dt", dt)):
        if not np.isfinite(value) or value <= 0:
            raise ParityInputError(f"`{name}` must be a positive number; got {value!r}")
    min_samples = check_positive_int("min_samples", min_samples, minimum=2)
    seed = None if seed is None else check_seed("seed", seed)
    max_detectable_shift = _check_max_shift(max_detectable_shift)
    metrics = _check_metrics(embodied_metrics)
    if method not in METHODS:
        raise ParityInputError(f"`method` must be one of {METHODS}; got {method!r}")
    if by_observation:
        ref = np.asarray(reference, dtype=np.float64)
        cand = np.asarray(candidate, dtype=np.float64)
    else:
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

    engine, statistics, switch_note = choose_engine(
        method, ref.shape[0] + cand.shape[0], statistics, by_observation
    )
    run_test = ENGINES[engine]()
    if device is not None and engine == "conditional":
        raise ParityInputError(
            "`device` runs the pooled engines; the by-observation test runs on numpy; "
            f"got device={device!r}"
        )
    aggregation = check_aggregation(aggregation)
    test_options = {**test_options, "aggregation": aggregation}
    if device is not None:
        test_options = {**test_options, "device": device}
    test = run_test(
        ref, cand, statistics, n_permutations, test_rng, standardize=standardize, **test_options
    )
    motion: dict[str, EmbodiedResult] = {}
    record = {"reference": array_summary(ref), "candidate": array_summary(cand)}
    if reference_episodes is not None and metrics:
        motion = compare_embodied(
            reference_episodes,
            candidate_episodes,
            dt=dt,
            tolerance=tolerance,
            alpha=alpha,
            metrics=metrics,
            n_resamples=n_bootstrap,
            rng=boot_rng,
            rule=rule,
        )
        record["reference_episodes"] = _episodes_summary(reference_episodes)
        record["candidate_episodes"] = _episodes_summary(candidate_episodes)
    for key, extra in (inputs or {}).items():
        record[key] = {**record.get(key, {}), **extra}

    sens = None
    if sensitivity:
        options = {"standardize": standardize}
        shared = test_options if by_observation else exact_engine_options()
        options.update({k: v for k, v in test_options.items() if k in shared})
        size = cand.shape[1] if by_observation else cand.shape[0]
        sens = _sensitivity(
            "conditional" if by_observation else "pooled",
            ref,
            size,
            test,
            alpha,
            n_permutations,
            sensitivity_rng,
            options,
        )
    verdict, reasons = decide(
        test,
        motion,
        alpha,
        min_samples,
        sensitivity=sens,
        max_detectable_shift=max_detectable_shift,
    )
    if switch_note:
        reasons += (switch_note,)
    warnings = test.warnings + tuple(w for r in motion.values() for w in r.warnings)
    warnings += () if sens is None else sens.warnings
    return ParityVerdict(
        verdict=verdict,
        alpha=alpha,
        family_pvalue=test.pvalue,
        two_sample=test,
        embodied=motion,
        reasons=reasons,
        inputs=record,
        settings={
            "statistics": list(test.results),
            "n_permutations": int(n_permutations),
            "tolerance": float(tolerance),
            "embodied": rule,
            "dt": float(dt),
            "standardize": bool(standardize),
            "min_samples": min_samples,
            "n_bootstrap": int(n_bootstrap),
            "sensitivity": bool(sensitivity),
            "max_detectable_shift": max_detectable_shift,
            "method": method,
            "engine": engine,
            "by_observation": bool(by_observation),
            **{k: _plain(v) for k, v in test_options.items()},
        },
        seed=seed,
        warnings=warnings,
        sensitivity=sens,
    )


def compare_text(
    reference,
    candidate,
    *,
    reference_prompts=None,
    candidate_prompts=None,
    kernel: str = "hamming",
    aggregation: str = DEFAULT_AGGREGATION,
    ngram: int = 3,
    alpha: float = 0.05,
    n_permutations: int = 1000,
    seed: int | None = 0,
    min_samples: int = MIN_SAMPLES,
    inputs: Mapping[str, Any] | None = None,
    sensitivity: bool = True,
) -> ParityVerdict:
    """Decide whether a candidate LLM serves the same completion distribution as a reference.

    The samples are completions (strings) or token-id sequences, optionally with the prompt of
    each; with prompts the MMD² is prompt-stratified (:func:`parity.stats.text_two_sample_test`).
    The verdict follows :func:`decide`: ``fail`` when the test rejects at ``alpha``,
    ``inconclusive`` with fewer than ``min_samples`` completions a side or when no split could
    reject, else ``pass``. With ``sensitivity`` the smallest token-change rate and (with
    prompts) prompt-swap share the test detects with 80% power are simulated with the same
    engine (:func:`parity.stats.sensitivity.text_min_detectable_effect`) and reported; no
    detectability threshold applies to text (a shift in σ has no meaning for it), so they do
    not change the verdict.

    Examples
    --------
    >>> ref = ["the cat sat", "a dog ran", "the cat ran"] * 10
    >>> cand = ["THE CAT SAT", "A DOG RAN", "THE CAT RAN"] * 10
    >>> compare_text(ref, cand, kernel="ngram", n_permutations=199).verdict
    'fail'
    """
    from parity.stats.text import text_two_sample_test

    alpha = check_probability("alpha", alpha)
    min_samples = check_positive_int("min_samples", min_samples, minimum=2)
    seed = None if seed is None else check_seed("seed", seed)
    # spawn(2)'s first child is spawn(1)'s: the test's draws do not depend on the sensitivity.
    rng, sensitivity_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    test = text_two_sample_test(
        reference,
        candidate,
        reference_prompts=reference_prompts,
        candidate_prompts=candidate_prompts,
        kernel=kernel,
        aggregation=aggregation,
        ngram=ngram,
        n_permutations=n_permutations,
        rng=rng,
    )
    record = {
        "reference": _text_summary(reference, reference_prompts),
        "candidate": _text_summary(candidate, candidate_prompts),
    }
    for key, extra in (inputs or {}).items():
        record[key] = {**record.get(key, {}), **extra}
    verdict, reasons = decide(test, {}, alpha, min_samples)
    sens = None
    if sensitivity:
        sens = _sensitivity(
            "text",
            reference,
            len(candidate),
            test,
            alpha,
            n_permutations,
            sensitivity_rng,
            {"kernel": kernel, "ngram": ngram},
            prompts=(reference_prompts, candidate_prompts),
        )
    return ParityVerdict(
        verdict=verdict,
        alpha=alpha,
        family_pvalue=test.pvalue,
        two_sample=test,
        embodied={},
        reasons=reasons,
        inputs=record,
        settings={
            "statistics": list(test.results),
            "n_permutations": int(n_permutations),
            "kernel": kernel,
            "aggregation": check_aggregation(aggregation),
            "ngram": int(ngram),
            "min_samples": min_samples,
            "sensitivity": bool(sensitivity),
            "engine": "text",
        },
        seed=seed,
        warnings=test.warnings + (() if sens is None else sens.warnings),
        sensitivity=sens,
    )


def _text_summary(samples, prompts) -> dict[str, Any]:
    digest = hashlib.sha256(
        json.dumps(
            [
                [] if prompts is None else [str(p) for p in prompts],
                [s if isinstance(s, str) else [int(t) for t in s] for s in samples],
            ]
        ).encode()
    )
    summary: dict[str, Any] = {"completions": len(samples), "sha256": digest.hexdigest()}
    if prompts is not None:
        summary["prompts"] = len({str(p) for p in prompts})
    return summary


def choose_engine(
    method: str, n_total: int, statistics: Sequence[str] | str, by_observation: bool = False
) -> tuple[str, tuple[str, ...], str | None]:
    """The engine (``exact``, ``rff`` or ``conditional``), the statistics it tests, and the
    sentence saying why when ``auto`` switched to random features.

    Examples
    --------
    >>> choose_engine("auto", 2_000_000, ("mmd", "energy"))[:2]
    ('rff', ('mmd',))
    >>> choose_engine("auto", 400, ("mmd", "energy"))
    ('exact', ('mmd', 'energy'), None)
    """
    from parity.stats.rff import EXACT_MAX_POOLED

    statistics = (statistics,) if isinstance(statistics, str) else tuple(statistics)
    if by_observation:
        if statistics == STATISTICS:  # "all": all that the conditional test has
            statistics = tuple(s for s in statistics if s != "kl")
        if method == "rff":
            raise ParityInputError(
                "`method` 'rff' is for pooled samples; the by-observation test is exact "
                "(its kernel blocks are small); got method='rff' with by_observation=True"
            )
        return "conditional", statistics, None
    if method == "exact" or (method == "auto" and n_total <= EXACT_MAX_POOLED):
        return "exact", statistics, None
    others = [s for s in statistics if s != "mmd"]
    if method == "rff":
        if others:
            raise ParityInputError(
                f"`method` 'rff' tests the MMD only; got statistics {statistics} "
                "(drop the others, or use method='exact')"
            )
        return "rff", statistics, None
    dropped = f"; {', '.join(others)} need the exact engine and were not tested" if others else ""
    note = (
        f"n + m = {n_total:,} exceeds {EXACT_MAX_POOLED:,}, where the exact engine's time "
        "(quadratic in n + m) passes a minute: tested with the random-feature MMD (method 'rff')"
        f"{dropped}; method='exact' (--method exact) forces the exact engine"
    )
    return "rff", ("mmd",), note


def _exact_engine():
    from parity.stats.permutation import two_sample_test

    return two_sample_test


def _rff_engine():
    from parity.stats.rff import rff_two_sample_test

    def run(x, y, statistics, n_permutations, rng, **options):
        return rff_two_sample_test(x, y, n_permutations, rng, **options)

    return run


def _conditional_engine():
    from parity.stats.conditional import conditional_two_sample_test

    return conditional_two_sample_test


ENGINES = {"exact": _exact_engine, "rff": _rff_engine, "conditional": _conditional_engine}
METHODS = ("auto", "exact", "rff")


def exact_engine_options() -> frozenset[str]:
    """Test options that the pooled sensitivity simulation (the exact engine on small subsets,
    on numpy) shares with the test: every keyword of
    :func:`parity.stats.permutation.two_sample_test` but the device (random-feature options
    such as ``n_features`` are left out).

    Examples
    --------
    >>> {"bandwidths", "kl_bins"} <= exact_engine_options(), "device" in exact_engine_options()
    (True, False)
    """
    import inspect

    from parity.stats.permutation import two_sample_test

    keywords = inspect.signature(two_sample_test).parameters
    return frozenset(keywords) - {"x", "y", "statistics", "n_permutations", "rng", "device"}


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


def _sensitivity(
    design, ref, m, test, alpha, n_permutations, rng, options, prompts=(None, None)
) -> SensitivityResult:
    """The test's minimum detectable effects, simulated with its own design, statistics and
    options: ``pooled`` (``m`` candidate rows), ``conditional`` (``m`` candidate samples per
    observation) or ``text`` (``m`` candidate completions, ``prompts`` of both sides).

    Each simulated test uses the real test's number of random splits, at most ⌈10/α⌉ − 1 (a
    Monte Carlo test with fewer splits has slightly less power, so this errs on the safe side).
    """
    import warnings as _warnings

    from parity.errors import ParityWarning
    from parity.stats import sensitivity as sim

    splits = min(int(n_permutations), math.ceil(sim.MIN_SPLITS_PER_LEVEL / alpha - 1e-9) - 1)
    common = {"alpha": alpha, "n_permutations": splits, "rng": rng}
    with _warnings.catch_warnings():  # recorded in the result's warnings
        _warnings.simplefilter("ignore", ParityWarning)
        if design == "text":
            return sim.text_min_detectable_effect(
                ref,
                m,
                reference_prompts=prompts[0],
                candidate_prompts=prompts[1],
                **common,
                **options,
            )
        run = (
            sim.conditional_min_detectable_effect
            if design == "conditional"
            else sim.min_detectable_effect
        )
        return run(ref, m, statistics=tuple(test.results), **common, **options)


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
        differing = differing_statistics(
            {name: r.pvalue for name, r in test.results.items()}, test.pvalue, alpha
        )
        for name, r in test.results.items():
            if name in differing:
                failed.append(
                    f"{STATISTIC_LABELS.get(name, name)} differs (p = {r.pvalue:.3g} < "
                    f"{alpha:g}): {DIFFERENCE.get(test.details.get('design'), DIFFERENCE[None])}"
                )
        failed.append(
            f"the family test over {', '.join(test.results)} rejects "
            f"(min-p adjusted p = {test.pvalue:.3g} < {alpha:g}, n = {n} vs {m})"
        )
    else:
        if min(n, m) < min_samples:
            unsure.append(
                f"too little data: {n} reference and {m} candidate {_noun(test)}; a pass needs "
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
            f"no statistic detects a difference in the {_noun(test).split()[0]} distributions "
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


def differing_statistics(
    pvalues: Mapping[str, float], family_pvalue: float, alpha: float
) -> tuple[str, ...]:
    """The statistics shown to differ after the family's Westfall–Young min-p adjustment.

    None when the family does not reject (``family_pvalue ≥ alpha``): a statistic's own
    unadjusted p below α is then no evidence of a difference. When it rejects, the statistic(s)
    with the smallest unadjusted p have the family p as their adjusted p (single-step min-p),
    so they differ; another statistic differs when its adjusted p is below α, which is certain
    when ``k·p < α`` for ``k`` statistics (its single-step adjusted p is at most ``k·p``, a
    union bound over the statistics' permutation p-values). Statistics in between are not
    claimed: their adjusted p needs the joint null, which the record does not keep.

    Examples
    --------
    A pass whose family p is 0.058 claims no statistic, whatever their own p-values:

    >>> differing_statistics({"mmd": 0.043, "energy": 0.045, "kl": 0.6}, 0.058, 0.05)
    ()
    >>> differing_statistics({"mmd": 0.004, "energy": 0.01, "kl": 0.03}, 0.009, 0.05)
    ('mmd', 'energy')
    """
    if not family_pvalue < alpha or not pvalues:
        return ()
    smallest, k = min(pvalues.values()), len(pvalues)
    return tuple(name for name, p in pvalues.items() if p == smallest or k * p < alpha)


DIFFERENCE = {
    None: "the optimized policy's actions are distributed differently",
    "conditional": "the optimized policy acts differently on the same observations",
    "prompt-stratified": "the candidate's completions are distributed differently",
    "pooled": "the candidate's completions are distributed differently",
}


def _noun(test: TwoSampleTestResult) -> str:
    return "completion samples" if test.details.get("kernel") else "action samples"


def too_insensitive(sensitivity: SensitivityResult | None, max_shift: float | None) -> bool:
    """Whether the detectable shift exceeds ``max_shift`` (False when either is None).

    Examples
    --------
    >>> too_insensitive(None, 0.5)
    False
    """
    if sensitivity is None or max_shift is None or "shift" not in sensitivity.effects:
        return False
    return sensitivity.shift > max_shift


def insensitivity_reason(sensitivity: SensitivityResult, max_shift: float) -> str:
    """The sentence saying that the test could not detect the shift asked about (in
    within-observation σ for the by-observation design)."""
    s, shift = sensitivity, sensitivity.effects["shift"]
    design = f"{100 * s.power:g}% power at α = {s.alpha:g}, {s.sizes_text()}"
    sigma = "σ within an observation" if s.design == "conditional" else "σ"
    if not shift.detectable:
        return (
            f"this test could not detect any shift up to {shift.max_value:g}{sigma} ({design}), "
            f"let alone the {max_shift:g}σ you asked for; more samples needed"
        )
    shown = next(
        f"{s.shift:.{k}g}" for k in (2, 3, 4, 17) if f"{s.shift:.{k}g}" != f"{max_shift:g}"
    )
    return (
        f"this test could only detect shifts ≥ {shown}{sigma} ({design}), above the "
        f"{max_shift:g}σ you asked for; more samples needed"
    )


__all__ = [
    "MAX_DETECTABLE_SHIFT",
    "VERDICTS",
    "ParityVerdict",
    "array_summary",
    "choose_engine",
    "compare",
    "compare_text",
    "decide",
    "differing_statistics",
    "insensitivity_reason",
    "too_insensitive",
]
