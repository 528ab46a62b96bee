"""The vocabulary of the gates: metrics, actions, scores in [0, 1] and the shared result base.

A gate compares scores in one metric (:class:`GateMetric`, :func:`select_gate_score`): ``hard``
(exact-match accuracy), ``soft`` (partial credit, F1, …) or ``mixed`` = ``(1 − w)·hard +
w·soft``; hard and soft scores are numbers in [0, 1], and ``w = 0`` and ``w = 1`` give exactly
the hard and the soft score. It decides a :class:`GateAction`. The checks of scores and
settings (one-line :class:`~parity.errors.ParityInputError` messages) live here, shared by
every room of :mod:`parity.gate`.

May import: numpy, :mod:`parity.errors`, :mod:`parity.stats` (its result base). Nothing else in
:mod:`parity.gate` (every other room imports this one).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from parity.errors import ExitCode, ParityInputError
from parity.stats._common import ResultMixin, to_jsonable

#: Weight ``w`` of the soft score in the mixed metric unless given.
DEFAULT_MIXED_WEIGHT = 0.5
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


def _signed(x: float) -> str:
    return "0" if x == 0 else f"{x:+.4g}"


def select_gate_score(
    hard: Any, soft: Any, metric: GateMetric | str, mixed_weight: float = DEFAULT_MIXED_WEIGHT
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
        >>> from parity.gate import GateResult, evaluate_gate
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
