"""Embodied metrics of rollouts (jerk, motion energy, path length) and their comparison.

Episodes are positions or commands sampled every ``dt`` seconds, given either as a 3-D array
``(episodes × T × d)`` or as a list/tuple of 2-D arrays ``(T_e × d)`` whose lengths may differ.
A 2-D array is refused (is it one episode or T one-dimensional episodes?): add the episode axis.

Each metric returns one float64 value per episode. :func:`compare_embodied` compares the mean of a
metric over candidate episodes to its mean over reference episodes with a bootstrap interval on the
ratio and classifies the ratio against a tolerance ``tol``, by one of two rules
(:data:`EMBODIED_RULES`):

* ``"regression"`` (default): a higher jerk, motion energy or path length is the regression, so
  only the upper edge ``1 + tol`` decides. ``regressed`` when the interval's lower end is above
  it, ``inconclusive`` when the interval straddles it, else ``ok`` — or ``changed`` (reported,
  not a failure) when the interval lies entirely below ``1/(1 + tol)``.
* ``"equivalence"``: the metric must not move either way. ``ok`` only when the interval lies
  inside ``[1/(1 + tol), 1 + tol]``; ``regressed`` above it, ``changed`` below it, else
  ``inconclusive``.

Pure numerics: no I/O.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from parity._format import number
from parity.errors import (
    DegenerateDataWarning,
    ParityInputError,
    check_positive_int,
    check_probability,
)
from parity.stats._common import Interval, ResultMixin, RngLike, as_generator
from parity.stats.bootstrap import _ratio_interval

__all__ = [
    "EMBODIED_METRICS",
    "EMBODIED_RULES",
    "EmbodiedMetric",
    "EmbodiedResult",
    "compare_embodied",
    "jerk_rms",
    "motion_energy",
    "path_length",
]

Status = Literal["ok", "regressed", "changed", "inconclusive"]
#: How a ratio interval is read against the tolerance: a one-sided regression gate (default)
#: or two-sided equivalence.
EMBODIED_RULES = ("regression", "equivalence")


# --------------------------------------------------------------------------------------------
# per-episode block computations: x has shape (E, T, d) with one common T


def _jerk_rms_block(x: np.ndarray, dt: float) -> np.ndarray:
    jerk = np.diff(x, 3, axis=1) / dt**3
    return np.sqrt(np.mean(np.sum(jerk * jerk, axis=2), axis=1))


def _motion_energy_block(x: np.ndarray, dt: float) -> np.ndarray:
    step = np.diff(x, axis=1)
    return np.sum(step * step, axis=(1, 2)) / dt


def _path_length_block(x: np.ndarray, dt: float | None) -> np.ndarray:
    step = np.diff(x, axis=1)
    return np.sum(np.sqrt(np.sum(step * step, axis=2)), axis=1)


# --------------------------------------------------------------------------------------------
# registry


@dataclasses.dataclass(frozen=True, slots=True)
class EmbodiedMetric:
    """One embodied metric: how to compute it per episode and how to read a change in it.

    Call it like the public function: ``EMBODIED_METRICS["jerk_rms"](episodes, dt)``;
    ``dt`` is ignored by metrics with ``uses_dt=False`` (``path_length``).

    Attributes
    ----------
    name : str
        Registry key.
    block : callable
        ``block(x, dt)`` for ``x`` shaped (E × T × d) → float64 array of length E.
    uses_dt : bool
        Whether the value depends on the sampling interval.
    min_steps : int
        Fewest time steps an episode needs.
    rose, fell : str
        What a higher / lower candidate value means, in words (used in ``reason``).
    """

    name: str
    block: Callable[[np.ndarray, Any], np.ndarray]
    uses_dt: bool
    min_steps: int
    rose: str
    fell: str

    def __call__(self, episodes: Any, dt: float | None = None) -> np.ndarray:
        """Return the metric of every episode (float64 array of length E)."""
        checked_dt = _check_dt(dt) if self.uses_dt else None
        return _metric_values(self, "episodes", _as_episodes("episodes", episodes), checked_dt)


EMBODIED_METRICS: dict[str, EmbodiedMetric] = {
    "jerk_rms": EmbodiedMetric(
        name="jerk_rms",
        block=_jerk_rms_block,
        uses_dt=True,
        min_steps=4,
        rose="the candidate moves less smoothly (more abrupt changes of acceleration)",
        fell="the candidate moves more smoothly than the reference",
    ),
    "motion_energy": EmbodiedMetric(
        name="motion_energy",
        block=_motion_energy_block,
        uses_dt=True,
        min_steps=2,
        rose="the candidate moves faster or more, spending more motion energy",
        fell="the candidate moves slower or less than the reference",
    ),
    "path_length": EmbodiedMetric(
        name="path_length",
        block=_path_length_block,
        uses_dt=False,
        min_steps=2,
        rose="the candidate travels a longer path (detours, oscillation or extra motion)",
        fell="the candidate travels a shorter path (it may stop early or skip motion)",
    ),
}


# --------------------------------------------------------------------------------------------
# public metric functions


def jerk_rms(episodes: Any, dt: float) -> np.ndarray:
    """Root-mean-square jerk of each episode: ``sqrt(mean_t ||d³x/dt³||²)``.

    The third derivative is the third finite difference ``np.diff(x, 3, axis=0) / dt**3``, so
    every episode needs at least 4 time steps.

    Parameters
    ----------
    episodes : array_like (E × T × d) or sequence of array_like (T_e × d)
        Positions or commands, one row per time step.
    dt : float
        Sampling interval in seconds, finite and > 0.

    Returns
    -------
    numpy.ndarray
        float64, shape (E,).

    Examples
    --------
    >>> t = np.arange(6.0)[:, None]          # x(t) = t³ has constant jerk 6
    >>> jerk_rms([t**3], dt=1.0)
    array([6.])
    """
    return EMBODIED_METRICS["jerk_rms"](episodes, dt)


def motion_energy(episodes: Any, dt: float) -> np.ndarray:
    """Motion energy of each episode: ``∫||ẋ||² dt ≈ Σ_t ||Δx_t||² / dt``.

    Every episode needs at least 2 time steps.

    Parameters
    ----------
    episodes : array_like (E × T × d) or sequence of array_like (T_e × d)
        Positions or commands, one row per time step.
    dt : float
        Sampling interval in seconds, finite and > 0.

    Returns
    -------
    numpy.ndarray
        float64, shape (E,).

    Examples
    --------
    >>> line = 2.0 * np.arange(11.0)[:, None] * 0.5   # speed 2 for 5 s
    >>> motion_energy(line[None], dt=0.5)             # v² · duration
    array([20.])
    """
    return EMBODIED_METRICS["motion_energy"](episodes, dt)


def path_length(episodes: Any) -> np.ndarray:
    """Length of the path travelled in each episode: ``Σ_t ||Δx_t||``.

    Every episode needs at least 2 time steps. The value does not depend on the sampling
    interval.

    Parameters
    ----------
    episodes : array_like (E × T × d) or sequence of array_like (T_e × d)
        Positions or commands, one row per time step.

    Returns
    -------
    numpy.ndarray
        float64, shape (E,).

    Examples
    --------
    >>> path_length([np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 0.0]])])
    array([9.])
    """
    return EMBODIED_METRICS["path_length"](episodes)


# --------------------------------------------------------------------------------------------
# comparison


@dataclasses.dataclass(frozen=True, slots=True)
class EmbodiedResult(ResultMixin):
    """Comparison of one embodied metric between candidate and reference episodes.

    Attributes
    ----------
    metric : str
        Metric name (a key of ``EMBODIED_METRICS``).
    status : {"ok", "regressed", "changed", "inconclusive"}
        Under ``rule="regression"``: ``regressed`` when the interval's lower end is above
        ``band[1]``, ``inconclusive`` when it straddles ``band[1]``, ``changed`` when its upper
        end is below ``band[0]``, else ``ok``. Under ``rule="equivalence"``: ``ok`` when it lies
        inside ``band``, ``regressed`` above, ``changed`` below, else ``inconclusive``.
        ``regressed`` fails a verdict, ``inconclusive`` blocks a pass, ``changed`` is reported.
    rule : {"regression", "equivalence"}
        The rule that gave ``status``.
    ratio : float
        ``candidate_mean / reference_mean``.
    confidence_interval : Interval
        Bootstrap interval of the ratio at ``confidence_level`` (= 1 − 2·alpha).
    confidence_level : float
    tolerance : float
    band : Interval
        ``(1 / (1 + tolerance), 1 + tolerance)``.
    reference_mean, candidate_mean : float
        Means of the metric over episodes.
    n_reference, n_candidate : int
        Numbers of episodes.
    n_resamples : int
        Bootstrap resamples drawn (0 when the data were too degenerate to resample).
    method : str
        How the interval was obtained (e.g. ``"bootstrap BCa"``).
    standard_error : float
        Bootstrap standard error of the ratio.
    reference_values, candidate_values : tuple of float
        The metric of every episode, so the numbers can be re-derived.
    warnings : tuple of str
        Notes about degenerate data or a method fallback.
    reason : str
        One sentence a person can act on.
    """

    metric: str
    status: Status
    rule: str
    ratio: float
    confidence_interval: Interval
    confidence_level: float
    tolerance: float
    band: Interval
    reference_mean: float
    candidate_mean: float
    n_reference: int
    n_candidate: int
    n_resamples: int
    method: str
    standard_error: float
    reference_values: tuple[float, ...]
    candidate_values: tuple[float, ...]
    warnings: tuple[str, ...]
    reason: str


def compare_embodied(
    reference_episodes: Any,
    candidate_episodes: Any,
    *,
    dt: float,
    tolerance: float = 0.10,
    alpha: float = 0.05,
    metrics: str | Sequence[str] = ("jerk_rms", "motion_energy", "path_length"),
    n_resamples: int = 9999,
    rng: RngLike = None,
    rule: str = "regression",
) -> dict[str, EmbodiedResult]:
    """Compare embodied metrics of candidate episodes with reference episodes.

    For each metric, the ratio of means (candidate / reference) gets a (1 − 2·alpha) bootstrap
    interval over episodes (:func:`parity.stats.bootstrap.bootstrap_ratio_of_means`, BCa), read
    against ``1 + tolerance`` and ``1/(1 + tolerance)``. Each end of the interval is a one-sided
    test at level ``alpha``:

    * ``rule="regression"``: its lower end above ``1 + tolerance`` shows a regression
      (``regressed``); its upper end at most ``1 + tolerance`` shows there is none (``ok``, or
      ``changed`` when the upper end is even below ``1/(1 + tolerance)``: the metric fell,
      which is reported but is not a regression); an interval across ``1 + tolerance`` is
      ``inconclusive``. Higher jerk, motion energy and path length are the regressions.
    * ``rule="equivalence"``: the interval inside ``[1/(1+tolerance), 1+tolerance]`` is an
      equivalence test at ``alpha`` (``ok``); its lower end above the band ``regressed``; its
      upper end below the band ``changed``; anything else ``inconclusive``.

    Parameters
    ----------
    reference_episodes, candidate_episodes : array_like (E × T × d) or sequence of (T_e × d)
        At least 2 episodes each, same dimension d.
    dt : float
        Sampling interval in seconds, finite and > 0.
    tolerance : float, default 0.10
        Relative tolerance, > 0: the band is ``[1/(1+tolerance), 1+tolerance]``.
    alpha : float, default 0.05
        Level of each test, in (0, 0.5).
    metrics : str or sequence of str
        Keys of ``EMBODIED_METRICS``, computed in this order.
    n_resamples : int, default 9999
        Bootstrap resamples per metric.
    rng : None, int or numpy.random.Generator
        One generator serves all metrics in order: the same seed gives the same results.
    rule : {"regression", "equivalence"}, default "regression"
        How the interval is read (see above); recorded in each result.

    Returns
    -------
    dict of str to EmbodiedResult
        One result per metric, in the order of ``metrics``.

    Warns
    -----
    DegenerateDataWarning
        Fewer than 5 episodes, a metric constant over episodes or 0 on average, a BCa fallback;
        prefixed with the metric name and recorded in ``result.warnings``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = np.cumsum(rng.normal(size=(30, 50, 2)), axis=1)
    >>> cand = np.cumsum(rng.normal(size=(30, 50, 2)), axis=1)
    >>> out = compare_embodied(ref, 2.0 * cand, dt=0.1, metrics=["jerk_rms"], rng=1)
    >>> out["jerk_rms"].status
    'regressed'

    A smoother candidate is no regression; under the equivalence rule it is a change:

    >>> compare_embodied(ref, 0.5 * cand, dt=0.1, metrics=["jerk_rms"], rng=1)["jerk_rms"].status
    'changed'
    """
    dt = _check_dt(dt)
    rule = check_rule(rule)
    tol = _check_tolerance(tolerance)
    alpha = _check_alpha(alpha)
    n_resamples = check_positive_int("n_resamples", n_resamples)
    names = _check_metric_names(metrics)
    ref = _as_episodes("reference_episodes", reference_episodes, min_episodes=2)
    cand = _as_episodes("candidate_episodes", candidate_episodes, min_episodes=2)
    if ref[0].shape[1] != cand[0].shape[1]:
        raise ParityInputError(
            "`reference_episodes` and `candidate_episodes` must have the same dimension d; "
            f"got {ref[0].shape[1]} and {cand[0].shape[1]}"
        )
    gen = as_generator(rng)
    level = 1.0 - 2.0 * alpha
    band = (1.0 / (1.0 + tol), 1.0 + tol)
    results = {}
    for name in names:
        spec = EMBODIED_METRICS[name]
        ref_values = _metric_values(spec, "reference_episodes", ref, dt)
        cand_values = _metric_values(spec, "candidate_episodes", cand, dt)
        r = _ratio_interval(ref_values, cand_values, level, n_resamples, "BCa", gen)
        for note in r.warnings:
            warnings.warn(f"{name}: {note}", DegenerateDataWarning, stacklevel=2)
        status = classify(r.confidence_interval, band, rule)
        results[name] = EmbodiedResult(
            metric=name,
            status=status,
            rule=rule,
            ratio=r.statistic,
            confidence_interval=r.confidence_interval,
            confidence_level=level,
            tolerance=tol,
            band=band,
            reference_mean=r.reference_mean,
            candidate_mean=r.candidate_mean,
            n_reference=r.n_reference,
            n_candidate=r.n_candidate,
            n_resamples=r.n_resamples,
            method=r.method,
            standard_error=r.standard_error,
            reference_values=tuple(float(v) for v in ref_values),
            candidate_values=tuple(float(v) for v in cand_values),
            warnings=r.warnings,
            reason=_reason(spec, status, rule, r.statistic, r.confidence_interval, level, band, r),
        )
    return results


def check_rule(rule: Any) -> str:
    """``rule`` checked against :data:`EMBODIED_RULES`.

    Examples
    --------
    >>> check_rule("equivalence")
    'equivalence'
    """
    if not isinstance(rule, str) or rule not in EMBODIED_RULES:
        raise ParityInputError(
            f"`embodied` rule must be one of {EMBODIED_RULES} (regression: only a rise fails; "
            f"equivalence: no change either way); got {rule!r}"
        )
    return rule


def classify(ci: tuple[float, float], band: tuple[float, float], rule: str) -> Status:
    """Status of a ratio interval against the tolerance band under ``rule``.

    A NaN end gives ``inconclusive``.

    Examples
    --------
    The commonest real case, nothing changed (a real SAC policy against itself with another
    noise seed): the interval reaches below the band but stays under ``1 + tol``.

    >>> band = (1 / 1.1, 1.1)
    >>> classify((0.89, 1.03), band, "regression"), classify((0.89, 1.03), band, "equivalence")
    ('ok', 'inconclusive')
    >>> classify((1.05, 1.2), band, "regression"), classify((1.12, 1.3), band, "regression")
    ('inconclusive', 'regressed')
    >>> classify((0.5, 0.8), band, "regression")
    'changed'
    """
    low, high = ci
    if math.isnan(low) or math.isnan(high):
        return "inconclusive"
    if low > band[1]:
        return "regressed"
    if rule == "regression":
        if high > band[1]:
            return "inconclusive"
        return "changed" if high < band[0] else "ok"
    if high < band[0]:
        return "changed"
    return "ok" if band[0] <= low and high <= band[1] else "inconclusive"


#: Significant digits of the ratios, intervals and bands in a reason.
_DIGITS = 3


def _reason(
    spec: EmbodiedMetric,
    status: Status,
    rule: str,
    ratio: float,
    ci: tuple[float, float],
    level: float,
    band: tuple[float, float],
    r: Any,
) -> str:
    """One plain sentence explaining ``status``."""
    m = spec.name
    interval = f"{level * 100:.3g}% CI {number(ci[0], _DIGITS)}–{number(ci[1], _DIGITS)}"
    lo, hi = number(band[0], _DIGITS), number(band[1], _DIGITS)
    x = number(ratio, _DIGITS)
    if r.reference_mean == 0.0:
        if math.isinf(ratio):
            return (
                f"{m} averages 0 over the reference episodes but "
                f"{number(r.candidate_mean, _DIGITS)} over the candidate episodes, so the ratio "
                "is unbounded: " + (spec.rose if ratio > 0 else spec.fell) + "."
            )
        if status == "ok":
            return f"{m} is 0 in every reference and candidate episode: they match."
    if status == "regressed":
        return f"{m} rose {x}× ({interval}), above the {hi}× tolerance: {spec.rose}."
    if rule == "regression":
        if status == "ok":
            return (
                f"{m} ratio {x}× ({interval}) stays at or below the {hi}× tolerance: "
                "no regression on this metric."
            )
        if status == "changed":
            return (
                f"{m} fell to {x}× ({interval}), below {lo}×: {spec.fell}; not a "
                "regression (it does not block a pass), but check that it is intended."
            )
        return (
            f"{m} ratio {x}× ({interval}) straddles the {hi}× tolerance: it may have "
            f"regressed or not; record more episodes (now {r.n_reference} reference, "
            f"{r.n_candidate} candidate) or widen the tolerance."
        )
    if status == "ok":
        return (
            f"{m} ratio {x}× ({interval}) lies inside the {lo}×–{hi}× tolerance "
            "band: the candidate matches the reference on this metric."
        )
    if status == "changed":
        return (
            f"{m} fell to {x}× ({interval}), below the {lo}× tolerance: {spec.fell}; "
            "check that this change is intended."
        )
    return (
        f"{m} ratio {x}× ({interval}) is neither inside the {lo}×–{hi}× tolerance "
        f"band nor clearly outside it: record more episodes (now {r.n_reference} reference, "
        f"{r.n_candidate} candidate) or widen the tolerance."
    )


# --------------------------------------------------------------------------------------------
# validation and evaluation


def _check_dt(dt: Any) -> float:
    try:
        value = float(dt)
    except (TypeError, ValueError):
        raise ParityInputError(f"`dt` must be a finite number > 0 (seconds); got {dt!r}") from None
    if not (math.isfinite(value) and value > 0.0):
        raise ParityInputError(f"`dt` must be a finite number > 0 (seconds); got {dt!r}")
    return value


def _check_tolerance(tolerance: Any) -> float:
    try:
        value = float(tolerance)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0.0):
        raise ParityInputError(
            f"`tolerance` must be a finite number > 0 (0.10 means ±10%); got {tolerance!r}"
        )
    return value


def _check_alpha(alpha: Any) -> float:
    value = check_probability("alpha", alpha)
    if value >= 0.5:
        raise ParityInputError(
            f"`alpha` must be in (0, 0.5) so that a 1 − 2·alpha interval exists; got {alpha!r}"
        )
    return value


def _check_metric_names(metrics: Any) -> list[str]:
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ParityInputError("`metrics` must name at least one metric; got none")
    unknown = [n for n in names if n not in EMBODIED_METRICS]
    if unknown:
        raise ParityInputError(
            f"`metrics` must be among {sorted(EMBODIED_METRICS)}; got unknown {unknown}"
        )
    return list(dict.fromkeys(names))


def _as_episodes(name: str, episodes: Any, *, min_episodes: int = 1) -> list[np.ndarray]:
    """Return the episodes as a list of finite float64 (T_e × d) arrays with one common d."""
    if isinstance(episodes, np.ndarray):
        if episodes.ndim == 2:
            raise ParityInputError(
                f"`{name}` must be 3-D (episodes × T × d) or a list of 2-D (T × d) arrays; got a "
                f"2-D array of shape {episodes.shape}: add the episode axis (x[None] for one "
                "episode)"
            )
        if episodes.ndim != 3:
            raise ParityInputError(
                f"`{name}` must be 3-D (episodes × T × d) or a list of 2-D (T × d) arrays; "
                f"got shape {episodes.shape}"
            )
        items: Sequence[Any] = list(episodes)
    elif isinstance(episodes, list | tuple):
        items = episodes
    else:
        raise ParityInputError(
            f"`{name}` must be a 3-D array (episodes × T × d) or a list of 2-D (T × d) arrays; "
            f"got {type(episodes).__name__}"
        )
    if len(items) < min_episodes:
        raise ParityInputError(
            f"`{name}` must hold at least {min_episodes} episode(s); got {len(items)}"
        )
    out = [_as_episode(name, i, ep) for i, ep in enumerate(items)]
    for i, ep in enumerate(out):
        if ep.shape[1] != out[0].shape[1]:
            raise ParityInputError(
                f"`{name}`: all episodes must have the same dimension d; episode {i} has "
                f"d = {ep.shape[1]} but episode 0 has d = {out[0].shape[1]}"
            )
    return out


def _as_episode(name: str, index: int, episode: Any) -> np.ndarray:
    try:
        arr = np.asarray(episode, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParityInputError(
            f"`{name}`: episode {index} must be a numeric (T × d) array; "
            f"got {type(episode).__name__}"
        ) from None
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ParityInputError(
            f"`{name}`: episode {index} must be 2-D (T × d) with d ≥ 1; got shape {arr.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if bad.size:
        shown = ", ".join(str(t) for t in bad[:5]) + (", …" if bad.size > 5 else "")
        raise ParityInputError(
            f"`{name}`: episode {index} must have finite values; got "
            f"{int((~np.isfinite(arr)).sum())} NaN/inf (time steps {shown})"
        )
    return arr


def _metric_values(
    spec: EmbodiedMetric, name: str, episodes: list[np.ndarray], dt: float | None
) -> np.ndarray:
    """Metric of every validated episode; episodes of equal length are computed together."""
    by_length: dict[int, list[int]] = {}
    for i, ep in enumerate(episodes):
        if ep.shape[0] < spec.min_steps:
            raise ParityInputError(
                f"`{name}`: episode {i} has {ep.shape[0]} time steps; {spec.name} needs at "
                f"least {spec.min_steps}"
            )
        by_length.setdefault(ep.shape[0], []).append(i)
    values = np.empty(len(episodes), dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for idx in by_length.values():
            values[idx] = spec.block(np.stack([episodes[i] for i in idx]), dt)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ParityInputError(
            f"`{name}`: {spec.name} overflowed in episode {int(bad[0])}; rescale the values "
            "(or dt) so that they stay within float64 range"
        )
    return values
