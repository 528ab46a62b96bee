"""Area under the ROC curve with a confidence interval: Brunner–Munzel or stratified bootstrap.

Pure numerics: scores and labels in, a frozen :class:`AUCResult` out, no I/O.

The AUC is the Mann–Whitney probability ``P(S⁺ > S⁻) + ½·P(S⁺ = S⁻)`` that the score of a
random positive exceeds the score of a random negative (ties count one half: mid-ranks), so
``AUC = U / (n⁺·n⁻)`` with ``U`` the Mann–Whitney statistic of the positives.

Both intervals are built from the *placements* of the observations (DeLong et al. 1988):
the placement of a positive is the number of negatives below it plus half the number tied
with it; the placement of a negative is the number of positives above it plus half the
number tied with it. The AUC is the mean placement divided by the size of the other class.

The bootstrap never sorts a resample. The scores of each class are sorted once; a resample is
a pair of index matrices into the sorted classes, turned into multiplicity counts by one
``bincount`` per batch (row offsets keep the resamples apart); the cumulative sum of the
negative counts over the sorted negatives, read at each positive's (precomputed) position,
gives that positive's resampled placement, ties weighted one half. The cost is
``O(B·(n⁺ + n⁻))`` with a small constant.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np

from parity.errors import (
    DegenerateDataWarning,
    ParityInputError,
    check_positive_int,
    check_probability,
)
from parity.stats._common import Interval, ResultMixin, RngLike, as_generator

__all__ = ["AUCResult", "auc"]

#: Below this many observations in a class the interval is flagged as unreliable.
_MIN_RELIABLE_N = 5
#: Degrees of freedom used when the Satterthwaite df is 0/0 (zero placement variances);
#: the convention of the R packages nparcomp and TOSTER.
_FALLBACK_DF = 1000.0
#: Target number of index entries (resamples × observations) per bootstrap batch: small
#: enough for the count arrays of a batch to stay in cache.
_BATCH_ENTRIES = 2**18
_METHODS = {
    "brunner-munzel": "brunner-munzel",
    "bootstrap": "bca",
    "bootstrap-bca": "bca",
    "bootstrap-percentile": "percentile",
}


@dataclasses.dataclass(frozen=True, slots=True)
class AUCResult(ResultMixin):
    """AUC (Mann–Whitney probability) of scores for a binary label, with an interval.

    Attributes
    ----------
    statistic : float
        ``P(S⁺ > S⁻) + ½·P(S⁺ = S⁻)`` estimated from the sample, in [0, 1].
    confidence_interval : Interval
        ``(low, high)`` two-sided interval at ``confidence_level``, within [0, 1].
    confidence_level : float
        Nominal coverage of the interval.
    method : str
        How the interval was made, fallbacks and clipping included, e.g.
        ``"Brunner-Munzel t interval (DeLong placement variance, Satterthwaite df)"`` or
        ``"stratified bootstrap BCa"``.
    pvalue : float or None
        Two-sided Brunner–Munzel p-value for H0: AUC = 0.5 (``None`` for the bootstrap).
        It is ``scipy.stats.brunnermunzel(negatives, positives).pvalue`` (when the
        placement variances are not both zero).
    standard_error : float
        Brunner–Munzel: the placement (DeLong) standard error of the AUC; bootstrap: the
        standard deviation of the bootstrap AUCs.
    df : float or None
        Satterthwaite degrees of freedom of the t distribution (``None`` for the bootstrap).
        The Brunner–Munzel statistic is ``(statistic − 0.5) / standard_error``.
    n_positive, n_negative : int
        Class sizes.
    n_resamples : int
        Bootstrap resamples drawn (0 for the analytic Brunner–Munzel interval).
    warnings : tuple of str
        Notes about degenerate data, fallbacks and clipping, one sentence each; each was also
        emitted as a :class:`~parity.errors.DegenerateDataWarning`.
    """

    statistic: float
    confidence_interval: Interval
    confidence_level: float
    method: str
    pvalue: float | None
    standard_error: float
    df: float | None
    n_positive: int
    n_negative: int
    n_resamples: int
    warnings: tuple[str, ...] = ()


def auc(
    scores: Any,
    labels: Any,
    *,
    confidence_level: float = 0.95,
    method: str = "brunner-munzel",
    n_resamples: int = 9999,
    rng: RngLike = None,
) -> AUCResult:
    """AUC of ``scores`` for the binary ``labels``, with a Brunner–Munzel or bootstrap interval.

    The positive class is ``labels == 1`` (``True``); a higher score is meant to indicate a
    positive. The AUC is ``P(S⁺ > S⁻) + ½·P(S⁺ = S⁻)``, which equals
    ``scipy.stats.mannwhitneyu(positives, negatives).statistic / (n⁺·n⁻)``.

    ``method="brunner-munzel"`` (default) uses the placement (DeLong) variance
    ``s² = var(V⁺)/n⁺ + var(V⁻)/n⁻`` — ``V⁺`` the positives' placements divided by ``n⁻``,
    ``V⁻`` the negatives' divided by ``n⁺``, sample variances with ``n − 1`` — and the
    interval ``AUC ± t_{1−α/2, ν}·s`` with the Satterthwaite degrees of freedom
    ``ν = s⁴ / ((var(V⁺)/n⁺)²/(n⁺ − 1) + (var(V⁻)/n⁻)²/(n⁻ − 1))``. This is the
    Brunner–Munzel test (Brunner & Munzel 2000; Neubert & Brunner 2007) of
    ``scipy.stats.brunnermunzel(negatives, positives)``, whose statistic is
    ``(AUC − 0.5)/s``; its two-sided p-value is reported. An interval reaching outside
    [0, 1] is clipped to it, and the clipping is named in ``method`` and ``warnings``.
    When both placement variances are zero (perfect separation, AUC = 0 or 1, or all scores
    tied) the variance is undefined; the interval then uses ``s² = 1/(2·n⁺·n⁻)`` and
    ``ν = 1000``, the convention of the R packages nparcomp and TOSTER, and warns.

    ``method="bootstrap"`` resamples the positives and the negatives separately (stratified:
    the class sizes stay fixed) and gives the BCa interval (bias correction with ties counted
    one half, acceleration from the jackknife over both classes, as in
    ``scipy.stats.bootstrap``); where BCa is undefined the percentile interval is used and
    the switch is recorded. ``method="bootstrap-percentile"`` gives the percentile interval.
    Resample ``k`` is row ``k`` of ``U = rng.random((n_resamples, n⁺ + n⁻))``: it takes the
    positives at positions ``floor(U[k, j]·n⁺)``, ``j < n⁺``, and the negatives at positions
    ``floor(U[k, n⁺ + j]·n⁻)``, ``j < n⁻``, of the classes' scores sorted ascending. The
    result does not depend on the batch size used to bound memory.

    Parameters
    ----------
    scores : array_like, 1-D
        Finite scores, one per observation.
    labels : array_like, 1-D
        Booleans or 0/1 values, same length as ``scores``; 1 (``True``) marks a positive. At
        least 2 positives and 2 negatives are needed.
    confidence_level : float, default 0.95
        Two-sided coverage, in (0, 1).
    method : {"brunner-munzel", "bootstrap", "bootstrap-percentile"}, default "brunner-munzel"
        Interval construction (case-insensitive; ``"bootstrap-bca"`` is ``"bootstrap"``).
    n_resamples : int, default 9999
        Number of bootstrap resamples, ≥ 1 (ignored by ``"brunner-munzel"``).
    rng : None, int or numpy.random.Generator
        Source of randomness for the bootstrap; the same seed gives the same result.

    Returns
    -------
    AUCResult

    Raises
    ------
    ParityInputError
        For non-finite scores, labels other than booleans or 0/1, arrays that are not 1-D or
        differ in length, fewer than 2 observations in a class, a ``confidence_level`` outside
        (0, 1), ``n_resamples`` < 1, an unknown ``method`` or a bad ``rng``.

    Warns
    -----
    DegenerateDataWarning
        For a class with fewer than 5 observations, zero placement variances (the fallback
        above), a clipped Brunner–Munzel interval, a bootstrap distribution that collapses to
        one value, or a fallback from BCa to percentile. Each is recorded in
        ``result.warnings``.

    Examples
    --------
    Pain scores of Brunner & Munzel (2000), as in R's ``brunnermunzel.test(Y, N)``:

    >>> y = [1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 1, 1]  # negatives
    >>> n = [3, 3, 4, 3, 1, 2, 3, 1, 1, 5, 4]           # positives
    >>> res = auc(y + n, [0] * len(y) + [1] * len(n))
    >>> round(res.statistic, 6), round(res.pvalue, 6), round(res.df, 3)
    (0.788961, 0.005786, 17.683)
    >>> [round(v, 7) for v in res.confidence_interval]
    [0.5952169, 0.9827052]
    >>> boot = auc(y + n, [0] * len(y) + [1] * len(n), method="bootstrap", rng=0)
    >>> boot.method, boot.n_resamples
    ('stratified bootstrap BCa', 9999)
    """
    x = _as_scores(scores)
    is_pos = _as_labels(labels, x.size)
    level = check_probability("confidence_level", confidence_level)
    kind = _check_method(method)
    b = check_positive_int("n_resamples", n_resamples)
    gen = as_generator(rng)
    n_pos = int(np.count_nonzero(is_pos))
    n_neg = x.size - n_pos
    if n_pos < 2 or n_neg < 2:
        raise ParityInputError(
            "`labels` must mark at least 2 positives and 2 negatives; "
            f"got {n_pos} positives and {n_neg} negatives"
        )
    pl = _Placements(np.sort(x[is_pos]), np.sort(x[~is_pos]))
    if kind == "brunner-munzel":
        result = _brunner_munzel(pl, level)
    else:
        result = _bootstrap(pl, level, b, kind, gen)
    for note in result.warnings:
        warnings.warn(note, DegenerateDataWarning, stacklevel=2)
    return result


# --------------------------------------------------------------------------------------------
# validation


def _as_scores(scores: Any) -> np.ndarray:
    try:
        arr = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParityInputError(
            f"`scores` must be a 1-D numeric array; got {type(scores).__name__}"
        ) from None
    if arr.ndim != 1:
        raise ParityInputError(f"`scores` must be 1-D (one per observation); got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ParityInputError(
            f"`scores` must be finite; got {bad.size} NaN/inf values (positions {_show(bad)})"
        )
    return arr


def _as_labels(labels: Any, n: int) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.size != n:
        raise ParityInputError(
            f"`labels` must be 1-D with one label per score ({n}); got shape {arr.shape}"
        )
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind not in "iuf":
        raise ParityInputError(
            f"`labels` must be booleans or 0/1 values; got an array of dtype {arr.dtype}"
        )
    bad = np.flatnonzero((arr != 0) & (arr != 1))  # NaN is != both
    if bad.size:
        shown = ", ".join(f"{i} ({arr[i].item()!r})" for i in bad[:5])
        raise ParityInputError(
            f"`labels` must be booleans or 0/1 values; got {bad.size} other values "
            f"(positions {shown}{', …' if bad.size > 5 else ''})"
        )
    return arr == 1


def _check_method(method: Any) -> str:
    key = method.lower() if isinstance(method, str) else None
    if key not in _METHODS:
        raise ParityInputError(
            "`method` must be 'brunner-munzel', 'bootstrap' or 'bootstrap-percentile'; "
            f"got {method!r}"
        )
    return _METHODS[key]


def _show(idx: np.ndarray) -> str:
    return ", ".join(str(i) for i in idx[:5]) + (", …" if idx.size > 5 else "")


# --------------------------------------------------------------------------------------------
# placements


class _Placements:
    """Sorted classes and their placements, doubled so that every count is an integer.

    ``lt[j]``/``le[j]``: number of negatives ``<`` / ``<=`` the ``j``-th smallest positive.
    ``pos2[j] = lt[j] + le[j]``: twice the placement of that positive.
    ``neg2[i]``: twice the placement of the ``i``-th smallest negative (positives above it plus
    half of those tied with it). ``u2 = sum(pos2) = sum(neg2) = 2·U``.
    """

    __slots__ = ("auc", "le", "lt", "n_neg", "n_pos", "neg2", "pos", "pos2", "u2")

    def __init__(self, pos: np.ndarray, neg: np.ndarray) -> None:
        self.pos = pos
        self.n_pos, self.n_neg = pos.size, neg.size
        self.lt = np.searchsorted(neg, pos, side="left")
        self.le = np.searchsorted(neg, pos, side="right")
        self.pos2 = self.lt + self.le
        above = self.n_pos - np.searchsorted(pos, neg, side="right")
        at_or_above = self.n_pos - np.searchsorted(pos, neg, side="left")
        self.neg2 = above + at_or_above
        self.u2 = int(self.pos2.sum())
        self.auc = self.u2 / (2.0 * self.n_pos * self.n_neg)

    def small_sample_notes(self) -> list[str]:
        notes = []
        for name, n in (("positives", self.n_pos), ("negatives", self.n_neg)):
            if n < _MIN_RELIABLE_N:
                notes.append(
                    f"only {n} {name} (n < {_MIN_RELIABLE_N}); the AUC interval is unreliable"
                )
        return notes

    def zero_variance_reason(self) -> str | None:
        """Why both placement variances are zero, or ``None`` when they are not."""
        if np.any(self.pos2 != self.pos2[0]) or np.any(self.neg2 != self.neg2[0]):
            return None
        if self.auc in (0.0, 1.0):
            return f"the classes are perfectly separated (AUC = {self.auc:g})"
        return "every positive and every negative has the same placement (e.g. all scores tied)"


# --------------------------------------------------------------------------------------------
# Brunner–Munzel


def _brunner_munzel(pl: _Placements, level: float) -> AUCResult:
    """The AUC with its Brunner–Munzel t interval (DeLong placement variance, Satterthwaite df);
    degenerate variances fall back with a warning."""
    from scipy.special import stdtr, stdtrit

    notes = pl.small_sample_notes()
    n_pos, n_neg = pl.n_pos, pl.n_neg
    method = "Brunner-Munzel t interval (DeLong placement variance, Satterthwaite df)"
    reason = pl.zero_variance_reason()
    if reason is None:
        s_pos = _sample_variance(pl.pos2, pl.u2) / (2.0 * n_neg) ** 2 / n_pos
        s_neg = _sample_variance(pl.neg2, pl.u2) / (2.0 * n_pos) ** 2 / n_neg
        variance = s_pos + s_neg
        df = variance**2 / (s_pos**2 / (n_pos - 1) + s_neg**2 / (n_neg - 1))
    else:
        variance = 1.0 / (2.0 * n_pos * n_neg)
        df = _FALLBACK_DF
        method = (
            "Brunner-Munzel t interval (zero placement variance: variance 1/(2·n⁺·n⁻), "
            f"df {_FALLBACK_DF:g})"
        )
        notes.append(
            f"the placement variances are zero because {reason}; the Brunner-Munzel "
            f"interval uses the fallback variance 1/(2·n⁺·n⁻) and {_FALLBACK_DF:g} degrees "
            "of freedom"
        )
    se = math.sqrt(variance)
    t = (pl.auc - 0.5) / se
    pvalue = float(min(1.0, 2.0 * stdtr(df, -abs(t))))
    half = float(stdtrit(df, 0.5 + level / 2.0)) * se
    low, high = pl.auc - half, pl.auc + half
    if low < 0.0 or high > 1.0:
        method += ", clipped to [0, 1]"
        notes.append(
            f"the Brunner-Munzel interval ({low:.6g}, {high:.6g}) reaches outside [0, 1] and "
            "was clipped to it"
        )
        low, high = max(low, 0.0), min(high, 1.0)
    return AUCResult(
        statistic=pl.auc,
        confidence_interval=(low, high),
        confidence_level=level,
        method=method,
        pvalue=pvalue,
        standard_error=se,
        df=float(df),
        n_positive=n_pos,
        n_negative=n_neg,
        n_resamples=0,
        warnings=tuple(notes),
    )


def _sample_variance(twice: np.ndarray, total: int) -> float:
    """Sample variance (``n − 1``) of integers whose sum is ``total``; exactly 0 if constant."""
    n = twice.size
    dev = (n * twice - total).astype(np.float64)  # n·(xᵢ − mean), exact integers
    return float(np.dot(dev, dev)) / (n * n * (n - 1))


# --------------------------------------------------------------------------------------------
# stratified bootstrap


def _bootstrap(
    pl: _Placements, level: float, n_resamples: int, kind: str, gen: np.random.Generator
) -> AUCResult:
    """The AUC with a stratified bootstrap interval (percentile or BCa, ``kind``) from
    ``n_resamples`` draws of ``gen``."""
    from scipy.special import ndtr, ndtri

    notes = pl.small_sample_notes()
    aucs = _bootstrap_aucs(pl, n_resamples, gen)
    alpha = (1.0 - level) / 2.0
    levels = (alpha, 1.0 - alpha)
    used = "percentile"
    if n_resamples > 1 and np.all(aucs == aucs[0]):
        notes.append(
            f"all {n_resamples} bootstrap AUCs equal {aucs[0]:g} "
            f"({pl.zero_variance_reason() or 'the resamples do not vary'}); the bootstrap "
            "interval collapses to a point (method='brunner-munzel' has a documented fallback)"
        )
    if kind == "bca":
        bca, why = _bca_levels(pl, aucs, alpha, ndtr, ndtri)
        if bca is None:
            notes.append(f"BCa interval undefined ({why}); used the percentile interval")
        else:
            levels, used = bca, "BCa"
    low, high = np.quantile(aucs, levels)
    return AUCResult(
        statistic=pl.auc,
        confidence_interval=(float(low), float(high)),
        confidence_level=level,
        method=f"stratified bootstrap {used}",
        pvalue=None,
        standard_error=float(np.std(aucs, ddof=1)) if n_resamples > 1 else math.nan,
        df=None,
        n_positive=pl.n_pos,
        n_negative=pl.n_neg,
        n_resamples=n_resamples,
        warnings=tuple(notes),
    )


def _bootstrap_aucs(pl: _Placements, n_resamples: int, gen: np.random.Generator) -> np.ndarray:
    """AUCs of ``n_resamples`` stratified bootstrap resamples, in batches, without sorting.

    For a batch of ``b`` resamples: ``cp[r, j]`` counts how often the ``j``-th smallest
    positive is drawn in resample ``r``; ``cn[r, 1 + i]`` the same for the ``i``-th smallest
    negative, and after a cumulative sum ``cn[r, m]`` is the number of drawn negatives among
    the ``m`` smallest. A drawn positive ``j`` then sees ``cn[r, lt[j]]`` drawn negatives
    below it and ``cn[r, le[j]] − cn[r, lt[j]]`` tied with it, so twice the resample's ``U``
    is ``Σ_j cp[r, j]·(cn[r, lt[j]] + cn[r, le[j]])`` — integer arithmetic, exact.
    """
    n_pos, n_neg = pl.n_pos, pl.n_neg
    width = n_pos + n_neg
    batch = max(1, min(n_resamples, _BATCH_ENTRIES // width))
    ties = not np.array_equal(pl.lt, pl.le)
    scale = np.concatenate([np.full(n_pos, float(n_pos)), np.full(n_neg, float(n_neg))])
    out = np.empty(n_resamples, dtype=np.float64)
    for start in range(0, n_resamples, batch):
        b = min(batch, n_resamples - start)
        u = gen.random((b, width))
        u *= scale
        # floor(u·n) < n for every u < 1: in round-to-nearest, fl(u·n) <= n − ulp.
        ip = u[:, :n_pos].astype(np.intp)  # contiguous copies: ravel() below is free
        ineg = u[:, n_pos:].astype(np.intp)
        rows = np.arange(b, dtype=np.intp)[:, None]
        ip += rows * n_pos
        ineg += rows * (n_neg + 1) + 1
        cp = np.bincount(ip.ravel(), minlength=b * n_pos).reshape(b, n_pos)
        cn = np.bincount(ineg.ravel(), minlength=b * (n_neg + 1))
        cn = cn.reshape(b, n_neg + 1)  # column 0 stays 0: "no negative below"
        np.cumsum(cn, axis=1, out=cn)
        below = np.take(cn, pl.lt, axis=1)
        if ties:
            below += np.take(cn, pl.le, axis=1)
            u2 = np.einsum("ij,ij->i", cp, below)
        else:
            u2 = 2 * np.einsum("ij,ij->i", cp, below)
        out[start : start + b] = u2
    out /= 2.0 * n_pos * n_neg
    return out


def _bca_levels(
    pl: _Placements, aucs: np.ndarray, alpha: float, ndtr: Any, ndtri: Any
) -> tuple[tuple[float, float] | None, str]:
    """Adjusted quantile levels of the BCa interval, or ``(None, reason)`` when undefined.

    ``z0 = Φ⁻¹((#{AUC* < AUC} + #{AUC* <= AUC}) / 2B)``; the acceleration comes from the
    leave-one-out AUCs of each class, ``(U − placementᵢ)/((n⁺ − 1)·n⁻)`` for a positive and
    ``(U − placementᵢ)/(n⁺·(n⁻ − 1))`` for a negative, combined as in Efron & Tibshirani
    (1993, §14.3) and ``scipy.stats.bootstrap``.
    """
    b = aucs.size
    below = (np.count_nonzero(aucs < pl.auc) + np.count_nonzero(aucs <= pl.auc)) / (2.0 * b)
    if not 0.0 < below < 1.0:
        return None, f"all {b} bootstrap AUCs lie on one side of the estimate"
    z0 = float(ndtri(below))
    num = den = 0.0
    for twice, n, denom in (
        (pl.pos2, pl.n_pos, 2.0 * (pl.n_pos - 1) * pl.n_neg),
        (pl.neg2, pl.n_neg, 2.0 * pl.n_pos * (pl.n_neg - 1)),
    ):
        # (n − 1)·(mean θ₍·₎ − θ₍ᵢ₎) with θ₍ᵢ₎ = (2U − twiceᵢ)/denom and mean(twice) = 2U/n;
        # the integer numerator makes constant placements give exactly 0.
        u = (n - 1) * (n * twice - pl.u2) / (n * denom)
        num += float(np.sum(u**3)) / n**3
        den += float(np.sum(u**2)) / n**2
    if den <= 0.0:
        return None, "the jackknife acceleration is undefined (no jackknife variation)"
    a = num / (6.0 * den**1.5)
    levels = []
    for z in (float(ndtri(alpha)), float(ndtri(1.0 - alpha))):
        d = 1.0 - a * (z0 + z)
        if d <= 0.0:
            return None, f"the acceleration {a:.3g} is too large for this confidence level"
        levels.append(float(ndtr(z0 + (z0 + z) / d)))
    return (levels[0], levels[1]), ""
