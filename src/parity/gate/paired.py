"""The statistical gate: is the candidate significantly better than the incumbent, item by item?

:func:`evaluate_gate_paired` scores both systems on the same items and decides from an exact
sign-flip permutation test of the paired differences and a bootstrap CI of the mean
improvement. It is four small steps: the input validation (:func:`_paired_settings`,
:func:`_paired_data`), the test (:func:`_paired_evidence`), the decision table
(:data:`PAIRED_RULES`, :func:`paired_rule`: ``accept`` only for a significant improvement
above ``min_delta``; ``inconclusive`` only when no result on this many items could be
significant at this α and the CI does not exclude improvements; ``reject`` otherwise) and its
wording (:func:`_evidence_reasons`, :func:`_decision_reason`).

May import: numpy, scipy.stats (lazily, for :func:`items_for_power`), :mod:`parity.errors`,
:mod:`parity.stats` (the sign-flip test, the bootstrap, the power search) and
:mod:`parity.gate.scores` and :mod:`parity.gate.items`.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from parity._format import number
from parity.errors import (
    DegenerateDataWarning,
    ParityInputError,
    check_positive_int,
    check_probability,
)
from parity.gate.items import _item_scores, match_items
from parity.gate.scores import (
    DEFAULT_MIXED_WEIGHT,
    SCORE_TOL,
    GateAction,
    GateMetric,
    _as_metric,
    _check_min_delta,
    _check_weight,
    _GateDecision,
    _signed,
)
from parity.stats._common import Interval, RngLike, as_generator
from parity.stats.equivalence import TARGET_POWER, smallest_n
from parity.stats.sign_flip import MAX_EXACT, SignFlipResult, sign_flip_test

#: Level of the paired test unless given.
DEFAULT_ALPHA = 0.05
#: Random sign patterns of the test (when not exact) and bootstrap resamples of the CI.
DEFAULT_RESAMPLES = 9999


def _items_needed(alpha: float, sides: int = 2) -> int:
    """Fewest items for which a sign-flip test can reach p ≤ α: sides / 2^n ≤ α."""
    return max(1, math.ceil(math.log2(sides / alpha) - 1e-12))


@dataclasses.dataclass(frozen=True, slots=True)
class PairedGateResult(_GateDecision):
    """The decision of :func:`evaluate_gate_paired` with every number behind it.

    Attributes
    ----------
    action : GateAction
        ``accept``, ``reject`` or ``inconclusive``.
    metric : GateMetric
        The per-item score compared.
    mixed_weight, alpha, min_delta : float
        Settings of the decision.
    n_items, n_nonzero : int
        Items, and items whose scores differ.
    n_better, n_worse : int
        Items on which the candidate scores higher / lower.
    statistic : float
        Mean paired difference, candidate − incumbent (the mean improvement).
    pvalue : float
        Two-sided sign-flip p-value; "significant" means ``pvalue ≤ alpha``.
    pvalue_greater, pvalue_less : float
        One-sided p-values for an improvement / a deterioration (for the record).
    confidence_interval : Interval
        ``(1 − alpha)`` two-sided bootstrap CI of the mean improvement.
    confidence_level : float
        ``1 − alpha``.
    n_resamples : int
        Sign patterns of the test (``2**n_nonzero`` when exact).
    n_bootstrap : int
        Bootstrap resamples of the CI.
    exact : bool
        Whether the test enumerated every sign pattern.
    method : str
        The test and the interval, in words.
    min_attainable_pvalue : float
        Smallest two-sided p-value a sign-flip test on ``n_items`` items can give
        (``2 / 2**n_items`` when exact).
    too_small : bool
        ``min_attainable_pvalue > alpha``: no data on this many items can be significant.
    items_for_power : int or None
        Fewest items at which accepting is likely (80% power) if the true mean improvement and
        the spread of the differences were the observed ones; ``None`` when the observed mean
        improvement does not exceed ``min_delta`` (no number of items makes it likely).
    candidate_score, incumbent_score : float
        Mean per-item score of each system in ``metric``.
    candidate_hard, candidate_soft, incumbent_hard, incumbent_soft : float or None
        Mean hard and soft scores (soft ``None`` when not every item has one).
    ids : tuple of str
        Item ids, in the order of ``differences``.
    differences : tuple of float
        Per-item differences in ``metric`` (candidate − incumbent).
    reasons : tuple of str
        Plain sentences explaining the action (including why a small set cannot decide).
    warnings : tuple of str
        Notes about degenerate data (also emitted as ``DegenerateDataWarning``).
    alternative : str
        ``"two-sided"``.
    """

    action: GateAction
    metric: GateMetric
    mixed_weight: float
    alpha: float
    min_delta: float
    n_items: int
    n_nonzero: int
    n_better: int
    n_worse: int
    statistic: float
    pvalue: float
    pvalue_greater: float
    pvalue_less: float
    confidence_interval: Interval
    confidence_level: float
    n_resamples: int
    n_bootstrap: int
    exact: bool
    method: str
    min_attainable_pvalue: float
    too_small: bool
    candidate_score: float
    incumbent_score: float
    candidate_hard: float
    candidate_soft: float | None
    incumbent_hard: float
    incumbent_soft: float | None
    ids: tuple[str, ...]
    differences: tuple[float, ...]
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    alternative: str = "two-sided"
    items_for_power: int | None = None


def items_for_power(d: np.ndarray, alpha: float, min_delta: float = 0.0) -> int | None:
    """Fewest items at which the paired gate likely accepts (80% power) if the true mean
    improvement and the spread of the differences were those of ``d``.

    Acceptance needs a significant two-sided sign-flip test and a mean above ``min_delta``.
    The test is approximated by the t-test of the mean (its large-sample equivalent); the power
    is the lower bound ``P(significant) + P(mean > min_delta) − 1``, with the noncentral t for
    the first; at least :func:`_items_needed` items are needed for any p ≤ α. ``None`` when
    the observed mean does not exceed ``min_delta``.

    Examples
    --------
    >>> items_for_power(np.array([0.1, -0.05, 0.2, 0.0, 0.15, 0.05]), alpha=0.05)
    15
    >>> items_for_power(np.array([0.1, -0.1]), alpha=0.05) is None
    True
    """
    from scipy import stats

    mean, floor = float(np.mean(d)), max(2, _items_needed(alpha))
    if not mean > min_delta + SCORE_TOL:
        return None
    sd = float(np.std(d, ddof=1)) if d.size > 1 else 0.0
    if sd == 0.0:
        return floor

    def likely(n: int) -> bool:
        se, df = sd / math.sqrt(n), n - 1
        significant = stats.nct.sf(stats.t.ppf(1 - alpha / 2, df), df, mean / se)
        above = stats.t.cdf((mean - min_delta) / se, df)
        return significant + above - 1.0 >= TARGET_POWER

    return smallest_n(likely, floor, 2**31)


def evaluate_gate_paired(
    candidate_items: Any,
    incumbent_items: Any,
    *,
    metric: GateMetric | str = "hard",
    mixed_weight: float = DEFAULT_MIXED_WEIGHT,
    alpha: float = DEFAULT_ALPHA,
    min_delta: float = 0.0,
    rng: RngLike = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    n_bootstrap: int = DEFAULT_RESAMPLES,
    max_exact: int = MAX_EXACT,
) -> PairedGateResult:
    """Statistical gate: is the candidate significantly better than the incumbent, item by item?

    Both systems are scored on the same items (matched by ``id``). With ``d_i`` the
    difference of item ``i``'s scores in ``metric`` (candidate − incumbent) and ``T`` their mean:

    * **Test.** :func:`sign_flip_test` of ``T``: exact enumeration of the sign patterns for up
      to ``max_exact`` non-zero differences, random sign flips above. "Significant" means the
      **two-sided** p-value is ≤ ``alpha``; the sign of ``T`` says in which direction.
    * **Interval.** A ``(1 − alpha)`` two-sided percentile bootstrap CI of the mean improvement
      (:func:`parity.stats.bootstrap.bootstrap_ci`). Each tail holds ``alpha/2``, as each
      direction of the two-sided test does, so "the CI excludes 0" and "the test is
      significant" ask the same question (they agree up to the bootstrap's approximation). The
      percentile interval is used because with a few, heavily tied differences the BCa
      corrections are unstable.
    * **Decision**, in this order:

      1. ``reject`` when the candidate is significantly worse (``p ≤ α`` and ``T < 0``);
      2. ``reject`` when the CI excludes every improvement above ``min_delta``
         (its upper end ≤ ``min_delta``): there is no worthwhile improvement to be had, even
         when the one measured is real;
      3. ``accept`` when the improvement is significant (``p ≤ α`` and ``T > 0``) and the
         mean improvement exceeds ``min_delta``;
      4. ``inconclusive`` when the set is too small for any result to be significant (see
         below): no data on these items could accept;
      5. ``reject`` otherwise: the improvement is not shown, although a better result on
         these items could be. A reason says how many items would make acceptance likely
         (``items_for_power``: 80% power if the true mean improvement and the spread of the
         differences were the observed ones; a t approximation of the sign-flip test).

    **Calibration.** Under the null (candidate and incumbent exchangeable on each item) the
    exact test has ``P(p ≤ α) ≤ α`` and, by the symmetry of sign flips, half of that mass has
    ``T > 0``: ``P(accept) ≤ α/2 ≤ α``.

    **Too small.** With ``n`` items the smallest two-sided p-value is ``2 / 2**n`` — reached
    only when the candidate wins (or loses) on every item. When that exceeds ``alpha`` the set
    can never give a significant result: ``too_small`` is set and a reason says how many items
    would be needed (at α = 0.05: 6; one-sided tests would need 5). Such a set can still
    ``reject`` through the CI, never ``accept``. Tied items carry no evidence, so a
    sentence also says when too few items differ for this set to decide.

    Parameters
    ----------
    candidate_items, incumbent_items : items
        Per-item scores of each system on the same items: a sequence of
        ``{"id", "hard", "soft"}`` mappings or :class:`GateItem`, a mapping
        ``id → hard | (hard, soft) | {"hard", "soft"}``, a sequence of hard scores or
        (hard, soft) pairs (matched by position), or a JSONL path. See :func:`match_items`.
    metric : {"hard", "soft", "mixed"}, default "hard"
        Per-item score compared (soft scores are needed on every item for soft/mixed).
    mixed_weight : float, default 0.5
        ``w`` of the mixed metric, in [0, 1].
    alpha : float, default 0.05
        Level of the two-sided test; the CI is at ``1 − alpha``. In (0, 0.5).
    min_delta : float, default 0.0
        Smallest improvement worth having, ≥ 0 (see the decision).
    rng : None, int or numpy.random.Generator
        Source of the random sign flips (only when not exact) and of the bootstrap, in that
        order.
    n_resamples : int, default 9999
        Random sign patterns when the test is not exact.
    n_bootstrap : int, default 9999
        Bootstrap resamples of the CI.
    max_exact : int, default 20
        Largest number of non-zero differences enumerated exactly.

    Returns
    -------
    PairedGateResult

    Raises
    ------
    ParityInputError
        For item sets that do not match by id, fewer than 2 items, bad item scores (naming the
        id and the field), a missing soft score under soft/mixed, or bad settings.

    Warns
    -----
    DegenerateDataWarning
        When the bootstrap has fewer than 5 items or constant differences (also recorded in
        ``warnings``).

    Examples
    --------
    Four items, the candidate better on every one of them in soft score — yet a sign-flip test
    on 4 items cannot give p below 2/16:

    >>> import warnings
    >>> cand = [{"id": f"q{i}", "hard": h, "soft": s}
    ...         for i, (h, s) in enumerate([(1, 0.95), (0, 0.75), (0, 0.6), (1, 0.95)])]
    >>> inc = [{"id": f"q{i}", "hard": h, "soft": s}
    ...        for i, (h, s) in enumerate([(1, 0.9), (0, 0.4), (0, 0.3), (1, 0.9)])]
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     res = evaluate_gate_paired(cand, inc, metric="soft", rng=0)
    >>> res.action.value, res.pvalue, res.too_small
    ('inconclusive', 0.125, True)
    """
    s = _paired_settings(metric, mixed_weight, alpha, min_delta, n_bootstrap)
    data = _paired_data(candidate_items, incumbent_items, s)
    ev = _paired_evidence(data.d, s, rng, n_resamples, max_exact)
    rule = paired_rule(_paired_conditions(ev, s))
    reasons = (*_evidence_reasons(data, ev, s, max_exact), _decision_reason(rule, data, ev, s))
    for note in ev.notes:
        warnings.warn(note, DegenerateDataWarning, stacklevel=2)
    return _paired_result(dict(PAIRED_RULES)[rule], data, ev, s, reasons)


# --------------------------------------------------------------------------------------------
# input validation


@dataclasses.dataclass(frozen=True, slots=True)
class _PairedSettings:
    """The validated settings of one paired gate decision."""

    metric: GateMetric
    weight: float
    alpha: float
    min_delta: float
    n_bootstrap: int

    @property
    def label(self) -> str:
        """The metric in words: ``hard``, ``soft`` or ``mixed (w = …)``."""
        if self.metric is GateMetric.MIXED:
            return f"mixed (w = {self.weight:g})"
        return self.metric.value


def _paired_settings(
    metric: Any, mixed_weight: Any, alpha: Any, min_delta: Any, n_bootstrap: Any
) -> _PairedSettings:
    """The settings checked in the order the errors are reported (metric first)."""
    m = _as_metric(metric)
    w = _check_weight(mixed_weight)
    a = check_probability("alpha", alpha)
    if a >= 0.5:
        raise ParityInputError(f"`alpha` must be in (0, 0.5) (the CI is at 1 − α); got {alpha!r}")
    md = _check_min_delta(min_delta)
    return _PairedSettings(m, w, a, md, check_positive_int("n_bootstrap", n_bootstrap))


@dataclasses.dataclass(frozen=True, slots=True)
class _PairedData:
    """Matched items, each side's per-item scores and their differences ``d``."""

    ids: tuple[str, ...]
    cand_scores: np.ndarray
    cand_hard: np.ndarray
    cand_soft: np.ndarray | None
    inc_scores: np.ndarray
    inc_hard: np.ndarray
    inc_soft: np.ndarray | None
    d: np.ndarray


def _paired_data(candidate_items: Any, incumbent_items: Any, s: _PairedSettings) -> _PairedData:
    """Match the items by id (at least 2) and take the per-item differences in the metric."""
    cand, inc = match_items(candidate_items, incumbent_items)
    if len(cand) < 2:
        raise ParityInputError(
            f"the paired gate needs at least 2 items on both sides; got {len(cand)}"
        )
    c_scores, c_hard, c_soft = _item_scores(cand, s.metric, s.weight, "the candidate")
    i_scores, i_hard, i_soft = _item_scores(inc, s.metric, s.weight, "the incumbent")
    d = c_scores - i_scores
    d[np.abs(d) <= SCORE_TOL] = 0.0  # rounding of mixed scores is not a difference
    ids = tuple(it.id for it in cand)
    return _PairedData(ids, c_scores, c_hard, c_soft, i_scores, i_hard, i_soft, d)


# --------------------------------------------------------------------------------------------
# the test


@dataclasses.dataclass(frozen=True, slots=True)
class _PairedEvidence:
    """The sign-flip test of the mean difference and the bootstrap CI, with its notes."""

    test: SignFlipResult
    ci: tuple[float, float]
    ci_method: str
    notes: tuple[str, ...]
    alpha: float

    @property
    def significant(self) -> bool:
        """Two-sided ``p ≤ α``."""
        return self.test.pvalue <= self.alpha

    @property
    def too_small(self) -> bool:
        """No result on this many items (or random patterns) can be significant."""
        return self.test.min_attainable_pvalue > self.alpha


def _paired_evidence(
    d: np.ndarray, s: _PairedSettings, rng: RngLike, n_resamples: int, max_exact: int
) -> _PairedEvidence:
    """The test, then the CI, drawing from one generator in that order."""
    gen = as_generator(rng)
    test = sign_flip_test(d, n_resamples=n_resamples, max_exact=max_exact, rng=gen)
    ci, ci_method, notes = _bootstrap_mean(d, 1.0 - s.alpha, s.n_bootstrap, gen)
    return _PairedEvidence(test, ci, ci_method, notes, s.alpha)


# --------------------------------------------------------------------------------------------
# the decision table

#: The paired gate's decision: the first rule, in this order, whose condition holds.
#: ``worse``: significantly worse (p ≤ α, T < 0); ``no_worthwhile_gain``: the CI's upper end
#: is ≤ ``min_delta``; ``improved``: significant and T > ``min_delta``; ``too_small``: no
#: result on these items could be significant; ``not_shown``: always (the improvement is not
#: shown although a better result on these items could be).
PAIRED_RULES: tuple[tuple[str, GateAction], ...] = (
    ("worse", GateAction.REJECT),
    ("no_worthwhile_gain", GateAction.REJECT),
    ("improved", GateAction.ACCEPT),
    ("too_small", GateAction.INCONCLUSIVE),
    ("not_shown", GateAction.REJECT),
)


def _paired_conditions(ev: _PairedEvidence, s: _PairedSettings) -> dict[str, bool]:
    """Whether each rule's condition holds (``not_shown`` always does)."""
    t, hi = ev.test.statistic, ev.ci[1]
    return {
        "worse": ev.significant and t < 0,
        "no_worthwhile_gain": hi <= s.min_delta + SCORE_TOL,
        "improved": ev.significant and t > s.min_delta + SCORE_TOL,
        "too_small": ev.too_small,
        "not_shown": True,
    }


def paired_rule(conditions: Mapping[str, bool]) -> str:
    """The first rule of :data:`PAIRED_RULES` whose condition holds.

    Examples
    --------
    >>> paired_rule({"worse": False, "no_worthwhile_gain": False, "improved": True,
    ...              "too_small": False, "not_shown": True})
    'improved'
    >>> paired_rule({"worse": False, "no_worthwhile_gain": False, "improved": False,
    ...              "too_small": True, "not_shown": True})
    'too_small'
    """
    return next(rule for rule, _ in PAIRED_RULES if conditions.get(rule) or rule == "not_shown")


# --------------------------------------------------------------------------------------------
# the wording


def _evidence_reasons(
    data: _PairedData, ev: _PairedEvidence, s: _PairedSettings, max_exact: int
) -> tuple[str, ...]:
    """The sentences of the evidence: the scores, the test, the CI, and why it cannot decide."""
    test, a, d = ev.test, s.alpha, data.d
    n, t = d.size, test.statistic
    better, worse = int(np.count_nonzero(d > 0)), int(np.count_nonzero(d < 0))
    lo, hi = ev.ci
    reasons = [
        f"mean {s.label} score {float(data.cand_scores.mean()):.4g} (candidate) vs "
        f"{float(data.inc_scores.mean()):.4g} (incumbent) on {n} items: mean improvement "
        f"{_signed(t)}; better on {better}, worse on {worse}, tied on {n - better - worse}",
        f"{test.method}: two-sided p = {test.pvalue:.4g} "
        + ("≤" if ev.significant else ">")
        + f" α = {a:g} (one-sided p for an improvement {test.pvalue_greater:.4g})",
        f"{1 - a:.0%} bootstrap CI of the mean improvement [{number(lo)}, {number(hi)}]",
    ]
    limit = _limit_reason(ev, n, a, max_exact)
    return (*reasons, limit) if limit else tuple(reasons)


def _limit_reason(ev: _PairedEvidence, n: int, a: float, max_exact: int) -> str | None:
    """Why these data could not be significant, or None when they could.

    Returns
    -------
    str or None
        In this order: too few random sign patterns (above ``max_exact`` items); too few items
        for any sign-flip test at ``a`` (with what a one-sided test could do); no item differs;
        too few items differ for a non-significant result to have been significant.
    """
    test = ev.test
    if ev.too_small and not n <= max_exact:
        return (
            f"with {test.n_resamples} random sign patterns the smallest attainable p-value is "
            f"1/(1 + {test.n_resamples}) = {test.min_attainable_pvalue:.4g} > α = {a:g}: no "
            "result can be significant; use more random sign patterns"
        )
    if ev.too_small:
        one_sided = 2.0 ** (-n)
        return (
            f"{n} items are too few to ever decide at α = {a:g}: the smallest two-sided p-value "
            f"a sign-flip test on {n} items can give is 2/2^{n} = {test.min_attainable_pvalue:.4g}"
            f" > {a:g}, even if the candidate wins on every item"
            + (
                f" (one-sided: 1/2^{n} = {one_sided:.4g} > {a:g} too)"
                if one_sided > a
                else f" (a one-sided test could: 1/2^{n} = {one_sided:.4g})"
            )
            + f"; at least {_items_needed(a)} items are needed"
        )
    if test.n_nonzero == 0:
        return f"candidate and incumbent score the same on all {n} items"
    if 2.0 ** (1 - test.n_nonzero) > a and not ev.significant:
        return (
            f"only {test.n_nonzero} of the {n} items differ between candidate and incumbent; "
            f"tied items carry no evidence, so these data could give no p-value below "
            f"2/2^{test.n_nonzero} = {min(1.0, 2.0 ** (1 - test.n_nonzero)):.4g} > {a:g}"
        )
    return None


def _decision_reason(rule: str, data: _PairedData, ev: _PairedEvidence, s: _PairedSettings) -> str:
    """The sentence of the decision ``rule`` took, starting with its action.

    Parameters
    ----------
    rule : str
        A rule of :data:`PAIRED_RULES`.
    data, ev, s
        The differences, the test and CI, and the settings behind the decision.

    Returns
    -------
    str
        ``"<action>: <why>"``; for ``not_shown``, how many items would make accepting an
        improvement as large as the observed one likely (:func:`_power_sentence`).
    """
    p, t, a, md, hi = ev.test.pvalue, ev.test.statistic, s.alpha, s.min_delta, ev.ci[1]
    if rule == "worse":
        return f"reject: the candidate is significantly worse (p = {p:.4g} ≤ {a:g}, " + (
            f"mean change {_signed(t)})"
        )
    if rule == "no_worthwhile_gain":
        return (
            f"reject: the CI excludes every improvement above min_delta = {md:g} "
            f"(upper end {number(hi)})"
            + (
                " although the improvement itself is significant"
                if ev.significant and t > 0
                else ""
            )
        )
    if rule == "improved":
        return f"accept: the improvement {_signed(t)} is significant (p = {p:.4g} ≤ {a:g})" + (
            f" and exceeds min_delta = {md:g}" if md > 0 else ""
        )
    n = data.d.size
    if rule == "too_small":
        return (
            f"inconclusive: no result on {n} items can be significant at α = {a:g}, and the "
            f"CI does not exclude improvements above min_delta = {md:g}"
        )
    if ev.significant:
        why = (
            f"the improvement is significant but its mean {_signed(t)} does not exceed "
            f"min_delta = {md:g}"
        )
    else:
        why = f"the improvement is not significant (p = {p:.4g} > {a:g})"
    return f"reject: {why}; {_power_sentence(data.d, a, md, n)}"


def _paired_result(
    action: GateAction,
    data: _PairedData,
    ev: _PairedEvidence,
    s: _PairedSettings,
    reasons: tuple[str, ...],
) -> PairedGateResult:
    """The result record: every number behind the decision.

    Returns
    -------
    PairedGateResult
        Means per side, the test's p-values and patterns, the CI, the per-item differences,
        ``reasons``, the bootstrap's notes as ``warnings`` and ``items_for_power``.
    """
    test, d = ev.test, data.d
    return PairedGateResult(
        action=action,
        metric=s.metric,
        mixed_weight=s.weight,
        alpha=s.alpha,
        min_delta=s.min_delta,
        n_items=d.size,
        n_nonzero=test.n_nonzero,
        n_better=int(np.count_nonzero(d > 0)),
        n_worse=int(np.count_nonzero(d < 0)),
        statistic=test.statistic,
        pvalue=test.pvalue,
        pvalue_greater=test.pvalue_greater,
        pvalue_less=test.pvalue_less,
        confidence_interval=ev.ci,
        confidence_level=1.0 - s.alpha,
        n_resamples=test.n_resamples,
        n_bootstrap=s.n_bootstrap,
        exact=test.exact,
        method=f"{test.method}; {ev.ci_method} CI ({s.n_bootstrap} resamples)",
        min_attainable_pvalue=test.min_attainable_pvalue,
        too_small=ev.too_small,
        candidate_score=float(data.cand_scores.mean()),
        incumbent_score=float(data.inc_scores.mean()),
        candidate_hard=float(data.cand_hard.mean()),
        candidate_soft=None if data.cand_soft is None else float(data.cand_soft.mean()),
        incumbent_hard=float(data.inc_hard.mean()),
        incumbent_soft=None if data.inc_soft is None else float(data.inc_soft.mean()),
        ids=data.ids,
        differences=tuple(float(x) for x in d),
        reasons=reasons,
        warnings=ev.notes,
        items_for_power=items_for_power(d, s.alpha, s.min_delta),
    )


def _power_sentence(d: np.ndarray, alpha: float, min_delta: float, n: int) -> str:
    """Whether, and with how many items, a better result could still be accepted."""
    need = items_for_power(d, alpha, min_delta)
    mean = _signed(float(np.mean(d)))
    if need is None:
        return (
            f"the observed mean improvement {mean} is not above min_delta = {min_delta:g}, so "
            "no number of items makes an acceptance likely unless the candidate is truly better"
        )
    return (
        f"a better result could still be accepted: if the true mean improvement were the "
        f"observed {mean} with the observed spread, about {need} items (now {n}) would give "
        f"{TARGET_POWER:.0%} power to accept it"
    )


def _bootstrap_mean(
    d: np.ndarray, level: float, n_boot: int, gen: np.random.Generator
) -> tuple[tuple[float, float], str, tuple[str, ...]]:
    """Percentile bootstrap CI of mean(d), its method and its notes (warnings captured)."""
    from parity.stats.bootstrap import bootstrap_ci

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        res = bootstrap_ci(
            (d,),
            np.mean,
            method="percentile",
            n_resamples=n_boot,
            confidence_level=level,
            rng=gen,
        )
    words = (
        ("data[0] has", "the paired differences have"),
        ("data[0] is", "the paired differences are"),
    )
    notes = []
    for note in res.warnings:
        for a, b in words:
            note = note.replace(a, b)
        notes.append(note.replace("data[0]", "the paired differences"))
    notes = tuple(notes)
    lo, hi = (float(x) for x in res.confidence_interval)
    return (lo, hi), res.method, notes
