"""Errors, warnings and exit codes shared by the whole package.

Every bad input raises :class:`ParityInputError` (a ``ValueError``) whose message names the
parameter or file, states the rule and shows what was received. Legal but degenerate data warns
with a :class:`ParityWarning` subclass and is recorded in the result.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes of the ``parity`` command line (see DESIGN.md)."""

    PASS = 0
    FAIL = 1
    USAGE = 2
    INCONCLUSIVE = 3
    INTERNAL = 4


class ParityError(Exception):
    """Base class of every error raised on purpose by parity."""

    exit_code: ExitCode = ExitCode.INTERNAL


class ParityInputError(ParityError, ValueError):
    """Bad input: a parameter, file, field or array that breaks a stated rule.

    Examples
    --------
    >>> raise ParityInputError("`alpha` must be in (0, 1); got 1.5")
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: `alpha` must be in (0, 1); got 1.5
    """

    exit_code = ExitCode.USAGE


class ParityWarning(UserWarning):
    """Base class of warnings about legal but degenerate data."""


class DegenerateDataWarning(ParityWarning):
    """The data are legal but too few or too constant for the method to mean much."""


def check_probability(name: str, value: float, *, open_interval: bool = True) -> float:
    """Return ``value`` as a float if it lies in (0, 1) (or [0, 1]); else raise.

    Examples
    --------
    >>> check_probability("alpha", 0.05)
    0.05
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParityInputError(f"`{name}` must be a number in (0, 1); got {value!r}") from None
    ok = 0.0 < v < 1.0 if open_interval else 0.0 <= v <= 1.0
    if not ok:
        interval = "(0, 1)" if open_interval else "[0, 1]"
        raise ParityInputError(f"`{name}` must be in {interval}; got {value!r}")
    return v


def check_positive_int(
    name: str, value: int, *, minimum: int = 1, maximum: int | None = None
) -> int:
    """Return ``value`` as an int if it is an integer in ``[minimum, maximum]``; else raise.

    ``maximum`` defaults to the bound :func:`parity.limits.limit_for` gives ``name`` (10
    million draws for ``n_resamples``/``n_bootstrap``/…, a billion for other counts).

    Examples
    --------
    >>> check_positive_int("n_resamples", 1000)
    1000
    >>> check_positive_int("n_resamples", 10**9)
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: `n_resamples` must be at most 10,000,000; got 1000000000
    """
    from parity.limits import limit_for

    top = limit_for(name) if maximum is None else maximum
    as_int = _integer(value)
    if as_int is None or as_int < minimum:
        raise ParityInputError(f"`{name}` must be an integer >= {minimum}; got {value!r}")
    if as_int > top:
        raise ParityInputError(f"`{name}` must be at most {top:,}; got {value!r}")
    return as_int


def check_seed(name: str, value: int) -> int:
    """Return ``value`` if it is an integer seed in ``[0, 2**63 − 1]``; else raise.

    Examples
    --------
    >>> check_seed("seed", 7), check_seed("seed", 2**63 - 1) > 0
    (7, True)
    >>> check_seed("seed", -1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: `seed` must be an integer in [0, ...]; got -1
    """
    from parity.limits import MAX_SEED

    as_int = _integer(value)
    if as_int is None or not 0 <= as_int <= MAX_SEED:
        raise ParityInputError(f"`{name}` must be an integer in [0, {MAX_SEED:,}]; got {value!r}")
    return as_int


def _integer(value) -> int | None:
    """``value`` as an int when it is an integer (an int, a NumPy integer or an integral
    float), else None; bools are not integers here."""
    import operator

    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        pass
    try:
        f = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(f) if f.is_integer() else None
