"""The one way parity writes a number for a person: terminal lines, Markdown, HTML, reasons.

Every output that shows a number (the CLI's stderr summaries, the Markdown and HTML reports,
the agents' tables, the sentences of a result's ``reasons``) formats it here, so that one
value reads the same everywhere. The rule of :func:`number`:

========================================  ==============================================
value                                     text
========================================  ==============================================
``None`` (no value: not applicable)       ``—`` (an em dash)
an integer (``int``, numpy integers)      its exact decimal digits (``12345``)
a finite float (numpy floats included)    ``digits`` significant digits, Python's ``g``
                                          format (``0.1235``, ``1.5``, ``1e-05``, ``2e+04``)
NaN (a value that is undefined)           ``nan``
+inf / -inf                               ``∞`` / ``-∞`` (an ASCII minus, as for -1.5)
the strings ``"nan"``, ``"inf"``,         as the float they spell: they are how parity's
``"-inf"``                                JSON writes non-finite floats
                                          (:func:`parity.io.json_dumps`), so a report
                                          rendered from a record reads like one rendered
                                          from the live result
========================================  ==============================================

Booleans and other text are not numbers (``TypeError``); a value of unknown type (a field of
a record shown as a table) goes through :func:`cell`, which shows text as it is.

It also holds :func:`visible`, the terminal rule for text that comes from data (a name quoted
in an error line or a summary), which every other escaping rule of ``report.escape`` builds on.

This module sits at the bottom of the package (it imports nothing from parity), beside
``errors`` and ``limits``: ``stats/`` and ``trajectory/`` write reasons with numbers and may
not import ``report/`` or ``cli/``, and every layer above may import it.

Examples
--------
>>> [number(v) for v in (None, 3, 0.123456, 2.0, float("nan"), float("-inf"), "inf")]
['—', '3', '0.1235', '2', 'nan', '-∞', '∞']
>>> interval((0.9, float("inf")))
'[0.9, ∞]'
"""

from __future__ import annotations

import math
import numbers
import unicodedata
from collections.abc import Sequence
from typing import Any

__all__ = ["DIGITS", "NO_VALUE", "cell", "interval", "number", "to_float"]

#: Significant digits of a number shown to a person, unless the caller asks for others.
DIGITS = 4
#: The text of a missing value (None).
NO_VALUE = "—"
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def number(value: Any, digits: int = DIGITS) -> str:
    """``value`` as text for a person, by the module's one rule.

    Parameters
    ----------
    value : int, float, numpy number, None, or one of the strings "nan", "inf", "-inf"
        The number.
    digits : int
        Significant digits of a finite float (integers are always exact).

    Returns
    -------
    str

    Raises
    ------
    TypeError
        ``value`` is a bool, other text, or not a number.

    Examples
    --------
    >>> number(0.000012345), number(123456.0), number(123456), number(1 / 3, 2)
    ('1.234e-05', '1.235e+05', '123456', '0.33')
    >>> number(float("inf")), number("-inf"), number(float("nan")), number(None)
    ('∞', '-∞', 'nan', '—')
    """
    if value is None:
        return NO_VALUE
    if isinstance(value, str):
        if value not in _NON_FINITE:
            raise TypeError(f"number() takes a number; got the text {value!r}")
        value = _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"number() takes a number; got {type(value).__name__} {value!r}")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    return f"{v:.{digits}g}"


def interval(pair: Sequence[Any] | None, digits: int = DIGITS) -> str:
    """An interval ``[low, high]``, both ends by :func:`number`; ``—`` for None.

    Examples
    --------
    >>> interval((0.123456, 2)), interval(["-inf", 0.5], 2), interval(None)
    ('[0.1235, 2]', '[-∞, 0.5]', '—')
    """
    if pair is None:
        return NO_VALUE
    low, high = pair
    return f"[{number(low, digits)}, {number(high, digits)}]"


def cell(value: Any, digits: int = DIGITS) -> str:
    """A value of unknown type for a table cell: numbers by :func:`number`, ``—`` for None,
    ``yes``/``no`` for booleans, text as it is (never read as a number), anything else
    through ``str``.

    Examples
    --------
    >>> [cell(v) for v in (None, True, 2, 0.5, float("inf"), "inf", "run-1")]
    ['—', 'yes', '2', '0.5', '∞', 'inf', 'run-1']
    """
    if value is None:
        return NO_VALUE
    if isinstance(value, bool) or _is_numpy_bool(value):
        return "yes" if value else "no"
    if isinstance(value, numbers.Real):
        return number(value, digits)
    return str(value)


def _is_numpy_bool(value: Any) -> bool:
    kind = type(value)
    return kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")


def to_float(value: Any) -> float:
    """A number of a JSON record as a float: the strings ``"nan"``, ``"inf"``, ``"-inf"``
    decoded, None (no value) as NaN; for arithmetic and plots, not for text.

    Examples
    --------
    >>> to_float("inf"), to_float(None), to_float(2)
    (inf, nan, 2.0)
    """
    return math.nan if value is None else float(value)


# C0 controls, DEL and C1 controls, format characters and the Unicode line/paragraph separators
_HIDDEN = ("Cc", "Cf", "Cs", "Zl", "Zp")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(value: Any) -> str:
    r"""``value`` with every control or format character (newlines, ANSI escapes, bidi
    overrides, line separators) shown as an escape, so that printing a name cannot forge a line.

    Examples
    --------
    >>> print(visible("a.txt\n/tmp/x.zip: intact"))
    a.txt\n/tmp/x.zip: intact
    >>> print(visible("\x1b[32mok\u202e"))
    \x1b[32mok\u202e
    """

    def show(ch: str) -> str:
        if unicodedata.category(ch) not in _HIDDEN:
            return ch
        return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")

    return "".join(map(show, str(value)))
