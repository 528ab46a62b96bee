"""Equivalence (TOST), non-inferiority and superiority of two sets of scalar results.

Pure numerics: arrays of scalar results (one number per seed or run) in, a frozen result out.

Every test here is a one-sided t-test of a *linear contrast* of the two means,

    contrast(τ, δ) = μc − (1 + τ)·μr − δ,

so absolute and relative margins share one machinery:

- an **absolute** bound ``b`` on the difference ``μc − μr`` is the contrast ``τ = 0, δ = b``;
- a **relative** bound ``ε`` (a fraction of the reference mean) on the *ratio* ``μc / μr`` is
  ``τ = ε, δ = 0``: ``μc / μr ≥ 1 + ε ⇔ μc − (1 + ε)·μr ≥ 0`` when ``μr > 0``. Each bound has
  its own standard error (and, for Welch, its own Satterthwaite degrees of freedom); the
  estimated reference mean is never plugged into an absolute margin.

The standard error of the contrast estimate ``c̄ − (1 + τ)·r̄ − δ`` is

- Welch (default): ``s_c²/n_c + (1 + τ)²·s_r²/n_r`` with Welch–Satterthwaite df;
- pooled (``equal_var=True``): ``s_p²·(1/n_c + (1 + τ)²/n_r)`` with ``n_r + n_c − 2`` df;
- paired (``paired=True``): the one-sample t-test of ``c_i − (1 + τ)·r_i`` with ``n − 1`` df.

Confidence intervals are the sets of effects that neither one-sided test rejects at ``α``:
for an absolute margin, the usual ``(1 − 2α)`` interval of the difference; for a relative
margin, Fieller's interval for the ratio of means (the roots of ``T(θ)² = t²``, with the
θ-dependent Satterthwaite df for Welch), which is unbounded when the reference mean is not
clearly above 0. So ``equivalent`` holds exactly when the interval lies inside the bounds
(for Welch with a relative margin, whenever ``|T(θ)| − t_{1−α,ν(θ)}`` changes sign once on
each side of the estimate, which is every case short of contrived ones).

:func:`attainability` says whether a test can succeed at all with the sample sizes and
standard deviations at hand (the CLI's "inconclusive"): for TOST only when the ``(1 − 2α)``
interval is at least as wide as the margin band whatever the observed means; a one-sided test
(non-inferiority, superiority) can always succeed, since a candidate observed better by enough
passes it. Every result also gives ``power`` and ``n_for_power``: the probability of a success
at this n, and the common n per system (or pairs) that gives 80% (:data:`TARGET_POWER`), with
the observed standard deviations when the true effect is "no difference" (superiority: the
observed effect). :func:`posterior_equivalence`
gives the flat-prior posterior probability of the same hypothesis, computed without random
numbers, so that a suite can flag a Bayesian/frequentist disagreement.

Zero variance. When the standard error of a contrast is 0 (paired results whose differences
are all equal, or two constant unpaired samples) the effect is treated as known exactly: a
one-sided test rejects (``p = 0``, ``t = ±inf``) when the effect lies beyond its bound and does
not (``p = 1``, ``t = nan`` on the bound) otherwise, and the interval is the point. Values that
differ only by floating-point rounding (a spread of at most 4 machine epsilons of the largest
magnitude, as in ``1.1 − 1.0`` vs ``2.1 − 2.0``) count as equal, and "beyond" means by more than
such rounding. This is flagged with a :class:`~parity.errors.DegenerateDataWarning` and recorded
in ``warnings``. A single constant sample is legal (Welch uses the other sample's variance) and is
noted the same way.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from parity.errors import DegenerateDataWarning, ParityInputError
from parity.stats._common import Interval, ResultMixin, as_values

__all__ = [
    "TARGET_POWER",
    "AttainabilityResult",
    "OneSidedResult",
    "OneSidedTest",
    "PosteriorResult",
    "TOSTResult",
    "attainability",
    "noninferiority",
    "posterior_equivalence",
    "superiority",
    "tost",
    "tost_from_summary",
]

#: Below this many values a sample is flagged (the t-tests lean on normality of the mean).
_MIN_RELIABLE_N = 5
#: Largest sample size the ``n_required`` search of :func:`attainability` tries.
_MAX_N = 2**31
#: Power at which ``n_for_power`` makes a success likely.
TARGET_POWER = 0.8
_EPS = float(np.finfo(float).eps)
_TESTS = ("equivalence", "non-inferiority", "superiority")


# --------------------------------------------------------------------------------------------
# results


@dataclasses.dataclass(frozen=True, slots=True)
class OneSidedTest(ResultMixin):
    """One one-sided t-test of a contrast of the means against a bound.

    Attributes
    ----------
    bound : float
        The null boundary on the scale of the estimate: a difference ``μc − μr`` for absolute
        margins, a ratio ``μc / μr`` for relative margins.
    alternative : {"greater", "less"}
        ``"greater"``: H0 is ``effect ≤ bound``; ``"less"``: H0 is ``effect ≥ bound``.
    statistic : float
        ``contrast / standard_error`` (``±inf`` when the standard error is 0, ``nan`` when the
        contrast is also 0).
    df : float
        Degrees of freedom of the t reference distribution.
    pvalue : float
        One-sided p-value.
    contrast : float
        Estimate of the contrast ``μc − (1 + τ)·μr − δ`` (see the module docstring).
    standard_error : float
        Standard error of the contrast estimate.
    rejected : bool
        ``pvalue < alpha``.
    """

    bound: float
    alternative: str
    statistic: float
    df: float
    pvalue: float
    contrast: float
    standard_error: float
    rejected: bool


@dataclasses.dataclass(frozen=True, slots=True)
class TOSTResult(ResultMixin):
    """Two one-sided tests (TOST) of equivalence of the candidate to the reference.

    Attributes
    ----------
    statistic : float
        t statistic of the one-sided test with the larger p-value (the binding one).
    pvalue : float
        ``max(lower.pvalue, upper.pvalue)``.
    confidence_interval : Interval
        ``(1 − 2α)`` interval of the difference (absolute) or Fieller interval of the ratio
        (relative); ``(-inf, inf)`` when the Fieller set is unbounded (see ``warnings``).
    confidence_level : float
        ``1 − 2α``.
    alternative : str
        ``"equivalence"``: H1 is ``bounds[0] < effect < bounds[1]``.
    null_hypothesis : str
        H0 in words, with the bounds.
    method : str
        Test, variance and margin form used.
    df : float
        Degrees of freedom of the binding test.
    estimate : float
        ``mean(candidate) − mean(reference)`` (absolute) or ``mean(candidate) /
        mean(reference)`` (relative).
    standard_error : float
        Of the difference; for the ratio, the delta-method value ``se(c̄ − ρ̂·r̄) / r̄``
        (reported only; the tests use the contrasts).
    margin : Interval
        ``(low, high)`` as given: a difference, or fractions of the reference mean.
    bounds : Interval
        The equivalence region on the scale of ``estimate``: ``margin`` (absolute) or
        ``(1 + low, 1 + high)`` (relative).
    equivalent : bool
        ``pvalue < alpha``.
    lower, upper : OneSidedTest
        H0 ``effect ≤ bounds[0]`` (alternative ``"greater"``) and H0 ``effect ≥ bounds[1]``
        (alternative ``"less"``).
    reference_mean, candidate_mean, reference_sd, candidate_sd : float
        Sample means and standard deviations (``ddof=1``).
    difference_sd : float or None
        Standard deviation of the paired differences ``candidate − reference`` (paired only).
    n_reference, n_candidate : int
        Sample sizes.
    paired, relative, equal_var : bool
        The design and margin form.
    alpha : float
        Level of each one-sided test.
    attainable : bool
        Whether equivalence could be shown at all with these sample sizes and standard
        deviations at this α and margin, whatever the observed means (see
        :func:`attainability`): ``False`` exactly when the ``(1 − 2α)`` interval at these
        standard deviations is at least as wide as the margin band.
    warnings : tuple of str
        Degenerate data, an unbounded interval, an unattainable test, and (when equivalence
        is not shown) how many runs would make it likely; one sentence each.
    power : float
        Probability of showing equivalence at this n with the observed standard deviations
        when the true effect is "no difference" (a lower bound, see :func:`attainability`).
    n_for_power : int or None
        Smallest common n (runs per system, or pairs) at which ``power`` reaches
        :data:`TARGET_POWER`; ``None`` above 2**31.
    """

    statistic: float
    pvalue: float
    confidence_interval: Interval
    confidence_level: float
    alternative: str
    null_hypothesis: str
    method: str
    df: float
    estimate: float
    standard_error: float
    margin: Interval
    bounds: Interval
    equivalent: bool
    lower: OneSidedTest
    upper: OneSidedTest
    reference_mean: float
    candidate_mean: float
    reference_sd: float
    candidate_sd: float
    difference_sd: float | None
    n_reference: int
    n_candidate: int
    paired: bool
    relative: bool
    equal_var: bool
    alpha: float
    attainable: bool
    warnings: tuple[str, ...] = ()
    power: float = math.nan
    n_for_power: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class OneSidedResult(ResultMixin):
    """A non-inferiority or superiority test of the candidate against the reference.

    Attributes
    ----------
    test : {"non-inferiority", "superiority"}
        Which hypothesis was tested.
    statistic, df, pvalue : float
        Of the one-sided t-test (``test_result`` holds the same numbers and the contrast).
    confidence_interval : Interval
        One-sided ``(1 − α)`` interval: ``(low, inf)`` when higher is better, ``(-inf, high)``
        otherwise; ``(-inf, inf)`` when a relative (Fieller) bound does not exist.
    confidence_level : float
        ``1 − α``.
    alternative : {"greater", "less"}
        Direction of H1 on the scale of ``estimate``.
    null_hypothesis : str
        H0 in words, with the bound.
    method : str
        Test, variance and margin form used.
    estimate, standard_error : float
        As in :class:`TOSTResult`.
    margin : Interval
        The region of H1 in margin units: ``(-m, inf)`` for non-inferiority when higher is
        better, ``(-inf, m)`` when lower is better; ``(m, inf)`` / ``(-inf, -m)`` for
        superiority.
    bounds : Interval
        The same region on the scale of ``estimate``.
    bound : float
        The null boundary on the scale of ``estimate``.
    rejected : bool
        ``pvalue < alpha``: H0 rejected.
    noninferior : bool or None
        ``rejected`` for a non-inferiority test, ``None`` for a superiority test.
    superior : bool or None
        ``rejected`` for a superiority test, ``None`` for a non-inferiority test.
    higher_is_better : bool
        Direction of "better".
    test_result : OneSidedTest
        The one-sided test itself.
    reference_mean, candidate_mean, reference_sd, candidate_sd, difference_sd : float
        As in :class:`TOSTResult`.
    n_reference, n_candidate : int
        Sample sizes.
    paired, relative, equal_var : bool
        The design and margin form.
    alpha : float
        Level of the test.
    attainable : bool
        Always ``True``: a candidate observed better by enough shows a one-sided test at any
        n ≥ 2, so the test can never be impossible to pass.
    warnings : tuple of str
        One sentence per degenerate feature or caveat, and (when H0 is not rejected) how many
        runs would make a rejection likely.
    power : float
        Probability of rejecting H0 at this n with the observed standard deviations, when the
        true effect is "no difference" (non-inferiority) or the observed effect (superiority).
    n_for_power : int or None
        Smallest common n (runs per system, or pairs) at which ``power`` reaches
        :data:`TARGET_POWER`; ``None`` when no n does (superiority with an observed effect
        not beyond the bound) or above 2**31.
    """

    test: str
    statistic: float
    pvalue: float
    confidence_interval: Interval
    confidence_level: float
    alternative: str
    null_hypothesis: str
    method: str
    df: float
    estimate: float
    standard_error: float
    margin: Interval
    bounds: Interval
    bound: float
    rejected: bool
    noninferior: bool | None
    superior: bool | None
    higher_is_better: bool
    test_result: OneSidedTest
    reference_mean: float
    candidate_mean: float
    reference_sd: float
    candidate_sd: float
    difference_sd: float | None
    n_reference: int
    n_candidate: int
    paired: bool
    relative: bool
    equal_var: bool
    alpha: float
    attainable: bool
    warnings: tuple[str, ...] = ()
    power: float = math.nan
    n_for_power: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class PosteriorResult(ResultMixin):
    """Posterior probability that the effect lies inside the equivalence bounds (flat prior).

    Attributes
    ----------
    probability : float
        ``P(bounds[0] < effect < bounds[1] | data)``.
    probability_below, probability_above : float
        ``P(effect ≤ bounds[0] | data)`` and ``P(effect ≥ bounds[1] | data)``; the three sum
        to 1.
    estimate : float
        Difference or ratio of the sample means.
    margin, bounds : Interval
        As in :class:`TOSTResult`.
    method : str
        The posterior used and how the probability was computed.
    n_reference, n_candidate : int
        Sample sizes.
    paired, relative, equal_var : bool
        The model and margin form.
    warnings : tuple of str
        One sentence per degenerate feature or caveat.
    """

    probability: float
    probability_below: float
    probability_above: float
    estimate: float
    margin: Interval
    bounds: Interval
    method: str
    n_reference: int
    n_candidate: int
    paired: bool
    relative: bool
    equal_var: bool
    warnings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class AttainabilityResult(ResultMixin):
    """Whether the test can succeed at all with these sample sizes and standard deviations.

    Attributes
    ----------
    test : {"equivalence", "non-inferiority"}
        The test asked about.
    attainable : bool
        Whether some observed means would pass the test at these sample sizes and standard
        deviations: ``best_case_pvalue < alpha`` for equivalence; always ``True`` for
        non-inferiority (a candidate observed better by enough passes).
    best_case_pvalue : float
        Equivalence: the smallest p-value the test can reach with the observed standard
        deviations and sample sizes, at the most favourable observed means (for a symmetric
        absolute margin, a difference of 0). Non-inferiority: the p-value of a candidate
        observed *equal* to the reference.
    best_case_estimate : float
        The estimate (difference or ratio) at which ``best_case_pvalue`` is reached.
    min_margin : float
        Smallest symmetric margin (same units as ``margin``) at which ``best_case_pvalue``
        would be below α; ``inf`` when no relative margin below 1 is.
    n_required : int or None
        Smallest common sample size (runs per system, or pairs) at which ``best_case_pvalue``
        would be below α with the observed standard deviations; ``None`` above 2**31.
    power : float
        Probability that the test succeeds at these sample sizes with the observed standard
        deviations when the true effect is "no difference" (difference 0, ratio 1). For a
        one-sided test, the noncentral t power (exact for pooled and paired designs, Welch's
        with its Satterthwaite df); for TOST the lower bound ``P_lower + P_upper − 1`` of its
        two one-sided tests, so that ``n_for_power`` never understates what is needed.
    n_for_power : int or None
        Smallest common sample size at which ``power`` reaches :data:`TARGET_POWER`;
        ``None`` above 2**31.
    margin : Interval
        The margin asked about, ``(low, high)``; ``±inf`` on the unbounded side of a
        non-inferiority margin.
    n_reference, n_candidate : int
        Sample sizes.
    paired, relative, equal_var : bool
        The design and margin form.
    alpha : float
        Test level.
    warnings : tuple of str
        One sentence saying whether and why the test is attainable.
    """

    test: str
    attainable: bool
    best_case_pvalue: float
    best_case_estimate: float
    min_margin: float
    n_required: int | None
    margin: Interval
    n_reference: int
    n_candidate: int
    paired: bool
    relative: bool
    equal_var: bool
    alpha: float
    warnings: tuple[str, ...] = ()
    power: float = math.nan
    n_for_power: int | None = None


# --------------------------------------------------------------------------------------------
# public API


def tost(
    reference: Any,
    candidate: Any,
    *,
    margin: float | tuple[float, float],
    relative: bool = False,
    paired: bool = False,
    equal_var: bool = False,
    alpha: float = 0.05,
) -> TOSTResult:
    """Two one-sided t-tests (TOST) of equivalence of ``candidate`` to ``reference``.

    H0: ``μc − μr ≤ low`` or ``μc − μr ≥ high`` (absolute margin), or
    ``μc / μr ≤ 1 + low`` or ``μc / μr ≥ 1 + high`` (relative margin, tested as the linear
    contrasts ``μc − (1 + low)·μr`` and ``μc − (1 + high)·μr``, each with its own standard
    error and degrees of freedom). Equivalence is shown when both one-sided tests reject at
    ``alpha``, i.e. when the ``(1 − 2α)`` confidence interval lies inside the bounds.

    Parameters
    ----------
    reference, candidate : array_like, 1-D
        Scalar results, one per seed or run, at least 2 finite values each.
    margin : float or (float, float)
        ``m > 0`` for the symmetric margin ``(-m, m)``, or ``(low, high)`` with
        ``low < 0 < high``: a difference of means, or with ``relative=True`` fractions of the
        reference mean (``0.05`` = ±5 %; ``low > -1``).
    relative : bool, default False
        Test the ratio of means against ``(1 + low, 1 + high)``; needs a reference mean > 0.
    paired : bool, default False
        Results are paired (shared seeds): paired t-tests on ``c_i − (1 + τ)·r_i``; equal
        lengths required.
    equal_var : bool, default False
        Pooled-variance t-tests instead of Welch's (unpaired only).
    alpha : float, default 0.05
        Level of each one-sided test, in (0, 0.5).

    Returns
    -------
    TOSTResult

    Raises
    ------
    ParityInputError
        NaN/inf values, fewer than 2 values, a non-1-D sample, a bad margin, a relative margin
        with a reference mean ≤ 0, unequal lengths when paired, ``equal_var`` with
        ``paired``, ``alpha`` outside (0, 0.5).

    Warns
    -----
    DegenerateDataWarning
        A sample with fewer than 5 values, a constant sample, or an effect known exactly
        (zero standard error). Also recorded in ``warnings``.

    Examples
    --------
    R's ``sleep`` data (TOSTER's example): group 1 − group 2 with bounds ±0.5.

    >>> g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    >>> g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    >>> res = tost(g2, g1, margin=0.5)
    >>> round(res.estimate, 2), round(res.pvalue, 3), res.equivalent
    (-1.58, 0.89, False)
    >>> [round(x, 4) for x in res.confidence_interval]
    [-3.0534, -0.1066]
    """
    ref, cand = as_values("reference", reference), as_values("candidate", candidate)
    a = _check_alpha(alpha)
    low, high = _equivalence_margin(margin, relative)
    design, notes = _prepare(ref, cand, paired=paired, equal_var=equal_var, relative=relative)
    return _tost_core(design, low, high, bool(relative), a, _warn(notes))


def tost_from_summary(
    mean_ref: float,
    sd_ref: float,
    n_ref: int,
    mean_cand: float,
    sd_cand: float,
    n_cand: int,
    *,
    margin: float | tuple[float, float],
    relative: bool = False,
    equal_var: bool = False,
    alpha: float = 0.05,
) -> TOSTResult:
    """TOST from summary statistics of two independent samples (same result as :func:`tost`).

    Parameters
    ----------
    mean_ref, sd_ref, n_ref : float, float, int
        Mean, standard deviation (``ddof=1``) and size of the reference sample.
    mean_cand, sd_cand, n_cand : float, float, int
        The same for the candidate sample.
    margin, relative, equal_var, alpha
        As in :func:`tost`.

    Returns
    -------
    TOSTResult

    Examples
    --------
    >>> res = tost_from_summary(10.0, 1.0, 50, 10.05, 1.0, 50, margin=0.05, relative=True)
    >>> res.equivalent, res.bounds
    (True, Interval(low=0.95, high=1.05))
    """
    m_r = _check_finite("mean_ref", mean_ref)
    m_c = _check_finite("mean_cand", mean_cand)
    s_r = _check_sd("sd_ref", sd_ref)
    s_c = _check_sd("sd_cand", sd_cand)
    n_r = _check_n("n_ref", n_ref)
    n_c = _check_n("n_cand", n_cand)
    a = _check_alpha(alpha)
    low, high = _equivalence_margin(margin, relative)
    equal_var = _check_bool("equal_var", equal_var)
    if relative and not m_r > 0:
        raise ParityInputError(
            f"a relative margin needs a reference mean > 0 (a ratio of means); got {m_r:g}"
        )
    design = _Design(
        kind="pooled" if equal_var else "welch",
        n_r=n_r,
        n_c=n_c,
        mean_r=m_r,
        mean_c=m_c,
        diff=m_c - m_r,
        var_r=s_r**2,
        var_c=s_c**2,
        scale=max(abs(m_r), abs(m_c)),
    )
    notes = _summary_notes(design, relative)
    return _tost_core(design, low, high, bool(relative), a, _warn(notes))


def noninferiority(
    reference: Any,
    candidate: Any,
    *,
    margin: float,
    relative: bool = False,
    paired: bool = False,
    equal_var: bool = False,
    higher_is_better: bool = True,
    alpha: float = 0.05,
) -> OneSidedResult:
    """One-sided test that the candidate is not worse than the reference by ``margin`` or more.

    H0 (higher is better): ``μc − μr ≤ −m`` (absolute) or ``μc ≤ (1 − m)·μr`` (relative);
    H0 (lower is better): ``μc − μr ≥ m`` or ``μc ≥ (1 + m)·μr``. This is one of the two
    tests of :func:`tost` (same statistic, df and p-value).

    Parameters
    ----------
    reference, candidate : array_like, 1-D
        Scalar results, one per seed or run.
    margin : float
        Non-inferiority margin ``m > 0`` (a difference, or a fraction of the reference mean;
        below 1 when relative and higher is better).
    relative, paired, equal_var, alpha
        As in :func:`tost`.
    higher_is_better : bool, default True
        Direction of "better".

    Returns
    -------
    OneSidedResult

    Examples
    --------
    >>> res = noninferiority([0.80, 0.82, 0.79, 0.81, 0.80], [0.81, 0.80, 0.80, 0.82, 0.81],
    ...                      margin=0.02)
    >>> res.noninferior, res.alternative, res.bounds
    (True, 'greater', Interval(low=-0.02, high=inf))
    """
    return _one_sided_public(
        "non-inferiority",
        reference,
        candidate,
        margin=margin,
        relative=relative,
        paired=paired,
        equal_var=equal_var,
        higher_is_better=higher_is_better,
        alpha=alpha,
    )


def superiority(
    reference: Any,
    candidate: Any,
    *,
    margin: float = 0.0,
    relative: bool = False,
    paired: bool = False,
    equal_var: bool = False,
    higher_is_better: bool = True,
    alpha: float = 0.05,
) -> OneSidedResult:
    """One-sided test that the candidate is better than the reference by more than ``margin``.

    H0 (higher is better): ``μc − μr ≤ m`` (absolute) or ``μc ≤ (1 + m)·μr`` (relative);
    H0 (lower is better): ``μc − μr ≥ −m`` or ``μc ≥ (1 − m)·μr``.

    Parameters
    ----------
    reference, candidate : array_like, 1-D
        Scalar results, one per seed or run.
    margin : float, default 0
        Superiority margin ``m ≥ 0`` (below 1 when relative and lower is better).
    relative, paired, equal_var, higher_is_better, alpha
        As in :func:`noninferiority`.

    Returns
    -------
    OneSidedResult

    Examples
    --------
    >>> res = superiority([1.0, 1.1, 0.9, 1.0, 1.0], [1.5, 1.6, 1.4, 1.5, 1.4])
    >>> res.superior, res.null_hypothesis
    (True, 'μc − μr ≤ 0')
    """
    return _one_sided_public(
        "superiority",
        reference,
        candidate,
        margin=margin,
        relative=relative,
        paired=paired,
        equal_var=equal_var,
        higher_is_better=higher_is_better,
        alpha=alpha,
    )


def posterior_equivalence(
    reference: Any,
    candidate: Any,
    *,
    margin: float | tuple[float, float],
    relative: bool = False,
    paired: bool = False,
    equal_var: bool = False,
) -> PosteriorResult:
    """Posterior probability that the effect lies inside the margin, under flat priors.

    Models (flat prior on the means and on the log standard deviations):

    - paired, absolute: the mean paired difference has a Student t posterior,
      ``t_{n−1}(d̄, s_d/√n)``;
    - unpaired, absolute, ``equal_var``: ``μc − μr ~ t_{n_r+n_c−2}(c̄ − r̄, s_p·√(1/n_r + 1/n_c))``;
    - unpaired, Welch: independent ``μr ~ t_{n_r−1}(r̄, s_r/√n_r)`` and
      ``μc ~ t_{n_c−1}(c̄, s_c/√n_c)`` (the exact Behrens–Fisher posterior, not the
      Satterthwaite approximation);
    - relative, ``equal_var`` or paired: ``(μr, μc)`` is bivariate Student t
      (``n_r + n_c − 2`` df with the pooled variance; ``n − 2`` df with the Jeffreys prior on
      the covariance of the pairs, which needs n ≥ 3).

    Probabilities that are not a closed-form t CDF are one-dimensional integrals over the
    posterior of ``μr`` (``scipy.integrate.quad`` in its quantile scale, split where the
    integrand jumps); no random numbers are drawn. The ratio ``μc/μr`` is used as is where
    the posterior puts mass on ``μr ≤ 0`` (noted when that mass is not negligible).

    Parameters
    ----------
    reference, candidate : array_like, 1-D
        Scalar results, one per seed or run.
    margin, relative, paired, equal_var
        As in :func:`tost`.

    Returns
    -------
    PosteriorResult

    Examples
    --------
    >>> ref = [1.0, 1.2, 0.9, 1.1, 1.0, 0.8]
    >>> cand = [1.1, 1.2, 1.0, 1.05, 1.0, 0.9]
    >>> res = posterior_equivalence(ref, cand, margin=0.1, paired=True)
    >>> round(res.probability, 4), round(res.probability_above, 4)
    (0.9562, 0.0421)
    """
    ref, cand = as_values("reference", reference), as_values("candidate", candidate)
    low, high = _equivalence_margin(margin, relative)
    design, notes = _prepare(ref, cand, paired=paired, equal_var=equal_var, relative=relative)
    if design.kind == "paired" and relative and design.n_r < 3:
        raise ParityInputError(
            f"`reference` and `candidate` need at least 3 pairs for the paired relative "
            f"posterior (bivariate t with n − 2 df); got {design.n_r}"
        )
    return _posterior_core(design, low, high, bool(relative), _warn(notes))


def attainability(
    reference: Any,
    candidate: Any,
    *,
    margin: float | tuple[float, float],
    relative: bool = False,
    paired: bool = False,
    equal_var: bool = False,
    alpha: float = 0.05,
    test: str = "equivalence",
    higher_is_better: bool = True,
) -> AttainabilityResult:
    """Whether the sample sizes allow the test to succeed at all at this α and margin.

    The observed standard deviations (and, for a relative margin, the reference mean) are
    taken as given; the candidate mean is set to its most favourable value. For TOST with an
    absolute margin the smallest reachable p-value is at the centre of the bounds, where the
    ``(1 − 2α)`` interval half-width ``t_{1−α,df}·SE`` must be below half the width of the
    margin; for a relative margin it is where the two one-sided p-values are equal. A
    non-inferiority test is always attainable (a candidate observed clearly better passes);
    its ``best_case_pvalue`` is that of a candidate observed equal to the reference. Both
    report the power at "no difference" and the n for 80% of it.

    Parameters
    ----------
    reference, candidate : array_like, 1-D
        Scalar results, one per seed or run.
    margin : float or (float, float)
        As in :func:`tost` (``test="equivalence"``) or :func:`noninferiority`.
    relative, paired, equal_var, alpha
        As in :func:`tost`.
    test : {"equivalence", "non-inferiority"}, default "equivalence"
        The test asked about.
    higher_is_better : bool, default True
        Direction of "better" (non-inferiority only).

    Returns
    -------
    AttainabilityResult

    Examples
    --------
    >>> res = attainability([1.0, 2.0, 3.0], [1.5, 2.5, 3.5], margin=0.5)
    >>> res.attainable, res.n_required, res.n_for_power
    (False, 23, 70)
    >>> ni = attainability([1.0, 2.0, 3.0], [1.5, 2.5, 3.5], margin=0.5, test="non-inferiority")
    >>> ni.attainable, ni.n_for_power
    (True, 51)
    """
    ref, cand = as_values("reference", reference), as_values("candidate", candidate)
    a = _check_alpha(alpha)
    if test not in ("equivalence", "non-inferiority"):
        raise ParityInputError(f"`test` must be 'equivalence' or 'non-inferiority'; got {test!r}")
    hib = _check_bool("higher_is_better", higher_is_better)
    if test == "equivalence":
        low, high = _equivalence_margin(margin, relative)
    else:
        low, high = _one_sided_margin("non-inferiority", margin, relative, hib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        design, _ = _prepare(ref, cand, paired=paired, equal_var=equal_var, relative=relative)
    return _detectability(design, test, low, high, bool(relative), a, full=True)


# --------------------------------------------------------------------------------------------
# validation


def _check_alpha(alpha: Any) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ParityInputError(f"`alpha` must be a number in (0, 0.5); got {alpha!r}") from None
    if isinstance(alpha, bool) or not 0.0 < a < 0.5:
        raise ParityInputError(f"`alpha` must be in (0, 0.5); got {alpha!r}")
    return a


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ParityInputError(f"`{name}` must be True or False; got {value!r}")
    return bool(value)


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_)


def _check_finite(name: str, value: Any) -> float:
    if not _is_number(value) or not math.isfinite(float(value)):
        raise ParityInputError(f"`{name}` must be a finite number; got {value!r}")
    return float(value)


def _check_sd(name: str, value: Any) -> float:
    v = _check_finite(name, value)
    if v < 0:
        raise ParityInputError(f"`{name}` must be ≥ 0 (a standard deviation); got {value!r}")
    return v


def _check_n(name: str, value: Any) -> int:
    ok = _is_number(value) and math.isfinite(float(value)) and float(value).is_integer()
    if not ok or int(value) < 2:
        raise ParityInputError(f"`{name}` must be an integer ≥ 2 (a sample size); got {value!r}")
    return int(value)


def _equivalence_margin(margin: Any, relative: Any) -> tuple[float, float]:
    """``m`` → ``(-m, m)``; ``(low, high)`` checked for ``low < 0 < high`` (``low > -1`` if
    relative)."""
    relative = _check_bool("relative", relative)
    if _is_number(margin):
        m = float(margin)
        if not math.isfinite(m) or m <= 0:
            raise ParityInputError(f"`margin` must be a finite number > 0; got {margin!r}")
        low, high = -m, m
    else:
        try:
            pair = tuple(margin)
        except TypeError:
            pair = ()
        if len(pair) != 2 or not all(_is_number(v) for v in pair):
            raise ParityInputError(
                f"`margin` must be a number > 0 or a (low, high) pair of numbers; got {margin!r}"
            )
        low, high = float(pair[0]), float(pair[1])
        if not (math.isfinite(low) and math.isfinite(high) and low < 0.0 < high):
            raise ParityInputError(
                f"`margin` (low, high) must be finite with low < 0 < high; got {pair!r}"
            )
    if relative and low <= -1.0:
        raise ParityInputError(
            f"relative `margin` must have low > -1 (a ratio bound 1 + low > 0); got low = {low:g}"
        )
    return low, high


def _one_sided_margin(
    test: str, margin: Any, relative: Any, higher_is_better: bool
) -> tuple[float, float]:
    """The region of H1 in margin units, e.g. ``(-m, inf)`` for non-inferiority."""
    relative = _check_bool("relative", relative)
    if not _is_number(margin) or not math.isfinite(float(margin)):
        raise ParityInputError(f"`margin` must be a finite number; got {margin!r}")
    m = float(margin)
    if test == "non-inferiority" and m <= 0:
        raise ParityInputError(f"`margin` must be > 0 for non-inferiority; got {margin!r}")
    if test == "superiority" and m < 0:
        raise ParityInputError(f"`margin` must be ≥ 0 for superiority; got {margin!r}")
    # the null boundary: below the reference for NI when higher is better, etc.
    bound = -m if (test == "non-inferiority") == higher_is_better else m
    if relative and bound <= -1.0:
        raise ParityInputError(
            f"relative `margin` must be < 1 here (a ratio bound 1 - margin > 0); got {m:g}"
        )
    return (bound, math.inf) if higher_is_better else (-math.inf, bound)


# --------------------------------------------------------------------------------------------
# the design: moments of the two samples and the variance of a contrast


@dataclasses.dataclass(frozen=True)
class _Design:
    """Moments of the data; the methods work elementwise on arrays of replicates too.

    ``var_*`` are sample variances (``ddof=1``); for the paired design ``var_d`` and
    ``cov_dr`` are the variance of the differences ``d = c − r`` and their covariance with
    ``r``, and ``n_r == n_c`` is the number of pairs.
    """

    kind: str  # "welch", "pooled" or "paired"
    n_r: int
    n_c: int
    mean_r: Any
    mean_c: Any
    diff: Any
    var_r: Any
    var_c: Any
    var_d: Any = math.nan
    cov_dr: Any = math.nan
    scale: float = 0.0  # largest magnitude of the inputs: sets the rounding tolerance

    def rounding(self, tau: Any, delta: Any) -> Any:
        """How far from 0 a contrast of constant data may be from rounding alone."""
        return 2.0 * _ROUNDING_EPS * _EPS * (self.scale * (1.0 + np.abs(tau)) + np.abs(delta))

    def pooled_var(self) -> Any:
        return ((self.n_r - 1) * self.var_r + (self.n_c - 1) * self.var_c) / (
            self.n_r + self.n_c - 2
        )

    def estimate(self, tau: Any, delta: Any) -> Any:
        """``c̄ − (1 + τ)·r̄ − δ``, computed as ``(c̄ − r̄) − τ·r̄ − δ``."""
        return self.diff - tau * self.mean_r - delta

    def coefficients(self) -> tuple[Any, Any, Any]:
        """``(b0, b1, b2)`` with ``variance(τ) = b0 + b1·τ + b2·τ²``."""
        if self.kind == "paired":
            n = self.n_r
            return self.var_d / n, -2.0 * self.cov_dr / n, self.var_r / n
        if self.kind == "pooled":
            sp2 = self.pooled_var()
            return sp2 * (1.0 / self.n_c + 1.0 / self.n_r), 2.0 * sp2 / self.n_r, sp2 / self.n_r
        u_r = self.var_r / self.n_r
        return self.var_c / self.n_c + u_r, 2.0 * u_r, u_r

    def variance(self, tau: Any) -> Any:
        """Variance of the contrast estimate (clipped at 0 against rounding)."""
        tau = np.asarray(tau, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.kind == "paired":
                v = (self.var_d - 2.0 * tau * self.cov_dr + tau * tau * self.var_r) / self.n_r
            elif self.kind == "pooled":
                v = self.pooled_var() * (1.0 / self.n_c + (1.0 + tau) ** 2 / self.n_r)
            else:
                v = self.var_c / self.n_c + (1.0 + tau) ** 2 * (self.var_r / self.n_r)
        return np.maximum(v, 0.0)

    def df(self, tau: Any) -> Any:
        """Degrees of freedom of the contrast's t-test (Welch–Satterthwaite for Welch)."""
        if self.kind == "paired":
            return np.float64(self.n_r - 1) + 0.0 * tau
        if self.kind == "pooled":
            return np.float64(self.n_r + self.n_c - 2) + 0.0 * tau
        tau = np.asarray(tau, dtype=np.float64)
        a = self.var_c / self.n_c
        b = (1.0 + tau) ** 2 * (self.var_r / self.n_r)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # shares: no overflow
            sa, sb = np.divide(a, a + b), np.divide(b, a + b)
            return np.divide(1.0, sa * sa / (self.n_c - 1) + sb * sb / (self.n_r - 1))

    def fixed_df(self) -> float | None:
        """The df when it does not depend on τ, else ``None``."""
        if self.kind == "paired":
            return float(self.n_r - 1)
        if self.kind == "pooled":
            return float(self.n_r + self.n_c - 2)
        if self.var_r == 0 and self.var_c == 0:
            return math.nan
        if self.var_r == 0:
            return float(self.n_c - 1)
        if self.var_c == 0:
            return float(self.n_r - 1)
        return None

    def asymptotic_df(self) -> float:
        """The df of the contrast as ``|τ| → ∞`` (the reference term dominates)."""
        fixed = self.fixed_df()
        return float(self.n_r - 1) if fixed is None else fixed


def _prepare(
    ref: np.ndarray, cand: np.ndarray, *, paired: Any, equal_var: Any, relative: Any
) -> tuple[_Design, list[str]]:
    """Check the design options against the data; return the moments and the data notes."""
    paired = _check_bool("paired", paired)
    equal_var = _check_bool("equal_var", equal_var)
    relative = _check_bool("relative", relative)
    if paired and equal_var:
        raise ParityInputError(
            "`equal_var` applies to unpaired samples only; got equal_var=True with paired=True"
        )
    if paired and ref.size != cand.size:
        raise ParityInputError(
            f"`reference` and `candidate` must have the same length when paired=True "
            f"(one pair per seed); got {ref.size} and {cand.size}"
        )
    mean_r, var_r, const_r = _moments(ref, _scale(ref))
    if relative and not mean_r > 0:
        raise ParityInputError(
            f"a relative margin needs a reference mean > 0 (a ratio of means); got {mean_r:g}"
        )
    mean_c, var_c, const_c = _moments(cand, _scale(cand))
    common = {
        "n_r": int(ref.size),
        "n_c": int(cand.size),
        "mean_r": mean_r,
        "mean_c": mean_c,
        "var_r": var_r,
        "var_c": var_c,
    }
    notes = []
    for name, x, const in (("reference", ref, const_r), ("candidate", cand, const_c)):
        if x.size < _MIN_RELIABLE_N:
            notes.append(
                f"{name} has only {x.size} values (n < {_MIN_RELIABLE_N}); the t-tests rely on "
                "the normality of the mean, which so few values cannot check"
            )
        if const:
            notes.append(f"{name} is constant (every value is {x[0]:.6g}{_rounding(x)})")
    scale = max(_scale(ref), _scale(cand))
    if paired:
        d = cand - ref
        mean_d, var_d, const_d = _moments(d, scale)
        # |cov(d, r)| ≤ sd(d)·sd(r): a difference without spread has no covariance either
        cov_dr = 0.0 if var_d == 0 else float(np.cov(d, ref, ddof=1)[0, 1])
        design = _Design(
            kind="paired", diff=mean_d, var_d=var_d, cov_dr=cov_dr, scale=scale, **common
        )
        if const_d:
            notes.append(
                f"every paired difference equals {mean_d:.6g}{_rounding(d)}: the difference is "
                "known exactly, so each one-sided test on the difference rejects (p = 0) when "
                "it lies beyond its bound by more than rounding and not (p = 1) otherwise"
            )
    else:
        kind = "pooled" if equal_var else "welch"
        design = _Design(kind=kind, diff=mean_c - mean_r, scale=scale, **common)
        if const_r and const_c:
            notes.append(_both_constant_note(relative))
    return design, notes


#: A spread below this many machine epsilons of the largest magnitude is floating-point
#: rounding (e.g. ``1.1 - 1.0`` vs ``2.1 - 2.0``), not variation: it is taken as zero.
_ROUNDING_EPS = 4.0
#: Most doublings of a search bracket: 1e-300 · 2**2100 exceeds the largest float, so a
#: search that has not found its bracket by then never will (NaN or inf arithmetic).
_MAX_DOUBLINGS = 2100


def _scale(x: np.ndarray) -> float:
    return float(np.max(np.abs(x)))


def _moments(x: np.ndarray, scale: float) -> tuple[float, float, bool]:
    """``(mean, variance, constant)``; the variance of a constant sample is exactly 0.

    A sample is constant when its values are equal, or differ only by floating-point rounding
    (standard deviation ≤ 4·eps·scale, with ``scale`` the largest magnitude of the inputs).
    """
    if np.all(x == x[0]):
        return float(x[0]), 0.0, True
    var = float(np.var(x, ddof=1))
    if math.sqrt(var) <= _ROUNDING_EPS * _EPS * scale:
        return float(np.mean(x)), 0.0, True
    return float(np.mean(x)), var, False


def _rounding(x: np.ndarray) -> str:
    return "" if np.all(x == x[0]) else " up to floating-point rounding"


def _both_constant_note(relative: bool) -> str:
    effect = "ratio" if relative else "difference"
    return (
        f"both samples are constant: the {effect} of means is treated as known exactly, so "
        "each one-sided test rejects (p = 0) when it lies beyond its bound by more than "
        "rounding and not (p = 1) otherwise"
    )


def _summary_notes(design: _Design, relative: bool) -> list[str]:
    notes = []
    for name, n, var in (
        ("reference", design.n_r, design.var_r),
        ("candidate", design.n_c, design.var_c),
    ):
        if n < _MIN_RELIABLE_N:
            notes.append(
                f"{name} has only {n} values (n < {_MIN_RELIABLE_N}); the t-tests rely on "
                "the normality of the mean, which so few values cannot check"
            )
        if var == 0:
            notes.append(f"{name} has standard deviation 0")
    if design.var_r == 0 and design.var_c == 0:
        notes.append(_both_constant_note(relative))
    return notes


def _warn(notes: list[str], stacklevel: int = 3) -> list[str]:
    """Warn (DegenerateDataWarning) once per data note; return the notes.

    Called by the public functions only, so that the warning points at their caller.
    """
    for note in notes:
        warnings.warn(note, DegenerateDataWarning, stacklevel=stacklevel)
    return notes


# --------------------------------------------------------------------------------------------
# the one-sided test of a contrast


def _contrast_params(bound: float, relative: bool) -> tuple[float, float]:
    """``(τ, δ)`` of the contrast for a bound in margin units."""
    return (bound, 0.0) if relative else (0.0, bound)


def _contrast_test(
    design: _Design, tau: Any, delta: Any, alternative: str
) -> tuple[Any, Any, Any, Any, Any]:
    """``(statistic, df, pvalue, contrast, standard_error)``, elementwise over replicates.

    ``alternative="greater"`` tests H0 ``contrast ≤ 0``; ``"less"`` tests H0 ``contrast ≥ 0``.
    A zero standard error makes the contrast known: p is 0 when it lies on the side of the
    alternative by more than floating-point rounding, else 1.
    """
    from scipy import special

    est = design.estimate(tau, delta)
    var = design.variance(tau)
    se = np.sqrt(var)
    df = design.df(tau)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
        tol = design.rounding(tau, delta)
        if alternative == "greater":
            p = special.stdtr(df, -stat)
            exact = np.where(est > tol, 0.0, 1.0)
        else:
            p = special.stdtr(df, stat)
            exact = np.where(est < -tol, 0.0, 1.0)
    p = np.where(var == 0, exact, p)
    stat = np.where((var == 0) & (np.abs(est) <= tol), np.nan, stat)
    return stat, df, p, est, se


def _one_sided_test(
    design: _Design, bound: float, alternative: str, relative: bool, alpha: float
) -> OneSidedTest:
    tau, delta = _contrast_params(bound, relative)
    stat, df, p, est, se = _contrast_test(design, tau, delta, alternative)
    return OneSidedTest(
        bound=_on_scale(bound, relative),
        alternative=alternative,
        statistic=float(stat),
        df=float(df),
        pvalue=float(p),
        contrast=float(est),
        standard_error=float(se),
        rejected=bool(p < alpha),
    )


def _on_scale(x: float, relative: bool) -> float:
    """A margin value on the scale of the estimate: ``x`` or the ratio ``1 + x``."""
    return 1.0 + x if relative else x


def _estimate(design: _Design, relative: bool) -> tuple[float, float]:
    """``(estimate, standard_error)``: the difference, or the ratio with its delta-method SE."""
    if not relative:
        return float(design.diff), float(np.sqrt(design.variance(0.0)))
    tau_hat = design.diff / design.mean_r
    return (
        float(design.mean_c / design.mean_r),
        float(np.sqrt(design.variance(tau_hat)) / design.mean_r),
    )


def _method(design: _Design, relative: bool, what: str) -> str:
    kind = {
        "welch": "Welch t-test",
        "pooled": "pooled-variance t-test",
        "paired": "paired t-test",
    }[design.kind]
    if not relative:
        df = " with Welch–Satterthwaite df" if design.kind == "welch" else ""
        return f"{what}: {kind}{df} of the difference of means μc − μr"
    df = " with its own Welch–Satterthwaite df" if design.kind == "welch" else ""
    return (
        f"{what}: ratio of means μc/μr against θ tested as the linear contrast μc − θ·μr, "
        f"{kind}{df} per bound; Fieller confidence interval"
    )


def _describe(bound: float, alternative: str, relative: bool) -> str:
    effect = "μc/μr" if relative else "μc − μr"
    op = "≤" if alternative == "greater" else "≥"
    return f"{effect} {op} {_on_scale(bound, relative):g}"


# --------------------------------------------------------------------------------------------
# confidence intervals


def _interval(design: _Design, relative: bool, alpha: float) -> tuple[tuple[float, float], list]:
    """The two-sided ``(1 − 2α)`` interval of the effect and notes (unbounded Fieller set)."""
    from scipy import special

    estimate, _ = _estimate(design, relative)
    b0, b1, b2 = design.coefficients()
    if not relative:
        if b0 == 0:
            return (estimate, estimate), []
        half = float(special.stdtrit(design.df(0.0), 1.0 - alpha)) * math.sqrt(b0)
        return (estimate - half, estimate + half), []
    if b0 == 0 and b1 == 0 and b2 == 0:
        return (estimate, estimate), []
    fixed = design.fixed_df()
    if fixed is not None:
        lo, hi, note = _fieller_fixed(design, float(special.stdtrit(fixed, 1.0 - alpha)), alpha)
    else:
        lo, hi, note = _fieller_welch(design, alpha)
    notes = [note] if note else []
    # the estimate lies in the set by construction; guard against the last bit of rounding
    return (min(lo, estimate), max(hi, estimate)), notes


def _unbounded_note(design: _Design, q: float, alpha: float, the_set: str) -> str:
    z = design.mean_r / math.sqrt(design.coefficients()[2])
    return (
        f"the Fieller confidence set for the ratio at α = {alpha:g} is unbounded (the ratios "
        f"no one-sided test rejects form {the_set}), because the reference mean is not "
        f"clearly above 0 (mean/SE = {z:.3g} ≤ t = {q:.3g}); the interval is reported as "
        "(-inf, inf)"
    )


def _fieller_fixed(design: _Design, q: float, alpha: float) -> tuple[float, float, str | None]:
    """Fieller's interval for the ratio with a fixed critical value ``q``, solved in τ.

    The ratios ``θ = 1 + τ`` not rejected satisfy
    ``(d̄ − τ·r̄)² ≤ q²·(b0 + b1·τ + b2·τ²)``, a quadratic ``A·τ² + B·τ + C ≤ 0``.
    """
    b0, b1, b2 = design.coefficients()
    m_r, e0 = design.mean_r, design.diff
    q2 = q * q
    a = m_r * m_r - q2 * b2
    b = -(2.0 * e0 * m_r + q2 * b1)
    c = e0 * e0 - q2 * b0
    disc = b * b - 4.0 * a * c
    if a > 0:
        root = math.sqrt(max(disc, 0.0))
        qq = -0.5 * (b + math.copysign(root, b))
        r1 = qq / a
        r2 = c / qq if qq != 0 else r1
        lo, hi = sorted((r1, r2))
        return 1.0 + lo, 1.0 + hi, None
    if disc <= 0:
        the_set = "every real number"
    elif a == 0:
        the_set = "a half-line"
    else:
        root = math.sqrt(disc)
        qq = -0.5 * (b + math.copysign(root, b))
        r1, r2 = sorted((qq / a, c / qq))
        the_set = f"(-inf, {1 + r1:.6g}] ∪ [{1 + r2:.6g}, inf)"
    return -math.inf, math.inf, _unbounded_note(design, q, alpha, the_set)


def _fieller_welch(design: _Design, alpha: float) -> tuple[float, float, str | None]:
    """Fieller's interval with the θ-dependent Welch–Satterthwaite df, by root finding.

    Each end is the first ``τ`` away from the estimate where ``|T(τ)| = t_{1−α, ν(τ)}``. The
    set is bounded iff ``r̄/se(r̄) > t_{1−α, n_r−1}``, the limit of ``|T|`` and of the critical
    value as ``|τ| → ∞``.
    """
    from scipy import optimize, special

    q_inf = float(special.stdtrit(design.asymptotic_df(), 1.0 - alpha))
    if design.mean_r * design.mean_r <= q_inf * q_inf * design.coefficients()[2]:
        return -math.inf, math.inf, _unbounded_note(design, q_inf, alpha, "an unbounded set")

    def t_of(tau: float) -> float:
        return float(design.estimate(tau, 0.0) / np.sqrt(design.variance(tau)))

    def q_of(tau: float) -> float:
        return float(special.stdtrit(design.df(tau), 1.0 - alpha))

    tau_hat = design.diff / design.mean_r
    step0 = max(q_of(tau_hat) * math.sqrt(design.variance(tau_hat)) / design.mean_r, 1e-300)
    ends = []
    for side in (-1.0, 1.0):

        def g(tau: float, side: float = side) -> float:
            return -side * t_of(tau) - q_of(tau)  # < 0 inside the interval, > 0 beyond

        inner, step = tau_hat, step0
        outer = tau_hat + side * step
        for _ in range(_MAX_DOUBLINGS):  # 2**2100 · 1e-300 overflows: the loop ends by then
            if not g(outer) <= 0:  # beyond the interval (or NaN: no bracket to refine)
                break
            inner, step = outer, 2.0 * step
            outer = tau_hat + side * step
            if not math.isfinite(outer):  # pragma: no cover - excluded by the bound check
                return (
                    -math.inf,
                    math.inf,
                    _unbounded_note(design, q_inf, alpha, "an unbounded set"),
                )
        lo, hi = sorted((inner, outer))
        root = optimize.brentq(g, lo, hi, xtol=1e-15 * step0, rtol=4 * _EPS, maxiter=500)
        ends.append(1.0 + root)
    return ends[0], ends[1], None


# --------------------------------------------------------------------------------------------
# TOST and the one-sided tests


def _tost_core(
    design: _Design, low: float, high: float, relative: bool, alpha: float, notes: list[str]
) -> TOSTResult:
    """TOST of ``design`` against the region ``(low, high)``: both one-sided tests, the (1 − 2α)
    interval, attainability and the result's warnings."""
    lower = _one_sided_test(design, low, "greater", relative, alpha)
    upper = _one_sided_test(design, high, "less", relative, alpha)
    binding = lower if lower.pvalue >= upper.pvalue else upper
    pvalue = max(lower.pvalue, upper.pvalue)
    estimate, se = _estimate(design, relative)
    ci, ci_notes = _interval(design, relative, alpha)
    notes = [*notes, *ci_notes]
    det = _detectability(design, "equivalence", low, high, relative, alpha, full=False)
    if not det.attainable:
        notes.extend(det.warnings)
    if not pvalue < alpha:
        notes.append(_power_note(design, "equivalence", relative, det.power, det.n_for_power))
    return TOSTResult(
        statistic=binding.statistic,
        pvalue=pvalue,
        confidence_interval=ci,
        confidence_level=1.0 - 2.0 * alpha,
        alternative="equivalence",
        null_hypothesis=(
            f"{_describe(low, 'greater', relative)} or {_describe(high, 'less', relative)}"
        ),
        method=_method(design, relative, "two one-sided tests (TOST)"),
        df=binding.df,
        estimate=estimate,
        standard_error=se,
        margin=(low, high),
        bounds=(_on_scale(low, relative), _on_scale(high, relative)),
        equivalent=bool(pvalue < alpha),
        lower=lower,
        upper=upper,
        **_descriptives(design),
        paired=design.kind == "paired",
        relative=relative,
        equal_var=design.kind == "pooled",
        alpha=alpha,
        attainable=det.attainable,
        warnings=tuple(notes),
        power=det.power,
        n_for_power=det.n_for_power,
    )


def _descriptives(design: _Design) -> dict[str, Any]:
    paired = design.kind == "paired"
    return {
        "reference_mean": float(design.mean_r),
        "candidate_mean": float(design.mean_c),
        "reference_sd": math.sqrt(design.var_r),
        "candidate_sd": math.sqrt(design.var_c),
        "difference_sd": math.sqrt(design.var_d) if paired else None,
        "n_reference": design.n_r,
        "n_candidate": design.n_c,
    }


def _one_sided_public(
    test: str,
    reference: Any,
    candidate: Any,
    *,
    margin: Any,
    relative: Any,
    paired: Any,
    equal_var: Any,
    higher_is_better: Any,
    alpha: Any,
) -> OneSidedResult:
    ref, cand = as_values("reference", reference), as_values("candidate", candidate)
    a = _check_alpha(alpha)
    hib = _check_bool("higher_is_better", higher_is_better)
    region = _one_sided_margin(test, margin, relative, hib)
    design, notes = _prepare(ref, cand, paired=paired, equal_var=equal_var, relative=relative)
    return _one_sided_core(design, test, region, bool(relative), a, hib, _warn(notes, 4))


def _one_sided_core(
    design: _Design,
    test: str,
    region: tuple[float, float],
    relative: bool,
    alpha: float,
    higher_is_better: bool,
    notes: list[str],
) -> OneSidedResult:
    """The one-sided (non-inferiority or superiority) test of ``design`` at the bound of ``region``
    on the side of ``higher_is_better``, with its one-sided interval."""
    alternative = "greater" if higher_is_better else "less"
    bound = region[0] if higher_is_better else region[1]
    t = _one_sided_test(design, bound, alternative, relative, alpha)
    estimate, se = _estimate(design, relative)
    (lo, hi), ci_notes = _interval(design, relative, alpha)
    ci = (lo, math.inf) if higher_is_better else (-math.inf, hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        ci = (-math.inf, math.inf)
    notes = [*notes, *ci_notes]
    # a one-sided test is never impossible: a candidate observed better by enough passes it.
    # Non-inferiority is judged at "no difference"; superiority, which no n shows when there
    # is none, at the observed effect.
    effect = 0.0 if test == "non-inferiority" else _margin_units(estimate, relative)
    power = _power(design, region, relative, alpha, effect)
    n_power = _n_for_power(design, region, relative, alpha, effect)
    if not t.rejected:
        at = None if test == "non-inferiority" else estimate
        notes.append(_power_note(design, test, relative, power, n_power, at))
    return OneSidedResult(
        test=test,
        statistic=t.statistic,
        pvalue=t.pvalue,
        confidence_interval=ci,
        confidence_level=1.0 - alpha,
        alternative=alternative,
        null_hypothesis=_describe(bound, alternative, relative),
        method=_method(design, relative, f"one-sided {test} test"),
        df=t.df,
        estimate=estimate,
        standard_error=se,
        margin=region,
        bounds=(_on_scale(region[0], relative), _on_scale(region[1], relative)),
        bound=t.bound,
        rejected=t.rejected,
        noninferior=t.rejected if test == "non-inferiority" else None,
        superior=t.rejected if test == "superiority" else None,
        higher_is_better=higher_is_better,
        test_result=t,
        **_descriptives(design),
        paired=design.kind == "paired",
        relative=relative,
        equal_var=design.kind == "pooled",
        alpha=alpha,
        attainable=True,
        warnings=tuple(notes),
        power=power,
        n_for_power=n_power,
    )


# --------------------------------------------------------------------------------------------
# attainability: can the test succeed at all?


def _best_case(
    design: _Design, test: str, low: float, high: float, relative: bool
) -> tuple[float, float]:
    """``(smallest reachable p-value, estimate where it is reached)`` for fixed SDs and n.

    The candidate mean moves; the standard deviations, sample sizes and (for relative
    margins) the reference mean stay. A contrast at bound ``b`` then has the estimate
    ``r̄·(τ − b)`` (relative, observed ratio ``1 + τ``) or ``x − b`` (absolute, observed
    difference ``x``).
    """
    from scipy import optimize, special

    if test == "non-inferiority":
        # a candidate mean equal to the reference mean: difference 0, ratio 1
        bound = low if math.isfinite(low) else high
        tau, _ = _contrast_params(bound, relative)
        se = math.sqrt(design.variance(tau))
        z = (design.mean_r if relative else 1.0) * abs(bound)
        p = 0.0 if se == 0 else float(special.stdtr(design.df(tau), -z / se))
        return p, _on_scale(0.0, relative)
    if not relative:
        se = math.sqrt(design.variance(0.0))
        mid = 0.5 * (low + high)
        p = 0.0 if se == 0 else float(special.stdtr(design.df(0.0), -0.5 * (high - low) / se))
        return p, mid
    m_r = design.mean_r
    se_l, se_u = math.sqrt(design.variance(low)), math.sqrt(design.variance(high))
    df_l, df_u = float(design.df(low)), float(design.df(high))

    def p_lower(tau: float) -> float:  # H0 ratio ≤ 1 + low, at an observed ratio 1 + tau
        return 0.0 if se_l == 0 else float(special.stdtr(df_l, -m_r * (tau - low) / se_l))

    def p_upper(tau: float) -> float:
        return 0.0 if se_u == 0 else float(special.stdtr(df_u, m_r * (tau - high) / se_u))

    if se_l == 0 and se_u == 0:
        return 0.0, 1.0 + 0.5 * (low + high)
    if se_l == 0:
        return p_upper(low), 1.0 + low
    if se_u == 0:
        return p_lower(high), 1.0 + high
    if df_l == df_u:  # equal p-values where the two t statistics are equal
        tau = (low / se_l + high / se_u) / (1.0 / se_l + 1.0 / se_u)
    else:
        tau = optimize.brentq(
            lambda x: p_lower(x) - p_upper(x), low, high, xtol=1e-15, rtol=4 * _EPS
        )
    return max(p_lower(tau), p_upper(tau)), 1.0 + tau


def _detectability(
    design: _Design,
    test: str,
    low: float,
    high: float,
    relative: bool,
    alpha: float,
    *,
    full: bool,
) -> AttainabilityResult:
    """Attainability of the test; ``full`` also searches ``min_margin`` and ``n_required``."""
    p, at = _best_case(design, test, low, high, relative)
    reached = bool(p < alpha)
    attainable = reached or test != "equivalence"
    min_margin, n_req = math.nan, None
    if full or not reached:
        n_req = _n_required(design, test, low, high, relative, alpha)
    if full:
        min_margin = _min_margin(design, test, low, high, relative, alpha)
    power = _power(design, (low, high), relative, alpha, 0.0)
    n_power = _n_for_power(design, (low, high), relative, alpha, 0.0)
    effect = "ratio" if relative else "difference"
    units = _units(design)
    need = (
        f"; with the same standard deviations about {n_req} {units} would be needed"
        if n_req is not None
        else ""
    )
    if test == "equivalence" and reached:
        note = (
            f"equivalence is attainable: with the observed standard deviations the smallest "
            f"reachable p-value is {p:.3g} < α = {alpha:g} (at an observed {effect} of {at:.4g})"
        )
    elif test == "equivalence":
        note = (
            "equivalence cannot be shown with these data whatever the observed means: with "
            f"n = {design.n_r}/{design.n_c} and the observed standard deviations the "
            f"{1 - 2 * alpha:.0%} interval is at least as wide as the margin band (the smallest "
            f"reachable p-value is {p:.3g} ≥ α = {alpha:g}, at an observed {effect} of "
            f"{at:.4g}){need}"
        )
    elif reached:
        note = (
            "non-inferiority is attainable: a candidate observed equal to the reference would "
            f"be shown non-inferior (p = {p:.3g} < α = {alpha:g})"
        )
    else:
        note = (
            "non-inferiority is attainable (a candidate observed better by enough is shown "
            f"non-inferior at any n), but at n = {design.n_r}/{design.n_c} one observed equal "
            f"to the reference would not be (p = {p:.3g} ≥ α = {alpha:g}){need}"
        )
    return AttainabilityResult(
        test=test,
        attainable=attainable,
        best_case_pvalue=p,
        best_case_estimate=at,
        min_margin=min_margin,
        n_required=n_req,
        margin=(low, high),
        n_reference=design.n_r,
        n_candidate=design.n_c,
        paired=design.kind == "paired",
        relative=relative,
        equal_var=design.kind == "pooled",
        alpha=alpha,
        warnings=(note, _power_note(design, test, relative, power, n_power)),
        power=power,
        n_for_power=n_power,
    )


def _units(design: _Design) -> str:
    return "runs per system" if design.kind != "paired" else "pairs"


def _margin_units(estimate: float, relative: bool) -> float:
    """An estimate (difference, or ratio) in margin units (difference, or ratio − 1)."""
    return estimate - 1.0 if relative else estimate


def _power(
    design: _Design, region: tuple[float, float], relative: bool, alpha: float, effect: float
) -> float:
    """Probability that the test of H1 ``effect ∈ region`` succeeds when the true effect (in
    margin units) is ``effect``, with the design's n and standard deviations.

    Each finite bound ``b`` is a one-sided t-test of a contrast whose true value is
    ``s·(effect − b)`` (``s`` the reference mean for a relative margin, else 1): its power is
    the noncentral t tail ``P(T' > t_{1−α,ν})`` with noncentrality ``s·|effect − b|/SE``
    signed toward H1. Two bounds (TOST) give ``max(0, P_lower + P_upper − 1)``, a lower bound
    of the probability that both reject.
    """
    from scipy import stats

    low, high = region
    scale = design.mean_r if relative else 1.0
    powers = []
    for bound, sign in ((low, 1.0), (high, -1.0)):
        if not math.isfinite(bound):
            continue
        tau, _ = _contrast_params(bound, relative)
        se = float(math.sqrt(design.variance(tau)))
        shift = sign * scale * (effect - bound)
        if se == 0.0:
            powers.append(1.0 if shift > 0 else 0.0)
            continue
        df = float(design.df(tau))
        powers.append(float(stats.nct.sf(stats.t.ppf(1.0 - alpha, df), df, shift / se)))
    return max(0.0, sum(powers) - (len(powers) - 1))


def _n_for_power(
    design: _Design, region: tuple[float, float], relative: bool, alpha: float, effect: float
) -> int | None:
    """Smallest common n (per system, or pairs) at which :func:`_power` reaches the target."""
    if not region[0] < effect < region[1]:
        return None

    def ok(n: int) -> bool:
        resized = dataclasses.replace(design, n_r=n, n_c=n)
        return _power(resized, region, relative, alpha, effect) >= TARGET_POWER

    return smallest_n(ok, 2, _MAX_N)


def _power_note(
    design: _Design,
    test: str,
    relative: bool,
    power: float,
    n_power: int | None,
    at: float | None = None,
) -> str:
    """How many runs would make the test likely to succeed, in one sentence."""
    effect = "ratio" if relative else "difference"
    truth = (
        f"a true {effect} of {1.0 if relative else 0.0:g} (no difference)"
        if at is None
        else f"a true {effect} equal to the observed {at:.4g}"
    )
    now = f"{power:.0%} at n = {design.n_r}/{design.n_c}"
    if n_power is None:
        return (
            f"{test} is unlikely to be shown at any n with {truth} and the observed standard "
            f"deviations (power {now})"
        )
    return (
        f"with {truth} and the observed standard deviations, about {n_power} "
        f"{_units(design)} would give {TARGET_POWER:.0%} power to show {test} (power {now})"
    )


def _n_required(
    design: _Design, test: str, low: float, high: float, relative: bool, alpha: float
) -> int | None:
    """Smallest common n (per system, or pairs) at which the best case reaches p < α."""

    def ok(n: int) -> bool:
        resized = dataclasses.replace(design, n_r=n, n_c=n)
        return _best_case(resized, test, low, high, relative)[0] < alpha

    return smallest_n(ok, 2, _MAX_N)


def smallest_n(ok: Callable[[int], bool], start: int, stop: int) -> int | None:
    """Smallest integer in [start, stop] where the monotone predicate ``ok`` holds (None when
    it does not hold at ``stop``'s doubling bound).

    Examples
    --------
    >>> smallest_n(lambda n: n * n >= 50, 2, 2**31)
    8
    """
    if ok(start):
        return start
    lo, hi = start, start
    while not ok(hi):  # hi doubles from start ≥ 1 to stop: at most log2(stop) rounds
        lo, hi = hi, hi * 2
        if hi > stop:
            return None
    while hi - lo > 1:  # ok(hi) and not ok(lo)
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def _min_margin(
    design: _Design, test: str, low: float, high: float, relative: bool, alpha: float
) -> float:
    """Smallest symmetric margin at which the best case reaches p < α (bisection)."""

    def ok(m: float) -> bool:
        if test == "equivalence":
            return _best_case(design, test, -m, m, relative)[0] < alpha
        lo_, hi_ = (-m, math.inf) if math.isfinite(low) else (-math.inf, m)
        return _best_case(design, test, lo_, hi_, relative)[0] < alpha

    capped = relative and (test == "equivalence" or math.isfinite(low))
    if design.variance(0.0) == 0 and not relative:
        return 0.0
    lo = 0.0
    if capped:
        hi = 1.0 - 1e-12
        if not ok(hi):
            return math.inf
    else:
        hi = math.sqrt(design.variance(0.0))
        if not math.isfinite(hi):  # the variance overflows: no margin can be computed
            return math.inf
        hi = max(hi, 1e-300)
        for _ in range(_MAX_DOUBLINGS):
            if ok(hi):
                break
            lo, hi = hi, 2.0 * hi
            if hi > 1e300:  # e.g. a relative margin whose bound never clears the noise
                return math.inf
        else:  # pragma: no cover - 2100 doublings of 1e-300 pass 1e300
            return math.inf
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


# --------------------------------------------------------------------------------------------
# posterior probability of equivalence


def _posterior_core(
    design: _Design, low: float, high: float, relative: bool, notes: list[str]
) -> PosteriorResult:
    """The posterior probability that the effect of ``design`` lies in ``(low, high)``: closed form
    for a difference of equal-variance or paired means, by simulation otherwise."""
    from scipy import special

    estimate, _ = _estimate(design, relative)
    lo_b, hi_b = _on_scale(low, relative), _on_scale(high, relative)
    if not relative and design.kind != "welch":
        # closed form: a Student t posterior of the difference
        if design.kind == "paired":
            nu, scale = design.n_r - 1, math.sqrt(design.var_d / design.n_r)
            method = (
                "posterior of the mean paired difference: Student t with n − 1 df "
                "(flat prior on the mean and the log standard deviation)"
            )
        else:
            nu = design.n_r + design.n_c - 2
            scale = math.sqrt(design.pooled_var() * (1.0 / design.n_r + 1.0 / design.n_c))
            method = (
                "posterior of μc − μr with a common variance: Student t with n_r + n_c − 2 df "
                "(flat prior on both means and the log standard deviation)"
            )

        def cdf(x: float) -> float:
            if scale == 0:
                return 1.0 if x >= design.diff else 0.0
            return float(special.stdtr(nu, (x - design.diff) / scale))

    else:
        cdf, method, mass = _posterior_by_quadrature(design, relative)
        if mass > 1e-6:
            notes = [
                *notes,
                f"the posterior gives probability {mass:.3g} to a reference mean ≤ 0, where the "
                "ratio μc/μr does not measure a relative change",
            ]
    b0, b1, b2 = design.coefficients()
    if (b0 == 0 and b1 == 0 and b2 == 0) or (not relative and b0 == 0):
        # the effect is known exactly: the posterior is a point mass at the estimate
        tol_lo = design.rounding(*_contrast_params(low, relative))
        tol_hi = design.rounding(*_contrast_params(high, relative))
        if relative:  # the contrast r̄·(ratio − bound) against its rounding, as a ratio
            tol_lo, tol_hi = tol_lo / design.mean_r, tol_hi / design.mean_r
        below = float(estimate <= lo_b + tol_lo)
        above = float(estimate >= hi_b - tol_hi)
        inside = 1.0 - below - above
        method = "point mass at the estimate (zero variance: the effect is known exactly)"
    else:
        below = min(max(cdf(lo_b), 0.0), 1.0)
        upto = min(max(cdf(hi_b), below), 1.0)
        inside, above = upto - below, 1.0 - upto
    return PosteriorResult(
        probability=inside,
        probability_below=below,
        probability_above=above,
        estimate=estimate,
        margin=(low, high),
        bounds=(lo_b, hi_b),
        method=method,
        n_reference=design.n_r,
        n_candidate=design.n_c,
        paired=design.kind == "paired",
        relative=relative,
        equal_var=design.kind == "pooled",
        warnings=tuple(notes),
    )


def _posterior_by_quadrature(
    design: _Design, relative: bool
) -> tuple[Callable[[float], float], str, float]:
    """The posterior CDF of the effect as a 1-D integral over the posterior of ``μr``.

    Returns ``(cdf, method, P(μr ≤ 0))``. ``μr = r̄ + s·T_ν`` is integrated in its quantile
    scale ``u ∈ (0, 1)``; given ``μr``, ``μc`` is Student t with location ``a + β·μr``.
    """
    from scipy import integrate, special

    n_r, n_c = design.n_r, design.n_c
    m_r, m_c = float(design.mean_r), float(design.mean_c)
    if design.kind == "welch":
        # independent posteriors: μr ~ t_{n_r−1}(r̄, s_r/√n_r), μc ~ t_{n_c−1}(c̄, s_c/√n_c)
        nu_r, s_r = n_r - 1, math.sqrt(design.var_r / n_r)
        beta, s_cond, s_marg = 0.0, math.sqrt(design.var_c / n_c), math.sqrt(design.var_c / n_c)
        nu_marg = n_c - 1

        def inner(mu_r: float) -> tuple[float, float, float]:
            return m_c, s_cond, n_c - 1

        method = (
            "independent Student t posteriors of μr (n_r − 1 df) and μc (n_c − 1 df), flat "
            "priors on the means and log standard deviations (exact Behrens–Fisher posterior); "
            "probability by 1-D quadrature"
        )
    else:
        if design.kind == "pooled":
            nu = n_r + n_c - 2
            sp2 = design.pooled_var()
            psi_rr, psi_cc, psi_cr, psi_cond = sp2 / n_r, sp2 / n_c, 0.0, sp2 / n_c
            what = (
                "bivariate Student t posterior of (μr, μc) with n_r + n_c − 2 df (common "
                "variance; flat prior on the means and the log standard deviation)"
            )
        else:
            n = n_r
            nu = n - 2
            k = (n - 1) / (n * (n - 2))  # Ψ = S / (n (n − 2)) with S = (n − 1)·cov
            cov_cr = design.cov_dr + design.var_r
            psi_rr, psi_cc, psi_cr = k * design.var_r, k * design.var_c, k * cov_cr
            cond = design.var_d - design.cov_dr**2 / design.var_r if design.var_r > 0 else 0.0
            psi_cond = k * max(cond, 0.0)
            what = (
                "bivariate Student t posterior of (μr, μc) with n − 2 df (flat prior on the "
                "means, Jeffreys prior on the covariance of the pairs)"
            )
        nu_r, s_r = nu, math.sqrt(psi_rr)
        beta = psi_cr / psi_rr if psi_rr > 0 else 0.0
        s_marg, nu_marg = math.sqrt(psi_cc), nu

        def inner(mu_r: float) -> tuple[float, float, float]:
            z2 = (mu_r - m_r) ** 2 / psi_rr
            scale = math.sqrt(psi_cond * (nu + z2) / (nu + 1))
            return m_c + beta * (mu_r - m_r), scale, nu + 1

        method = f"{what}; probability by 1-D quadrature"

    def g(x: float, loc: float, scale: float, nu_c: float) -> float:
        """P(μc ≤ x) for a t (or point mass) with this location and scale."""
        if scale == 0:
            return 1.0 if x >= loc else 0.0
        return float(special.stdtr(nu_c, (x - loc) / scale))

    def given(mu_r: float, t: float, loc: float, scale: float, nu_c: float) -> float:
        """P(effect ≤ t | μr)."""
        if not relative:
            return g(mu_r + t, loc, scale, nu_c)
        if mu_r > 0:
            return g(t * mu_r, loc, scale, nu_c)
        if mu_r < 0:
            return 1.0 - g(t * mu_r, loc, scale, nu_c)
        return 1.0 if loc <= 0 else 0.0  # μr = 0: measure zero

    def breaks(t: float) -> list[float]:
        """Values of μr where the integrand may jump or turn sharply."""
        a = m_c - beta * m_r  # location of μc given μr is a + β·μr
        if not relative:
            pts = [(a - t) / (1.0 - beta)] if beta != 1.0 else []
        else:
            pts = [0.0] + ([a / (t - beta)] if t != beta else [])
        return pts

    if s_r == 0:  # μr is known exactly: only μc is uncertain (its marginal posterior)

        def cdf(t: float) -> float:
            return given(m_r, t, m_c, s_marg, nu_marg)

        return cdf, method + " (μr known exactly: no integral)", 0.0 if m_r > 0 else 1.0

    mass_nonpositive = float(special.stdtr(nu_r, (0.0 - m_r) / s_r)) if relative else 0.0

    def cdf(t: float) -> float:
        def integrand(u: float) -> float:
            u = min(max(u, 1e-300), 1.0 - _EPS / 2)  # keep μr finite at the ends
            mu_r = m_r + s_r * float(special.stdtrit(nu_r, u))
            return given(mu_r, t, *inner(mu_r))

        pts = sorted(
            {float(special.stdtr(nu_r, (x - m_r) / s_r)) for x in breaks(t) if math.isfinite(x)}
            - {0.0, 1.0}
        )
        value, _ = integrate.quad(
            integrand, 0.0, 1.0, points=pts or None, limit=400, epsabs=1e-12, epsrel=1e-10
        )
        return value

    return cdf, method, mass_nonpositive
