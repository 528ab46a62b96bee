"""Shared helpers of the pure numerics: random generators, array checks, result serialisation."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np

from parity.errors import ParityInputError, check_seed

RngLike = None | int | np.random.Generator


class Interval(NamedTuple):
    """A ``(low, high)`` interval: a confidence interval, a margin's region, a band.

    A tuple, so ``low, high = res.confidence_interval`` and ``res.confidence_interval[0]``
    work as for a plain pair, and JSON writes it as the 2-element list ``[low, high]``.
    One-sided intervals have an infinite end.

    Attributes
    ----------
    low, high : float
        The lower and upper end.

    Examples
    --------
    >>> from parity.stats import tost
    >>> res = tost([1.0, 1.1, 0.9, 1.0, 1.0], [1.0, 1.05, 0.95, 1.0, 1.0], margin=0.5)
    >>> ci = res.confidence_interval
    >>> ci.low < 0.0 < ci.high
    True
    >>> low, high = ci
    >>> (low, high) == (ci.low, ci.high) and ci == (low, high)
    True
    >>> to_jsonable(Interval(0.25, math.inf))
    [0.25, 'inf']
    """

    low: float
    high: float


def as_intervals(result: Any, *names: str) -> None:
    """Make each named (low, high) field of a frozen result an :class:`Interval`.

    For a result's ``__post_init__``: a pair given as a tuple, list or array becomes an
    ``Interval`` of the same values; ``None`` (no interval) stays ``None``.

    Examples
    --------
    >>> @dataclasses.dataclass(frozen=True)
    ... class Result:
    ...     confidence_interval: Interval
    ...     def __post_init__(self) -> None:
    ...         as_intervals(self, "confidence_interval")
    >>> Result([0.1, 0.9]).confidence_interval
    Interval(low=0.1, high=0.9)
    """
    for name in names:
        value = getattr(result, name)
        if value is not None and not isinstance(value, Interval):
            low, high = value
            object.__setattr__(result, name, Interval(low, high))


@functools.cache
def _interval_fields(cls: type) -> tuple[str, ...]:
    """Names of the fields of dataclass ``cls`` annotated ``Interval`` or ``Interval | None``."""
    kinds = (Interval, "Interval", "Interval | None")
    return tuple(f.name for f in dataclasses.fields(cls) if f.type in kinds)


def as_generator(rng: RngLike) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``None``, an int seed, or a Generator.

    Examples
    --------
    >>> bool(as_generator(0).integers(10) == as_generator(0).integers(10))
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(check_seed("seed", rng))
    raise ParityInputError(
        f"`rng` must be None, an int seed or a numpy.random.Generator; got {type(rng).__name__}"
    )


def check_rng(rng: RngLike, name: str = "rng") -> RngLike:
    """Return ``rng`` checked: None, an int seed (validated) or a ``numpy.random.Generator``.

    Examples
    --------
    >>> check_rng(7), check_rng(None)
    (7, None)
    >>> check_rng("7")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: `rng` must be None, an int seed or a ...; got str
    """
    if rng is None or isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return check_seed(name, rng)
    raise ParityInputError(
        f"`{name}` must be None, an int seed or a numpy.random.Generator; got {type(rng).__name__}"
    )


def recorded_seed(rng: RngLike) -> int | None:
    """The seed a result records for reproducibility: the int when an int was given, else None.

    Examples
    --------
    >>> recorded_seed(3), recorded_seed(np.random.default_rng(3)), recorded_seed(None)
    (3, None, None)
    """
    return int(rng) if isinstance(rng, int | np.integer) and not isinstance(rng, bool) else None


def spawn_generators(rng: RngLike, k: int) -> tuple[np.random.Generator, ...]:
    """``k`` independent generators from ``rng``: an int seed's (or None's) ``SeedSequence``
    children, or a Generator's :meth:`~numpy.random.Generator.spawn` children. ``spawn(k)``'s
    first children are ``spawn(k − 1)``'s, so a stream added at the end leaves the others.

    Examples
    --------
    >>> a, b = spawn_generators(0, 2)
    >>> (c,) = spawn_generators(0, 1)
    >>> bool(a.integers(10**9) == c.integers(10**9))
    True
    """
    if isinstance(rng, np.random.Generator):
        return tuple(rng.spawn(k))
    seq = np.random.SeedSequence(None if rng is None else check_seed("rng", rng))
    return tuple(np.random.default_rng(s) for s in seq.spawn(k))


def as_samples(name: str, a: Any, *, min_rows: int = 2) -> np.ndarray:
    """Return ``a`` as a finite float64 array of shape (n, d); 1-D input means d = 1.

    Examples
    --------
    >>> as_samples("x", [1.0, 2.0, 3.0]).shape
    (3, 1)
    """
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParityInputError(
            f"`{name}` must be a numeric array; got {type(a).__name__}"
        ) from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ParityInputError(f"`{name}` must be 1-D or 2-D (n × d); got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise ParityInputError(
            f"`{name}` must have at least {min_rows} samples (rows); got {arr.shape[0]}"
        )
    if arr.shape[1] < 1:
        raise ParityInputError(f"`{name}` must have at least one column; got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        shown = ", ".join(str(r) for r in rows[:5]) + (", …" if rows.size > 5 else "")
        raise ParityInputError(
            f"`{name}` has {int(bad.sum())} NaN/inf values (rows {shown}); values must be finite"
        )
    check_magnitude(name, arr)
    return arr


def check_magnitude(name: str, arr: np.ndarray) -> None:
    """Raise unless every value has magnitude at most :data:`parity.limits.MAX_ABS_VALUE`
    (1e150), so that squares, sums of squares and variances stay finite in float64.

    Examples
    --------
    >>> check_magnitude("x", np.array([1.0, -1e150]))
    >>> check_magnitude("x", np.array([1.0, 1.7e308]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: `x` has values up to 1.7e+308 in magnitude (index 1); ...
    """
    from parity.limits import MAX_ABS_VALUE

    if arr.size == 0:
        return
    flat = np.abs(arr).ravel()
    i = int(np.argmax(flat))
    if flat[i] > MAX_ABS_VALUE:
        raise ParityInputError(
            f"`{name}` has values up to {flat[i]:.3g} in magnitude (index {i}); values must be "
            f"at most {MAX_ABS_VALUE:.0e} so that variances stay finite; rescale the data"
        )


def as_values(name: str, x: Any) -> np.ndarray:
    """Return ``x`` as a finite 1-D float64 array with at least 2 values; else raise.

    Examples
    --------
    >>> as_values("reference", [1, 2, 3])
    array([1., 2., 3.])
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        kind = type(x).__name__
        raise ParityInputError(f"`{name}` must be a 1-D numeric array; got {kind}") from None
    if arr.ndim != 1:
        raise ParityInputError(
            f"`{name}` must be 1-D (one value per seed, run or observation); got shape {arr.shape}"
        )
    if arr.size < 2:
        raise ParityInputError(f"`{name}` must have at least 2 values; got {arr.size}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        shown = ", ".join(str(i) for i in bad[:5]) + (", …" if bad.size > 5 else "")
        raise ParityInputError(
            f"`{name}` must have finite values; got {bad.size} NaN/inf (indices {shown})"
        )
    check_magnitude(name, arr)
    return arr


def check_same_dim(x: np.ndarray, y: np.ndarray, names: tuple[str, str] = ("x", "y")) -> None:
    """Raise unless the two (n × d) sample arrays have the same number of columns."""
    if x.shape[1] != y.shape[1]:
        raise ParityInputError(
            f"`{names[0]}` and `{names[1]}` must have the same dimension d; "
            f"got {x.shape[1]} and {y.shape[1]}"
        )


def to_jsonable(value: Any) -> Any:
    """Convert dataclasses, numpy scalars/arrays, tuples and non-finite floats to JSON values.

    Non-finite floats become the strings ``"nan"``, ``"inf"``, ``"-inf"`` so that the output is
    strict JSON.

    Examples
    --------
    >>> to_jsonable({"a": np.float64(0.5), "b": (1, np.inf)})
    {'a': 0.5, 'b': [1, 'inf']}
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isfinite(v):
            return v
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return value


class ResultMixin:
    """``to_dict()`` for frozen result dataclasses: JSON-safe values, field names as keys.

    Every field annotated ``Interval`` (or ``Interval | None``) holds an :class:`Interval`:
    a pair given as a tuple, list or array is converted when the result is built.
    """

    __slots__ = ()

    def __post_init__(self) -> None:
        as_intervals(self, *_interval_fields(type(self)))

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-safe ``dict``."""
        return to_jsonable(self)


_POOLS: dict[str, tuple[int, ThreadPoolExecutor]] = {}  # name → (owning process id, pool)


def core_pool(name: str) -> ThreadPoolExecutor:
    """The process's worker threads called ``name``, one per core, started once.

    Starting a pool per call cost ~5 ms a call (~60 ms under load at n = m = 500); a forked
    child gets pools of its own (the parent's threads do not exist there). Work submitted to a
    pool must not wait on the same pool: nested work uses a pool of another name.
    """
    found = _POOLS.get(name)
    if found is None or found[0] != os.getpid():
        pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix=f"parity-{name}")
        found = _POOLS[name] = (os.getpid(), pool)
    return found[1]
