"""Gates: accept or reject a candidate (prompt, skill, policy) on a small held-out set.

An optimization loop proposes a candidate, scores it on a few held-out items (often 3–20) and
must decide whether to keep it. Two gates answer, both with every number behind the decision:

* :func:`evaluate_gate`, the **threshold gate**: the candidate's score in the chosen metric
  against the current and the best score projected into the same metric. ``accept_new_best``
  when it beats both by more than ``min_delta``, ``accept`` when it beats the current score but
  not the best, ``reject`` otherwise (ties are rejected).
* :func:`evaluate_gate_paired`, the **statistical gate**: per-item scores of candidate and
  incumbent on the same items; an exact sign-flip permutation test of the paired differences
  and a bootstrap CI of the mean improvement. ``accept`` only for a significant improvement
  above ``min_delta``; ``inconclusive`` only when no result on this many items could be
  significant at this α (and the CI does not exclude improvements); ``reject`` otherwise — a
  significantly worse candidate, a CI that excludes improvements above ``min_delta``, or an
  improvement not shown, with a sentence saying how many items would make accepting an
  improvement as large as the observed one likely.

**Metrics** (:class:`GateMetric`, :func:`select_gate_score`): ``hard`` (exact-match accuracy),
``soft`` (partial credit, F1, …) or ``mixed`` = ``(1 − w)·hard + w·soft``. Hard and soft scores
are numbers in [0, 1]; ``w = 0`` and ``w = 1`` give exactly the hard and the soft score.

**Records** (:class:`GateRecord`, :func:`append_gate_log`, :func:`load_gate_log`,
:func:`resume_state`): an append-only JSONL log, one decision per line with a ``schema``
version. Every record keeps the hard *and* the soft score of candidate, current and best, so a
loop that resumes under another metric re-projects them instead of losing information; records
written with fewer fields (older versions) load with defaults.

This module sits beside :mod:`parity.verdict`, above :mod:`parity.stats`; it reads and writes
the JSONL files of items and of the log.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import numbers
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from parity.errors import (
    DegenerateDataWarning,
    ExitCode,
    ParityInputError,
    check_positive_int,
    check_probability,
)
from parity.io import loads_json
from parity.stats._common import ResultMixin, RngLike, as_generator, to_jsonable
from parity.stats.equivalence import TARGET_POWER, smallest_n
from parity.stats.sign_flip import MAX_EXACT, SignFlipResult, sign_flip_test

__all__ = [
    "SCHEMA_VERSION",
    "GateAction",
    "GateItem",
    "GateMetric",
    "GateRecord",
    "GateResult",
    "GateState",
    "PairedGateResult",
    "SignFlipResult",
    "append_gate_log",
    "evaluate_gate",
    "evaluate_gate_paired",
    "load_gate_items",
    "load_gate_log",
    "match_items",
    "resume_state",
    "select_gate_score",
    "sign_flip_test",
]

#: Version of the JSONL log records written by :func:`append_gate_log`.
SCHEMA_VERSION = 1
#: Score differences within this absolute tolerance count as ties (scores live in [0, 1]).
SCORE_TOL = 1e-12


class GateMetric(enum.StrEnum):
    """The score a gate compares: ``hard``, ``soft`` or ``mixed`` = ``(1 − w)·hard + w·soft``."""

    HARD = "hard"
    SOFT = "soft"
    MIXED = "mixed"


class GateAction(enum.StrEnum):
    """What a gate decided.

    ``accept_new_best`` and ``accept`` (threshold gate), ``accept`` (statistical gate), ``reject``
    (both) and ``inconclusive`` (statistical gate only: the data cannot decide).
    """

    ACCEPT_NEW_BEST = "accept_new_best"
    ACCEPT = "accept"
    REJECT = "reject"
    INCONCLUSIVE = "inconclusive"

    @property
    def accepted(self) -> bool:
        """True for ``accept`` and ``accept_new_best``."""
        return self in (GateAction.ACCEPT, GateAction.ACCEPT_NEW_BEST)

    @property
    def exit_code(self) -> ExitCode:
        """0 for an acceptance, 1 for ``reject``, 3 for ``inconclusive``."""
        if self.accepted:
            return ExitCode.PASS
        return ExitCode.FAIL if self is GateAction.REJECT else ExitCode.INCONCLUSIVE


# --------------------------------------------------------------------------------------------
# validation helpers


def _as_metric(metric: Any, label: str = "`metric`") -> GateMetric:
    if isinstance(metric, GateMetric):
        return metric
    key = metric.strip().lower() if isinstance(metric, str) else None
    try:
        return GateMetric(key)
    except ValueError:
        shown = ", ".join(repr(m.value) for m in GateMetric)
        raise ParityInputError(f"{label} must be one of {shown}; got {metric!r}") from None


def _as_action(action: Any, where: str) -> GateAction:
    if isinstance(action, GateAction):
        return action
    try:
        return GateAction(action)
    except ValueError:
        shown = ", ".join(repr(a.value) for a in GateAction)
        raise ParityInputError(
            f"{where}: `action` must be one of {shown}; got {action!r}"
        ) from None


def _check_weight(mixed_weight: Any) -> float:
    try:
        w = float(mixed_weight)
    except (TypeError, ValueError):
        w = math.nan
    if isinstance(mixed_weight, bool) or not 0.0 <= w <= 1.0:
        raise ParityInputError(f"`mixed_weight` must be a number in [0, 1]; got {mixed_weight!r}")
    return w


def _check_min_delta(min_delta: Any) -> float:
    try:
        v = float(min_delta)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(min_delta, bool) or not (math.isfinite(v) and v >= 0.0):
        raise ParityInputError(f"`min_delta` must be a finite number >= 0; got {min_delta!r}")
    return v


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _unit_score(value: Any, label: str) -> float:
    """``value`` as a float in [0, 1] (bools as 0/1), or a one-line error naming ``label``."""
    if isinstance(value, bool | np.bool_):
        return float(value)
    if not _is_number(value):
        raise ParityInputError(f"{label} must be a number in [0, 1]; got {value!r}")
    v = float(value)
    if math.isnan(v):
        raise ParityInputError(f"{label} must be a number in [0, 1]; got NaN")
    if not 0.0 <= v <= 1.0:
        raise ParityInputError(f"{label} must be a number in [0, 1]; got {value!r}")
    return v


def _unit_array(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParityInputError(f"`{name}` must be numbers in [0, 1]; got {value!r}") from None
    bad = ~(np.isfinite(arr) & (arr >= 0.0) & (arr <= 1.0))
    if bad.any():
        where = np.flatnonzero(bad.reshape(-1))
        shown = ", ".join(f"{arr.reshape(-1)[i]!r}" for i in where[:5])
        raise ParityInputError(
            f"`{name}` must be numbers in [0, 1]; got {where.size} outside it or NaN "
            f"(positions {', '.join(map(str, where[:5]))}: {shown})"
        )
    return arr


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "—"
    return f"{x:.{digits}g}"


def _signed(x: float) -> str:
    return "0" if x == 0 else f"{x:+.4g}"


# --------------------------------------------------------------------------------------------
# the score of a metric


def select_gate_score(
    hard: Any, soft: Any, metric: GateMetric | str, mixed_weight: float = 0.5
) -> Any:
    """The score a gate compares: ``hard``, ``soft`` or ``(1 − w)·hard + w·soft``.

    Parameters
    ----------
    hard : float or array_like
        Hard (exact-match) score(s), in [0, 1].
    soft : float, array_like or None
        Soft (partial-credit) score(s), in [0, 1]; required by ``soft`` and ``mixed`` (even with
        ``mixed_weight = 0``), ignored by ``hard``.
    metric : {"hard", "soft", "mixed"} or GateMetric
        Which score (case-insensitive).
    mixed_weight : float, default 0.5
        Weight ``w`` of the soft score in ``mixed``, in [0, 1]; checked for every metric.
        ``w = 0`` gives exactly ``hard`` and ``w = 1`` exactly ``soft``.

    Returns
    -------
    float or numpy.ndarray
        A float for scalar input, an array (broadcast) for array input.

    Raises
    ------
    ParityInputError
        For an unknown metric, a missing soft score under ``soft``/``mixed``, ``mixed_weight``
        outside [0, 1], or scores that are not numbers in [0, 1] (NaN included).

    Examples
    --------
    >>> select_gate_score(0.5, 0.8, "hard")
    0.5
    >>> select_gate_score(0.5, 0.8, "soft")
    0.8
    >>> round(select_gate_score(0.5, 0.8, "mixed", mixed_weight=0.3), 6)
    0.59
    >>> select_gate_score(0.5, 0.8, "mixed", mixed_weight=0.0)
    0.5
    >>> select_gate_score([1, 0, 1], [1.0, 0.5, 0.75], "mixed").tolist()
    [1.0, 0.25, 0.875]
    >>> select_gate_score(0.5, None, "mixed")
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: `soft` is required by metric 'mixed'; got None
    >>> select_gate_score(0.5, 0.8, "f1")
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: `metric` must be one of 'hard', 'soft', 'mixed'; got 'f1'
    """
    m = _as_metric(metric)
    w = _check_weight(mixed_weight)
    scalar = np.ndim(hard) == 0 and (soft is None or np.ndim(soft) == 0)
    if scalar:
        h = _unit_score(hard, "`hard`")
        if soft is None:
            if m is not GateMetric.HARD:
                raise ParityInputError(f"`soft` is required by metric {m.value!r}; got None")
            return h
        s = _unit_score(soft, "`soft`")
        return _combine(h, s, m, w)
    h_arr = _unit_array(hard, "hard")
    if soft is None:
        if m is not GateMetric.HARD:
            raise ParityInputError(f"`soft` is required by metric {m.value!r}; got None")
        return h_arr
    s_arr = _unit_array(soft, "soft")
    if h_arr.shape != s_arr.shape and h_arr.ndim and s_arr.ndim:
        raise ParityInputError(
            f"`hard` and `soft` must have the same shape; got {h_arr.shape} and {s_arr.shape}"
        )
    return _combine(h_arr, s_arr, m, w)


def _combine(h: Any, s: Any, m: GateMetric, w: float) -> Any:
    if m is GateMetric.HARD:
        return h
    if m is GateMetric.SOFT:
        return s
    return (1.0 - w) * h + w * s  # exact at w = 0 and w = 1: 1·h + 0·s = h, 0·h + s = s


# --------------------------------------------------------------------------------------------
# the threshold gate


class _GateDecision(ResultMixin):
    """What both gates' results share: the action's meaning and a JSON round trip."""

    __slots__ = ()

    @property
    def accepted(self) -> bool:
        """True for ``accept`` and ``accept_new_best``."""
        return self.action.accepted

    @property
    def exit_code(self) -> ExitCode:
        """0 accept / accept_new_best, 1 reject, 3 inconclusive."""
        return self.action.exit_code

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-safe ``dict`` (enums as their string values, tuples as lists).

        Examples
        --------
        >>> res = evaluate_gate(0.6, 0.5, 0.55)
        >>> d = res.to_dict()
        >>> d["action"], d["metric"], d["candidate_score"]
        ('accept_new_best', 'hard', 0.6)
        >>> GateResult.from_dict(d) == res
        True
        """
        return _plain_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]):
        """Rebuild a result from :meth:`to_dict` output (e.g. after a JSON round trip)."""
        return _from_dict(cls, data)


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


def _plain_dict(obj: Any) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        out[f.name] = value.value if isinstance(value, enum.Enum) else to_jsonable(value)
    return out


def _from_dict(cls: type, data: Mapping[str, Any]) -> Any:
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name == "action":
            value = GateAction(value)
        elif f.name == "metric":
            value = GateMetric(value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


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
    """A reference score (number in the metric, (hard, soft) pair or mapping) in ``metric``."""
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
    mixed_weight: float = 0.5,
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


# --------------------------------------------------------------------------------------------
# items


@dataclasses.dataclass(frozen=True, slots=True)
class GateItem:
    """One held-out item's scores: ``id``, ``hard`` in [0, 1], optional ``soft`` in [0, 1].

    Examples
    --------
    >>> GateItem("q1", 1.0, 0.9)
    GateItem(id='q1', hard=1.0, soft=0.9)
    """

    id: str
    hard: float
    soft: float | None = None


def _item_id(value: Any, where: str) -> str:
    if isinstance(value, str) and value != "":
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        return str(int(value))
    raise ParityInputError(f"{where}: `id` must be a non-empty string or an integer; got {value!r}")


def _make_item(raw_id: Any, hard: Any, soft: Any, where: str) -> GateItem:
    item_id = _item_id(raw_id, where)
    at = f"{where} (id {item_id!r})"
    h = _unit_score(hard, f"{at}: `hard`")
    s = None if soft is None else _unit_score(soft, f"{at}: `soft`")
    return GateItem(item_id, h, s)


def _item_from_record(record: Any, where: str) -> GateItem:
    if isinstance(record, GateItem):
        return _make_item(record.id, record.hard, record.soft, where)
    if not isinstance(record, Mapping):
        raise ParityInputError(
            f"{where}: expected an object with `id`, `hard` and optional `soft`; got "
            f"{_json_kind(record)}"
        )
    if "id" not in record:
        raise ParityInputError(f"{where}: missing field `id`")
    if "hard" not in record:
        raise ParityInputError(
            f"{where} (id {_item_id(record['id'], where)!r}): missing field `hard`"
        )
    return _make_item(record["id"], record["hard"], record.get("soft"), where)


def _json_kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def _as_items(items: Any, name: str) -> list[GateItem]:
    """Normalise the accepted item forms to a list of validated :class:`GateItem`."""
    if isinstance(items, str | os.PathLike):
        return load_gate_items(items)
    out: list[GateItem] = []
    if isinstance(items, Mapping):
        for key, value in items.items():
            where = f"`{name}`[{key!r}]"
            if isinstance(value, Mapping):
                if "hard" not in value:
                    raise ParityInputError(f"{where}: missing field `hard`")
                out.append(_make_item(key, value["hard"], value.get("soft"), where))
            elif _is_number(value) or isinstance(value, bool | np.bool_):
                out.append(_make_item(key, value, None, where))
            elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
                out.append(_make_item(key, value[0], value[1], where))
            else:
                raise ParityInputError(
                    f"{where}: expected a hard score, a (hard, soft) pair or a mapping; got "
                    f"{value!r}"
                )
        return _check_unique(out, f"`{name}`")
    if isinstance(items, np.ndarray):
        items = items.tolist()
    try:
        seq = list(items)
    except TypeError:
        raise ParityInputError(
            f"`{name}` must be a sequence of items ({{'id', 'hard', 'soft'}} mappings or "
            f"GateItem), a mapping id → scores, or a JSONL path; got {type(items).__name__}"
        ) from None
    for i, record in enumerate(seq):
        where = f"`{name}` item {i}"
        if _is_number(record) or isinstance(record, bool | np.bool_):
            out.append(_make_item(i, record, None, where))
        elif isinstance(record, list | tuple) and len(record) == 2:
            out.append(_make_item(i, record[0], record[1], where))
        else:
            out.append(_item_from_record(record, where))
    return _check_unique(out, f"`{name}`")


def _check_unique(items: list[GateItem], label: str) -> list[GateItem]:
    seen: dict[str, int] = {}
    dups: list[str] = []
    for item in items:
        seen[item.id] = seen.get(item.id, 0) + 1
        if seen[item.id] == 2:
            dups.append(item.id)
    if dups:
        raise ParityInputError(f"{label}: item ids must be unique; duplicated: {_ids(dups)}")
    return items


def _ids(ids: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    return shown + (f", … ({len(ids)} in all)" if len(ids) > limit else "")


def load_gate_items(path: str | os.PathLike[str]) -> list[GateItem]:
    """Read a JSONL file of items: one object per line with ``id``, ``hard``, optional ``soft``.

    Blank lines are skipped and other fields (the question, the output, …) are ignored. ``id``
    is a non-empty string or an integer (compared as text); ``hard`` and ``soft`` are numbers
    in [0, 1] (``true``/``false`` count as 1/0); ``soft`` may be ``null`` or absent.

    Raises
    ------
    ParityInputError
        One line naming the file, the line and the field: a missing file, invalid JSON, a
        missing or bad field, NaN, a duplicated id, or no items at all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "items.jsonl"
    >>> _ = p.write_text('{"id": "q1", "hard": 1, "soft": 0.9}\\n{"id": "q2", "hard": 0}\\n')
    >>> load_gate_items(p)
    [GateItem(id='q1', hard=1.0, soft=0.9), GateItem(id='q2', hard=0.0, soft=None)]
    """
    p = Path(path)
    label = str(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParityInputError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise ParityInputError(f"{label}: is a directory; expected a JSONL file") from None
    except UnicodeDecodeError as exc:
        raise ParityInputError(f"{label}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ParityInputError(f"{label}: cannot be read ({exc.strerror})") from None
    items = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{label} line {lineno}"
        try:
            record = loads_json(line)
        except json.JSONDecodeError as exc:
            raise ParityInputError(f"{where}: not valid JSON ({exc.msg})") from None
        items.append(_item_from_record(record, where))
    if not items:
        raise ParityInputError(
            f"{label}: no items; expected one JSON object per line with `id`, `hard` and "
            "optional `soft`"
        )
    return _check_unique(items, label)


def match_items(
    candidate_items: Any,
    incumbent_items: Any,
    *,
    names: tuple[str, str] = ("candidate_items", "incumbent_items"),
) -> tuple[list[GateItem], list[GateItem]]:
    """Validate both item sets and pair them by ``id`` (in the candidate's order).

    Items may be given as a sequence of ``{"id", "hard", "soft"}`` mappings or
    :class:`GateItem`, a mapping ``id → hard`` / ``id → (hard, soft)`` / ``id → {"hard", "soft"}``,
    a sequence of hard scores or (hard, soft) pairs (ids are the positions), or a JSONL path.

    Raises
    ------
    ParityInputError
        When the sets do not have the same ids (the message names them), besides the checks of
        each item.

    Examples
    --------
    >>> c, i = match_items({"a": 1, "b": 0}, {"b": 1, "a": 1})
    >>> [(x.id, x.hard, y.hard) for x, y in zip(c, i)]
    [('a', 1.0, 1.0), ('b', 0.0, 1.0)]
    >>> match_items({"a": 1, "b": 0}, {"a": 1, "c": 0})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: items must match by `id`: only in candidate_items: 'b'; ...
    """
    cand = _as_items(candidate_items, names[0])
    inc = _as_items(incumbent_items, names[1])
    inc_by_id = {item.id: item for item in inc}
    cand_ids = {item.id for item in cand}
    only_c = [item.id for item in cand if item.id not in inc_by_id]
    only_i = [item.id for item in inc if item.id not in cand_ids]
    if only_c or only_i:
        parts = []
        if only_c:
            parts.append(f"only in {names[0]}: {_ids(only_c)}")
        if only_i:
            parts.append(f"only in {names[1]}: {_ids(only_i)}")
        raise ParityInputError("items must match by `id`: " + "; ".join(parts))
    return cand, [inc_by_id[item.id] for item in cand]


def _item_scores(
    items: list[GateItem], metric: GateMetric, w: float, label: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(scores in metric, hard, soft or None) of matched items; soft required by soft/mixed."""
    hard = np.array([it.hard for it in items], dtype=np.float64)
    missing = [it.id for it in items if it.soft is None]
    if missing and metric is not GateMetric.HARD:
        raise ParityInputError(
            f"`soft` is required by metric {metric.value!r}; {label} has no `soft` for "
            f"{len(missing)} item(s): {_ids(missing)}"
        )
    soft = None if missing else np.array([it.soft for it in items], dtype=np.float64)
    scores = hard if soft is None else _combine(hard, soft, metric, w)
    return np.asarray(scores, dtype=np.float64), hard, soft


def _items_needed(alpha: float, sides: int = 2) -> int:
    """Fewest items for which a sign-flip test can reach p ≤ α: sides / 2^n ≤ α."""
    return max(1, math.ceil(math.log2(sides / alpha) - 1e-12))


# --------------------------------------------------------------------------------------------
# the statistical gate


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
    confidence_interval : tuple of float
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
    confidence_interval: tuple[float, float]
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
    mixed_weight: float = 0.5,
    alpha: float = 0.05,
    min_delta: float = 0.0,
    rng: RngLike = None,
    n_resamples: int = 9999,
    n_bootstrap: int = 9999,
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
    m = _as_metric(metric)
    w = _check_weight(mixed_weight)
    a = check_probability("alpha", alpha)
    if a >= 0.5:
        raise ParityInputError(f"`alpha` must be in (0, 0.5) (the CI is at 1 − α); got {alpha!r}")
    md = _check_min_delta(min_delta)
    n_boot = check_positive_int("n_bootstrap", n_bootstrap)
    cand, inc = match_items(candidate_items, incumbent_items)
    if len(cand) < 2:
        raise ParityInputError(
            f"the paired gate needs at least 2 items on both sides; got {len(cand)}"
        )
    c_scores, c_hard, c_soft = _item_scores(cand, m, w, "the candidate")
    i_scores, i_hard, i_soft = _item_scores(inc, m, w, "the incumbent")
    d = c_scores - i_scores
    d[np.abs(d) <= SCORE_TOL] = 0.0  # rounding of mixed scores is not a difference
    gen = as_generator(rng)
    test = sign_flip_test(d, n_resamples=n_resamples, max_exact=max_exact, rng=gen)
    ci, ci_method, notes = _bootstrap_mean(d, 1.0 - a, n_boot, gen)

    n = d.size
    t = test.statistic
    lo, hi = ci
    significant = test.pvalue <= a
    better, worse = int(np.count_nonzero(d > 0)), int(np.count_nonzero(d < 0))
    too_small = test.min_attainable_pvalue > a
    label = m.value if m is not GateMetric.MIXED else f"mixed (w = {w:g})"
    reasons = [
        f"mean {label} score {float(c_scores.mean()):.4g} (candidate) vs "
        f"{float(i_scores.mean()):.4g} (incumbent) on {n} items: mean improvement "
        f"{_signed(t)}; better on {better}, worse on {worse}, tied on {n - better - worse}",
        f"{test.method}: two-sided p = {test.pvalue:.4g} "
        + ("≤" if significant else ">")
        + f" α = {a:g} (one-sided p for an improvement {test.pvalue_greater:.4g})",
        f"{1 - a:.0%} bootstrap CI of the mean improvement [{_fmt(lo)}, {_fmt(hi)}]",
    ]
    if too_small and not n <= max_exact:
        reasons.append(
            f"with {test.n_resamples} random sign patterns the smallest attainable p-value is "
            f"1/(1 + {test.n_resamples}) = {test.min_attainable_pvalue:.4g} > α = {a:g}: no "
            "result can be significant; use more random sign patterns"
        )
    elif too_small:
        one_sided = 2.0 ** (-n)
        reasons.append(
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
    elif test.n_nonzero == 0:
        reasons.append(f"candidate and incumbent score the same on all {n} items")
    elif 2.0 ** (1 - test.n_nonzero) > a and not significant:
        reasons.append(
            f"only {test.n_nonzero} of the {n} items differ between candidate and incumbent; "
            f"tied items carry no evidence, so these data could give no p-value below "
            f"2/2^{test.n_nonzero} = {min(1.0, 2.0 ** (1 - test.n_nonzero)):.4g} > {a:g}"
        )
    if significant and t < 0:
        action = GateAction.REJECT
        reasons.append(
            f"reject: the candidate is significantly worse (p = {test.pvalue:.4g} ≤ {a:g}, "
            f"mean change {_signed(t)})"
        )
    elif hi <= md + SCORE_TOL:
        action = GateAction.REJECT
        reasons.append(
            f"reject: the CI excludes every improvement above min_delta = {md:g} "
            f"(upper end {_fmt(hi)})"
            + (" although the improvement itself is significant" if significant and t > 0 else "")
        )
    elif significant and t > md + SCORE_TOL:
        action = GateAction.ACCEPT
        reasons.append(
            f"accept: the improvement {_signed(t)} is significant (p = {test.pvalue:.4g} ≤ {a:g})"
            + (f" and exceeds min_delta = {md:g}" if md > 0 else "")
        )
    elif too_small:
        action = GateAction.INCONCLUSIVE
        reasons.append(
            f"inconclusive: no result on {n} items can be significant at α = {a:g}, and the "
            f"CI does not exclude improvements above min_delta = {md:g}"
        )
    else:
        action = GateAction.REJECT
        if significant:
            why = (
                f"the improvement is significant but its mean {_signed(t)} does not exceed "
                f"min_delta = {md:g}"
            )
        else:
            why = f"the improvement is not significant (p = {test.pvalue:.4g} > {a:g})"
        reasons.append(f"reject: {why}; {_power_sentence(d, a, md, n)}")

    for note in notes:
        warnings.warn(note, DegenerateDataWarning, stacklevel=2)
    return PairedGateResult(
        action=action,
        metric=m,
        mixed_weight=w,
        alpha=a,
        min_delta=md,
        n_items=n,
        n_nonzero=test.n_nonzero,
        n_better=better,
        n_worse=worse,
        statistic=t,
        pvalue=test.pvalue,
        pvalue_greater=test.pvalue_greater,
        pvalue_less=test.pvalue_less,
        confidence_interval=(lo, hi),
        confidence_level=1.0 - a,
        n_resamples=test.n_resamples,
        n_bootstrap=n_boot,
        exact=test.exact,
        method=f"{test.method}; {ci_method} CI ({n_boot} resamples)",
        min_attainable_pvalue=test.min_attainable_pvalue,
        too_small=too_small,
        candidate_score=float(c_scores.mean()),
        incumbent_score=float(i_scores.mean()),
        candidate_hard=float(c_hard.mean()),
        candidate_soft=None if c_soft is None else float(c_soft.mean()),
        incumbent_hard=float(i_hard.mean()),
        incumbent_soft=None if i_soft is None else float(i_soft.mean()),
        ids=tuple(it.id for it in cand),
        differences=tuple(float(x) for x in d),
        reasons=tuple(reasons),
        warnings=tuple(notes),
        items_for_power=items_for_power(d, a, md),
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


# --------------------------------------------------------------------------------------------
# records: the append-only JSONL log


@dataclasses.dataclass(frozen=True, slots=True)
class GateRecord(ResultMixin):
    """One line of the gate log: a decision with both hard and soft scores of every system.

    Only ``action`` is required when loading; every other field has a default, so records
    written by older versions (with fewer fields) load. Fields this version does not know are
    kept in ``extra`` and written back unchanged.

    Attributes
    ----------
    schema : int
        Record version (:data:`SCHEMA_VERSION` when written; 0 for a record without one).
    step : int or None
        Step of the optimization loop.
    gate : str
        ``"threshold"`` (:func:`evaluate_gate`) or ``"paired"`` (:func:`evaluate_gate_paired`).
    metric, mixed_weight, min_delta
        Settings of the decision.
    action : GateAction
        The decision.
    candidate_hard, candidate_soft, candidate_score : float or None
        The candidate's hard and soft score and its score in ``metric``.
    current_hard, current_soft, current_score : float or None
        The current (incumbent) system's, likewise.
    best_hard, best_soft, best_score : float or None
        The best system's (``None`` for the paired gate, which compares with the incumbent).
    pvalue, alpha : float or None
        Two-sided p-value and level of the statistical gate.
    confidence_interval : tuple of float or None
        CI of the mean improvement (statistical gate).
    n_items : int or None
        Items the decision was made on.
    time : str or None
        UTC time of writing (ISO 8601), when recorded.
    extra : dict
        Anything else: labels passed to :func:`append_gate_log`, fields of newer versions.
    """

    action: GateAction
    schema: int = SCHEMA_VERSION
    step: int | None = None
    gate: str = "threshold"
    metric: GateMetric = GateMetric.HARD
    mixed_weight: float = 0.5
    min_delta: float = 0.0
    candidate_hard: float | None = None
    candidate_soft: float | None = None
    candidate_score: float | None = None
    current_hard: float | None = None
    current_soft: float | None = None
    current_score: float | None = None
    best_hard: float | None = None
    best_soft: float | None = None
    best_score: float | None = None
    pvalue: float | None = None
    alpha: float | None = None
    confidence_interval: tuple[float, float] | None = None
    n_items: int | None = None
    time: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_result(
        cls,
        result: GateResult | PairedGateResult,
        *,
        step: int | None = None,
        time: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> GateRecord:
        """The record of a gate decision.

        Examples
        --------
        >>> rec = GateRecord.from_result(evaluate_gate(0.6, (0.5, 0.7), cand_soft=0.8), step=3)
        >>> rec.step, rec.action.value, rec.candidate_hard, rec.candidate_soft, rec.current_soft
        (3, 'accept_new_best', 0.6, 0.8, 0.7)
        """
        common = {
            "action": result.action,
            "step": step,
            "metric": result.metric,
            "mixed_weight": result.mixed_weight,
            "min_delta": result.min_delta,
            "candidate_hard": result.candidate_hard,
            "candidate_soft": result.candidate_soft,
            "candidate_score": result.candidate_score,
            "time": time,
            "extra": dict(extra or {}),
        }
        if isinstance(result, PairedGateResult):
            return cls(
                gate="paired",
                current_hard=result.incumbent_hard,
                current_soft=result.incumbent_soft,
                current_score=result.incumbent_score,
                pvalue=result.pvalue,
                alpha=result.alpha,
                confidence_interval=result.confidence_interval,
                n_items=result.n_items,
                **common,
            )
        if not isinstance(result, GateResult):
            raise ParityInputError(
                f"`result` must be a GateResult or PairedGateResult; got {type(result).__name__}"
            )
        return cls(
            gate="threshold",
            current_hard=result.current_hard,
            current_soft=result.current_soft,
            current_score=result.current_score,
            best_hard=result.best_hard,
            best_soft=result.best_soft,
            best_score=result.best_score,
            **common,
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-safe ``dict``: known fields first, then ``extra``'s keys.

        Examples
        --------
        >>> d = GateRecord(action="reject", step=1).to_dict()
        >>> d["schema"], d["action"], d["step"], d["metric"]
        (1, 'reject', 1, 'hard')
        """
        out = _plain_dict(self)
        extra = out.pop("extra")
        for key, value in extra.items():
            out.setdefault(key, value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "record") -> GateRecord:
        """Load a record of any schema version, filling defaults for missing fields.

        Records without a ``schema`` field are version 0. When a hard-metric record has no
        ``*_hard`` components (a version that stored only the scores), the scores are its hard
        scores. Unknown fields go to ``extra``.

        Examples
        --------
        >>> old = {"step": 2, "candidate_score": 0.6, "current_score": 0.5,
        ...        "best_score": 0.5, "action": "accept_new_best"}
        >>> rec = GateRecord.from_dict(old)
        >>> rec.schema, rec.metric.value, rec.candidate_hard, rec.candidate_soft, rec.pvalue
        (0, 'hard', 0.6, None, None)
        """
        if not isinstance(data, Mapping):
            raise ParityInputError(f"{where}: expected a JSON object; got {_json_kind(data)}")
        if "action" not in data:
            raise ParityInputError(f"{where}: missing field `action`")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        kwargs: dict[str, Any] = {k: data[k] for k in names if k in data}
        extra = dict(data.get("extra") or {}) if isinstance(data.get("extra"), Mapping) else {}
        extra.update({k: v for k, v in data.items() if k not in names and k != "extra"})
        kwargs["extra"] = extra
        kwargs["schema"] = int(data.get("schema", 0))
        kwargs["action"] = _as_action(data["action"], where)
        kwargs["metric"] = _as_metric(data.get("metric") or "hard", f"{where}: `metric`")
        if kwargs["metric"] is GateMetric.HARD:
            for role in ("candidate", "current", "best"):
                if kwargs.get(f"{role}_hard") is None and kwargs.get(f"{role}_score") is not None:
                    kwargs[f"{role}_hard"] = kwargs[f"{role}_score"]
        for key in ("mixed_weight", "min_delta"):
            if kwargs.get(key) is None:
                kwargs.pop(key, None)
        ci = kwargs.get("confidence_interval")
        if ci is not None:
            kwargs["confidence_interval"] = tuple(ci)
        return cls(**kwargs)

    def __post_init__(self) -> None:
        if not isinstance(self.action, GateAction):
            object.__setattr__(self, "action", _as_action(self.action, "record"))
        if not isinstance(self.metric, GateMetric):
            object.__setattr__(self, "metric", _as_metric(self.metric))


def _utc_now() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def append_gate_log(
    path: str | os.PathLike[str],
    entry: GateRecord | GateResult | PairedGateResult,
    *,
    step: int | None = None,
    timestamp: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> GateRecord:
    """Append one decision to a JSONL log and return the record written.

    The file is opened for appending only: earlier lines are never read back into the write or
    rewritten. A file whose last line lacks its newline (an interrupted write) gets one first,
    so the new record stands on its own line. The line is flushed and fsync'ed.

    Parameters
    ----------
    path : str or os.PathLike
        The log; created (with its folder) if missing.
    entry : GateRecord, GateResult or PairedGateResult
        The decision.
    step : int, optional
        Step number; default: the record's own step, else the number of records already in
        the file.
    timestamp : bool, default True
        Record the UTC time of writing in ``time`` (unless the record has one).
    extra : mapping, optional
        Labels to store with the record (candidate name, file paths, …).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> log = pathlib.Path(tempfile.mkdtemp()) / "gates.jsonl"
    >>> _ = append_gate_log(log, evaluate_gate(0.6, 0.5), timestamp=False)
    >>> _ = append_gate_log(log, evaluate_gate(0.55, 0.6), timestamp=False)
    >>> [(r.step, r.action.value) for r in load_gate_log(log)]
    [(0, 'accept_new_best'), (1, 'reject')]
    """
    p = Path(path)
    if isinstance(entry, GateRecord):
        record = entry
    else:
        record = GateRecord.from_result(entry)
    changes: dict[str, Any] = {"schema": SCHEMA_VERSION}
    if step is not None:
        changes["step"] = int(step)
    elif record.step is None:
        changes["step"] = _count_records(p)
    if timestamp and record.time is None:
        changes["time"] = _utc_now()
    if extra:
        shadowed = sorted(set(extra) & {f.name for f in dataclasses.fields(GateRecord)})
        if shadowed:
            raise ParityInputError(
                f"`extra` keys must not shadow record fields; got {', '.join(map(repr, shadowed))}"
            )
        changes["extra"] = {**record.extra, **extra}
    record = dataclasses.replace(record, **changes)
    line = json.dumps(record.to_dict(), ensure_ascii=False, allow_nan=False) + "\n"
    p.parent.mkdir(parents=True, exist_ok=True)
    needs_newline = False
    if p.exists() and p.stat().st_size > 0:
        with p.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            needs_newline = fh.read(1) != b"\n"
    with p.open("a", encoding="utf-8") as fh:
        fh.write(("\n" if needs_newline else "") + line)
        fh.flush()
        os.fsync(fh.fileno())
    return record


def _count_records(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        return sum(1 for line in fh if line.strip())


def load_gate_log(path: str | os.PathLike[str]) -> list[GateRecord]:
    """Read every record of a gate log, oldest first (see :meth:`GateRecord.from_dict`).

    Raises
    ------
    ParityInputError
        Naming the file and the line of a record that is not valid JSON or has no valid
        ``action``.
    """
    label = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParityInputError(f"{label}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ParityInputError(f"{label}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ParityInputError(f"{label}: cannot be read ({exc.strerror or exc})") from None
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{label} line {lineno}"
        try:
            data = loads_json(line)
        except json.JSONDecodeError as exc:
            raise ParityInputError(f"{where}: not valid JSON ({exc.msg})") from None
        records.append(GateRecord.from_dict(data, where=where))
    return records


@dataclasses.dataclass(frozen=True, slots=True)
class GateState(ResultMixin):
    """Where a gated loop stands after its logged decisions: current and best, hard and soft.

    Pass ``(current_hard, current_soft)`` and ``(best_hard, best_soft)`` (the :attr:`current`
    and :attr:`best` pairs) to :func:`evaluate_gate` to resume, in any metric.
    """

    step: int | None
    current_hard: float | None
    current_soft: float | None
    best_hard: float | None
    best_soft: float | None
    metric: GateMetric | None = None
    mixed_weight: float | None = None

    @property
    def current(self) -> tuple[float | None, float | None]:
        """``(hard, soft)`` of the current system."""
        return self.current_hard, self.current_soft

    @property
    def best(self) -> tuple[float | None, float | None]:
        """``(hard, soft)`` of the best system."""
        return self.best_hard, self.best_soft

    @property
    def next_step(self) -> int:
        """The step after the last recorded one (0 for an empty log)."""
        return 0 if self.step is None else self.step + 1


def resume_state(records: Iterable[GateRecord] | str | os.PathLike[str]) -> GateState:
    """Replay logged decisions to recover the current and best systems' hard and soft scores.

    For each record in order: its current (and best) scores become the state's, then
    ``accept_new_best`` makes the candidate current and best, ``accept`` makes it current (and
    best too for the paired gate, which has a single incumbent), ``reject`` and
    ``inconclusive`` change nothing. The metric and weight of the last record are reported,
    but the state is kept in hard and soft, so the loop may resume under another metric.

    Examples
    --------
    >>> recs = [
    ...     GateRecord.from_result(evaluate_gate(0.5, (0.4, 0.6), cand_soft=0.7), step=0),
    ...     GateRecord.from_result(evaluate_gate(0.3, (0.5, 0.7), cand_soft=0.5), step=1),
    ... ]
    >>> state = resume_state(recs)
    >>> state.next_step, state.current, state.best
    (2, (0.5, 0.7), (0.5, 0.7))
    >>> evaluate_gate(0.5, state.current, state.best, cand_soft=0.8, metric="soft").action.value
    'accept_new_best'
    """
    if isinstance(records, str | os.PathLike):
        records = load_gate_log(records)
    cur: tuple[Any, Any] = (None, None)
    best: tuple[Any, Any] = (None, None)
    step = metric = weight = None
    for rec in records:
        if rec.current_hard is not None or rec.current_soft is not None:
            cur = (rec.current_hard, rec.current_soft)
        if rec.best_hard is not None or rec.best_soft is not None:
            best = (rec.best_hard, rec.best_soft)
        elif best == (None, None):
            best = cur
        cand = (rec.candidate_hard, rec.candidate_soft)
        if rec.action is GateAction.ACCEPT_NEW_BEST or (
            rec.action is GateAction.ACCEPT and rec.gate == "paired"
        ):
            cur = best = cand
        elif rec.action is GateAction.ACCEPT:
            cur = cand
        step = rec.step if rec.step is not None else (0 if step is None else step + 1)
        metric, weight = rec.metric, rec.mixed_weight
    return GateState(step, cur[0], cur[1], best[0], best[1], metric, weight)
