"""The threshold gate: does the candidate's score beat the current (and the best) score?

:func:`evaluate_gate` compares one score per system in the chosen metric: ``accept_new_best``
when the candidate beats both the current and the best score by more than ``min_delta``,
``accept`` when it beats the current score but not the best, ``reject`` otherwise (ties are
rejected). :func:`evaluate_gate_items` runs it on the mean scores of per-item results (what
``parity gate`` without ``--paired`` does).

May import: numpy, :mod:`parity.errors`, and :mod:`parity.gate.scores` and
:mod:`parity.gate.items` (item sets for :func:`evaluate_gate_items`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from parity.errors import ParityInputError
from parity.gate.items import GateItem, match_items
from parity.gate.scores import (
    DEFAULT_MIXED_WEIGHT,
    SCORE_TOL,
    GateAction,
    GateMetric,
    _as_metric,
    _check_min_delta,
    _check_weight,
    _combine,
    _GateDecision,
    _is_number,
    _signed,
    _unit_score,
)


@dataclasses.dataclass(frozen=True, slots=True)
class GateResult(_GateDecision):
    """The decision of :func:`evaluate_gate` with the scores behind it.

    Attributes
    ----------
    action : GateAction
        ``accept_new_best``, ``accept`` or ``reject``.
    metric : GateMetric
        The metric all three scores are in.
    mixed_weight : float
        ``w`` of the mixed metric (recorded whatever the metric).
    min_delta : float
        The margin the candidate had to beat the current (and best) score by.
    candidate_score, current_score, best_score : float
        The three scores in ``metric``.
    delta_current, delta_best : float
        ``candidate_score − current_score`` and ``candidate_score − best_score``.
    candidate_hard, candidate_soft, current_hard, current_soft, best_hard, best_soft : float or None
        The hard and soft components where known (``None`` for a score given directly in the
        metric, or a soft score not given).
    reasons : tuple of str
        Plain sentences: what was compared and why the action follows.
    """

    action: GateAction
    metric: GateMetric
    mixed_weight: float
    min_delta: float
    candidate_score: float
    current_score: float
    best_score: float
    delta_current: float
    delta_best: float
    candidate_hard: float | None
    candidate_soft: float | None
    current_hard: float | None
    current_soft: float | None
    best_hard: float | None
    best_soft: float | None
    reasons: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class _Score:
    """A score in the chosen metric, with the hard/soft components it came from (if known)."""

    score: float
    hard: float | None = None
    soft: float | None = None

    @property
    def given(self) -> bool:
        return self.hard is None

    def describe(self, metric: GateMetric, w: float) -> str:
        if self.given:
            return f"{self.score:.4g} (given in the {metric.value} metric)"
        if metric is GateMetric.HARD:
            return f"{self.score:.4g}"
        if metric is GateMetric.SOFT:
            return f"{self.score:.4g}"
        return (
            f"{self.score:.4g} (= {1 - w:.4g}·hard {self.hard:.4g} + {w:.4g}·soft {self.soft:.4g})"
        )


def _project(value: Any, name: str, metric: GateMetric, w: float) -> _Score:
    """A reference score (number in the metric, (hard, soft) pair or mapping) in ``metric``.

    Returns
    -------
    _Score
        The score in ``metric`` with its hard and soft components (None for a number taken
        as already in the metric).
    """
    if _is_number(value):
        return _Score(_unit_score(value, f"`{name}`"))
    if isinstance(value, Mapping):
        unknown = sorted(set(map(str, value)) - {"hard", "soft"})
        if "hard" not in value or unknown:
            raise ParityInputError(
                f"`{name}` as a mapping needs the key 'hard' and at most 'soft'; got keys "
                f"{sorted(map(str, value))}"
            )
        hard, soft = value["hard"], value.get("soft")
    elif isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | bytes):
        if len(value) != 2:
            raise ParityInputError(
                f"`{name}` as a pair must be (hard, soft); got {len(value)} values"
            )
        hard, soft = value[0], value[1]
    else:
        raise ParityInputError(
            f"`{name}` must be a number (already in the {metric.value!r} metric), a (hard, soft) "
            f"pair or a {{'hard': …, 'soft': …}} mapping; got {type(value).__name__}"
        )
    h = _unit_score(hard, f"`{name}` hard score")
    s = None if soft is None else _unit_score(soft, f"`{name}` soft score")
    if s is None and metric is not GateMetric.HARD:
        raise ParityInputError(
            f"`{name}` needs a soft score for metric {metric.value!r}; got (hard={hard!r}, "
            "soft=None)"
        )
    return _Score(float(_combine(h, s, metric, w)) if s is not None else h, h, s)


def evaluate_gate(
    cand_hard: float,
    current_score: Any,
    best_score: Any = None,
    *,
    cand_soft: float | None = None,
    metric: GateMetric | str = "hard",
    mixed_weight: float = DEFAULT_MIXED_WEIGHT,
    min_delta: float = 0.0,
) -> GateResult:
    """Threshold gate: does the candidate beat the current (and the best) score?

    The candidate's score in ``metric`` is ``select_gate_score(cand_hard, cand_soft, metric,
    mixed_weight)``. The current and best scores are brought into the same metric:

    * a **number** is taken as already in ``metric`` (a plain hard accuracy for the default
      gate);
    * a **(hard, soft) pair** or a ``{"hard": …, "soft": …}`` mapping is projected with
      :func:`select_gate_score` — use this form when resuming a loop under another metric
      (``soft`` may be ``None`` for the hard metric).

    The decision, with ``Δ = candidate − reference`` and a tie tolerance of 1e-12:

    * ``accept_new_best`` when the candidate beats both the best and the current score by more
      than ``min_delta``;
    * ``accept`` when it beats the current score by more than ``min_delta``, but not the best;
    * ``reject`` otherwise. **Ties are rejected**: an improvement of exactly ``min_delta``
      (0 by default) is not enough.

    The candidate must beat both scores for a new best, so a best score that projects below
    the current one (possible after a metric change) cannot make a worse candidate the best.

    Parameters
    ----------
    cand_hard : float
        The candidate's hard score (e.g. exact-match accuracy on the held-out set), in [0, 1].
    current_score : float, (hard, soft) pair or mapping
        The current (incumbent) system's score.
    best_score : float, (hard, soft) pair or mapping, optional
        The best score so far; default: the current score.
    cand_soft : float, optional
        The candidate's soft score, in [0, 1]; required for ``soft`` and ``mixed``.
    metric : {"hard", "soft", "mixed"}, default "hard"
        The basis of the decision.
    mixed_weight : float, default 0.5
        ``w`` in ``(1 − w)·hard + w·soft``, in [0, 1].
    min_delta : float, default 0.0
        Margin the candidate must exceed, ≥ 0.

    Returns
    -------
    GateResult

    Raises
    ------
    ParityInputError
        For an unknown metric, a missing soft score, a score outside [0, 1] or NaN,
        ``mixed_weight`` outside [0, 1] or a negative ``min_delta``.

    Examples
    --------
    The plain hard-accuracy gate:

    >>> evaluate_gate(0.6, 0.5, 0.55).action
    <GateAction.ACCEPT_NEW_BEST: 'accept_new_best'>
    >>> evaluate_gate(0.5, 0.5, 0.6).action.value  # a tie with the current score
    'reject'

    Same hard count, better partial credit: the soft and mixed gates see the improvement.

    >>> cur = (0.5, 0.65)  # (hard, soft)
    >>> evaluate_gate(0.5, cur, cur, cand_soft=0.825).action.value
    'reject'
    >>> res = evaluate_gate(0.5, cur, cur, cand_soft=0.825, metric="mixed", mixed_weight=0.3)
    >>> res.action.value, round(res.candidate_score, 4), round(res.current_score, 4)
    ('accept_new_best', 0.5975, 0.545)
    """
    m = _as_metric(metric)
    w = _check_weight(mixed_weight)
    md = _check_min_delta(min_delta)
    h = _unit_score(cand_hard, "`cand_hard`")
    s = None if cand_soft is None else _unit_score(cand_soft, "`cand_soft`")
    if s is None and m is not GateMetric.HARD:
        raise ParityInputError(f"`cand_soft` is required by metric {m.value!r}; got None")
    cand = _Score(h if s is None else float(_combine(h, s, m, w)), h, s)
    current = _project(current_score, "current_score", m, w)
    best = current if best_score is None else _project(best_score, "best_score", m, w)

    d_cur = cand.score - current.score
    d_best = cand.score - best.score
    beats_current = d_cur > md + SCORE_TOL
    beats_best = d_best > md + SCORE_TOL
    label = m.value if m is not GateMetric.MIXED else f"mixed (w = {w:g})"
    reasons = [
        f"candidate {label} score {cand.describe(m, w)} vs current {current.describe(m, w)}"
        + (
            ", also the best"
            if best_score is None or best == current
            else f" and best {best.describe(m, w)}"
        )
    ]
    if best.score < current.score - SCORE_TOL:
        reasons.append(
            f"the best score projected into {m.value} ({best.score:.4g}) is below the current "
            f"one ({current.score:.4g}), e.g. after a metric change; a new best must beat both"
        )
    margin = f"min_delta = {md:g}"
    if beats_current and beats_best:
        action = GateAction.ACCEPT_NEW_BEST
        reasons.append(
            f"accept_new_best: the candidate beats the best by {_signed(d_best)} and the current "
            f"by {_signed(d_cur)}, both > {margin}"
        )
    elif beats_current:
        action = GateAction.ACCEPT
        reasons.append(
            f"accept: the candidate beats the current score by {_signed(d_cur)} > {margin}, but "
            f"not the best (Δ = {_signed(d_best)})"
        )
    else:
        action = GateAction.REJECT
        tie = abs(d_cur - md) <= SCORE_TOL
        reasons.append(
            f"reject: the candidate does not beat the current score by more than {margin} "
            f"(Δ = {_signed(d_cur)}" + ("; ties are rejected)" if tie else ")")
        )
    return GateResult(
        action=action,
        metric=m,
        mixed_weight=w,
        min_delta=md,
        candidate_score=cand.score,
        current_score=current.score,
        best_score=best.score,
        delta_current=d_cur,
        delta_best=d_best,
        candidate_hard=h,
        candidate_soft=s,
        current_hard=current.hard,
        current_soft=current.soft,
        best_hard=best.hard,
        best_soft=best.soft,
        reasons=tuple(reasons),
    )


def evaluate_gate_items(
    candidate_items: Any,
    incumbent_items: Any,
    best_score: Any = None,
    *,
    metric: GateMetric | str = "hard",
    mixed_weight: float = DEFAULT_MIXED_WEIGHT,
    min_delta: float = 0.0,
    labels: tuple[str, str] = ("the candidate", "the incumbent"),
) -> GateResult:
    """Threshold gate on per-item scores: the candidate's mean against the incumbent's.

    The items are matched by id (:func:`match_items`); each side's mean hard score and, when
    every item has one, mean soft score (``math.fsum``) go to :func:`evaluate_gate`, the
    incumbent's as the current score and, unless ``best_score`` is given, as the best one too.

    Parameters
    ----------
    candidate_items, incumbent_items : items
        Per-item scores of each system, in any form :func:`match_items` takes.
    best_score : float, (hard, soft) pair or mapping, optional
        The best score so far (see :func:`evaluate_gate`); default: the incumbent's.
    metric, mixed_weight, min_delta
        As for :func:`evaluate_gate`.
    labels : (str, str)
        How the sides are named when soft scores are missing (``parity gate`` says "the
        candidate file").

    Returns
    -------
    GateResult

    Raises
    ------
    ParityInputError
        For items that do not match, a side without a soft score on every item under
        ``soft``/``mixed`` (naming the ids), and the errors of :func:`evaluate_gate`.

    Examples
    --------
    >>> cand = {"q1": (1, 0.9), "q2": (0, 0.6)}
    >>> inc = {"q1": (1, 0.8), "q2": (0, 0.4)}
    >>> evaluate_gate_items(cand, inc).action.value  # same hard score: a tie
    'reject'
    >>> res = evaluate_gate_items(cand, inc, metric="soft")
    >>> res.action.value, round(res.candidate_score, 4), round(res.current_score, 4)
    ('accept_new_best', 0.75, 0.6)
    """
    m = _as_metric(metric)
    cand, inc = match_items(candidate_items, incumbent_items)
    c_hard, c_soft, c_missing = _mean_scores(cand)
    i_hard, i_soft, i_missing = _mean_scores(inc)
    if m is not GateMetric.HARD and (c_missing or i_missing):
        side, ids = (labels[0], c_missing) if c_missing else (labels[1], i_missing)
        shown = ", ".join(repr(i) for i in ids[:10]) + (", …" if len(ids) > 10 else "")
        raise ParityInputError(
            f"`soft` is required by metric {m.value!r}; {side} has no `soft` for "
            f"{len(ids)} item(s): {shown}"
        )
    incumbent = (i_hard, i_soft)
    return evaluate_gate(
        c_hard,
        incumbent,
        incumbent if best_score is None else best_score,
        cand_soft=c_soft,
        metric=m,
        mixed_weight=mixed_weight,
        min_delta=min_delta,
    )


def _mean_scores(items: Sequence[GateItem]) -> tuple[float, float | None, list[str]]:
    """Mean hard score, mean soft score (None unless every item has one), ids without soft."""
    hard = math.fsum(it.hard for it in items) / len(items)
    missing = [it.id for it in items if it.soft is None]
    soft = None if missing else math.fsum(it.soft for it in items) / len(items)
    return hard, soft, missing
