"""Tests on a bootstrap distribution: a margin's p-values and percentile intervals.

Pure numerics on an array of resampled estimates (the bootstrap distribution of a ratio or
difference, one value per resample): no I/O, no randomness of its own. The suite's aggregates
(:mod:`parity.suite.checks.aggregates`) and its stability check use them. Imports numpy only.

* :func:`margin_pvalues` — ``(1 + #{beyond the bound}) / (1 + B)`` on each side of a margin;
* :func:`percentile_interval` — the two-sided ``(alpha, 1 − alpha)`` quantiles, or one of them
  with the other end infinite;
* :func:`interval_inside` — whether an interval lies strictly inside a region (an infinite end
  of the region always holds).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["interval_inside", "margin_pvalues", "percentile_interval"]


def margin_pvalues(distribution: np.ndarray, bounds: tuple[float, float]) -> tuple[float, float]:
    """Bootstrap p-values of the estimate beyond each bound of a margin.

    Parameters
    ----------
    distribution : numpy.ndarray
        The bootstrap distribution of the estimate, ``B`` values.
    bounds : (float, float)
        The region of the alternative, ``(low, high)``; either end may be infinite.

    Returns
    -------
    (float, float)
        ``(1 + #{d ≤ low}) / (1 + B)`` and ``(1 + #{d ≥ high}) / (1 + B)``: never below
        ``1 / (1 + B)``.

    Examples
    --------
    >>> margin_pvalues(np.array([0.9, 1.0, 1.02, 1.1]), (0.95, 1.05))
    (0.4, 0.4)
    >>> margin_pvalues(np.array([1.0, 1.01, 1.02]), (0.95, math.inf))
    (0.25, 0.25)
    """
    b = distribution.size
    p_low = (1 + int(np.count_nonzero(distribution <= bounds[0]))) / (1 + b)
    p_high = (1 + int(np.count_nonzero(distribution >= bounds[1]))) / (1 + b)
    return p_low, p_high


def percentile_interval(distribution: np.ndarray, alpha: float, side: str) -> tuple[float, float]:
    """The percentile interval of a bootstrap distribution, at ``1 − 2·alpha`` or ``1 − alpha``.

    Parameters
    ----------
    distribution : numpy.ndarray
        The bootstrap distribution, ``B`` values.
    alpha : float
        The share of resamples left out on each bounded side.
    side : {"two-sided", "lower", "upper"}
        ``"two-sided"``: the ``alpha`` and ``1 − alpha`` quantiles; ``"lower"``: the ``alpha``
        quantile and ``inf`` (a lower bound); ``"upper"``: ``-inf`` and the ``1 − alpha``
        quantile.

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> d = np.arange(101.0)
    >>> percentile_interval(d, 0.05, "two-sided")
    (5.0, 95.0)
    >>> percentile_interval(d, 0.05, "lower"), percentile_interval(d, 0.05, "upper")
    ((5.0, inf), (-inf, 95.0))
    """
    if side == "two-sided":
        lo, hi = (float(v) for v in np.quantile(distribution, (alpha, 1 - alpha)))
        return lo, hi
    if side == "lower":
        return float(np.quantile(distribution, alpha)), math.inf
    if side == "upper":
        return -math.inf, float(np.quantile(distribution, 1 - alpha))
    raise ValueError(f"`side` must be 'two-sided', 'lower' or 'upper'; got {side!r}")


def interval_inside(interval: tuple[float, float], bounds: tuple[float, float]) -> bool:
    """Whether ``interval`` lies strictly inside ``bounds`` (an infinite bound always holds).

    Examples
    --------
    >>> interval_inside((0.97, 1.02), (0.95, 1.05)), interval_inside((0.97, 1.06), (0.95, 1.05))
    (True, False)
    >>> interval_inside((0.97, math.inf), (0.95, math.inf))
    True
    """
    return bool(
        (interval[0] > bounds[0] or bounds[0] == -math.inf)
        and (interval[1] < bounds[1] or bounds[1] == math.inf)
    )
