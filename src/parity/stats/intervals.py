"""Confidence intervals for a binomial proportion: Clopper–Pearson (exact) and Wilson score.

Pure numerics: counts in, a frozen :class:`ProportionInterval` out. The conventions follow
``scipy.stats.binomtest(k, n, alternative=...).proportion_ci(...)``:

* ``alternative="two-sided"`` gives ``(low, high)``;
* ``alternative="less"`` gives a one-sided *upper* confidence bound ``(0, high)``
  (the interval that goes with the alternative hypothesis "the proportion is less than …");
* ``alternative="greater"`` gives a one-sided *lower* bound ``(low, 1)``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

from parity.errors import ParityInputError, check_probability
from parity.stats._common import Interval, ResultMixin

__all__ = ["ProportionInterval", "clopper_pearson", "wilson"]

_ALTERNATIVES = ("two-sided", "less", "greater")


@dataclasses.dataclass(frozen=True, slots=True)
class ProportionInterval(ResultMixin):
    """A binomial proportion ``k / n`` with a confidence interval.

    Attributes
    ----------
    statistic : float
        The observed proportion ``k / n``.
    confidence_interval : Interval
        ``(low, high)``, within [0, 1]; one end is 0 or 1 for a one-sided interval.
    confidence_level : float
        Nominal coverage of the interval.
    alternative : str
        ``"two-sided"``, ``"less"`` (upper bound: the interval is ``(0, high)``) or
        ``"greater"`` (lower bound: the interval is ``(low, 1)``).
    method : str
        ``"Clopper-Pearson exact"``, ``"Wilson score"`` or
        ``"Wilson score with continuity correction"``.
    k, n : int
        Number of events and number of trials.
    """

    statistic: float
    confidence_interval: Interval
    confidence_level: float
    alternative: str
    method: str
    k: int
    n: int


def clopper_pearson(
    k: int, n: int, confidence_level: float = 0.95, alternative: str = "two-sided"
) -> ProportionInterval:
    """Clopper–Pearson ("exact") interval for a binomial proportion, from beta quantiles.

    The bounds invert the binomial test: with ``a = (1 − confidence_level) / 2`` for a
    two-sided interval and ``a = 1 − confidence_level`` for a one-sided bound,
    ``low = B⁻¹(a; k, n − k + 1)`` (0 when ``k = 0``) and
    ``high = B⁻¹(1 − a; k + 1, n − k)`` (1 when ``k = n``), where ``B⁻¹(q; α, β)`` is the
    ``q``-quantile of the Beta(α, β) distribution. The interval covers the true proportion
    with probability at least ``confidence_level`` for every proportion (it is conservative).
    For ``k = 0`` the one-sided upper bound is ``1 − (1 − confidence_level)^(1/n)``, about
    ``3 / n`` at 95% (the "rule of three").

    Parameters
    ----------
    k : int
        Number of events, ``0 <= k <= n``.
    n : int
        Number of trials, ``n >= 1``.
    confidence_level : float, default 0.95
        Coverage, in (0, 1).
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        ``"less"`` gives the upper bound ``(0, high)``, ``"greater"`` the lower bound
        ``(low, 1)``.

    Returns
    -------
    ProportionInterval

    Raises
    ------
    ParityInputError
        For a non-integer ``k`` or ``n``, ``n < 1``, ``k`` outside [0, n], a
        ``confidence_level`` outside (0, 1) or an unknown ``alternative``.

    Examples
    --------
    >>> res = clopper_pearson(0, 10, alternative="less")
    >>> low, high = res.confidence_interval
    >>> low, round(high, 12), round(1 - 0.05 ** (1 / 10), 12)
    (0.0, 0.258865550893, 0.258865550893)
    >>> [round(v, 4) for v in clopper_pearson(7, 20).confidence_interval]
    [0.1539, 0.5922]
    """
    k, n, level, alternative = _validate(k, n, confidence_level, alternative)
    from scipy.special import betaincinv

    a = (1.0 - level) / 2.0 if alternative == "two-sided" else 1.0 - level
    low, high = 0.0, 1.0
    if alternative != "less" and k > 0:
        low = float(betaincinv(k, n - k + 1, a))
    if alternative != "greater" and k < n:
        # The (1 − a)-quantile of Beta(k + 1, n − k), by the symmetry
        # I_x(α, β) = 1 − I_{1−x}(β, α); avoids forming 1 − a.
        high = 1.0 - float(betaincinv(n - k, k + 1, a))
    return ProportionInterval(
        statistic=k / n,
        confidence_interval=(low, high),
        confidence_level=level,
        alternative=alternative,
        method="Clopper-Pearson exact",
        k=k,
        n=n,
    )


def wilson(
    k: int,
    n: int,
    confidence_level: float = 0.95,
    alternative: str = "two-sided",
    continuity: bool = False,
) -> ProportionInterval:
    """Wilson score interval for a binomial proportion, optionally continuity-corrected.

    With ``p = k / n``, ``q = 1 − p`` and ``z`` the standard normal quantile at
    ``(1 + confidence_level) / 2`` (two-sided) or ``confidence_level`` (one-sided), the
    bounds are ``(2np + z² ∓ z·√(z² + 4npq)) / (2(n + z²))``; with the continuity correction
    they are ``(2np + z² ∓ (1 + z·√(z² ∓ 2 − 1/n + 4p(nq ± 1)))) / (2(n + z²))``
    (Newcombe 1998, methods 3 and 4). The lower bound is 0 when ``k = 0`` and the upper bound
    is 1 when ``k = n``. The interval is not exact: its coverage oscillates around the
    nominal level, but it is much shorter than Clopper–Pearson for small ``n``.

    Parameters
    ----------
    k : int
        Number of events, ``0 <= k <= n``.
    n : int
        Number of trials, ``n >= 1``.
    confidence_level : float, default 0.95
        Coverage, in (0, 1).
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        ``"less"`` gives the upper bound ``(0, high)``, ``"greater"`` the lower bound
        ``(low, 1)``.
    continuity : bool, default False
        Apply the continuity correction (scipy's ``method="wilsoncc"``).

    Returns
    -------
    ProportionInterval

    Raises
    ------
    ParityInputError
        For a non-integer ``k`` or ``n``, ``n < 1``, ``k`` outside [0, n], a
        ``confidence_level`` outside (0, 1), an unknown ``alternative`` or a non-bool
        ``continuity``.

    Examples
    --------
    >>> [round(v, 4) for v in wilson(7, 20).confidence_interval]
    [0.1812, 0.5671]
    >>> wilson(7, 20, continuity=True).method
    'Wilson score with continuity correction'
    """
    k, n, level, alternative = _validate(k, n, confidence_level, alternative)
    if not isinstance(continuity, bool):
        raise ParityInputError(f"`continuity` must be True or False; got {continuity!r}")
    from scipy.special import ndtri

    z = float(ndtri(0.5 + 0.5 * level if alternative == "two-sided" else level))
    p = k / n
    q = 1.0 - p
    denom = 2.0 * (n + z * z)
    center = (2.0 * n * p + z * z) / denom
    if continuity:
        if alternative == "less" or k == 0:
            low = 0.0
        else:
            low = (
                center
                - (1.0 + z * math.sqrt(z * z - 2.0 - 1.0 / n + 4.0 * p * (n * q + 1.0))) / denom
            )
        if alternative == "greater" or k == n:
            high = 1.0
        else:
            high = (
                center
                + (1.0 + z * math.sqrt(z * z + 2.0 - 1.0 / n + 4.0 * p * (n * q - 1.0))) / denom
            )
    else:
        delta = z / denom * math.sqrt(4.0 * n * p * q + z * z)
        low = 0.0 if alternative == "less" or k == 0 else center - delta
        high = 1.0 if alternative == "greater" or k == n else center + delta
    return ProportionInterval(
        statistic=p,
        confidence_interval=(min(max(low, 0.0), 1.0), min(max(high, 0.0), 1.0)),
        confidence_level=level,
        alternative=alternative,
        method="Wilson score with continuity correction" if continuity else "Wilson score",
        k=k,
        n=n,
    )


def _validate(
    k: Any, n: Any, confidence_level: Any, alternative: Any
) -> tuple[int, int, float, str]:
    n_int = _as_count("n", n)
    k_int = _as_count("k", k)
    if n_int < 1:
        raise ParityInputError(f"`n` must be an integer >= 1 (the number of trials); got {n!r}")
    if not 0 <= k_int <= n_int:
        raise ParityInputError(f"`k` must be an integer in [0, n] = [0, {n_int}]; got {k!r}")
    level = check_probability("confidence_level", confidence_level)
    if alternative not in _ALTERNATIVES:
        raise ParityInputError(
            f"`alternative` must be 'two-sided', 'less' or 'greater'; got {alternative!r}"
        )
    return k_int, n_int, level, str(alternative)


def _as_count(name: str, value: Any) -> int:
    """Return ``value`` as an int if it is an integer-valued real number (not a bool)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and not isinstance(value, numbers.Integral):
        ok = math.isfinite(float(value)) and float(value).is_integer()
    if not ok:
        raise ParityInputError(f"`{name}` must be an integer; got {value!r}")
    return int(value)
