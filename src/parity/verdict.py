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

:func:`compare` and :func:`compare_text` are thin orchestrators over the same small steps: the
inputs checked (:func:`_check_options`, :func:`_action_samples`), the engine chosen
(:func:`choose_engine`, by the verdict's policy :data:`EXACT_MAX_POOLED`), the test run, the
provenance recorded (:func:`array_summary`, :func:`_provenance`), the verdict decided
(:func:`decide`) and the settings recorded. :func:`compare_files` (and
:func:`load_and_compare`) read the files first: completions or action arrays, observations
matched by id (:func:`match_observations`), each file's path and sha256 in the record.

The room of the verdict's policy (levels, minimum samples, the engine switch, the detectable
shift). May import: numpy, :mod:`parity.errors`, :mod:`parity.io` (the files, lazily),
:mod:`parity.stats` and :mod:`parity.trajectory`; never :mod:`parity.cli`,
:mod:`parity.report` or :mod:`parity.gate`.
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
)
from parity.stats._common import (
    ResultMixin,
    RngLike,
    as_samples,
    check_rng,
    check_same_dim,
    recorded_seed,
    spawn_generators,
)
from parity.stats._engine import DEFAULT_AGGREGATION, check_aggregation
from parity.stats.permutation import STATISTIC_LABELS, STATISTICS, TwoSampleTestResult
from parity.stats.sensitivity import SensitivityResult
from parity.trajectory.embodied import EMBODIED_METRICS, EmbodiedResult

VERDICTS = ("pass", "fail", "inconclusive")
EXIT_CODES = {"pass": ExitCode.PASS, "fail": ExitCode.FAIL, "inconclusive": ExitCode.INCONCLUSIVE}
MIN_SAMPLES = 20
MAX_DETECTABLE_SHIFT = 0.5  # reference σ; a pass that could only detect larger shifts is unsure
#: Largest pooled size n + m for which ``method="auto"`` takes the exact engine: its float32
#: Gram matrix is 1.6 GB there and B = 1000 splits take about 10 s on two cores; both grow as N².
EXACT_MAX_POOLED = 20_000
#: The engines a caller may ask for: ``auto`` chooses by :data:`EXACT_MAX_POOLED`.
METHODS = ("auto", "exact", "rff")
#: The default number of random splits B of the permutation tests.
N_RESAMPLES = 1000
#: The default number of bootstrap resamples of the embodied metrics' ratio intervals.
N_BOOTSTRAP = 9999


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
    n_resamples: int = N_RESAMPLES,
    rng: RngLike = 0,
    tolerance: float = 0.10,
    dt: float = 1.0,
    embodied_metrics: Sequence[str] = tuple(EMBODIED_METRICS),
    standardize: bool = True,
    min_samples: int = MIN_SAMPLES,
    n_bootstrap: int = N_BOOTSTRAP,
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
    n_resamples : int
        Random permutations (exact enumeration when there are fewer distinct splits).
    rng : None, int or numpy.random.Generator, default 0
        Source of every random draw; the same int seed gives a byte-identical ``to_json()``
        (the verdict's ``seed`` records it; ``None`` for a Generator).
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
    method : {"auto", "exact", "rff"} (case-insensitive)
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
    >>> compare(ref, cand, statistics=("energy",), n_resamples=199).verdict
    'fail'
    """
    alpha, rule, min_samples, rng, max_detectable_shift, metrics, method = _check_options(
        alpha,
        embodied,
        tolerance,
        dt,
        min_samples,
        rng,
        max_detectable_shift,
        embodied_metrics,
        method,
    )
    ref, cand = _action_samples(reference, candidate, by_observation)
    _check_episodes(reference_episodes, candidate_episodes)
    # spawn(3)'s first two children are spawn(2)'s: the test and bootstrap draws are unchanged.
    test_rng, boot_rng, sensitivity_rng = spawn_generators(rng, 3)
    engine, statistics, switch_note = choose_engine(
        method, ref.shape[0] + cand.shape[0], statistics, by_observation
    )
    test_options = _engine_options(engine, device, aggregation, test_options)
    test = ENGINES[engine]()(
        ref, cand, statistics, n_resamples, test_rng, standardize=standardize, **test_options
    )
    record = {"reference": array_summary(ref), "candidate": array_summary(cand)}
    motion: dict[str, EmbodiedResult] = {}
    if reference_episodes is not None and metrics:
        motion = _motion(
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
    sens = None
    if sensitivity:
        sens = _array_sensitivity(
            ref,
            cand,
            test,
            alpha,
            n_resamples,
            sensitivity_rng,
            standardize,
            test_options,
            by_observation,
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
    settings = _array_settings(
        test,
        n_resamples=n_resamples,
        tolerance=tolerance,
        embodied=rule,
        dt=dt,
        standardize=standardize,
        min_samples=min_samples,
        n_bootstrap=n_bootstrap,
        sensitivity=sensitivity,
        max_detectable_shift=max_detectable_shift,
        method=method,
        engine=engine,
        by_observation=by_observation,
        test_options=test_options,
    )
    return _verdict(
        verdict,
        reasons,
        test,
        motion,
        _provenance(record, inputs),
        settings,
        recorded_seed(rng),
        sens,
        alpha,
    )


# --------------------------------------------------------------------------------------------
# the steps of compare() and compare_text()


def _check_options(
    alpha, embodied, tolerance, dt, min_samples, rng, max_detectable_shift, metrics, method
) -> tuple[float, str, int, RngLike, float | None, tuple[str, ...], str]:
    """:func:`compare`'s settings checked, in the order their errors are reported: the level,
    the embodied rule, tolerance and dt, ``min_samples``, the rng, the shift, the metrics and
    the method (case-insensitive; returned in lower case)."""
    from parity.trajectory.embodied import check_rule

    alpha = check_probability("alpha", alpha)
    rule = check_rule(embodied)
    if alpha >= 0.5:
        raise ParityInputError(f"`alpha` must be in (0, 0.5) (CIs are at 1 − 2α); got {alpha!r}")
    for name, value in (("tolerance", tolerance), ("dt", dt)):
        if not np.isfinite(value) or value <= 0:
            raise ParityInputError(f"`{name}` must be a positive number; got {value!r}")
    min_samples = check_positive_int("min_samples", min_samples, minimum=2)
    rng = check_rng(rng)
    max_shift = _check_max_shift(max_detectable_shift)
    metrics = _check_metrics(metrics)
    key = method.lower() if isinstance(method, str) else None
    if key not in METHODS:
        raise ParityInputError(f"`method` must be one of {METHODS}; got {method!r}")
    return alpha, rule, min_samples, rng, max_shift, metrics, key


def _action_samples(reference, candidate, by_observation: bool) -> tuple[np.ndarray, np.ndarray]:
    """Both sides as float arrays: (n × d) samples of one dimension d, or (observations × k ×
    d) by observation (checked by the conditional test)."""
    if by_observation:
        return np.asarray(reference, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    ref = as_samples("reference", reference)
    cand = as_samples("candidate", candidate)
    check_same_dim(ref, cand, ("reference", "candidate"))
    return ref, cand


def _check_episodes(reference_episodes, candidate_episodes) -> None:
    if (reference_episodes is None) != (candidate_episodes is None):
        raise ParityInputError(
            "`reference_episodes` and `candidate_episodes` go together; got only "
            + ("reference_episodes" if candidate_episodes is None else "candidate_episodes")
        )


def _engine_options(
    engine: str, device: str | None, aggregation: str, test_options: Mapping[str, Any]
) -> dict[str, Any]:
    """The test's keyword options: the caller's, the checked aggregation and the device."""
    if device is not None and engine == "conditional":
        raise ParityInputError(
            "`device` runs the pooled engines; the by-observation test runs on numpy; "
            f"got device={device!r}"
        )
    options = {**test_options, "aggregation": check_aggregation(aggregation)}
    if device is not None:
        options = {**options, "device": device}
    return options


def _motion(reference_episodes, candidate_episodes, **options) -> dict[str, EmbodiedResult]:
    from parity.trajectory.embodied import compare_embodied

    return compare_embodied(reference_episodes, candidate_episodes, **options)


def _array_sensitivity(
    ref, cand, test, alpha, n_resamples, rng, standardize, test_options, by_observation
) -> SensitivityResult:
    """The sensitivity of the action test: its options but the pooled engine's device and
    random-feature ones (by observation, all of them)."""
    shared = test_options if by_observation else exact_engine_options()
    options = {"standardize": standardize}
    options.update({k: v for k, v in test_options.items() if k in shared})
    size = cand.shape[1] if by_observation else cand.shape[0]
    design = "conditional" if by_observation else "pooled"
    return _sensitivity(design, ref, size, test, alpha, n_resamples, rng, options)


def _array_settings(
    test: TwoSampleTestResult,
    *,
    n_resamples: int,
    tolerance: float,
    embodied: str,
    dt: float,
    standardize: bool,
    min_samples: int,
    n_bootstrap: int,
    sensitivity: bool,
    max_detectable_shift: float | None,
    method: str,
    engine: str,
    by_observation: bool,
    test_options: Mapping[str, Any],
) -> dict[str, Any]:
    """The settings record of :func:`compare` (in this key order), the test's options last."""
    return {
        "statistics": list(test.results),
        "n_resamples": int(n_resamples),
        "tolerance": float(tolerance),
        "embodied": embodied,
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
    }


def _text_settings(
    test: TwoSampleTestResult,
    *,
    n_resamples: int,
    kernel: str,
    aggregation: str,
    ngram: int,
    min_samples: int,
    sensitivity: bool,
) -> dict[str, Any]:
    """The settings record of :func:`compare_text` (in this key order)."""
    return {
        "statistics": list(test.results),
        "n_resamples": int(n_resamples),
        "kernel": kernel,
        "aggregation": check_aggregation(aggregation),
        "ngram": int(ngram),
        "min_samples": min_samples,
        "sensitivity": bool(sensitivity),
        "engine": "text",
    }


def _provenance(record: dict[str, Any], inputs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The data's own summaries (shape and sha256 by role), with the caller's provenance of each
    role (file names, file hashes) merged in."""
    for key, extra in (inputs or {}).items():
        record[key] = {**record.get(key, {}), **extra}
    return record


def _verdict(
    verdict: str,
    reasons: tuple[str, ...],
    test: TwoSampleTestResult,
    motion: dict[str, EmbodiedResult],
    record: dict[str, Any],
    settings: dict[str, Any],
    seed: int | None,
    sens: SensitivityResult | None,
    alpha: float,
) -> ParityVerdict:
    """The result, its warnings collected from the test, the embodied checks and the
    sensitivity, in that order."""
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
        settings=settings,
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
    n_resamples: int = N_RESAMPLES,
    rng: RngLike = 0,
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
    >>> compare_text(ref, cand, kernel="ngram", n_resamples=199).verdict
    'fail'
    """
    from parity.stats.text import text_two_sample_test

    alpha = check_probability("alpha", alpha)
    min_samples = check_positive_int("min_samples", min_samples, minimum=2)
    rng = check_rng(rng)
    # spawn(2)'s first child is spawn(1)'s: the test's draws do not depend on the sensitivity.
    test_rng, sensitivity_rng = spawn_generators(rng, 2)
    test = text_two_sample_test(
        reference,
        candidate,
        reference_prompts=reference_prompts,
        candidate_prompts=candidate_prompts,
        kernel=kernel,
        aggregation=aggregation,
        ngram=ngram,
        n_resamples=n_resamples,
        rng=test_rng,
    )
    record = {
        "reference": _text_summary(reference, reference_prompts),
        "candidate": _text_summary(candidate, candidate_prompts),
    }
    verdict, reasons = decide(test, {}, alpha, min_samples)
    sens = None
    if sensitivity:
        sens = _sensitivity(
            "text",
            reference,
            len(candidate),
            test,
            alpha,
            n_resamples,
            sensitivity_rng,
            {"kernel": kernel, "ngram": ngram},
            prompts=(reference_prompts, candidate_prompts),
        )
    settings = _text_settings(
        test,
        n_resamples=n_resamples,
        kernel=kernel,
        aggregation=aggregation,
        ngram=ngram,
        min_samples=min_samples,
        sensitivity=sensitivity,
    )
    return _verdict(
        verdict,
        reasons,
        test,
        {},
        _provenance(record, inputs),
        settings,
        recorded_seed(rng),
        sens,
        alpha,
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

    def run(x, y, statistics, n_resamples, rng, **options):
        return rff_two_sample_test(x, y, n_resamples, rng, **options)

    return run


def _conditional_engine():
    from parity.stats.conditional import conditional_two_sample_test

    return conditional_two_sample_test


ENGINES = {"exact": _exact_engine, "rff": _rff_engine, "conditional": _conditional_engine}


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
    positional = {"reference", "candidate", "statistics", "n_resamples", "rng"}
    return frozenset(keywords) - positional - {"device"}


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
    design, ref, m, test, alpha, n_resamples, rng, options, prompts=(None, None)
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

    splits = min(int(n_resamples), math.ceil(sim.MIN_SPLITS_PER_LEVEL / alpha - 1e-9) - 1)
    common = {"alpha": alpha, "n_resamples": splits, "rng": rng}
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


# --------------------------------------------------------------------------------------------
# files


def compare_files(
    reference, candidate, reference_episodes=None, candidate_episodes=None, **options
) -> ParityVerdict:
    """Load the files named by the specs, compare them, and record their paths and hashes.

    Specs are ``FILE`` or ``FILE.npz:ARRAY`` (:func:`parity.io.parse_spec`). Two completions
    files (JSONL with ``completion`` or ``tokens``) go to :func:`compare_text`, any other
    pair to :func:`compare`; see :func:`load_and_compare`, which also returns the arrays.

    Examples
    --------
    >>> import tempfile
    >>> rng = np.random.default_rng(0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     np.save(f"{d}/ref.npy", rng.normal(size=(100, 2)))
    ...     np.save(f"{d}/cand.npy", rng.normal(size=(100, 2)) + 1)
    ...     v = compare_files(f"{d}/ref.npy", f"{d}/cand.npy", statistics=("energy",),
    ...                       n_resamples=99, sensitivity=False)
    >>> v.verdict, sorted(v.inputs["candidate"])
    ('fail', ['file_sha256', 'path', 'sha256', 'shape'])
    """
    return load_and_compare(
        reference, candidate, reference_episodes, candidate_episodes, **options
    )[0]


def load_and_compare(
    reference, candidate, reference_episodes=None, candidate_episodes=None, **options
) -> tuple[ParityVerdict, dict[str, Any]]:
    """:func:`compare_files`, returning ``(verdict, data)``: the loaded arrays by role too (for
    the HTML report's marginals, which the JSON record does not hold; empty for completions).

    1. **Dispatch.** When either file holds completions (:func:`parity.io.is_text_samples`),
       both must, and they go to :func:`compare_text` (``kernel`` defaults to ``hamming`` for
       token ids and ``ngram`` for strings); episodes and ``by_observation`` are refused there.
    2. **Load.** Action samples with :func:`parity.io.load_samples`; with
       ``by_observation=True`` (observations × k × d) with
       :func:`parity.io.load_observation_samples`, the candidate's observations put in the
       reference's order when both tables give ids (:func:`match_observations`). Both sides
       must have the same dimension d. Episodes with :func:`parity.io.load_episodes`.
    3. **Compare.** :func:`compare` with ``options``; each role's ``path`` and ``file_sha256``
       (:func:`parity.io.provenance`) are merged into the verdict's ``inputs``.

    Raises
    ------
    ParityInputError
        Naming the files: a completions file against an array file, strings against token
        ids, different dimensions, observations that do not match, and the loaders' errors.
    """
    from parity.io import is_text_samples, load_episodes, load_samples, provenance

    specs = {"reference": reference, "candidate": candidate}
    text = [is_text_samples(spec) for spec in specs.values()]
    if any(text):
        return _compare_completions(specs, text, reference_episodes, options), {}
    options.pop("kernel", None)
    if options.get("by_observation"):
        data = match_observations(reference, candidate)
    else:
        data = {key: load_samples(spec) for key, spec in specs.items()}
    if data["reference"].shape[-1] != data["candidate"].shape[-1]:
        raise ParityInputError(
            f"{reference} and {candidate}: action samples must have the same dimension d; "
            f"got {data['reference'].shape[-1]} and {data['candidate'].shape[-1]}"
        )
    if reference_episodes is not None:
        specs.update(reference_episodes=reference_episodes, candidate_episodes=candidate_episodes)
        data["reference_episodes"] = load_episodes(reference_episodes)
        data["candidate_episodes"] = load_episodes(candidate_episodes)
    inputs = {key: provenance(spec) for key, spec in specs.items()}
    return compare(**data, inputs=inputs, **options), data


#: Options of :func:`load_and_compare` that completions files pass on to :func:`compare_text`.
TEXT_OPTIONS = ("aggregation", "alpha", "n_resamples", "rng", "sensitivity")


def _compare_completions(
    specs: dict[str, str], text: list[bool], reference_episodes, options: dict[str, Any]
) -> ParityVerdict:
    """Both files as completions, compared with :func:`compare_text`.

    Parameters
    ----------
    specs : dict
        ``reference`` and ``candidate`` specs.
    text : list of bool
        Whether each holds completions; both must.
    reference_episodes : str or None
        Refused, as is ``options["by_observation"]``.
    options : dict
        The options of :func:`load_and_compare`; :data:`TEXT_OPTIONS` and ``kernel`` are used.

    Returns
    -------
    ParityVerdict
    """
    from parity.io import load_text_samples, provenance

    if not all(text):
        plain = next(spec for spec, t in zip(specs.values(), text, strict=True) if not t)
        raise ParityInputError(
            f"{plain}: the other file holds completions (JSONL with `completion` or `tokens`); "
            "both sides must be completions to compare text"
        )
    if reference_episodes is not None or options.get("by_observation"):
        raise ParityInputError(
            "completions files take neither episodes nor --paired-by-observation (prompts "
            "already stratify the test); got " + ("episodes" if reference_episodes else "both")
        )
    ref, cand = (load_text_samples(spec) for spec in specs.values())
    if ref.kind != cand.kind:
        raise ParityInputError(
            f"{specs['reference']} holds {ref.kind} and {specs['candidate']} holds {cand.kind}; "
            "compare strings with strings or token ids with token ids"
        )
    kernel = options.get("kernel") or ("hamming" if ref.kind == "tokens" else "ngram")
    inputs = {key: provenance(spec) for key, spec in specs.items()}
    return compare_text(
        ref.samples,
        cand.samples,
        reference_prompts=ref.prompts,
        candidate_prompts=cand.prompts,
        kernel=kernel,
        inputs=inputs,
        **{k: options[k] for k in TEXT_OPTIONS if k in options},
    )


def match_observations(reference: str, candidate: str) -> dict[str, np.ndarray]:
    """Both files' samples as (observations × k × d), matched by observation id when both
    tables give ids (the candidate's put in the reference's order).

    Raises
    ------
    ParityInputError
        When the files do not hold the same observations (naming up to 5 found on one side
        only) or, without ids, not the same number of them.
    """
    from parity.io import load_observation_samples

    (ref, ref_ids), (cand, cand_ids) = (load_observation_samples(s) for s in (reference, candidate))
    if ref_ids is not None and cand_ids is not None and set(ref_ids) == set(cand_ids):
        order = {obs: i for i, obs in enumerate(cand_ids)}
        cand = cand[[order[obs] for obs in ref_ids]]
    elif ref_ids is not None and cand_ids is not None:
        missing = sorted(set(ref_ids) ^ set(cand_ids), key=str)[:5]
        raise ParityInputError(
            f"{reference} and {candidate}: the same observations must appear on both sides; "
            f"these appear on one side only: {missing}"
        )
    if ref.shape[0] != cand.shape[0]:
        raise ParityInputError(
            f"{reference} and {candidate}: the same observations must appear on both sides; "
            f"got {ref.shape[0]} and {cand.shape[0]} observations"
        )
    return {"reference": ref, "candidate": cand}


__all__ = [
    "EXACT_MAX_POOLED",
    "MAX_DETECTABLE_SHIFT",
    "METHODS",
    "N_BOOTSTRAP",
    "N_RESAMPLES",
    "VERDICTS",
    "ParityVerdict",
    "array_summary",
    "choose_engine",
    "compare",
    "compare_files",
    "compare_text",
    "decide",
    "differing_statistics",
    "insensitivity_reason",
    "load_and_compare",
    "match_observations",
    "too_insensitive",
]
